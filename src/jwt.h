/* jwt.h: signed JSON Web Tokens (RFC 7515, 7519) checked against a JSON Web Key Set: the
 * ID tokens of OIDC sign-in. Only asymmetric signatures: RS256/384/512, PS256/384/512 and
 * ES256/384 over OpenSSL 3; "none" and HMAC are never accepted. */
#ifndef PULSE_JWT_H
#define PULSE_JWT_H

#include <json-c/json.h>
#include <stddef.h>

/* Tokens larger than this are refused unread. */
#define JWT_MAX_LEN 16384

struct jwt {
	struct json_object *header;	/* owned: the decoded JOSE header */
	struct json_object *payload;	/* owned: the claims */
	const char *alg;		/* in header; never NULL after jwt_parse */
	const char *kid;		/* in header; NULL when absent */
	unsigned char *sig;		/* owned */
	size_t sig_len;
	char *signing_input;		/* owned: "header.payload" as sent */
	size_t input_len;
};

/* Splits and decodes a compact JWS (three base64url parts, header and payload JSON objects,
 * an "alg" string). Returns 0 with t filled (free with jwt_free), or -1 with a reason in
 * err (t needs no freeing then). */
int jwt_parse(const char *token, struct jwt *t, char *err, size_t errlen);
void jwt_free(struct jwt *t);

/* Whether alg is one jwt_verify can check ("RS256", "ES256", ...). */
int jwt_alg_supported(const char *alg);

/* Checks t's signature with the key of jwks (a JWK Set object) whose kid is t's kid (with no
 * kid in t: the first key whose type fits the algorithm). Returns 0 when it verifies; 1 when
 * no key of the set matches (fetch the set again: the provider may have rotated); -1 when
 * the signature or the key is bad, with a reason in err. */
int jwt_verify(const struct jwt *t, struct json_object *jwks, char *err, size_t errlen);

#endif
