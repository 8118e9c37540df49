/* license.c: Pulse Pro licence keys: Ed25519 verification (OpenSSL 3), claims, tiers and
 * features, grace period, and the activated key sealed in pulse.license. */
#include "config.h"

#include "license.h"
#include "conf.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "timefmt.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEAL_CONTEXT "pulse.license.key"

/* Features by tier (security.md §11.3), in the order the status lists them. */
static const char *const tier_free[] = {"update_alerts", "sso", NULL};
static const char *const tier_pro[] = {"ai_patrol", "ai_alerts", "ai_autofix", "kubernetes_ai",
    "agent_profiles", "update_alerts", "sso", "rbac", NULL};
static const char *const tier_msp[] = {"ai_patrol", "ai_alerts", "ai_autofix", "kubernetes_ai",
    "agent_profiles", "update_alerts", "sso", "unlimited", NULL};
static const char *const tier_enterprise[] = {"ai_patrol", "ai_alerts", "ai_autofix",
    "kubernetes_ai", "agent_profiles", "update_alerts", "sso", "rbac", "unlimited",
    "multi_user", "white_label", "multi_tenant", "audit_logging", "advanced_sso",
    "advanced_reporting", NULL};

static const struct {
	const char *tier;
	const char *const *features;
} tiers[] = {
	{"free", tier_free},
	{"pro", tier_pro},
	{"pro_annual", tier_pro},
	{"lifetime", tier_pro},
	{"msp", tier_msp},
	{"enterprise", tier_enterprise},
};

static const struct {
	const char *key, *name;
} feature_names[] = {
	{"ai_patrol", "AI Patrol (Background Health Checks)"},
	{"ai_alerts", "AI Alert Analysis"},
	{"ai_autofix", "AI Auto-Fix"},
	{"kubernetes_ai", "Kubernetes AI Analysis"},
	{"update_alerts", "Update Alerts (Container/Package Updates)"},
	{"rbac", "Role-Based Access Control (RBAC)"},
	{"multi_user", "Multi-User Mode"},
	{"white_label", "White-Label Branding"},
	{"multi_tenant", "Multi-Tenant Mode"},
	{"unlimited", "Unlimited Instances"},
	{"agent_profiles", "Centralized Agent Profiles"},
	{"audit_logging", "Enterprise Audit Logging"},
	{"sso", "Basic SSO (OIDC)"},
	{"advanced_sso", "Advanced SSO (SAML/Multi-Provider)"},
	{"advanced_reporting", "Advanced Infrastructure Reporting (PDF/CSV)"},
};

const char *
license_feature_name(const char *feature)
{
	for (size_t i = 0; i < ARRAY_LEN(feature_names); i++)
		if (strcmp(feature_names[i].key, feature) == 0)
			return feature_names[i].name;
	return NULL;
}

static const char *const *
tier_features(const char *tier)
{
	for (size_t i = 0; i < ARRAY_LEN(tiers); i++)
		if (strcmp(tiers[i].tier, tier) == 0)
			return tiers[i].features;
	return NULL;
}

static int
is_lifetime(const struct license *l)
{
	return l->exp == 0 || strcmp(l->tier, "lifetime") == 0;
}

enum license_state
license_state_at(const struct license *l, int64_t now)
{
	if (l == NULL)
		return LICENSE_NONE;
	if (is_lifetime(l) || now < l->exp)
		return LICENSE_ACTIVE;
	return now < l->exp + LICENSE_GRACE_SECONDS ? LICENSE_GRACE : LICENSE_EXPIRED;
}

int
license_has_feature(const struct license *l, int64_t now, const char *feature)
{
	enum license_state st = license_state_at(l, now);
	const char *const *tf;

	if (st != LICENSE_ACTIVE && st != LICENSE_GRACE)
		return 0;
	for (int i = 0; i < l->nfeatures; i++)
		if (strcmp(l->features[i], feature) == 0)
			return 1;
	for (tf = tier_features(l->tier); tf && *tf; tf++)
		if (strcmp(*tf, feature) == 0)
			return 1;
	return 0;
}

