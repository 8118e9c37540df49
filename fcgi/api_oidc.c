/* api_oidc.c: OIDC sign-in (security.md §7): GET/PUT /api/security/oidc, /api/oidc/login
 * and /api/oidc/callback. */
#include "config.h"

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "handlers.h"
#include "http.h"
#include "jsonwrite.h"
#include "jsonread.h"
#include "log.h"
#include "oidc.h"
#include "ratelimit.h"
#include "session.h"
#include "settings.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETURN_TO_MAX 512
/* The cookie binding a login to the browser that started it (32 random bytes, hex): sent
 * back only under /api/oidc, for the ten minutes a login may take. SameSite=Lax still
 * travels with the provider's top-level redirect back to us. */
#define BROWSER_COOKIE "pulse_oidc"
#define BROWSER_COOKIE_PATH "/api/oidc"

/* The public URL: the public_url option, else the one learnt or set. */
static const char *
public_url(struct request *r)
{
	char buf[2048];

	if (conf_str("public_url")[0])
		return conf_str("public_url");
	if (settings_get_string(r->db, SETTINGS_PUBLIC_URL, buf, sizeof(buf)) != 0)
		return "";
	return arena_strdup(r->arena, buf);
}

/* The stored configuration (the request's), or NULL after answering 503. */
static struct json_object *
load_config(struct request *r, char **secret, int *secret_set)
{
	struct json_object *cfg;

	if (oidc_config_load(r->db, public_url(r), &cfg, secret, secret_set) < 0) {
		resp_db_unavailable(r);
		return NULL;
	}
	if (secret && *secret)
		arena_defer(r->arena, secret_free, *secret);
	return req_json(r, cfg);
}

void
api_oidc_config_get(struct request *r)
{
	int secret_set = 0;
	struct json_object *cfg = load_config(r, NULL, &secret_set);

	if (cfg == NULL)
		return;
	resp_json(r, 200, req_json(r, oidc_config_view(cfg, secret_set, public_url(r))));
}

void
api_oidc_config_put(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *out;
	char err[256];
	int rc, secret_set = 0;

	if (body == NULL)
		return;
	rc = oidc_config_update(r->db, body, public_url(r), &out, &secret_set, err, sizeof(err));
	if (rc < 0) {
		resp_error(r, 500, "save_failed", "Failed to save OIDC settings");
		return;
	}
	if (rc == 2) {
		resp_error(r, 409, "oidc_locked", "%s", err);
		return;
	}
	if (rc > 0) {
		resp_error(r, 400, "validation_error", "%s", err);
		return;
	}
	req_json(r, out);
	audit_record(r->db, "oidc_config", r->auth.username, r->client_ip, r->raw_path, 1,
	    oidc_enabled(out) ? "OIDC settings saved (enabled)" : "OIDC settings saved (disabled)");
	resp_json(r, 200, req_json(r, oidc_config_view(out, secret_set, public_url(r))));
}

/* A returnTo the original accepts: a path on this site ("/..." but not "//..."); also no
 * backslash or control character, which browsers may read as another site. */
