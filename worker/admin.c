/* admin.c: pulse-admin, the operator's command line (docs/OPERATIONS.md "pulse-admin"): the
 * first administrator without the web setup, a password reset, API tokens listed and
 * revoked, the schema version, the configuration bundle exported and imported, and the audit
 * chain verified. It reads the worker's settings file and works through the same libraries
 * as the API (src/security.c, src/config_bundle.c, src/audit.c): no hashing, sealing or SQL
 * of its own beyond theirs. Secrets (passwords, passphrases) come from the terminal or from
 * standard input, never from the command line. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "audit.h"
#include "conf.h"
#include "config_bundle.h"
#include "crypto.h"
#include "db.h"
#include "jsonutil.h"
#include "log.h"
#include "mockmode.h"
#include "schema.h"
#include "security.h"
#include "timefmt.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

/* Exit statuses. */
#define EXIT_REFUSED 1		/* refused, not found, or a broken audit chain */
#define EXIT_TROUBLE 2		/* usage, settings, database or secrets key */

#define BUNDLE_FILE_MAX (64 << 20)

static const char *command;	/* for messages and the audit trail */

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pulse-admin [-c config] COMMAND [ARGS]\n"
	    "  -c, --config FILE        settings file (default %s/pulse/pulse.conf, or $PULSE_CONFIG)\n"
	    "commands:\n"
	    "  create-user NAME         create the first administrator (password from the terminal\n"
	    "                           or one line of stdin); prints the new API token once\n"
	    "  reset-password NAME      set NAME's password (as above) and end NAME's sessions\n"
	    "  tokens                   list the API tokens\n"
	    "  revoke-token ID          delete the API token with this id\n"
	    "  schema-version           the database's schema version and this build's\n"
	    "  export [-o FILE]         write the encrypted configuration bundle (passphrase as\n"
	    "                           above) to FILE or stdout\n"
	    "  import FILE              import a configuration bundle (passphrase as above)\n"
	    "  verify-audit             verify the audit log's hash chain\n"
	    "exit status: 0 done, 1 refused or not found (or the audit chain broken), 2 usage,\n"
	    "settings, database or secrets key trouble\n", SYSCONFDIR);
}

