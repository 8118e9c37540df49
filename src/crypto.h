/* crypto.h: randomness, hashes, encodings, password hashing, and the AES-256-GCM envelope
 * for every secret stored in the database. All of it over OpenSSL 3 and libcrypt. */
#ifndef PULSE_CRYPTO_H
#define PULSE_CRYPTO_H

#include <stddef.h>

/* Fills buf from the OS CSPRNG (through OpenSSL); aborts if none is available. */
void crypto_random(void *buf, size_t len);

/* nbytes random bytes as lowercase hex: a new string the caller frees. */
char *crypto_random_hex(size_t nbytes);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void hex_encode(const unsigned char *in, size_t len, char *out);

/* Hex digests into out[65]. */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);
void crypto_sha3_256_hex(const void *data, size_t len, char out[65]);

/* Base64 (standard or URL alphabet, with or without padding): a new string. */
char *base64_encode(const unsigned char *in, size_t len, int url, int pad);
/* Decodes standard or URL base64, padded or not. Returns 0 and a new buffer, or -1. */
int base64_decode(const char *in, unsigned char **out, size_t *outlen);

/* A random (version 4) UUID, 36 characters and a NUL. */
void crypto_uuid4(char out[37]);

/* bcrypt ($2b$, cost 12) through libcrypt. The password must be 1..72 bytes. Returns 0 and
 * the 60-character hash in out (at least 64 bytes), or -1. */
int password_hash(const char *password, char *out, size_t outlen);
/* 1 when password matches hash, 0 otherwise (also for a malformed hash). Takes the same
 * time whether or not it matches. */
int password_verify(const char *password, const char *hash);
/* A valid bcrypt hash of a random password, to verify against when the user does not
 * exist, so that an unknown user costs the same time as a wrong password. */
const char *password_dummy_hash(void);

/* --- the secrets envelope ------------------------------------------------------------ */

/* Loads the 32-byte key from data_dir/.encryption.key (base64, as the original stores it),
 * creating it (mode 0600, atomically: two processes starting at once agree on one key) when
 * create is set and it does not exist. Returns 0, or -1 with a message. */
int secrets_init(const char *data_dir, int create, char *err, size_t errlen);
int secrets_ready(void);

/* A short fingerprint of the key (not the key): hosts sharing one database must agree. */
void secrets_key_id(char out[17]);

/* Encrypts plaintext with AES-256-GCM under the key, a fresh 96-bit nonce and context as
 * additional data (so a value cannot be moved to another field). Returns a new string
 * "enc:v1:<base64(nonce | ciphertext | tag)>". */
char *secrets_seal(const char *context, const void *plaintext, size_t len);
/* Decrypts what secrets_seal produced for the same context. Returns 0 with a new
 * NUL-terminated buffer (caller frees, ideally after explicit_bzero), or -1 when the value is
 * malformed, was tampered with, or belongs to another key or context. */
int secrets_open(const char *context, const char *sealed, char **plaintext, size_t *len);

#endif