/* The configured public key: 32 raw bytes from base64 (standard or URL). Returns 0, or -1
 * when none is set or it is not such a key (logged once per process). */
static int
public_key(unsigned char out[32])
{
	static int warned;	/* atomic */
	const char *text = conf_str("license_public_key");
	unsigned char *raw = NULL;
	size_t len = 0;
	char trimmed[256];

	jsonread_copy_trimmed(trimmed, sizeof(trimmed), text);
	if (trimmed[0] == '\0')
		return -1;
	if (base64_decode(trimmed, &raw, &len) != 0 || len != 32) {
		if (!__atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
			log_warn("msg=\"license_public_key is not a base64 Ed25519 public key\"");
		free(raw);
		return -1;
	}
	memcpy(out, raw, 32);
	free(raw);
	return 0;
}

/* Decodes base64url part [p, p+len) into a new buffer. Returns 0 or -1. */
static int
decode_part(const char *p, size_t len, unsigned char **out, size_t *outlen)
{
	char *copy;
	int rc;

	if (len == 0)
		return -1;
	copy = xmalloc(len + 1);
	memcpy(copy, p, len);
	copy[len] = '\0';
	rc = base64_decode(copy, out, outlen);
	free(copy);
	return rc;
}

static int
ed25519_verify(const unsigned char pub[32], const unsigned char *sig, size_t siglen,
    const char *msg, size_t msglen)
{
	EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, 32);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = 0;

	if (pkey && ctx && siglen == 64 && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1)
		ok = EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)msg, msglen) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ok;
}

/* Reads the claims of a verified payload. Returns 0, or -1 with the message. */
static int
parse_claims(const unsigned char *payload, size_t len, struct license *out, char *err,
    size_t errlen)
{
	char perr[128];
	struct json_object *o = jsonutil_parse((const char *)payload, len, perr, sizeof(perr));
	struct json_object *features;
	const char *s;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (o == NULL || !jsonread_is_object(o)) {
		snprintf(err, errlen, "malformed license key: failed to parse claims");
		goto done;
	}
	if (jsonutil_get_string(o, "lid", &s) == JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_string(o, "email", &s) == JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_string(o, "tier", &s) == JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_int(o, "iat", INT64_MIN, INT64_MAX, &out->iat) == JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_int(o, "exp", 0, INT64_MAX / 2, &out->exp) == JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_int(o, "max_nodes", 0, INT64_MAX, &out->max_nodes) ==
	    JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_int(o, "max_guests", 0, INT64_MAX, &out->max_guests) ==
	    JSONUTIL_WRONG_TYPE ||
	    jsonutil_get_array(o, "features", &features) == JSONUTIL_WRONG_TYPE) {
		snprintf(err, errlen, "malformed license key: failed to parse claims");
		goto done;
	}
	jsonread_copy(out->lid, sizeof(out->lid), jsonread_string(o, "lid", ""));
	jsonread_copy(out->email, sizeof(out->email), jsonread_string(o, "email", ""));
	jsonread_copy(out->tier, sizeof(out->tier), jsonread_string(o, "tier", ""));
	features = jsonread_member(o, "features");
	for (int i = 0; i < jsonread_array_len(features); i++) {
		struct json_object *f = json_object_array_get_idx(features, (size_t)i);
		if (!json_object_is_type(f, json_type_string)) {
			snprintf(err, errlen, "malformed license key: failed to parse claims");
			goto done;
		}
		if (out->nfeatures < LICENSE_MAX_FEATURES)
			jsonread_copy(out->features[out->nfeatures++], sizeof(out->features[0]),
			    json_object_get_string(f));
	}
	if (out->lid[0] == '\0')
		snprintf(err, errlen, "malformed license key: missing license ID");
	else if (out->email[0] == '\0')
		snprintf(err, errlen, "malformed license key: missing email");
	else if (out->tier[0] == '\0')
		snprintf(err, errlen, "malformed license key: missing tier");
	else
		rc = 0;
done:
	json_object_put(o);
	return rc;
}