static int
fail(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
fail(int status, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pulse-admin %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
}

/* One line of fp without its line end; NULL at end of input. The caller wipes and frees it
 * (secret_free). */
static char *
read_line(FILE *fp)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, fp);

	if (n < 0) {
		secret_free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* A secret from the terminal with echo off (asked twice when confirm), or one line of
 * standard input when it is not a terminal. NULL when none was given (or the two differ). */
static char *
read_secret(const char *prompt, int confirm)
{
	struct termios old, quiet;
	char *a, *b;

	if (!isatty(STDIN_FILENO))
		return read_line(stdin);
	if (tcgetattr(STDIN_FILENO, &old) != 0)
		return NULL;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	fprintf(stderr, "%s: ", prompt);
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	a = read_line(stdin);
	fputc('\n', stderr);
	if (a != NULL && confirm) {
		fprintf(stderr, "%s again: ", prompt);
		b = read_line(stdin);
		fputc('\n', stderr);
		if (b == NULL || strcmp(a, b) != 0) {
			fprintf(stderr, "pulse-admin: the two entries differ\n");
			secret_free(a);
			a = NULL;
		}
		secret_free(b);
	}
	(void)tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
	return a;
}

/* Who ran us, for the audit trail: "pulse-admin:<login>". */
static const char *
actor(void)
{
	static char who[96];
	struct passwd *pw = getpwuid(getuid());

	snprintf(who, sizeof(who), "pulse-admin:%s", pw ? pw->pw_name : "unknown");
	return who;
}

static void
audit(struct db *db, const char *event, const char *user, int success, const char *details)
{
	char path[64];

	snprintf(path, sizeof(path), "pulse-admin %s", command);
	audit_record(db, event, user ? user : actor(), "local", path, success, details);
}

/* --- the commands -------------------------------------------------------------------- */

/* A new password read (twice) and checked as the API checks one, hashed into hash. Returns 0,
 * or the exit status after saying why not. */
static int
new_password_hash(const char *prompt, char *hash, size_t hashlen)
{
	char *password = read_secret(prompt, 1);
	const char *why;
	int rc;

	if (password == NULL)
		return fail(EXIT_REFUSED, "no password given");
	why = security_password_problem(password);
	rc = why ? -1 : password_hash(password, hash, hashlen);
	secret_free(password);
	if (why != NULL)
		return fail(EXIT_REFUSED, "%s", why);
	if (rc != 0)
		return fail(EXIT_TROUBLE, "the password cannot be hashed");
	return 0;
}

static int
cmd_create_user(struct db *db, const char *user)
{
	struct security_setup setup;
	struct security_token rec;
	char hash[64], *token, details[200];
	char admin[SECURITY_USER_MAX], admin_hash[SECURITY_HASH_MAX];
	const char *why = security_username_problem(user);
	int rc;

	if (why != NULL)
		return fail(EXIT_REFUSED, "%s", why);
	rc = security_admin(db, admin, admin_hash);
	if (rc < 0)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	if (rc > 0)
		return fail(EXIT_REFUSED, "an administrator exists already (use reset-password)");
	rc = new_password_hash("Password", hash, sizeof(hash));
	if (rc != 0)
		return rc;
	token = crypto_random_hex(32);
	setup = (struct security_setup){.user = user, .password_hash = hash, .api_token = token,
	    .replacing = 0, .keep_session = ""};
	rc = security_setup_apply(db, &setup, &rec);
	explicit_bzero(hash, sizeof(hash));
	if (rc != SECURITY_OK) {
		secret_free(token);
		if (rc == SECURITY_CONFLICT)
			return fail(EXIT_REFUSED, "an administrator was created meanwhile");
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	}
	snprintf(details, sizeof(details), "First-run setup completed by %s", actor());
	audit(db, "setup", user, 1, details);
	printf("administrator %s created\n", user);
	printf("API token (id %s; shown once, store it now): %s\n", rec.id, token);
	secret_free(token);
	return 0;
}

static int
cmd_reset_password(struct db *db, const char *user)
{
	char stored[SECURITY_HASH_MAX], hash[64], details[200];
	int rc = security_password_of(db, user, stored);

	if (rc < 0)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	if (rc == 0)
		return fail(EXIT_REFUSED, "no user %s", user);
	rc = new_password_hash("New password", hash, sizeof(hash));
	if (rc != 0)
		return rc;
	rc = security_password_replace(db, user, hash, "");
	explicit_bzero(hash, sizeof(hash));
	if (rc != 0)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	snprintf(details, sizeof(details), "Password reset by %s", actor());
	audit(db, "password_change", user, 1, details);
	printf("password of %s set; its sessions ended\n", user);
	return 0;
}

static int
cmd_tokens(struct db *db)
{
	PGresult *res = security_tokens_list(db);

	if (res == NULL)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	printf("%-36s  %-24s  %-14s  %-20s  %-20s  %s\n", "ID", "NAME", "HINT", "CREATED",
	    "LAST USED", "SCOPES");
	for (int i = 0; i < PQntuples(res); i++) {
		char created[TIMEFMT_LEN], used[TIMEFMT_LEN] = "-", hint[16] = "-";

		timefmt_rfc3339(strtod(PQgetvalue(res, i, 4), NULL), created, sizeof(created));
		if (!PQgetisnull(res, i, 5))
			timefmt_rfc3339(strtod(PQgetvalue(res, i, 5), NULL), used, sizeof(used));
		if (*PQgetvalue(res, i, 2))
			snprintf(hint, sizeof(hint), "%s...%s", PQgetvalue(res, i, 2),
			    PQgetvalue(res, i, 3));
		printf("%-36s  %-24s  %-14s  %-20s  %-20s  %s\n", PQgetvalue(res, i, 0),
		    PQgetvalue(res, i, 1), hint, created, used,
		    *PQgetvalue(res, i, 6) ? PQgetvalue(res, i, 6) : "*");
	}
	PQclear(res);
	return 0;
}

static int
cmd_revoke_token(struct db *db, const char *id)
{
	char name[160], details[240];
	int rc;

	if (strlen(id) != 36 || strspn(id, "0123456789abcdefABCDEF-") != 36)
		return fail(EXIT_REFUSED, "no token %s", id);
	rc = security_token_delete(db, id, name, sizeof(name));
	if (rc < 0)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	if (rc == 0)
		return fail(EXIT_REFUSED, "no token %s", id);
	snprintf(details, sizeof(details), "Token deleted: %.64s (%s)", name, id);
	audit(db, "token_deleted", NULL, 1, details);
	printf("token %s (%s) revoked\n", id, name);
	return 0;
}

static int
cmd_schema_version(struct db *db)
{
	int v = db_schema_version(db);

	if (v < 0)
		return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
	printf("database schema %d, this build %d%s\n", v, PULSE_SCHEMA_VERSION,
	    v == PULSE_SCHEMA_VERSION ? "" : v < PULSE_SCHEMA_VERSION ?
	    " (run pulse-worker --migrate)" : " (the database is newer than this build)");
	return v == PULSE_SCHEMA_VERSION ? 0 : EXIT_REFUSED;
}

static int
cmd_export(struct db *db, const char *out_path)
{
	struct json_object *doc = NULL;
	char err[256], *passphrase, *data;
	const char *text;
	FILE *out = stdout;
	int rc;

	passphrase = read_secret("Passphrase", 1);
	if (passphrase == NULL)
		return fail(EXIT_REFUSED, "no passphrase given");
	if (strlen(passphrase) < BUNDLE_MIN_PASSPHRASE) {
		secret_free(passphrase);
		audit(db, "config_export", NULL, 0, "Refused: passphrase too short");
		return fail(EXIT_REFUSED, "Passphrase must be at least 12 characters long");
	}
	if (config_export(db, &doc, err, sizeof(err)) != 0) {
		secret_free(passphrase);
		audit(db, "config_export", NULL, 0, "Failed");
		return fail(EXIT_TROUBLE, "Failed to export configuration: %s", err);
	}
	text = json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN);
	data = bundle_encrypt(passphrase, text, strlen(text));
	/* The clear text holds every secret: do not leave it in freed memory. */
	explicit_bzero((char *)text, strlen(text));
	json_object_put(doc);
	secret_free(passphrase);
	if (data == NULL)
		return fail(EXIT_TROUBLE, "Failed to export configuration");
	if (out_path != NULL && (out = fopen(out_path, "w")) == NULL) {
		free(data);
		return fail(EXIT_TROUBLE, "cannot write %s: %s", out_path, strerror(errno));
	}
	rc = fprintf(out, "%s\n", data) < 0;
	if (out != stdout)
		rc |= fclose(out) != 0;
	else
		rc |= fflush(out) != 0;
	free(data);
	if (rc)
		return fail(EXIT_TROUBLE, "cannot write the bundle: %s", strerror(errno));
	audit(db, "config_export", NULL, 1, "Configuration exported");
	return 0;
}

