/* test_crypto.c: digests, encodings, bcrypt, and the AES-256-GCM secrets envelope. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "crypto.h"
#include "tap.h"
#include "util.h"

int
main(void)
{
	char hex[65], dir[] = "/tmp/pulse-test-crypto-XXXXXX", err[256], uuid[37];
	unsigned char *raw;
	size_t len;
	char *s, *sealed, *opened;

	crypto_sha256_hex("abc", 3, hex);
	is_str(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 of abc");
	crypto_sha3_256_hex("abc", 3, hex);
	is_str(hex, "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532", "SHA3-256 of abc");
	crypto_sha3_256_hex("", 0, hex);
	is_str(hex, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a", "SHA3-256 of nothing");

	s = base64_encode((const unsigned char *)"\xfb\xff\x00", 3, 0, 1);
	is_str(s, "+/8A", "base64 standard");
	free(s);
	s = base64_encode((const unsigned char *)"\xfb\xff", 2, 1, 0);
	is_str(s, "-_8", "base64 URL, unpadded");
	free(s);
	ok(base64_decode("-_8", &raw, &len) == 0 && len == 2 && raw[0] == 0xfb && raw[1] == 0xff,
	    "decodes URL base64 without padding");
	free(raw);
	ok(base64_decode("+/8A\n", &raw, &len) == 0 && len == 3 && raw[2] == 0, "decodes with a newline");
	free(raw);
	ok(base64_decode("ab$c", &raw, &len) != 0, "refuses non-alphabet");
	ok(base64_decode("a", &raw, &len) != 0, "refuses an impossible length");

	s = crypto_random_hex(32);
	is_int(strlen(s), 64, "32 random bytes are 64 hex digits");
	{
		char *t = crypto_random_hex(32);
		ok(strcmp(s, t) != 0, "two random tokens differ");
		free(t);
	}
	free(s);
	crypto_uuid4(uuid);
	ok(strlen(uuid) == 36 && uuid[14] == '4' && strchr("89ab", uuid[19]) != NULL, "UUID v4 shape: %s", uuid);

	{
		char h[64];
		ok(password_hash("correct horse battery", h, sizeof(h)) == 0, "bcrypt hashes");
		ok(strncmp(h, "$2b$12$", 7) == 0 && strlen(h) == 60, "bcrypt $2b$, cost 12: %.7s", h);
		ok(password_verify("correct horse battery", h), "the right password verifies");
		ok(!password_verify("correct horse batterz", h), "a wrong one does not");
		ok(!password_verify("x", "not a hash"), "a malformed hash never verifies");
		ok(!password_verify("x", NULL), "no hash never verifies");
		ok(password_hash("", h, sizeof(h)) != 0, "empty password refused");
		{
			char longpw[80];
			memset(longpw, 'a', 73);
			longpw[73] = '\0';
			ok(password_hash(longpw, h, sizeof(h)) != 0, "passwords over 72 bytes refused");
		}
		ok(strncmp(password_dummy_hash(), "$2b$12$", 7) == 0, "the dummy hash is a real bcrypt hash");
		/* Hashes made elsewhere (Apache's htpasswd: $2y$; Go's bcrypt writes the same
		 * algorithm as $2a$) verify too. */
		ok(password_verify("password", "$2y$04$2aZdqndtgFzdL.v9oMzv1uJ2ny.rHZ0yTADnvdaVsPAMFbvrlhtpe"),
		    "a $2y$ hash from elsewhere verifies");
		ok(password_verify("password", "$2a$04$2aZdqndtgFzdL.v9oMzv1uJ2ny.rHZ0yTADnvdaVsPAMFbvrlhtpe"),
		    "and its $2a$ spelling");
	}

	ok(mkdtemp(dir) != NULL, "temp dir");
	ok(secrets_init(dir, 0, err, sizeof(err)) != 0, "no key file and create not set: refused");
	{
		/* Two processes creating the key at once end up with one key. */
		pid_t kid = fork();
		if (kid == 0)
			_exit(secrets_init(dir, 1, err, sizeof(err)) == 0 ? 0 : 1);
		ok(secrets_init(dir, 1, err, sizeof(err)) == 0, "key created: %s", err);
		int status;
		waitpid(kid, &status, 0);
		ok(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the other process loaded it too");
	}
	{
		char path[600];
		struct stat st;
		snprintf(path, sizeof(path), "%s/.encryption.key", dir);
		ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "key file mode 0600");
	}
	ok(secrets_ready(), "secrets ready");
	{
		char id1[17], id2[17];
		secrets_key_id(id1);
		ok(secrets_init(dir, 1, err, sizeof(err)) == 0, "reloading the same key");
		secrets_key_id(id2);
		is_str(id1, id2, "the fingerprint is stable");
	}
	sealed = secrets_seal("pulse.nodes.password", "hunter2 is a password", 21);
	ok(strncmp(sealed, "enc:v1:", 7) == 0, "sealed value is tagged");
	ok(strstr(sealed, "hunter2") == NULL, "the plaintext is not visible");
	{
		char *again = secrets_seal("pulse.nodes.password", "hunter2 is a password", 21);
		ok(strcmp(again, sealed) != 0, "a fresh nonce each time");
		free(again);
	}
	ok(secrets_open("pulse.nodes.password", sealed, &opened, &len) == 0, "opens");
	ok(len == 21 && strcmp(opened, "hunter2 is a password") == 0, "round trip");
	free(opened);
	ok(secrets_open("pulse.smtp.password", sealed, &opened, &len) != 0, "another context cannot open it");
	{
		char *tampered = xstrdup(sealed);
		size_t tl = strlen(tampered);
		tampered[tl - 6] = tampered[tl - 6] == 'A' ? 'B' : 'A';
		ok(secrets_open("pulse.nodes.password", tampered, &opened, &len) != 0, "tampering is detected");
		free(tampered);
	}
	ok(secrets_open("pulse.nodes.password", "plain text", &opened, &len) != 0, "untagged refused");
	ok(secrets_open("pulse.nodes.password", "enc:v1:AAAA", &opened, &len) != 0, "too short refused");
	{
		/* Another key cannot open it. */
		char other[] = "/tmp/pulse-test-crypto2-XXXXXX";
		ok(mkdtemp(other) != NULL && secrets_init(other, 1, err, sizeof(err)) == 0, "a second key");
		ok(secrets_open("pulse.nodes.password", sealed, &opened, &len) != 0, "the other key cannot open it");
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", other);
		(void)!system(cmd);
	}
	free(sealed);
	{
		char cmd[200];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		(void)!system(cmd);
	}
	ok(ct_equal("abc", 3, "abc", 3) && !ct_equal("abc", 3, "abd", 3), "constant-time compare");
	return done_testing();
}