static int
return_to_ok(const char *s)
{
	if (s == NULL || s[0] != '/' || s[1] == '/' || strlen(s) > RETURN_TO_MAX)
		return 0;
	for (; *s; s++)
		if (*s == '\\' || (unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* The redirect URI: the configured one, else this request's scheme and host. */
static const char *
redirect_uri(struct request *r, struct json_object *cfg)
{
	const char *conf = jsonread_string(cfg, "redirectUrl", "");
	const char *host = req_header(r, "X-Forwarded-Host");

	if (*conf)
		return conf;
	if (host == NULL || !*host)
		host = req_header(r, "Host");
	return arena_printf(r->arena, "%s://%s%s", r->https ? "https" : "http", host ? host : "localhost",
	    OIDC_CALLBACK_PATH);
}

static void
redirect(struct request *r, const char *location)
{
	resp_header(r, "Location", location);
	resp_raw(r, 302, "text/plain; charset=utf-8", "", 0);
}

/* Redirects to return_to (or "/") with oidc=error&oidc_error=code. */
static void
redirect_error(struct request *r, const char *return_to, const char *code)
{
	const char *base = return_to && *return_to ? return_to : "/";
	char *e = http_escape(code);
	char *loc = arena_printf(r->arena, "%s%coidc=error&oidc_error=%.100s", base,
	    strchr(base, '?') ? '&' : '?', e);

	free(e);
	redirect(r, loc);
}

void
api_oidc_login(struct request *r)
{
	struct json_object *cfg = load_config(r, NULL, NULL), *body, *obj;
	const char *return_to = NULL;
	char *url, *browser, err[256];
	int post = r->method == REQ_METHOD_POST;

	if (cfg == NULL)
		return;
	if (post) {
		body = req_body_object(r, 1);
		if (body == NULL || req_body_string(r, body, "returnTo", 0, 4096, &return_to) < 0)
			return;
	} else {
		return_to = req_query(r, "returnTo");
	}
	if (!return_to_ok(return_to))
		return_to = "";
	if (!oidc_enabled(cfg)) {
		if (post)
			resp_error(r, 400, "oidc_disabled", "OIDC is not enabled");
		else
			redirect_error(r, "/", "oidc_disabled");
		return;
	}
	browser = crypto_random_hex(32);
	arena_defer(r->arena, secret_free, browser);
	if (oidc_login_start(r->db, cfg, redirect_uri(r, cfg), return_to, browser, &url, err,
	    sizeof(err)) != 0) {
		log_warn("oidc: login could not start: %s", err);
		if (post)
			resp_error(r, 500, "oidc_init_failed", "Failed to initialize OIDC provider");
		else
			redirect_error(r, "/", "oidc_init_failed");
		return;
	}
	arena_defer(r->arena, free, url);
	resp_header(r, "Set-Cookie", arena_printf(r->arena, "%s=%s; Path=%s; Max-Age=%d; HttpOnly; "
	    "SameSite=Lax%s", BROWSER_COOKIE, browser, BROWSER_COOKIE_PATH, OIDC_STATE_SECONDS,
	    r->https ? "; Secure" : ""));
	if (post) {
		obj = resp_object(r);
		jsonwrite_str(obj, "authorizationUrl", url);
		resp_json(r, 200, obj);
	} else {
		redirect(r, url);
	}
}

void
api_oidc_callback(struct request *r)
{
	char *secret = NULL;
	struct json_object *cfg = load_config(r, &secret, NULL);
	struct oidc_result res;
	const char *base;

	if (cfg == NULL)
		return;
	if (!oidc_enabled(cfg)) {
		resp_raw(r, 404, "text/plain; charset=utf-8", "OIDC is not enabled\n", 20);
		return;
	}
	/* The binding cookie is used up whatever happens. */
	resp_header(r, "Set-Cookie", arena_printf(r->arena, "%s=; Path=%s; Max-Age=-1; HttpOnly; "
	    "SameSite=Lax%s", BROWSER_COOKIE, BROWSER_COOKIE_PATH, r->https ? "; Secure" : ""));
	if (oidc_callback(r->db, cfg, secret, req_query(r, "state"), req_query(r, "code"),
	    req_query(r, "error"), req_cookie(r, BROWSER_COOKIE), &res) == 0 &&
	    session_create_as(r, res.username, OIDC_SESSION_SECONDS, res.admin, res.issuer) != 0) {
		res.code = "session_failed";
		snprintf(res.detail, sizeof(res.detail), "Session creation failed");
	} else if (res.code == NULL) {
		audit_record(r->db, "oidc_login", res.email[0] ? res.email : res.username, r->client_ip,
		    r->raw_path, 1, res.detail);
		base = res.return_to[0] ? res.return_to : "/";
		redirect(r, arena_printf(r->arena, "%s%coidc=success", base,
		    strchr(base, '?') ? '&' : '?'));
		return;
	}
	/* Anyone can make a callback fail: such rows are limited per address (ratelimit.h). */
	audit_anonymous(r, "oidc_login", "", res.detail);
	redirect_error(r, res.return_to, res.code);
}
