/* test_jwt.c: JWS parsing and verification against JWK Sets built from keys made here
 * (RSA 2048 and 1024, P-256, P-384): good signatures, altered tokens, unknown kids, "none",
 * HMAC, curve and length mismatches. */
#include "config.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "jwt.h"
#include "tap.h"
#include "util.h"

static char *
b64(const void *data, size_t len)
{
	return base64_encode(data, len, 1, 0);
}

static char *
b64s(const char *s)
{
	return b64(s, strlen(s));
}

static char *
bn_b64(const EVP_PKEY *k, const char *param)
{
	BIGNUM *bn = NULL;
	unsigned char buf[1024];
	int n;

	EVP_PKEY_get_bn_param(k, param, &bn);
	n = BN_bn2bin(bn, buf);
	BN_free(bn);
	return b64(buf, (size_t)n);
}

/* A JWK (public part) of k as JSON text, with kid. */
static char *
jwk_of(EVP_PKEY *k, const char *kid, const char *crv, size_t coord)
{
	if (EVP_PKEY_is_a(k, "RSA")) {
		char *n = bn_b64(k, OSSL_PKEY_PARAM_RSA_N), *e = bn_b64(k, OSSL_PKEY_PARAM_RSA_E);
		char *j = xasprintf("{\"kty\":\"RSA\",\"kid\":\"%s\",\"use\":\"sig\",\"n\":\"%s\",\"e\":\"%s\"}",
		    kid, n, e);
		free(n);
		free(e);
		return j;
	} else {
		unsigned char pub[200];
		size_t len = 0;
		char *x, *y, *j;

		EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pub, sizeof(pub), &len);
		x = b64(pub + 1, coord);
		y = b64(pub + 1 + coord, coord);
		j = xasprintf("{\"kty\":\"EC\",\"kid\":\"%s\",\"crv\":\"%s\",\"x\":\"%s\",\"y\":\"%s\"}",
		    kid, crv, x, y);
		free(x);
		free(y);
		return j;
	}
}

/* A compact JWS of payload signed by k with alg (RS256, PS256, ES256, ES384). */
static char *
sign(EVP_PKEY *k, const char *alg, const char *kid, const char *payload)
{
	char *header = xasprintf("{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, kid);
	char *h = b64s(header), *p = b64s(payload), *input = xasprintf("%s.%s", h, p), *s, *tok;
	const char *md = strstr(alg, "384") ? "SHA384" : "SHA256";
	unsigned char sig[1024], raw[200];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;

	EVP_DigestSignInit_ex(ctx, &pctx, md, NULL, NULL, k, NULL);
	if (alg[0] == 'P') {
		EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
		EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
	}
	EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)input, strlen(input));
	EVP_MD_CTX_free(ctx);
	if (alg[0] == 'E') {
		/* DER to the JWS form r || s. */
		size_t coord = strstr(alg, "384") ? 48 : 32;
		const unsigned char *d = sig;
		ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &d, (long)siglen);
		BN_bn2binpad(ECDSA_SIG_get0_r(es), raw, (int)coord);
		BN_bn2binpad(ECDSA_SIG_get0_s(es), raw + coord, (int)coord);
		ECDSA_SIG_free(es);
		s = b64(raw, 2 * coord);
	} else {
		s = b64(sig, siglen);
	}
	tok = xasprintf("%s.%s", input, s);
	free(header);
	free(h);
	free(p);
	free(input);
	free(s);
	return tok;
}

static int
verify(const char *token, const char *jwks_text, char *err, size_t errlen)
{
	struct jwt t;
	struct json_object *jwks = json_tokener_parse(jwks_text);
	int rc;

	if (jwt_parse(token, &t, err, errlen) != 0) {
		json_object_put(jwks);
		return -2;
	}
	rc = jwt_verify(&t, jwks, err, errlen);
	jwt_free(&t);
	json_object_put(jwks);
	return rc;
}

