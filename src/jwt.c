/* jwt.c: compact JWS parsing and signature verification with keys from a JWK Set. */
#include "config.h"

#include "jwt.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "util.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* RSA moduli below this many bits are refused, whatever the provider publishes. */
#define JWT_RSA_MIN_BITS 2048

struct alg_info {
	const char *name;
	const char *kty;	/* "RSA" or "EC" */
	const char *digest;
	int pss;
	const char *crv;	/* EC: the curve the key must be on */
	size_t coord_len;	/* EC: bytes of r and of s in the signature */
};

static const struct alg_info algs[] = {
	{"RS256", "RSA", "SHA256", 0, NULL, 0},
	{"RS384", "RSA", "SHA384", 0, NULL, 0},
	{"RS512", "RSA", "SHA512", 0, NULL, 0},
	{"PS256", "RSA", "SHA256", 1, NULL, 0},
	{"PS384", "RSA", "SHA384", 1, NULL, 0},
	{"PS512", "RSA", "SHA512", 1, NULL, 0},
	{"ES256", "EC", "SHA256", 0, "P-256", 32},
	{"ES384", "EC", "SHA384", 0, "P-384", 48},
};

static const struct alg_info *
alg_find(const char *name)
{
	for (size_t i = 0; name && i < ARRAY_LEN(algs); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

int
jwt_alg_supported(const char *alg)
{
	return alg_find(alg) != NULL;
}

/* Decodes one base64url part into a JSON object (strictly, within the default limits). */
static struct json_object *
part_json(const char *s, size_t len)
{
	char *text = xstrndup(s, len), perr[128];
	unsigned char *raw = NULL;
	size_t raw_len = 0;
	struct json_object *obj = NULL;

	if (base64_decode(text, &raw, &raw_len) == 0) {
		obj = jsonutil_parse((const char *)raw, raw_len, perr, sizeof(perr));
		if (obj && !json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			obj = NULL;
		}
		free(raw);
	}
	free(text);
	return obj;
}

int
jwt_parse(const char *token, struct jwt *t, char *err, size_t errlen)
{
	const char *d1, *d2;
	char *sig_text;
	struct json_object *v;

	memset(t, 0, sizeof(*t));
	if (token == NULL || strlen(token) > JWT_MAX_LEN) {
		snprintf(err, errlen, "token missing or too large");
		return -1;
	}
	d1 = strchr(token, '.');
	d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (d1 == NULL || d2 == NULL || strchr(d2 + 1, '.') != NULL) {
		snprintf(err, errlen, "malformed token: expected three parts");
		return -1;
	}
	t->header = part_json(token, (size_t)(d1 - token));
	t->payload = part_json(d1 + 1, (size_t)(d2 - d1 - 1));
	if (t->header == NULL || t->payload == NULL) {
		snprintf(err, errlen, "malformed token: header or payload is not a JSON object");
		goto err;
	}
	v = jsonread_member(t->header, "alg");
	if (v == NULL || !json_object_is_type(v, json_type_string)) {
		snprintf(err, errlen, "malformed token: no alg");
		goto err;
	}
	t->alg = json_object_get_string(v);
	v = jsonread_member(t->header, "kid");
	t->kid = v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
	sig_text = xstrdup(d2 + 1);
	if (*sig_text == '\0') {
		t->sig = xmalloc(1);
		t->sig_len = 0;
	} else if (base64_decode(sig_text, &t->sig, &t->sig_len) != 0) {
		free(sig_text);
		snprintf(err, errlen, "malformed token: signature is not base64url");
		goto err;
	}
	free(sig_text);
	t->input_len = (size_t)(d2 - token);
	t->signing_input = xstrndup(token, t->input_len);
	return 0;
err:
	jwt_free(t);
	return -1;
}

void
jwt_free(struct jwt *t)
{
	if (t->header)
		json_object_put(t->header);
	if (t->payload)
		json_object_put(t->payload);
	free(t->sig);
	free(t->signing_input);
	memset(t, 0, sizeof(*t));
}

/* A base64url member of a JWK as a BIGNUM or raw bytes; NULL when absent or malformed. */
static unsigned char *
jwk_bytes(struct json_object *jwk, const char *key, size_t *len)
{
	const char *s = jsonread_string(jwk, key, NULL);
	unsigned char *raw = NULL;

	if (s == NULL || *s == '\0' || base64_decode(s, &raw, len) != 0 || *len == 0) {
		free(raw);
		return NULL;
	}
	return raw;
}

/* An EVP_PKEY from an RSA JWK (n, e) or an EC JWK (crv, x, y) fit for alg; NULL with a
 * reason in err. */
static EVP_PKEY *
jwk_key(struct json_object *jwk, const struct alg_info *a, char *err, size_t errlen)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *b1 = NULL, *b2 = NULL, *point = NULL;
	size_t l1 = 0, l2 = 0;

	if (bld == NULL)
		goto done;
	if (strcmp(a->kty, "RSA") == 0) {
		b1 = jwk_bytes(jwk, "n", &l1);
		b2 = jwk_bytes(jwk, "e", &l2);
		if (b1 == NULL || b2 == NULL || l2 > 8) {
			snprintf(err, errlen, "RSA key without a usable n or e");
			goto done;
		}
		n = BN_bin2bn(b1, (int)l1, NULL);
		e = BN_bin2bn(b2, (int)l2, NULL);
		if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto done;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	} else {
		const char *crv = jsonread_string(jwk, "crv", "");
		if (strcmp(crv, a->crv) != 0) {
			snprintf(err, errlen, "EC key on curve %.20s, %s needs %s", crv, a->name, a->crv);
			goto done;
		}
		b1 = jwk_bytes(jwk, "x", &l1);
		b2 = jwk_bytes(jwk, "y", &l2);
		if (b1 == NULL || b2 == NULL || l1 != a->coord_len || l2 != a->coord_len) {
			snprintf(err, errlen, "EC key without a usable x or y");
			goto done;
		}
		point = xmalloc(1 + l1 + l2);
		point[0] = 0x04;	/* uncompressed */
		memcpy(point + 1, b1, l1);
		memcpy(point + 1 + l1, b2, l2);
		if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, a->crv, 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + l1 + l2))
			goto done;
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	if (ctx == NULL || params == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		snprintf(err, errlen, "the %s key is not valid", a->kty);
		pkey = NULL;
		goto done;
	}
	if (strcmp(a->kty, "RSA") == 0 && EVP_PKEY_get_bits(pkey) < JWT_RSA_MIN_BITS) {
		snprintf(err, errlen, "RSA key of %d bits is too small", EVP_PKEY_get_bits(pkey));
		EVP_PKEY_free(pkey);
		pkey = NULL;
	}
done:
	if (pkey == NULL && err[0] == '\0')
		snprintf(err, errlen, "the key could not be read");
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	free(b1);
	free(b2);
	free(point);
	return pkey;
}

