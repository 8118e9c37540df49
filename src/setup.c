/* setup.c: the one-time setup codes and the Proxmox setup script (setup.h). The script is
 * our own: it has the effect of the original's (the user, PVEAuditor and the PulseMonitor
 * role, or Audit on a PBS, a token, a registration with a setup code), in POSIX sh. */
#include "config.h"

#include "setup.h"

#include "crypto.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Unambiguous capitals and digits: 32 of them, 5 bits a character. */
static const char code_alphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

static const struct db_stmt stmt_mint = {
	"setup_code_mint",
	"WITH gone AS (DELETE FROM pulse.setup_codes WHERE expires_at < now() - interval '1 hour') "
	"INSERT INTO pulse.setup_codes (code_hash, type, host, created_by, expires_at) "
	"VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5::int)) "
	"RETURNING extract(epoch FROM expires_at)::bigint",
	5,
};

int
setup_code_mint(struct db *db, const char *type, const char *host, const char *who,
    char code[SETUP_CODE_LEN + 1], int64_t *expires)
{
	unsigned char raw[SETUP_CODE_LEN];
	char hash[65], ttl[16];
	const char *params[5] = {hash, type, host, who, ttl};
	PGresult *res;

	crypto_random(raw, sizeof(raw));
	for (int i = 0; i < SETUP_CODE_LEN; i++)
		code[i] = code_alphabet[raw[i] & 31];
	code[SETUP_CODE_LEN] = '\0';
	crypto_sha3_256_hex(code, SETUP_CODE_LEN, hash);
	snprintf(ttl, sizeof(ttl), "%d", SETUP_CODE_TTL);
	if ((res = db_exec_stmt(db, &stmt_mint, params)) == NULL)
		return -1;
	*expires = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return 0;
}

static const struct db_stmt stmt_use = {
	"setup_code_use",
	"UPDATE pulse.setup_codes SET used_at = now() WHERE code_hash = $1 AND type = $2 "
	"AND used_at IS NULL AND expires_at > now() RETURNING 1",
	2,
};

int
setup_code_use(struct db *db, const char *code, const char *type)
{
	char hash[65];
	const char *params[2] = {hash, type};
	PGresult *res;
	int ok;

	if (!setup_code_well_formed(code))
		return 0;
	/* Codes are minted in capitals; one typed in small letters is the same code. */
	{
		char up[65];
		size_t n = strlen(code);

		for (size_t i = 0; i < n; i++)
			up[i] = (char)toupper((unsigned char)code[i]);
		crypto_sha3_256_hex(up, n, hash);
	}
	if ((res = db_exec_stmt(db, &stmt_use, params)) == NULL)
		return -1;
	ok = PQntuples(res) == 1;
	PQclear(res);
	return ok;
}