/* The whole of path (at most BUNDLE_FILE_MAX bytes) with surrounding whitespace trimmed:
 * new, or NULL with errno. */
static char *
slurp_bundle(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct strbuf sb = {0};
	const char *trimmed;
	char buf[8192];
	size_t n;

	if (fp == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		if (sb.len + n > BUNDLE_FILE_MAX) {
			fclose(fp);
			sb_free(&sb);
			errno = EFBIG;
			return NULL;
		}
		sb_append(&sb, buf, n);
	}
	fclose(fp);
	sb_puts(&sb, "");
	trimmed = str_trimmed(sb.data, &n);
	memmove(sb.data, trimmed, n);
	sb.data[n] = '\0';
	return sb.data;
}

static int
cmd_import(struct db *db, const char *path)
{
	struct config_import_counts c;
	struct json_object *doc;
	enum config_import_result rc;
	char err[512], why[200], details[200], *data, *passphrase, *plain = NULL;
	size_t len = 0;
	int mock;

	if ((data = slurp_bundle(path)) == NULL)
		return fail(EXIT_TROUBLE, "cannot read %s: %s", path, strerror(errno));
	if (*data == '\0') {
		free(data);
		return fail(EXIT_REFUSED, "Import data is required");
	}
	if ((mock = mockmode_blocks_changes(db)) != 0) {
		free(data);
		if (mock < 0)
			return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
		audit(db, "config_import", NULL, 0, "Refused: mock mode is on");
		return fail(EXIT_REFUSED, "Configuration import is disabled while mock mode is on");
	}
	passphrase = read_secret("Passphrase", 0);
	if (passphrase == NULL || *passphrase == '\0') {
		free(data);
		secret_free(passphrase);
		return fail(EXIT_REFUSED, "Passphrase is required");
	}
	if (bundle_decrypt(data, passphrase, &plain, &len, err, sizeof(err)) != 0) {
		free(data);
		secret_free(passphrase);
		audit(db, "config_import", NULL, 0, "Refused: the bundle cannot be decrypted");
		return fail(EXIT_REFUSED, "Failed to import configuration: %s", err);
	}
	free(data);
	secret_free(passphrase);
	doc = jsonutil_parse(plain, len, why, sizeof(why));
	secret_free_n(plain, len + 1);
	if (doc == NULL) {
		audit(db, "config_import", NULL, 0, "Refused: not JSON");
		return fail(EXIT_REFUSED, "Failed to import configuration: failed to unmarshal "
		    "import data: %s", why);
	}
	rc = config_import(db, doc, &c, err, sizeof(err));
	json_object_put(doc);
	if (rc != CONFIG_IMPORT_OK) {
		audit(db, "config_import", NULL, 0, rc == CONFIG_IMPORT_DB_ERROR ?
		    "Failed: the database" : "Refused: the bundle's content");
		if (rc == CONFIG_IMPORT_DB_ERROR)
			return fail(EXIT_TROUBLE, "database error: %s", db_error(db));
		return fail(EXIT_REFUSED, "Failed to import configuration: %s", err);
	}
	/* The quickstart's demo estate gives way to imported nodes, as in the API. */
	if (c.pve + c.pbs + c.pmg > 0)
		(void)mockmode_demo_off(db);
	snprintf(details, sizeof(details), "Configuration imported: %d PVE, %d PBS, %d PMG, "
	    "%d webhooks, %d API tokens", c.pve, c.pbs, c.pmg, c.webhooks,
	    c.api_tokens < 0 ? 0 : c.api_tokens);
	audit(db, "config_import", NULL, 1, details);
	printf("%s\n", details);
	return 0;
}

