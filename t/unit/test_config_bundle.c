/* test_config_bundle.c: the export bundle's cipher: a vector made with python3-cryptography
 * from the documented parameters decrypts, our bundles decrypt back, and every kind of damage
 * is refused with the original's reason. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_bundle.h"
#include "crypto.h"
#include "tap.h"
#include "util.h"

/* PBKDF2-HMAC-SHA256("correct horse battery", salt 00..1f, 100,000, 32) as the key,
 * AES-256-GCM with nonce 64..6f, no additional data; base64(salt | nonce | ct | tag). */
static const char vector[] =
    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9kZWZnaGlqa2xtbm+kwWl2dMXL3JflvI5+UmJK8gt+ItGA"
    "cXgWADoDOMrMMgXgDentvuvC7pFTiGQSwtpG7p3MJyl2F1MVv22TkP5pXT8zgB88fsDArUaNKeqd1LFUEMwRWo8u"
    "ZI+2vK5MO+Ph";
static const char vector_plain[] =
    "{\"version\":\"4.1\",\"nodes\":{\"pveInstances\":[{\"Name\":\"pve\",\"TokenValue\":\"s3cret\"}]}}";

/* The reason bundle_decrypt gives, or "ok: <plain text>". A static buffer. */
static const char *
decrypt(const char *data, const char *passphrase)
{
	static char buf[512];
	char err[256] = "", *plain = NULL;
	size_t len = 0;

	if (bundle_decrypt(data, passphrase, &plain, &len, err, sizeof(err)) != 0) {
		snprintf(buf, sizeof(buf), "%s", err);
		return buf;
	}
	snprintf(buf, sizeof(buf), "ok: %.*s", (int)len, plain);
	secret_free_n(plain, len + 1);
	return buf;
}

int
main(void)
{
	char *data, *altered, expect[256];
	unsigned char *raw;
	size_t n;

	is_str(decrypt(vector, "correct horse battery"), "ok: {\"version\":\"4.1\",\"nodes\":"
	    "{\"pveInstances\":[{\"Name\":\"pve\",\"TokenValue\":\"s3cret\"}]}}",
	    "a bundle made from the documented parameters elsewhere decrypts");
	is_str(decrypt(vector, "correct horse batterY"),
	    "failed to decrypt import data: cipher: message authentication failed",
	    "another passphrase: the original's reason");

	data = bundle_encrypt("a passphrase of ours", vector_plain, strlen(vector_plain));
	ok(data != NULL, "our bundle");
	ok(strspn(data, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") ==
	    strlen(data) && strlen(data) % 4 == 0, "standard base64, padded");
	ok(base64_decode(data, &raw, &n) == 0 && n == 32 + 12 + strlen(vector_plain) + 16,
	    "salt (32), nonce (12), ciphertext (%zu), tag (16)", strlen(vector_plain));
	free(raw);
	snprintf(expect, sizeof(expect), "ok: %s", vector_plain);
	is_str(decrypt(data, "a passphrase of ours"), expect, "decrypts back");
	altered = xasprintf("\n  %s\r\n", data);
	is_str(decrypt(altered, "a passphrase of ours"), expect, "white space around it is allowed");
	free(altered);
	altered = xstrdup(data);
	altered[60] = altered[60] == 'A' ? 'B' : 'A';
	is_str(decrypt(altered, "a passphrase of ours"),
	    "failed to decrypt import data: cipher: message authentication failed",
	    "one character changed");
	altered[strlen(altered) / 2 & ~(size_t)3] = '\0';
	is_str(decrypt(altered, "a passphrase of ours"),
	    "failed to decrypt import data: cipher: message authentication failed", "truncated");
	free(altered);
	altered = bundle_encrypt("a passphrase of ours", vector_plain, strlen(vector_plain));
	ok(strcmp(altered, data) != 0, "the same text twice: two different bundles");
	free(altered);
	free(data);

	is_str(decrypt("QUJD", "x"), "failed to decrypt import data: ciphertext too short",
	    "three bytes");
	is_str(decrypt("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9kZWZnaGlqa2xtbm8=", "x"),
	    "failed to decrypt import data: cipher: message authentication failed",
	    "salt and nonce but no tag");
	is_str(decrypt("not base64!", "x"), "failed to decode import data: illegal base64 data",
	    "not base64");
	is_str(decrypt("   ", "x"), "failed to decode import data: illegal base64 data", "blank");
	data = bundle_encrypt("p", "", 0);
	is_str(decrypt(data, "p"), "ok: ", "an empty text");
	free(data);
	return done_testing();
}