int
setup_code_well_formed(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 64)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
host_char(int c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

/* A path character for Pulse's own address: nothing a shell or a quote would read. */
static int
path_char(int c)
{
	return isalnum(c) || strchr("/._-~%+=,@", c) != NULL;
}

int
setup_check_url(const char *in, int default_port, char *out, size_t outlen, char *err,
    size_t errlen)
{
	const char *p = in, *scheme = "https://", *host, *port = NULL, *path;
	size_t hostlen;
	long portnum = 0;

	if (strncasecmp(p, "https://", 8) == 0) {
		p += 8;
	} else if (strncasecmp(p, "http://", 7) == 0) {
		scheme = "http://";
		p += 7;
	} else if (strstr(p, "://") != NULL) {
		snprintf(err, errlen, "only http and https URLs are accepted");
		return -1;
	}
	host = p;
	if (*p == '[') {
		while (*++p && (isxdigit((unsigned char)*p) || *p == ':' || *p == '.'))
			;
		if (*p != ']' || p == host + 1) {
			snprintf(err, errlen, "invalid IPv6 address");
			return -1;
		}
		p++;
	} else {
		while (host_char((unsigned char)*p))
			p++;
	}
	hostlen = (size_t)(p - host);
	if (hostlen == 0 || hostlen > 253) {
		snprintf(err, errlen, "invalid host");
		return -1;
	}
	if (*p == ':') {
		char *end;

		port = ++p;
		if (!isdigit((unsigned char)*port)) {
			snprintf(err, errlen, "invalid port");
			return -1;
		}
		portnum = strtol(port, &end, 10);
		if (end == port || end - port > 5 || portnum < 1 || portnum > 65535) {
			snprintf(err, errlen, "invalid port");
			return -1;
		}
		p = end;
	}
	path = p;
	for (; *p; p++) {
		if (!path_char((unsigned char)*p) || (default_port > 0 && *p != '/')) {
			snprintf(err, errlen, "invalid character in the URL");
			return -1;
		}
	}
	if (*path && *path != '/') {
		snprintf(err, errlen, "invalid character in the URL");
		return -1;
	}
	if (port == NULL && default_port > 0)
		portnum = default_port;
	if (default_port > 0)
		path = "";
	if ((size_t)snprintf(out, outlen, "%s%.*s%s%.0ld%s", scheme, (int)hostlen, host,
	    portnum > 0 ? ":" : "", portnum, path) >= outlen) {
		snprintf(err, errlen, "URL too long");
		return -1;
	}
	if (default_port <= 0) {
		size_t n = strlen(out);

		while (n > 0 && out[n - 1] == '/')
			out[--n] = '\0';
	}
	return 0;
}

void
setup_token_name(const char *pulse_url, char *out, size_t outlen)
{
	const char *p = strstr(pulse_url, "://");
	size_t n = 0;
	int dash = 0;

	p = p ? p + 3 : pulse_url;
	snprintf(out, outlen, "pulse-");
	n = strlen(out);
	for (; *p && *p != '/' && n + 1 < outlen && n < 6 + 40; p++) {
		if (isalnum((unsigned char)*p)) {
			if (dash && n > 6)
				out[n++] = '-';
			dash = 0;
			if (n + 1 < outlen)
				out[n++] = (char)tolower((unsigned char)*p);
		} else {
			dash = 1;
		}
	}
	if (n == 6) {
		snprintf(out, outlen, "pulse-server");
		return;
	}
	out[n] = '\0';
}

void
setup_shell_quote(struct strbuf *sb, const char *s)
{
	sb_puts(sb, "'");
	for (; *s; s++) {
		if (*s == '\'')
			sb_puts(sb, "'\\''");
		else
			sb_append(sb, s, 1);
	}
	sb_puts(sb, "'");
}

static void
assign(struct strbuf *sb, const char *name, const char *value)
{
	sb_printf(sb, "%s=", name);
	setup_shell_quote(sb, value);
	sb_puts(sb, "\n");
}

static const char script_head[] =
	"set -u\n"
	"\n"
	"say() { printf '%s\\n' \"$*\"; }\n"
	"fail() { printf 'Error: %s\\n' \"$*\" >&2; exit 1; }\n"
	"# A value for a JSON string: the values here hold no control character.\n"
	"json_str() { printf '%s' \"$1\" | sed -e 's/\\\\/\\\\\\\\/g' -e 's/\"/\\\\\"/g'; }\n"
	"# The \"value\" member of a token's JSON as pveum or proxmox-backup-manager print it.\n"
	"token_secret() { printf '%s\\n' \"$1\" | tr -d '\\n' | sed -n 's/.*\"value\"[[:space:]]*:[[:space:]]*\"\\([^\"]*\\)\".*/\\1/p'; }\n"
	"\n"
	"if [ \"$(id -u)\" != 0 ] && [ -z \"${PULSE_SETUP_ANY_USER:-}\" ]; then\n"
	"    fail \"run this script as root on the Proxmox host\"\n"
	"fi\n"
;

static const char script_pve[] =
	"command -v pveum >/dev/null 2>&1 || fail \"pveum not found: run this on a Proxmox VE host\"\n"
	"PULSE_USER='pulse-monitor@pam'\n"
	"DEFAULT_PORT=8006\n"
	"\n"
	"say \"Setting up $PULSE_USER for Pulse at $PULSE_URL\"\n"
	"if pveum user add \"$PULSE_USER\" --comment 'Pulse monitoring service' >/dev/null 2>&1; then\n"
	"    say \"  created the user $PULSE_USER\"\n"
	"else\n"
	"    say \"  the user $PULSE_USER exists already\"\n"
	"fi\n"
	"pveum aclmod / -user \"$PULSE_USER\" -role PVEAuditor || fail \"could not grant PVEAuditor on /\"\n"
	"if [ \"$BACKUP_PERMS\" = 1 ]; then\n"
	"    pveum aclmod /storage -user \"$PULSE_USER\" -role PVEDatastoreAdmin ||\n"
	"        fail \"could not grant PVEDatastoreAdmin on /storage\"\n"
	"    say \"  granted PVEDatastoreAdmin on /storage (backup management)\"\n"
	"fi\n"
	"\n"
	"# Beyond PVEAuditor: Sys.Audit, and the guest agent's data through VM.Monitor (PVE 8 and\n"
	"# older) or VM.GuestAgent.Audit (PVE 9, which has no VM.Monitor).\n"
	"PRIVS='Sys.Audit'\n"
	"if pveum role add PulseProbeVMMonitor -privs VM.Monitor >/dev/null 2>&1; then\n"
	"    pveum role delete PulseProbeVMMonitor >/dev/null 2>&1 || :\n"
	"    PRIVS=\"$PRIVS,VM.Monitor\"\n"
	"elif pveum role add PulseProbeGuestAudit -privs VM.GuestAgent.Audit >/dev/null 2>&1; then\n"
	"    pveum role delete PulseProbeGuestAudit >/dev/null 2>&1 || :\n"
	"    PRIVS=\"$PRIVS,VM.GuestAgent.Audit\"\n"
	"fi\n"
	"if pveum role modify PulseMonitor -privs \"$PRIVS\" >/dev/null 2>&1 ||\n"
	"    pveum role add PulseMonitor -privs \"$PRIVS\" >/dev/null 2>&1; then\n"
	"    pveum aclmod / -user \"$PULSE_USER\" -role PulseMonitor || fail \"could not grant PulseMonitor on /\"\n"
	"    say \"  role PulseMonitor: $PRIVS\"\n"
	"else\n"
	"    say \"  could not set up the role PulseMonitor; grant $PRIVS by hand if Pulse reports permission errors\"\n"
	"fi\n"
	"\n"
	"# A new token each run: the old one of this name goes (its secret cannot be read again).\n"
	"pveum user token remove \"$PULSE_USER\" \"$TOKEN_NAME\" >/dev/null 2>&1 || :\n"
	"TOKEN_JSON=$(pveum user token add \"$PULSE_USER\" \"$TOKEN_NAME\" --privsep 0 --output-format json) ||\n"
	"    fail \"could not create the API token $PULSE_USER!$TOKEN_NAME\"\n"
;

static const char script_pbs[] =
	"command -v proxmox-backup-manager >/dev/null 2>&1 ||\n"
	"    fail \"proxmox-backup-manager not found: run this on a Proxmox Backup Server\"\n"
	"PULSE_USER='pulse-monitor@pbs'\n"
	"DEFAULT_PORT=8007\n"
	"\n"
	"say \"Setting up $PULSE_USER for Pulse at $PULSE_URL\"\n"
	"if proxmox-backup-manager user create \"$PULSE_USER\" --comment 'Pulse monitoring service' >/dev/null 2>&1; then\n"
	"    say \"  created the user $PULSE_USER\"\n"
	"else\n"
	"    say \"  the user $PULSE_USER exists already\"\n"
	"fi\n"
	"\n"
	"# A new token each run: the old one of this name goes (its secret cannot be read again).\n"
	"proxmox-backup-manager user delete-token \"$PULSE_USER\" \"$TOKEN_NAME\" >/dev/null 2>&1 || :\n"
	"TOKEN_JSON=$(proxmox-backup-manager user generate-token \"$PULSE_USER\" \"$TOKEN_NAME\" --output-format json) ||\n"
	"    fail \"could not create the API token $PULSE_USER!$TOKEN_NAME\"\n"
	"# Audit on / (Datastore.Audit, Sys.Audit): for the user and for its token, which PBS\n"
	"# always separates.\n"
	"proxmox-backup-manager acl update / Audit --auth-id \"$PULSE_USER\" ||\n"
	"    fail \"could not grant Audit on / to $PULSE_USER\"\n"
	"proxmox-backup-manager acl update / Audit --auth-id \"$PULSE_USER!$TOKEN_NAME\" ||\n"
	"    fail \"could not grant Audit on / to the token\"\n"
	"say \"  role Audit on / for the user and its token\"\n"
;

static const char script_tail[] =
	"\n"
	"TOKEN_ID=\"$PULSE_USER!$TOKEN_NAME\"\n"
	"TOKEN_VALUE=$(token_secret \"$TOKEN_JSON\")\n"
	"[ -n \"$TOKEN_VALUE\" ] || fail \"the API token's secret was not in the output\"\n"
	"say \"  created the API token $TOKEN_ID\"\n"
	"\n"
	"SERVER_NAME=$(hostname 2>/dev/null | tr -cd 'A-Za-z0-9._-')\n"
	"[ -n \"$SERVER_NAME\" ] || SERVER_NAME=proxmox\n"
	"if [ -z \"$SERVER_HOST\" ]; then\n"
	"    ADDR=$(hostname -I 2>/dev/null | awk '{print $1}' | tr -cd '0-9A-Fa-f.:')\n"
	"    [ -n \"$ADDR\" ] || ADDR=$SERVER_NAME\n"
	"    case $ADDR in\n"
	"    *:*) ADDR=\"[$ADDR]\" ;;\n"
	"    esac\n"
	"    SERVER_HOST=\"https://$ADDR:$DEFAULT_PORT\"\n"
	"fi\n"
	"\n"
	"manual() {\n"
	"    say \"\"\n"
	"    say \"Add this server in Pulse by hand (Settings, Nodes):\"\n"
	"    say \"  host:        $SERVER_HOST\"\n"
	"    say \"  token id:    $TOKEN_ID\"\n"
	"    say \"  token value: $TOKEN_VALUE\"\n"
	"    exit \"$1\"\n"
	"}\n"
	"\n"
	"CODE=${PULSE_SETUP_CODE:-$EMBEDDED_CODE}\n"
	"if [ -z \"$CODE\" ] && [ -t 1 ] && [ -r /dev/tty ]; then\n"
	"    printf 'Setup code shown by Pulse (empty: register by hand): ' >/dev/tty\n"
	"    read -r CODE </dev/tty || CODE=\n"
	"fi\n"
	"CODE=$(printf '%s' \"$CODE\" | tr -cd 'A-Za-z0-9')\n"
	"[ -n \"$CODE\" ] || manual 0\n"
	"command -v curl >/dev/null 2>&1 || { say \"curl not found: cannot register with Pulse\"; manual 1; }\n"
	"\n"
	"BODY=$(printf '{\"type\":\"%s\",\"host\":\"%s\",\"serverName\":\"%s\",\"tokenId\":\"%s\",\"tokenValue\":\"%s\",\"setupCode\":\"%s\",\"source\":\"script\"}' \\\n"
	"    \"$SERVER_TYPE\" \"$(json_str \"$SERVER_HOST\")\" \"$(json_str \"$SERVER_NAME\")\" \\\n"
	"    \"$(json_str \"$TOKEN_ID\")\" \"$(json_str \"$TOKEN_VALUE\")\" \"$CODE\")\n"
	"INSECURE=\n"
	"[ -z \"${PULSE_INSECURE:-}\" ] || INSECURE=-k\n"
	"OUT=$(mktemp) || fail \"mktemp failed\"\n"
	"# The body goes through stdin: the token's secret never shows in the process list.\n"
	"# shellcheck disable=SC2086\n"
	"STATUS=$(printf '%s' \"$BODY\" | curl -sS $INSECURE --max-time 30 -o \"$OUT\" -w '%{http_code}' \\\n"
	"    -X POST -H 'Content-Type: application/json' --data-binary @- \"$PULSE_URL/api/auto-register\") || STATUS=000\n"
	"ANSWER=$(cat \"$OUT\")\n"
	"rm -f \"$OUT\"\n"
	"if [ \"$STATUS\" = 200 ]; then\n"
	"    say \"Registered with Pulse: $SERVER_HOST\"\n"
	"    exit 0\n"
	"fi\n"
	"say \"Pulse refused the registration (HTTP $STATUS): $ANSWER\"\n"
	"manual 1\n"
;

void
setup_script(const struct setup_script_params *p, struct strbuf *sb)
{
	char token[64];
	int pbs = strcmp(p->type, "pbs") == 0;

	setup_token_name(p->pulse_url, token, sizeof(token));
	sb_puts(sb, "#!/bin/sh\n");
	sb_printf(sb, "# Pulse: monitoring of this Proxmox %s. Creates the user %s, its API token and\n",
	    pbs ? "Backup Server" : "VE host", pbs ? "pulse-monitor@pbs" : "pulse-monitor@pam");
	sb_puts(sb, "# read-only privileges, then registers this host with Pulse using a one-time\n"
	    "# setup code (PULSE_SETUP_CODE, or asked for). Run it as root on the host.\n\n");
	assign(sb, "PULSE_URL", p->pulse_url);
	assign(sb, "SERVER_TYPE", pbs ? "pbs" : "pve");
	assign(sb, "SERVER_HOST", p->host);
	assign(sb, "TOKEN_NAME", token);
	if (!pbs)
		assign(sb, "BACKUP_PERMS", p->backup_perms ? "1" : "0");
	assign(sb, "EMBEDDED_CODE", p->setup_code);
	sb_puts(sb, script_head);
	sb_puts(sb, "\n");
	sb_puts(sb, pbs ? script_pbs : script_pve);
	sb_puts(sb, script_tail);
}