static int
cmd_verify_audit(struct db *db)
{
	struct audit_chain_report rep;
	int rc = audit_verify_chain(db, &rep);

	if (rc < 0)
		return fail(EXIT_TROUBLE, "audit log not verified: %s", db_error(db));
	if (rc == 0)
		printf("audit log intact: %lld rows, seq %lld to %lld\n", (long long)rep.rows,
		    (long long)rep.anchor_seq + 1, (long long)rep.last_seq);
	else
		printf("audit log broken at seq %lld%s%s: %s\n", (long long)rep.broken_seq,
		    rep.broken_id[0] ? " id " : "", rep.broken_id, rep.reason);
	return rc == 0 ? 0 : EXIT_REFUSED;
}

/* --- main ---------------------------------------------------------------------------- */

/* The commands: name, arguments wanted, whether they need the secrets key. */
static const struct {
	const char *name;
	int args;
	int secrets;
} commands[] = {
	{"create-user", 1, 1}, {"reset-password", 1, 1}, {"tokens", 0, 0},
	{"revoke-token", 1, 1}, {"schema-version", 0, 0}, {"export", 0, 1},
	{"import", 1, 1}, {"verify-audit", 0, 1},
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = getenv("PULSE_CONFIG"), *out_path = NULL;
	char err[512];
	struct db *db;
	int ch, which = -1, rc;

	while ((ch = getopt_long(argc, argv, "+c:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'V': printf("pulse-admin %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return EXIT_TROUBLE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	command = argv[optind++];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(command, commands[i].name) == 0)
			which = (int)i;
	}
	if (which < 0) {
		fprintf(stderr, "pulse-admin: unknown command %s\n", command);
		usage(stderr);
		return EXIT_TROUBLE;
	}
	/* export's own option; then exactly the arguments the command takes. */
	if (strcmp(command, "export") == 0 && optind + 1 < argc && strcmp(argv[optind], "-o") == 0) {
		out_path = argv[optind + 1];
		optind += 2;
	}
	if (argc - optind != commands[which].args) {
		usage(stderr);
		return EXIT_TROUBLE;
	}
	log_init("pulse-admin", LOGL_WARN);
	if (conf_load(config_path ? config_path : SYSCONFDIR "/pulse/pulse.conf",
	    config_path != NULL, err, sizeof(err)) != 0)
		return fail(EXIT_TROUBLE, "configuration error: %s", err);
	if (commands[which].secrets &&
	    secrets_init(conf_str("data_dir"), 0, err, sizeof(err)) != 0)
		return fail(EXIT_TROUBLE, "secrets key unavailable (run as the user the worker "
		    "runs as): %s", err);
	db = db_new(conf_str("database_url"), "pulse-admin", 5.0);
	db_set_timeouts(db, (int)conf_int("db_connect_timeout"),
	    (int)conf_int("db_statement_timeout"));
	if (db_ensure(db, 1) != 0) {
		rc = fail(EXIT_TROUBLE, "database unavailable: %s", db_error(db));
		db_free(db);
		return rc;
	}
	if (strcmp(command, "schema-version") != 0 &&
	    db_schema_version(db) != PULSE_SCHEMA_VERSION) {
		rc = fail(EXIT_TROUBLE, "the database schema is %d, this build needs %d (run "
		    "pulse-worker --migrate)", db_schema_version(db), PULSE_SCHEMA_VERSION);
		db_free(db);
		return rc;
	}
	switch (which) {
	case 0: rc = cmd_create_user(db, argv[optind]); break;
	case 1: rc = cmd_reset_password(db, argv[optind]); break;
	case 2: rc = cmd_tokens(db); break;
	case 3: rc = cmd_revoke_token(db, argv[optind]); break;
	case 4: rc = cmd_schema_version(db); break;
	case 5: rc = cmd_export(db, out_path); break;
	case 6: rc = cmd_import(db, argv[optind]); break;
	default: rc = cmd_verify_audit(db); break;
	}
	db_free(db);
	return rc;
}
