/* crypto.c: OpenSSL and libcrypt behind a small interface. */
#include "config.h"

#include "crypto.h"
#include "log.h"
#include "util.h"

#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_FILE ".encryption.key"
#define SEAL_PREFIX "enc:v1:"
#define NONCE_LEN 12
#define TAG_LEN 16

static unsigned char secrets_key[32];
static int secrets_loaded;

void
crypto_random(void *buf, size_t len)
{
	if (RAND_bytes(buf, (int)len) != 1) {
		log_error("msg=\"no random bytes from the OS\"");
		abort();
	}
}

void
hex_encode(const unsigned char *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

char *
crypto_random_hex(size_t nbytes)
{
	unsigned char *raw = xmalloc(nbytes);
	char *hex = xmalloc(2 * nbytes + 1);

	crypto_random(raw, nbytes);
	hex_encode(raw, nbytes, hex);
	explicit_bzero(raw, nbytes);
	free(raw);
	return hex;
}

static void
digest_hex(const EVP_MD *md, const void *data, size_t len, char out[65])
{
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_Digest(data, len, buf, &n, md, NULL);
	hex_encode(buf, n > 32 ? 32 : n, out);
}

void
crypto_sha256_hex(const void *data, size_t len, char out[65])
{
	digest_hex(EVP_sha256(), data, len, out);
}

void
crypto_sha3_256_hex(const void *data, size_t len, char out[65])
{
	digest_hex(EVP_sha3_256(), data, len, out);
}

char *
base64_encode(const unsigned char *in, size_t len, int url, int pad)
{
	size_t cap = 4 * ((len + 2) / 3) + 1;
	char *out = xmalloc(cap);
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	out[n] = '\0';
	if (url) {
		for (char *p = out; *p; p++) {
			if (*p == '+')
				*p = '-';
			else if (*p == '/')
				*p = '_';
		}
	}
	if (!pad) {
		while (n > 0 && out[n - 1] == '=')
			out[--n] = '\0';
	}
	return out;
}

int
base64_decode(const char *in, unsigned char **out, size_t *outlen)
{
	size_t len = strlen(in), padded;
	char *norm;
	unsigned char *buf;
	int n, pads = 0;

	while (len > 0 && (in[len - 1] == '\n' || in[len - 1] == '\r' || in[len - 1] == ' '))
		len--;
	padded = (len + 3) / 4 * 4;
	norm = xmalloc(padded + 1);
	for (size_t i = 0; i < len; i++) {
		char c = in[i];
		if (c == '-')
			c = '+';
		else if (c == '_')
			c = '/';
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    c == '+' || c == '/' || c == '=')) {
			free(norm);
			return -1;
		}
		norm[i] = c;
	}
	for (size_t i = len; i < padded; i++)
		norm[i] = '=';
	norm[padded] = '\0';
	if (len % 4 == 1) {
		free(norm);
		return -1;
	}
	for (size_t i = padded; i > 0 && norm[i - 1] == '='; i--)
		pads++;
	buf = xmalloc(padded / 4 * 3 + 1);
	n = EVP_DecodeBlock(buf, (unsigned char *)norm, (int)padded);
	free(norm);
	if (n < 0 || pads > 2) {
		free(buf);
		return -1;
	}
	*out = buf;
	*outlen = (size_t)n - (size_t)pads;
	return 0;
}

void
crypto_uuid4(char out[37])
{
	unsigned char b[16];

	crypto_random(b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
	    b[14], b[15]);
}