int
main(void)
{
	EVP_PKEY *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *rsa2 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	EVP_PKEY *small = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	EVP_PKEY *ec384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	char *j_rsa = jwk_of(rsa, "r1", NULL, 0), *j_ec = jwk_of(ec, "e1", "P-256", 32);
	char *j_ec384 = jwk_of(ec384, "e2", "P-384", 48), *j_small = jwk_of(small, "s1", NULL, 0);
	char *jwks = xasprintf("{\"keys\":[%s,%s,%s,%s]}", j_rsa, j_ec, j_ec384, j_small);
	const char *payload = "{\"iss\":\"https://idp\",\"aud\":\"pulse\",\"sub\":\"alice\"}";
	char err[200], *tok, *bad, *h, *p;
	struct jwt t;

	tok = sign(rsa, "RS256", "r1", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), 0, "RS256 verifies");
	ok(jwt_parse(tok, &t, err, sizeof(err)) == 0 &&
	    strcmp(json_object_get_string(json_object_object_get(t.payload, "sub")), "alice") == 0,
	    "claims parsed");
	jwt_free(&t);
	/* Another payload under the same signature. */
	bad = xstrdup(tok);
	p = b64s("{\"iss\":\"https://idp\",\"aud\":\"pulse\",\"sub\":\"mallory\"}");
	h = strchr(bad, '.');
	{
		char *sig = strrchr(tok, '.');
		char *t2 = xasprintf("%.*s.%s%s", (int)(h - bad), bad, p, sig);
		is_int(verify(t2, jwks, err, sizeof(err)), -1, "an altered payload fails");
		is_str(err, "signature does not verify", "reason");
		free(t2);
	}
	free(p);
	free(bad);
	free(tok);

	tok = sign(rsa2, "RS256", "r1", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), -1, "signed by another key under the same kid: fails");
	free(tok);
	tok = sign(rsa, "RS256", "nope", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), 1, "an unknown kid: 1 (fetch the keys again)");
	free(tok);
	tok = sign(rsa, "PS256", "r1", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), 0, "PS256 verifies");
	free(tok);
	tok = sign(ec, "ES256", "e1", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), 0, "ES256 verifies");
	/* An ES256 signature cut short. */
	bad = xstrndup(tok, strlen(tok) - 4);
	is_int(verify(bad, jwks, err, sizeof(err)), -1, "a short ECDSA signature fails");
	free(bad);
	free(tok);
	tok = sign(ec384, "ES384", "e2", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), 0, "ES384 verifies");
	free(tok);
	tok = sign(ec, "ES256", "e2", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), -1, "ES256 against a P-384 key fails");
	free(tok);
	tok = sign(small, "RS256", "s1", payload);
	is_int(verify(tok, jwks, err, sizeof(err)), -1, "a 1024-bit RSA key is refused");
	ok(strstr(err, "too small") != NULL, "reason: %s", err);
	free(tok);

	/* alg none and HS256 never verify, whatever follows. */
	h = b64s("{\"alg\":\"none\"}");
	p = b64s(payload);
	tok = xasprintf("%s.%s.", h, p);
	is_int(verify(tok, jwks, err, sizeof(err)), -1, "alg none refused");
	ok(strstr(err, "not accepted") != NULL, "reason: %s", err);
	free(tok);
	free(h);
	h = b64s("{\"alg\":\"HS256\",\"kid\":\"r1\"}");
	tok = xasprintf("%s.%s.c2lnbmF0dXJl", h, p);
	is_int(verify(tok, jwks, err, sizeof(err)), -1, "HS256 refused");
	free(tok);
	free(h);
	free(p);

	/* Malformed tokens. */
	is_int(verify("a.b", jwks, err, sizeof(err)), -2, "two parts: malformed");
	is_int(verify("a.b.c.d", jwks, err, sizeof(err)), -2, "four parts: malformed");
	is_int(verify("e30.e30.", jwks, err, sizeof(err)), -2, "no alg: malformed");
	h = b64s("[1]");
	tok = xasprintf("%s.e30.", h);
	is_int(verify(tok, jwks, err, sizeof(err)), -2, "a header that is not an object: malformed");
	free(tok);
	free(h);
	h = b64s("{\"alg\":\"RS256\"}");
	tok = xasprintf("%s.%s.!!!", h, "e30");
	is_int(verify(tok, jwks, err, sizeof(err)), -2, "a signature that is not base64url: malformed");
	free(tok);
	free(h);
	{
		char *big = xmalloc(JWT_MAX_LEN + 10);
		memset(big, 'a', JWT_MAX_LEN + 9);
		big[JWT_MAX_LEN + 9] = '\0';
		big[10] = '.';
		big[20] = '.';
		is_int(verify(big, jwks, err, sizeof(err)), -2, "a token over JWT_MAX_LEN: refused");
		free(big);
	}
	ok(jwt_alg_supported("RS256") && jwt_alg_supported("ES256") && !jwt_alg_supported("none") &&
	    !jwt_alg_supported("HS256") && !jwt_alg_supported(NULL), "supported algorithms");

	free(j_rsa);
	free(j_ec);
	free(j_ec384);
	free(j_small);
	free(jwks);
	EVP_PKEY_free(rsa);
	EVP_PKEY_free(rsa2);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(ec384);
	return done_testing();
}
