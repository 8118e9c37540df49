/* license.h: the Pulse Pro licence (security.md §11): Ed25519-signed keys, their claims,
 * tiers and features, the 7-day grace period, and the activated key in pulse.license. */
#ifndef PULSE_LICENSE_H
#define PULSE_LICENSE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "db.h"

#define LICENSE_UPGRADE_URL "https://pulse.sh/pro"
#define LICENSE_GRACE_SECONDS (7 * 86400)
#define LICENSE_KEY_MAX 16384	/* a key longer than this is not one */
#define LICENSE_MAX_FEATURES 32

/* The claims of a verified key. */
struct license {
	char lid[128];
	char email[256];
	char tier[32];
	int64_t iat, exp;	/* unix seconds; exp 0: never expires */
	int64_t max_nodes, max_guests;	/* 0: unlimited */
	char features[LICENSE_MAX_FEATURES][48];	/* the explicit features claim */
	int nfeatures;
};

enum license_state {
	LICENSE_NONE,		/* no licence activated */
	LICENSE_ACTIVE,
	LICENSE_GRACE,		/* expired less than 7 days ago: still grants its features */
	LICENSE_EXPIRED,	/* past its grace period: grants nothing */
};

/* Checks a key as the original's activation does: whitespace trimmed, three base64url parts,
 * an Ed25519 signature over "<header>.<payload>" under the configured public key
 * (license_public_key, or PULSE_LICENSE_PUBLIC_KEY), the required claims, and an expiry no
 * more than the grace period ago at now. Returns 0 and the claims, or -1 with the original's
 * message in err (nothing of the key echoed). */
int license_validate(const char *key, int64_t now, struct license *out, char *err,
    size_t errlen);

/* The licence's state at now; l NULL: LICENSE_NONE. */
enum license_state license_state_at(const struct license *l, int64_t now);

/* Whether l (NULL: none) grants feature at now: through its tier or its features claim,
 * while active or in grace. */
int license_has_feature(const struct license *l, int64_t now, const char *feature);

/* The display name of a feature key ("Enterprise Audit Logging"), or NULL for an unknown
 * key. */
const char *license_feature_name(const char *feature);

/* The status object of GET /api/license/status for l (NULL: none) at now: a new reference. */
struct json_object *license_status_json(const struct license *l, int64_t now);

/* The object of GET /api/license/features: a new reference. */
struct json_object *license_features_json(const struct license *l, int64_t now);

/* Reads the activated licence and verifies it again (a changed public key, or a key edited
 * in the table, no longer counts). Returns 1 with the claims, 0 when none is activated or
 * the stored one no longer verifies, -1 on a database error. */
int license_load(struct db *db, struct license *out);

/* Whether the activated licence grants feature now: 1 or 0, -1 on a database error. */
int license_feature_granted(struct db *db, const char *feature);

/* Validates key and stores it (trimmed, sealed) in place of any licence. Returns 0 with
 * the claims, -1 with the validation message in err, -2 on a database error. */
int license_activate(struct db *db, const char *key, int64_t now, struct license *out,
    char *err, size_t errlen);

/* Removes the activated licence. Returns 0 or -1. */
int license_clear(struct db *db);

#endif
