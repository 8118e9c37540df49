/* oidc.h: OIDC sign-in (security.md §7): the provider configuration in pulse.oidc_config,
 * the authorisation code flow with PKCE, state and nonce (logins in flight in
 * pulse.oidc_states, shared by every responder), the provider's discovery document and keys
 * (fetched through the guarded HTTP client, cached per process), and the ID token's checks.
 *
 * Errors: functions returning int give 0 on success and -1 on a database failure unless
 * said otherwise; messages never hold the client secret, a code or a token. */
#ifndef PULSE_OIDC_H
#define PULSE_OIDC_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

#define OIDC_CALLBACK_PATH "/api/oidc/callback"
#define OIDC_SESSION_SECONDS 86400L	/* OIDC sessions last 24 hours (§2.6) */
#define OIDC_STATE_SECONDS 600		/* a login must come back within ten minutes */
#define OIDC_CLOCK_SKEW 60		/* seconds allowed between our clock and the provider's */
#define OIDC_JWKS_MAX (256 * 1024)	/* a larger key set is refused */

/* The stored configuration with the OIDC_* variables applied (the fields they set named in
 * an "envOverrides" object member): a new JSON object in the original's field names (every
 * field present, defaults applied, no clientSecret) into *cfg; when secret is not NULL the client
 * secret (a new string for secret_free, or NULL when none is set or it cannot be opened)
 * into *secret; when secret_set is not NULL whether a secret is stored. Returns 1 when a
 * configuration is stored, 0 when not (*cfg holds the defaults), -1. */
int oidc_config_load(struct db *db, const char *public_url, struct json_object **cfg,
    char **secret, int *secret_set);

/* The answer of GET /api/security/oidc for cfg: its fields plus clientSecretSet and
 * defaultRedirect. A new object. */
struct json_object *oidc_config_view(struct json_object *cfg, int secret_set,
    const char *public_url);

/* Applies a PUT body to the stored configuration (absent fields kept; clientSecret replaces
 * the secret, clearClientSecret removes it; groupRoleMappings ignored), normalises and
 * validates it, and saves it. Sessions made by another provider (or all OIDC sessions when
 * disabled) end. As the original's, a field the body does not name takes its default, but
 * for the secret, caBundle and our adminGroups and tokenAuthMethod (kept). Returns 0 with
 * the new configuration in *out (a new object) and whether a secret is stored in
 * *secret_set, 1 for bad input (the original's message in err, nothing saved), 2 when
 * OIDC_* variables lock the settings (message in err), -1. */
int oidc_config_update(struct db *db, struct json_object *body, const char *public_url,
    struct json_object **out, int *secret_set, char *err, size_t errlen);

/* The stored settings for the configuration bundle (security.md §10.1), as the original's
 * OIDCConfig JSON: no OIDC_* variable applied, the client secret in clear (clientSecret; the
 * original's omitempty fields left out when empty), and ours adminGroups and
 * tokenAuthMethod. Returns 1 with a new object in *out, 0 when none are stored (*out NULL),
 * -1 (a database failure, or a secret this server's key cannot open: err says which). */
int oidc_config_export(struct db *db, struct json_object **out, char *err, size_t errlen);

/* The import of a bundle's oidc, in the caller's transaction: in (member names in any case)
 * replaces the stored settings, its types checked, defaults applied and validated as a PUT
 * (groupRoleMappings ignored), its clientSecret sealed (none: no secret); in NULL deletes
 * them (as the original). The OIDC_* variables do not lock this (they still win when the
 * settings are read). Then, as a PUT, the sessions of a provider no longer in effect end.
 * Returns 0, 1 for bad input (the reason in err, nothing written), -1. */
int oidc_config_import(struct db *db, struct json_object *in, const char *public_url,
    char *err, size_t errlen);

/* Whether an OIDC_* environment variable overrides the settings (they are locked then). */
int oidc_env_locked(void);

/* Whether cfg enables OIDC. */
int oidc_enabled(struct json_object *cfg);

/* Starts a login: discovers the provider, stores a new state with its nonce, PKCE verifier,
 * return_to ("" for none), redirect_uri and browser (the value of the cookie that binds the
 * login to the browser starting it; only its hash is kept), and returns the authorisation
 * URL (a new string) in *auth_url. Returns 0; -1 when the provider cannot be reached or
 * read (reason in err) or the database fails (err says so). */
int oidc_login_start(struct db *db, struct json_object *cfg, const char *redirect_uri,
    const char *return_to, const char *browser, char **auth_url, char *err, size_t errlen);

/* What a callback came to. */
struct oidc_result {
	const char *code;	/* failure: the oidc_error code ("invalid_state" ...) */
	char detail[320];	/* the audit event's details */
	char return_to[512];	/* where the user goes back to ("" for "/") */
	char username[136];
	char email[256];
	char issuer[512];
	int admin;
};

/* Finishes a login from the callback's parameters (each may be NULL; browser: the binding
 * cookie's value, which must be the one the login started with): consumes the state,
 * exchanges the code at the token endpoint, verifies the ID token (signature with the
 * provider's keys, issuer, audience and azp, exp/iat/nbf with OIDC_CLOCK_SKEW, nonce) and
 * applies the claims and allow-lists. Returns 0 with the identity in res, or -1 with
 * res->code and res->detail set. */
int oidc_callback(struct db *db, struct json_object *cfg, const char *secret,
    const char *state, const char *code, const char *idp_error, const char *browser,
    struct oidc_result *res);

#endif
