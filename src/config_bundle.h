/* config_bundle.h: the configuration export bundle (security.md §10): the original's ExportData
 * JSON built from our tables, its passphrase encryption (PBKDF2-HMAC-SHA256, AES-256-GCM,
 * base64 of salt | nonce | ciphertext | tag) and its import, all or nothing in one
 * transaction. */
#ifndef PULSE_CONFIG_BUNDLE_H
#define PULSE_CONFIG_BUNDLE_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

#define BUNDLE_VERSION "4.1"
#define BUNDLE_PBKDF2_ITERATIONS 100000
#define BUNDLE_SALT_LEN 32
#define BUNDLE_NONCE_LEN 12
#define BUNDLE_TAG_LEN 16
#define BUNDLE_MIN_PASSPHRASE 12	/* bytes, on export only (as the original) */

/* Encrypts len bytes of plain under passphrase in the original's layout. Returns a new
 * standard base64 string (padded) the caller frees, or NULL when OpenSSL fails. */
char *bundle_encrypt(const char *passphrase, const void *plain, size_t len);

/* Decodes and decrypts a bundle. Returns 0 with a new NUL-terminated buffer in *plain (the
 * caller clears and frees it: secret_free_n), or -1 with the original's reason in err
 * ("failed to decode import data: ...", "failed to decrypt import data: ..."). */
int bundle_decrypt(const char *data, const char *passphrase, char **plain, size_t *len,
    char *err, size_t errlen);

/* The configuration as the original's ExportData (secrets in clear: never log it; oidc only
 * when OIDC settings are stored). Returns 0 with a new object in *out (the caller puts it),
 * or -1 on a database error or a stored secret that cannot be opened (err says which,
 * without the secret). */
int config_export(struct db *db, struct json_object **out, char *err, size_t errlen);

/* What an import wrote. */
struct config_import_counts {
	int pve, pbs, pmg;		/* instances */
	int webhooks;
	int api_tokens;			/* -1: left alone (a bundle before 4.1) */
	int system_settings;		/* keys set */
	int replaced_nodes;		/* kept their id (same type and host as before) */
	int oidc;			/* 1: OIDC settings saved, 0: deleted (none in the bundle) */
};

enum config_import_result {
	CONFIG_IMPORT_DB_ERROR = -1,	/* nothing written */
	CONFIG_IMPORT_OK = 0,
	CONFIG_IMPORT_BAD_INPUT = 1,	/* err: the reason for the 400, nothing written */
};

/* Replaces nodes (secrets sealed), the alert configuration, the notification channels, the
 * system settings we keep, the OIDC settings (deleted when the bundle has none; the sessions
 * of a provider no longer configured end) and, for version 4.1, the API tokens (hashes
 * kept), from doc (the decrypted ExportData), in one transaction: every part is checked as
 * the API checks it, and any refusal rolls everything back. A bundle without nodes does not
 * replace existing ones (the original's refusal). */
enum config_import_result config_import(struct db *db, struct json_object *doc,
    struct config_import_counts *counts, char *err, size_t errlen);

#endif
