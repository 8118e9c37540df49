/* settings.h: the system settings set through the API (pulse.system_settings, one JSON value
 * per key in the original's names): reading and writing them, and the checks of the keys
 * POST /api/system/settings/update accepts so far. */
#ifndef PULSE_SETTINGS_H
#define PULSE_SETTINGS_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

#define SETTINGS_WEBHOOK_CIDRS "webhookAllowedPrivateCIDRs"
#define SETTINGS_PUBLIC_URL "publicURL"

/* The value of key: 1 with a new reference in *out, 0 when unset, -1 (database). */
int settings_get(struct db *db, const char *key, struct json_object **out);
/* The value of key when it is a string, into buf (cut to len); "" when unset or not a
 * string. Returns 0 or -1 (database). */
int settings_get_string(struct db *db, const char *key, char *buf, size_t len);
/* Sets key to value (stays the caller's); NULL removes it. Returns 0 or -1. */
int settings_set(struct db *db, const char *key, struct json_object *value);

/* Checks a comma-separated list of CIDRs or bare addresses (blanks skipped). Returns 0 with
 * the list trimmed and re-joined with "," in out (outlen bytes; "" for none), or -1 with
 * "Invalid webhook allowed private CIDRs: <the invalid entries>" in err. */
int settings_check_cidrs(const char *csv, char *out, size_t outlen, char *err, size_t errlen);
/* Checks a public URL: empty, or http(s) with a host and nothing but a path after it.
 * Returns 0, or -1 with a message in err. */
int settings_check_public_url(const char *url, char *err, size_t errlen);

/* The public URL learnt from a request (alerts-notifications.md §8.5): scheme and Host as
 * the client used them, stored as publicURL only when none is stored yet (the first such
 * request wins; the settings update replaces it). A host that is empty, malformed or
 * loopback (localhost, 127.0.0.0/8, ::1) is never learnt. Returns 1 when a host was usable
 * (stored now or already set: no need to try again), 0 when not, -1 (database). */
int settings_learn_public_url(struct db *db, int https, const char *host);

/* Sets the webhook allowlist and the public URL (each NULL: left alone; "": removed), both
 * checked first, in one transaction. Returns 0, 1 for bad input (message in err; nothing
 * written), or -1 (database). */
int settings_update(struct db *db, const char *cidrs, const char *public_url, char *err,
    size_t errlen);
/* The same inside the caller's transaction (nothing committed or rolled back here). */
int settings_apply(struct db *db, const char *cidrs, const char *public_url, char *err,
    size_t errlen);

#endif
