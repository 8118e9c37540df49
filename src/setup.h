/* setup.h: adding a Proxmox server from the server itself (state-proxmox.md §12,
 * security.md §3): the one-time setup codes POST /api/setup-script-url mints and
 * POST /api/auto-register consumes (hashed in pulse.setup_codes, five minutes, single use),
 * and the POSIX shell script GET /api/setup-script answers, which creates the monitoring
 * user, role and API token on a PVE or PBS host and registers it with a code. */
#ifndef PULSE_SETUP_H
#define PULSE_SETUP_H

#include <stddef.h>
#include <stdint.h>

#include "db.h"
#include "util.h"

#define SETUP_CODE_LEN 16		/* characters of a code (A-Z and 2-9 but I, O) */
#define SETUP_CODE_TTL 300		/* seconds a code lives */

/* Mints a code for a server of type ("pve" or "pbs") at host (normalised, may be ""), made
 * by who. Writes the code (SETUP_CODE_LEN + 1 bytes) and its expiry (Unix seconds). Returns
 * 0, or -1 on a database error. */
int setup_code_mint(struct db *db, const char *type, const char *host, const char *who,
    char code[SETUP_CODE_LEN + 1], int64_t *expires);

/* Uses a code for a registration of type: 1 when it was valid (unused, unexpired, minted for
 * that type): it is marked used in the same statement, so it never serves twice; 0 when it
 * is wrong, expired, used or for another type; -1 on a database error. */
int setup_code_use(struct db *db, const char *code, const char *type);

/* Whether s has a setup code's form (1..64 characters A-Z a-z 0-9): what may be embedded in
 * a script or looked up. */
int setup_code_well_formed(const char *s);

/* Checks a URL given for the script (a server's host or Pulse's own address): http or https
 * (https:// added when there is no scheme), a host of letters, digits, '.', '-', '_' or a
 * bracketed IPv6 address, an optional port, and for Pulse's address an optional path of
 * safe characters (no quote, space, '$', '`', '\\' nor control character). For a server
 * (default_port > 0) the port is added when missing and no path is allowed. Returns 0 with
 * the URL in out, or -1 with a message in err. */
int setup_check_url(const char *in, int default_port, char *out, size_t outlen, char *err,
    size_t errlen);

/* What a script is made for; every field checked already (setup_check_url,
 * setup_code_well_formed). */
struct setup_script_params {
	const char *type;		/* "pve" or "pbs" */
	const char *host;		/* the server's URL, or "": the script works it out */
	const char *pulse_url;		/* where Pulse answers */
	const char *setup_code;		/* embedded, or "": $PULSE_SETUP_CODE or a prompt */
	int backup_perms;		/* PVE: PVEDatastoreAdmin on /storage */
};

/* The token name the script uses: "pulse-" and the Pulse URL's host as a slug. */
void setup_token_name(const char *pulse_url, char *out, size_t outlen);

/* Appends the script to sb. Every value is shell-quoted as well as checked. */
void setup_script(const struct setup_script_params *p, struct strbuf *sb);

/* Appends s to sb as one single-quoted shell word. */
void setup_shell_quote(struct strbuf *sb, const char *s);

#endif
