/* api_setup.c: POST /api/setup-script-url (a one-time setup code and the command that runs
 * the setup script) and GET /api/setup-script (the script: src/setup.c), state-proxmox.md
 * §12. POST /api/auto-register, which takes the code, is in api_agent_config.c. */
#include "config.h"

#include "handlers.h"
#include "jsonwrite.h"
#include "log.h"
#include "setup.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Pulse's address as the client reached it (the original's: scheme and Host), checked as
 * any URL put in a script; NULL after answering 400. */
static const char *
own_url(struct request *r)
{
	const char *host = req_param(r, "HTTP_HOST");
	char url[512], err[128];

	if (host == NULL || *host == '\0' ||
	    setup_check_url(arena_printf(r->arena, "%s://%s", r->https ? "https" : "http", host), 0,
	    url, sizeof(url), err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_host_header", "Invalid Host header");
		return NULL;
	}
	return arena_strdup(r->arena, url);
}

/* s percent-encoded for a query value, in the request's arena. */
static const char *
req_escape(struct request *r, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char *out = arena_alloc(r->arena, strlen(s) * 3 + 1), *o = out;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* A server type: "pve" or "pbs" (the setup script has no PMG variant, as the original). */
static int
setup_type_ok(const char *type)
{
	return type && (strcmp(type, "pve") == 0 || strcmp(type, "pbs") == 0);
}

void
api_setup_script_url(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *out;
	const char *type = NULL, *host = NULL, *pulse;
	char host_norm[300] = "", code[SETUP_CODE_LEN + 1], err[128];
	int backup = 0;
	int64_t expires;
	char *url;

	if (body == NULL || req_body_string(r, body, "type", 1, 16, &type) < 0 ||
	    req_body_string(r, body, "host", 0, 255, &host) < 0 ||
	    req_body_bool(r, body, "backupPerms", 0, &backup) < 0)
		return;
	if (!setup_type_ok(type)) {
		resp_error(r, 400, "invalid_type", "type must be pve or pbs");
		return;
	}
	if (host && *host && setup_check_url(host, strcmp(type, "pbs") == 0 ? 8007 : 8006,
	    host_norm, sizeof(host_norm), err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_host", "Invalid host: %s", err);
		return;
	}
	if ((pulse = own_url(r)) == NULL)
		return;
	if (setup_code_mint(r->db, type, host_norm, r->auth.username, code, &expires) != 0) {
		resp_db_unavailable(r);
		return;
	}
	url = arena_printf(r->arena, "%s/api/setup-script?type=%s%s%s&pulse_url=%s%s", pulse, type,
	    host_norm[0] ? "&host=" : "", host_norm[0] ? req_escape(r, host_norm) : "",
	    req_escape(r, pulse), backup ? "&backup_perms=true" : "");
	log_info("msg=\"setup code minted\" type=%s user=\"%s\"", type, r->auth.username);
	out = resp_object(r);
	jsonwrite_str(out, "type", type);
	jsonwrite_str(out, "host", host_norm);
	jsonwrite_str(out, "url", url);
	/* The code travels in the environment, not in the URL: no access log holds it. */
	jsonwrite_str(out, "command", arena_printf(r->arena,
	    "curl -fsSL '%s' | PULSE_SETUP_CODE=%s sh", url, code));
	jsonwrite_str(out, "setupCode", code);
	jsonwrite_int(out, "expires", expires);
	resp_json(r, 200, out);
}

void
api_setup_script(struct request *r)
{
	struct setup_script_params p = {0};
	const char *type = req_query(r, "type"), *host = req_query(r, "host"),
	    *pulse = req_query(r, "pulse_url"), *code = req_query(r, "setup_code"),
	    *backup = req_query(r, "backup_perms");
	char host_norm[300] = "", pulse_norm[512], err[128];
	struct strbuf sb = {0};

	if (code == NULL)
		code = req_query(r, "auth_token");	/* the original's name */
	if (!setup_type_ok(type)) {
		resp_error(r, 400, "invalid_type", "type must be pve or pbs");
		return;
	}
	if (host && *host && setup_check_url(host, strcmp(type, "pbs") == 0 ? 8007 : 8006,
	    host_norm, sizeof(host_norm), err, sizeof(err)) != 0) {
		resp_error(r, 400, "invalid_host", "Invalid host: %s", err);
		return;
	}
	if (pulse && *pulse) {
		if (setup_check_url(pulse, 0, pulse_norm, sizeof(pulse_norm), err, sizeof(err)) != 0) {
			resp_error(r, 400, "invalid_pulse_url", "Invalid pulse_url: %s", err);
			return;
		}
	} else {
		const char *own = own_url(r);

		if (own == NULL)
			return;
		snprintf(pulse_norm, sizeof(pulse_norm), "%s", own);
	}
	if (code && *code && !setup_code_well_formed(code)) {
		resp_error(r, 400, "invalid_setup_code", "Invalid setup code");
		return;
	}
	p.type = type;
	p.host = host_norm;
	p.pulse_url = pulse_norm;
	p.setup_code = code ? code : "";
	p.backup_perms = backup && (strcmp(backup, "true") == 0 || strcmp(backup, "1") == 0);
	setup_script(&p, &sb);
	resp_header(r, "Content-Disposition", arena_printf(r->arena,
	    "attachment; filename=\"pulse-setup-%s.sh\"", type));
	resp_header(r, "Cache-Control", "no-store");
	resp_raw(r, 200, "text/x-shellscript; charset=utf-8", sb.data, sb.len);
	sb_free(&sb);
}