/* The DER form OpenSSL verifies of a JWS ECDSA signature (r || s, each coord_len bytes);
 * NULL when the length is wrong. */
static unsigned char *
ecdsa_der(const unsigned char *sig, size_t len, size_t coord_len, size_t *der_len)
{
	ECDSA_SIG *es;
	unsigned char *der = NULL;
	int n;

	if (len != 2 * coord_len)
		return NULL;
	es = ECDSA_SIG_new();
	if (es == NULL)
		return NULL;
	if (!ECDSA_SIG_set0(es, BN_bin2bn(sig, (int)coord_len, NULL),
	    BN_bin2bn(sig + coord_len, (int)coord_len, NULL))) {
		ECDSA_SIG_free(es);
		return NULL;
	}
	n = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if (n <= 0)
		return NULL;
	*der_len = (size_t)n;
	return der;
}

/* The key of the set for t: by kid, or with no kid the first of the algorithm's type. A key
 * whose "use" is not "sig" or whose "alg" names another algorithm does not match. */
static struct json_object *
find_key(const struct jwt *t, const struct alg_info *a, struct json_object *jwks)
{
	struct json_object *keys = jsonread_member(jwks, "keys");
	int n = jsonread_array_len(keys);

	for (int i = 0; i < n; i++) {
		struct json_object *k = json_object_array_get_idx(keys, (size_t)i);
		const char *kid = jsonread_string(k, "kid", NULL);
		const char *use = jsonread_string(k, "use", NULL);
		const char *kalg = jsonread_string(k, "alg", NULL);

		if (strcmp(jsonread_string(k, "kty", ""), a->kty) != 0)
			continue;
		if ((use && strcmp(use, "sig") != 0) || (kalg && strcmp(kalg, a->name) != 0))
			continue;
		if (t->kid ? (kid && strcmp(kid, t->kid) == 0) : 1)
			return k;
	}
	return NULL;
}

int
jwt_verify(const struct jwt *t, struct json_object *jwks, char *err, size_t errlen)
{
	const struct alg_info *a = alg_find(t->alg);
	struct json_object *jwk;
	EVP_PKEY *pkey;
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *der = NULL;
	const unsigned char *sig = t->sig;
	size_t sig_len = t->sig_len;
	int rc = -1;

	err[0] = '\0';
	if (a == NULL) {
		snprintf(err, errlen, "signing algorithm %.20s not accepted", t->alg);
		return -1;
	}
	jwk = find_key(t, a, jwks);
	if (jwk == NULL) {
		snprintf(err, errlen, "no key for kid %.64s", t->kid ? t->kid : "(none)");
		return 1;
	}
	pkey = jwk_key(jwk, a, err, errlen);
	if (pkey == NULL)
		return -1;
	if (strcmp(a->kty, "EC") == 0) {
		der = ecdsa_der(t->sig, t->sig_len, a->coord_len, &sig_len);
		if (der == NULL) {
			snprintf(err, errlen, "malformed ECDSA signature");
			goto done;
		}
		sig = der;
	}
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestVerifyInit_ex(md, &pctx, a->digest, NULL, NULL, pkey, NULL) <= 0)
		goto fail;
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
		goto fail;
	if (EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)t->signing_input,
	    t->input_len) == 1) {
		rc = 0;
		goto done;
	}
fail:
	snprintf(err, errlen, "signature does not verify");
done:
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pkey);
	OPENSSL_free(der);
	return rc;
}