static void
format_day(int64_t t, char out[16])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 16, "%Y-%m-%d", &tm);
}

int
license_validate(const char *key, int64_t now, struct license *out, char *err, size_t errlen)
{
	const char *start, *end, *dot1, *dot2;
	size_t klen;
	unsigned char pub[32], *payload = NULL, *sig = NULL;
	size_t payload_len = 0, sig_len = 0;
	int parts = 1, rc = -1;

	start = str_trimmed(key, &klen);
	end = start + klen;
	for (const char *p = start; p < end; p++)
		parts += *p == '.';
	if (parts != 3) {
		snprintf(err, errlen, "malformed license key: expected 3 parts, got %d", parts);
		return -1;
	}
	dot1 = memchr(start, '.', (size_t)(end - start));
	dot2 = memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
	if (decode_part(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload, &payload_len) != 0) {
		snprintf(err, errlen, "malformed license key: failed to decode payload");
		goto done;
	}
	if (public_key(pub) != 0) {
		snprintf(err, errlen, "no public key configured for validation: signature "
		    "verification required");
		goto done;
	}
	if (decode_part(dot2 + 1, (size_t)(end - dot2 - 1), &sig, &sig_len) != 0) {
		snprintf(err, errlen, "malformed license key: failed to decode signature");
		goto done;
	}
	if (!ed25519_verify(pub, sig, sig_len, start, (size_t)(dot2 - start))) {
		snprintf(err, errlen, "invalid license signature");
		goto done;
	}
	if (parse_claims(payload, payload_len, out, err, errlen) != 0)
		goto done;
	if (license_state_at(out, now) == LICENSE_EXPIRED) {
		char day[16], grace[16];
		format_day(out->exp, day);
		format_day(out->exp + LICENSE_GRACE_SECONDS, grace);
		snprintf(err, errlen, "license has expired: expired on %s (grace period ended %s)",
		    day, grace);
		goto done;
	}
	rc = 0;
done:
	free(payload);
	free(sig);
	return rc;
}

struct json_object *
license_status_json(const struct license *l, int64_t now)
{
	struct json_object *o = json_object_new_object(), *features;
	enum license_state st = license_state_at(l, now);
	const char *const *tf;

	if (st == LICENSE_NONE) {
		jsonwrite_bool(o, "valid", 0);
		jsonwrite_str(o, "tier", "free");
		jsonwrite_bool(o, "is_lifetime", 0);
		jsonwrite_int(o, "days_remaining", 0);
		json_object_object_add(o, "features", NULL);
		return o;
	}
	jsonwrite_bool(o, "valid", st == LICENSE_ACTIVE || st == LICENSE_GRACE);
	jsonwrite_str(o, "tier", l->tier);
	jsonwrite_opt_str(o, "email", l->email);
	if (!is_lifetime(l))
		jsonwrite_time(o, "expires_at", (double)l->exp);
	jsonwrite_bool(o, "is_lifetime", is_lifetime(l));
	jsonwrite_int(o, "days_remaining", is_lifetime(l) ? -1 :
	    st == LICENSE_ACTIVE ? (l->exp - now) / 86400 : 0);
	features = json_object_new_array();
	for (tf = tier_features(l->tier); tf && *tf; tf++)
		json_object_array_add(features, json_object_new_string(*tf));
	for (int i = 0; i < l->nfeatures; i++) {
		int dup = 0;
		for (tf = tier_features(l->tier); tf && *tf; tf++)
			dup |= strcmp(*tf, l->features[i]) == 0;
		for (int j = 0; j < i; j++)
			dup |= strcmp(l->features[j], l->features[i]) == 0;
		if (!dup)
			json_object_array_add(features, json_object_new_string(l->features[i]));
	}
	json_object_object_add(o, "features", features);
	jsonwrite_opt_int(o, "max_nodes", l->max_nodes);
	jsonwrite_opt_int(o, "max_guests", l->max_guests);
	if (st == LICENSE_GRACE) {
		jsonwrite_bool(o, "in_grace_period", 1);
		jsonwrite_time(o, "grace_period_end", (double)(l->exp + LICENSE_GRACE_SECONDS));
	}
	return o;
}

