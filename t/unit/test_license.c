/* test_license.c: licence keys (src/license.c) against a key pair made here: the 3-parts
 * rule, trimming, signature, claims, grace period, tiers and features, the status and
 * features bodies. */
#include "config.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "jsonutil.h"
#include "license.h"
#include "tap.h"

static EVP_PKEY *
keygen(char *pub_b64, size_t len)
{
	EVP_PKEY *k = NULL;
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	unsigned char raw[32];
	size_t rawlen = sizeof(raw);
	char *b;

	EVP_PKEY_keygen_init(c);
	EVP_PKEY_keygen(c, &k);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_get_raw_public_key(k, raw, &rawlen);
	b = base64_encode(raw, rawlen, 0, 1);
	snprintf(pub_b64, len, "%s", b);
	free(b);
	return k;
}

/* A key for claims signed with k: a new string. */
static char *
mint(EVP_PKEY *k, const char *claims)
{
	const char *header = "{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}";
	char *h = base64_encode((const unsigned char *)header, strlen(header), 1, 0);
	char *p = base64_encode((const unsigned char *)claims, strlen(claims), 1, 0);
	char *signed_part, *s, *out;
	unsigned char sig[64];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	signed_part = malloc(strlen(h) + strlen(p) + 2);
	sprintf(signed_part, "%s.%s", h, p);
	EVP_DigestSignInit(ctx, NULL, NULL, NULL, k);
	EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)signed_part, strlen(signed_part));
	EVP_MD_CTX_free(ctx);
	s = base64_encode(sig, siglen, 1, 0);
	out = malloc(strlen(signed_part) + strlen(s) + 2);
	sprintf(out, "%s.%s", signed_part, s);
	free(h);
	free(p);
	free(s);
	free(signed_part);
	return out;
}

static int
validate(const char *key, int64_t now, struct license *l, char *err)
{
	err[0] = '\0';
	return license_validate(key, now, l, err, 256);
}