int
password_hash(const char *password, char *out, size_t outlen)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	size_t len = strlen(password);
	int rc = -1;

	if (len == 0 || len > 72)
		return -1;
	if (crypt_gensalt_rn("$2b$", 12, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(password, salt, cd);
	if (h != NULL && h[0] == '$' && strlen(h) == 60 && strlen(h) < outlen) {
		memcpy(out, h, 61);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

int
password_verify(const char *password, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int ok;

	if (hash == NULL || strlen(hash) != 60 || strncmp(hash, "$2", 2) != 0)
		hash = password_dummy_hash();
	cd = xcalloc(1, sizeof(*cd));
	h = crypt_r(password, hash, cd);
	ok = h != NULL && h[0] == '$' && ct_equal(h, strlen(h), hash, strlen(hash)) &&
	    hash != password_dummy_hash();
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[64];

static void
make_dummy(void)
{
	char *pw = crypto_random_hex(16);
	if (password_hash(pw, dummy_hash, sizeof(dummy_hash)) != 0)
		abort();
	free(pw);
}

const char *
password_dummy_hash(void)
{
	pthread_once(&dummy_once, make_dummy);
	return dummy_hash;
}

/* --- envelope ----------------------------------------------------------------------- */

static int
read_key(const char *path, char *err, size_t errlen)
{
	char buf[128];
	unsigned char *raw = NULL;
	size_t rawlen = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;

	if (fd < 0) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -1;
	}
	/* The key opens every stored secret: a copy others can read is refused, not used. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		snprintf(err, errlen, "%s must be a regular file only its owner can read (mode "
		    "%04o): chmod 600 %s", path, (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0) {
		snprintf(err, errlen, "%s is empty", path);
		return -1;
	}
	buf[n] = '\0';
	if (base64_decode(buf, &raw, &rawlen) != 0 || rawlen != sizeof(secrets_key)) {
		free(raw);
		explicit_bzero(buf, sizeof(buf));
		snprintf(err, errlen, "%s does not hold a base64 32-byte key", path);
		return -1;
	}
	memcpy(secrets_key, raw, sizeof(secrets_key));
	explicit_bzero(raw, rawlen);
	explicit_bzero(buf, sizeof(buf));
	free(raw);
	secrets_loaded = 1;
	return 0;
}

int
secrets_init(const char *data_dir, int create, char *err, size_t errlen)
{
	char *path = xasprintf("%s/" KEY_FILE, data_dir);
	char *tmp = NULL;
	unsigned char key[32];
	char *b64;
	int fd, rc = -1;

	if (access(path, F_OK) == 0 || !create) {
		rc = read_key(path, err, errlen);
		free(path);
		return rc;
	}
	/* Write a complete file under a temporary name, then link it into place: link fails
	 * if another process won the race, and we then read its key. */
	tmp = xasprintf("%s/.encryption.key.%ld", data_dir, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
		goto out;
	}
	crypto_random(key, sizeof(key));
	b64 = base64_encode(key, sizeof(key), 0, 1);
	explicit_bzero(key, sizeof(key));
	if (write(fd, b64, strlen(b64)) != (ssize_t)strlen(b64) || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(errno));
		explicit_bzero(b64, strlen(b64));
		free(b64);
		close(fd);
		unlink(tmp);
		goto out;
	}
	explicit_bzero(b64, strlen(b64));
	free(b64);
	close(fd);
	if (link(tmp, path) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	unlink(tmp);
	rc = read_key(path, err, errlen);
	if (rc == 0)
		log_info("msg=\"secrets key ready\" path=%s", path);
out:
	free(tmp);
	free(path);
	return rc;
}

int
secrets_ready(void)
{
	return secrets_loaded;
}

void
secrets_key_id(char out[17])
{
	unsigned char mac[32];
	unsigned int n = 0;
	static const char label[] = "pulse secrets key id";

	HMAC(EVP_sha256(), secrets_key, sizeof(secrets_key), (const unsigned char *)label,
	    sizeof(label) - 1, mac, &n);
	hex_encode(mac, 8, out);
}

char *
secrets_seal(const char *context, const void *plaintext, size_t len)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *buf = xmalloc(NONCE_LEN + len + TAG_LEN);
	char *b64, *out;
	int n = 0, fin = 0;

	if (!secrets_loaded) {
		log_error("msg=\"secrets_seal before secrets_init\"");
		abort();
	}
	crypto_random(buf, NONCE_LEN);
	ctx = EVP_CIPHER_CTX_new();
	if (ctx == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, secrets_key, buf) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)context, (int)strlen(context)) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + NONCE_LEN, &n, plaintext, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + NONCE_LEN + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, buf + NONCE_LEN + len) != 1) {
		log_error("msg=\"AES-GCM encryption failed\"");
		abort();
	}
	EVP_CIPHER_CTX_free(ctx);
	b64 = base64_encode(buf, NONCE_LEN + len + TAG_LEN, 0, 1);
	free(buf);
	out = xasprintf(SEAL_PREFIX "%s", b64);
	free(b64);
	return out;
}

int
secrets_open(const char *context, const char *sealed, char **plaintext, size_t *len)
{
	EVP_CIPHER_CTX *ctx;
	unsigned char *raw = NULL;
	size_t rawlen = 0, ctlen;
	char *out;
	int n = 0, fin = 0, ok;

	if (!secrets_loaded || sealed == NULL ||
	    strncmp(sealed, SEAL_PREFIX, strlen(SEAL_PREFIX)) != 0)
		return -1;
	if (base64_decode(sealed + strlen(SEAL_PREFIX), &raw, &rawlen) != 0)
		return -1;
	if (rawlen < NONCE_LEN + TAG_LEN) {
		free(raw);
		return -1;
	}
	ctlen = rawlen - NONCE_LEN - TAG_LEN;
	out = xmalloc(ctlen + 1);
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL &&
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, secrets_key, raw) == 1 &&
	    EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)context, (int)strlen(context)) == 1 &&
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &n, raw + NONCE_LEN, (int)ctlen) == 1 &&
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, raw + NONCE_LEN + ctlen) == 1 &&
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + n, &fin) == 1;
	EVP_CIPHER_CTX_free(ctx);
	free(raw);
	if (!ok) {
		explicit_bzero(out, ctlen + 1);
		free(out);
		return -1;
	}
	out[ctlen] = '\0';
	*plaintext = out;
	*len = ctlen;
	return 0;
}