struct json_object *
license_features_json(const struct license *l, int64_t now)
{
	static const char *const listed[] = {"ai_patrol", "ai_alerts", "ai_autofix",
	    "kubernetes_ai", "update_alerts", "agent_profiles"};
	static const char *const states[] = {"none", "active", "grace_period", "expired"};
	struct json_object *o = json_object_new_object(), *f = json_object_new_object();

	jsonwrite_str(o, "license_status", states[license_state_at(l, now)]);
	for (size_t i = 0; i < ARRAY_LEN(listed); i++)
		jsonwrite_bool(f, listed[i], license_has_feature(l, now, listed[i]));
	json_object_object_add(o, "features", f);
	jsonwrite_str(o, "upgrade_url", LICENSE_UPGRADE_URL);
	return o;
}

static const struct db_stmt stmt_load = {
	"license_load", "SELECT key_sealed FROM pulse.license WHERE id = 1", 0,
};

int
license_load(struct db *db, struct license *out)
{
	PGresult *res = db_exec_stmt(db, &stmt_load, NULL);
	char *key = NULL, err[256];
	size_t len;
	int rc = 0;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1) {
		/* Checked as of time 0: a stored key that has expired since its activation
		 * still loads, and license_state_at tells the caller it is expired. */
		if (secrets_open(SEAL_CONTEXT, PQgetvalue(res, 0, 0), &key, &len) != 0)
			log_warn("msg=\"stored licence cannot be opened with this encryption key\"");
		else if (license_validate(key, 0, out, err, sizeof(err)) != 0)
			log_warn("msg=\"stored licence no longer verifies\" error=\"%s\"", err);
		else
			rc = 1;
		if (key) {
			explicit_bzero(key, len);
			free(key);
		}
	}
	PQclear(res);
	return rc;
}

int
license_feature_granted(struct db *db, const char *feature)
{
	struct license l;
	int rc = license_load(db, &l);

	if (rc <= 0)
		return rc;
	return license_has_feature(&l, (int64_t)time(NULL), feature);
}

static const struct db_stmt stmt_store = {
	"license_store",
	"INSERT INTO pulse.license (id, key_sealed, grace_period_end, activated_at) "
	"VALUES (1, $1, to_timestamp($2::bigint), now()) ON CONFLICT (id) DO UPDATE SET "
	"key_sealed = EXCLUDED.key_sealed, grace_period_end = EXCLUDED.grace_period_end, "
	"activated_at = now()",
	2,
};

int
license_activate(struct db *db, const char *key, int64_t now, struct license *out, char *err,
    size_t errlen)
{
	const char *start, *end;
	size_t klen;
	char grace[24], *sealed;
	const char *params[2];
	int rc;

	if (license_validate(key, now, out, err, errlen) != 0)
		return -1;
	start = str_trimmed(key, &klen);
	end = start + klen;
	sealed = secrets_seal(SEAL_CONTEXT, start, (size_t)(end - start));
	if (sealed == NULL)
		return -2;
	params[0] = sealed;
	params[1] = NULL;
	if (license_state_at(out, now) == LICENSE_GRACE) {
		snprintf(grace, sizeof(grace), "%lld", (long long)(out->exp + LICENSE_GRACE_SECONDS));
		params[1] = grace;
	}
	rc = db_exec_stmt_ok(db, &stmt_store, params);
	free(sealed);
	return rc == 0 ? 0 : -2;
}

static const struct db_stmt stmt_clear = {
	"license_clear", "DELETE FROM pulse.license", 0,
};

int
license_clear(struct db *db)
{
	return db_exec_stmt_ok(db, &stmt_clear, NULL);
}