int
main(void)
{
	char pub[64], other_pub[64], err[256], claims[512], padded[1024];
	EVP_PKEY *k = keygen(pub, sizeof(pub)), *other = keygen(other_pub, sizeof(other_pub));
	int64_t now = 1780000000;
	struct license l;
	struct json_object *o;
	char *key, *bad;

	is_int(license_validate("a.e30.c", now, &l, err, sizeof(err)), -1, "no public key: refused");
	is_str(err, "no public key configured for validation: signature verification required",
	    "no public key: the original's message");
	conf_set("license_public_key", pub, err, sizeof(err));

	snprintf(claims, sizeof(claims), "{\"lid\":\"l1\",\"email\":\"a@example.com\",\"tier\":"
	    "\"pro\",\"iat\":%lld,\"exp\":%lld,\"max_nodes\":5}", (long long)now,
	    (long long)(now + 10 * 86400 + 3600));
	key = mint(k, claims);
	is_int(validate(key, now, &l, err), 0, "a good key");
	is_str(l.tier, "pro", "tier");
	is_str(l.email, "a@example.com", "email");
	is_int(l.max_nodes, 5, "max_nodes");
	is_int(license_state_at(&l, now), LICENSE_ACTIVE, "active");
	ok(license_has_feature(&l, now, "agent_profiles"), "pro: agent_profiles");
	ok(!license_has_feature(&l, now, "audit_logging"), "pro: no audit_logging");
	o = license_status_json(&l, now);
	is_str(jsonutil_to_string(o, NULL), "{\"valid\":true,\"tier\":\"pro\",\"email\":"
	    "\"a@example.com\",\"expires_at\":\"2026-06-07T21:26:40Z\",\"is_lifetime\":false,"
	    "\"days_remaining\":10,\"features\":[\"ai_patrol\",\"ai_alerts\",\"ai_autofix\","
	    "\"kubernetes_ai\",\"agent_profiles\",\"update_alerts\",\"sso\",\"rbac\"],"
	    "\"max_nodes\":5}", "status body");
	json_object_put(o);

	/* Whitespace around it is trimmed. */
	snprintf(padded, sizeof(padded), " \t\n%s \r\n", key);
	is_int(validate(padded, now, &l, err), 0, "whitespace trimmed");

	/* Grace: 7 days after expiry. */
	is_int(license_state_at(&l, now + 12 * 86400), LICENSE_GRACE, "2 days after expiry: grace");
	ok(license_has_feature(&l, now + 12 * 86400, "agent_profiles"), "grace keeps features");
	o = license_features_json(&l, now + 12 * 86400);
	is_str(json_object_get_string(json_object_object_get(o, "license_status")), "grace_period",
	    "features: grace_period");
	json_object_put(o);
	is_int(license_state_at(&l, now + 18 * 86400), LICENSE_EXPIRED, "past grace: expired");
	ok(!license_has_feature(&l, now + 18 * 86400, "agent_profiles"), "past grace: nothing");
	is_int(validate(key, now + 18 * 86400, &l, err), -1, "past grace: refused");
	is_str(err, "license has expired: expired on 2026-06-07 (grace period ended 2026-06-14)",
	    "past grace: the original's message");
	is_int(validate(key, now + 16 * 86400, &l, err), 0, "within grace: accepted");

	/* The three-parts rule and garbage. */
	is_int(validate("garbage", now, &l, err), -1, "garbage");
	is_str(err, "malformed license key: expected 3 parts, got 1", "garbage: message");
	is_int(validate("a.b.c.d", now, &l, err), -1, "four parts");
	is_str(err, "malformed license key: expected 3 parts, got 4", "four parts: message");
	is_int(validate("a..c", now, &l, err), -1, "an empty payload");
	is_str(err, "malformed license key: failed to decode payload", "empty payload: message");

	/* Signatures. */
	bad = strdup(key);
	bad[strlen(bad) - 3] = bad[strlen(bad) - 3] == 'A' ? 'B' : 'A';
	is_int(validate(bad, now, &l, err), -1, "a changed signature");
	is_str(err, "invalid license signature", "changed signature: message");
	free(bad);
	bad = mint(other, claims);
	is_int(validate(bad, now, &l, err), -1, "signed with another key");
	is_str(err, "invalid license signature", "another key: message");
	free(bad);
	conf_set("license_public_key", other_pub, err, sizeof(err));
	is_int(validate(key, now, &l, err), -1, "another public key configured: refused");
	conf_set("license_public_key", "not base64 at all!", err, sizeof(err));
	is_int(validate(key, now, &l, err), -1, "a public key that is not one: refused");
	is_str(err, "no public key configured for validation: signature verification required",
	    "a bad public key counts as none");
	conf_set("license_public_key", pub, err, sizeof(err));

	/* Claims. */
	bad = mint(k, "{\"lid\":\"l1\",\"tier\":\"pro\"}");
	is_int(validate(bad, now, &l, err), -1, "missing email");
	is_str(err, "malformed license key: missing email", "missing email: message");
	free(bad);
	bad = mint(k, "{\"lid\":\"l1\",\"email\":\"e\",\"tier\":\"pro\",\"exp\":\"soon\"}");
	is_int(validate(bad, now, &l, err), -1, "exp of the wrong type");
	is_str(err, "malformed license key: failed to parse claims", "wrong type: message");
	free(bad);
	bad = mint(k, "[1,2]");
	is_int(validate(bad, now, &l, err), -1, "claims not an object");
	free(bad);
	bad = mint(k, "{\"lid\":\"l2\",\"email\":\"e\",\"tier\":\"lifetime\",\"features\":"
	    "[\"audit_logging\",\"sso\"]}");
	is_int(validate(bad, now, &l, err), 0, "lifetime with extra features");
	ok(license_has_feature(&l, now + 1e9, "audit_logging"), "an explicit feature, forever");
	o = license_status_json(&l, now);
	is_int(json_object_get_int(json_object_object_get(o, "days_remaining")), -1,
	    "lifetime: -1 days");
	ok(json_object_object_get(o, "expires_at") == NULL, "lifetime: no expires_at");
	is_int((int)json_object_array_length(json_object_object_get(o, "features")), 9,
	    "the tier's 8 and audit_logging once");
	json_object_put(o);
	free(bad);

	/* No licence. */
	o = license_status_json(NULL, now);
	is_str(jsonutil_to_string(o, NULL), "{\"valid\":false,\"tier\":\"free\",\"is_lifetime\":"
	    "false,\"days_remaining\":0,\"features\":null}", "no licence: the original's body");
	json_object_put(o);
	ok(!license_has_feature(NULL, now, "sso"), "no licence: not even free features");
	is_str(license_feature_name("audit_logging"), "Enterprise Audit Logging", "display name");
	ok(license_feature_name("nope") == NULL, "unknown feature");

	free(key);
	EVP_PKEY_free(k);
	EVP_PKEY_free(other);
	return done_testing();
}
