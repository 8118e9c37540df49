/* migrate.c: schema migrations under an advisory lock. */
#include "config.h"

#include "migrate.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIGRATION_MAX_BYTES (16 * 1024 * 1024)

static int
is_migration_name(const char *name)
{
	size_t len = strlen(name);

	if (len < 10 || strcmp(name + len - 4, ".sql") != 0)
		return 0;
	for (int i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	if (name[4] != '_')
		return 0;
	for (size_t i = 5; i < len - 4; i++)
		if (!islower((unsigned char)name[i]) && !isdigit((unsigned char)name[i]) &&
		    name[i] != '_')
			return 0;
	return 1;
}

static int
by_version(const void *a, const void *b)
{
	const struct migration_file *x = a, *y = b;
	return x->version - y->version;
}

void
migrate_free_list(struct migration_file *files, int count)
{
	for (int i = 0; i < count; i++) {
		free(files[i].name);
		free(files[i].path);
	}
	free(files);
}

int
migrate_list(const char *dir, struct migration_file **out, int *count, char *err,
    size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct migration_file *files = NULL;
	int n = 0;

	if (d == NULL) {
		snprintf(err, errlen, "cannot open migration directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		int64_t v;
		char num[5];

		if (!is_migration_name(de->d_name))
			continue;
		memcpy(num, de->d_name, 4);
		num[4] = '\0';
		if (parse_int64(num, 1, 9999, &v) != 0)
			continue;
		files = xrealloc(files, sizeof(*files) * (size_t)(n + 1));
		files[n].version = (int)v;
		files[n].name = xstrdup(de->d_name);
		files[n].path = xasprintf("%s/%s", dir, de->d_name);
		n++;
	}
	closedir(d);
	qsort(files, (size_t)n, sizeof(*files), by_version);
	for (int i = 0; i < n; i++) {
		if (files[i].version != i + 1) {
			snprintf(err, errlen, "migrations must be numbered 1, 2, 3 ... without gaps or "
			    "duplicates: found %s at position %d", files[i].name, i + 1);
			migrate_free_list(files, n);
			return -1;
		}
	}
	*out = files;
	*count = n;
	return 0;
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *fp = fopen(path, "re");
	struct strbuf sb = {0};
	char buf[8192];
	size_t n;

	if (fp == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		sb_append(&sb, buf, n);
		if (sb.len > MIGRATION_MAX_BYTES) {
			snprintf(err, errlen, "%s is larger than %d bytes", path, MIGRATION_MAX_BYTES);
			fclose(fp);
			sb_free(&sb);
			return NULL;
		}
	}
	fclose(fp);
	if (sb.data == NULL)
		sb_append(&sb, "", 0);
	*len = sb.len;
	return sb.data;
}

static void
sha256_hex(const char *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static const char bootstrap_sql[] =
    "CREATE SCHEMA IF NOT EXISTS pulse;"
    "CREATE TABLE IF NOT EXISTS pulse.schema_migrations ("
    "  version integer PRIMARY KEY,"
    "  name text NOT NULL,"
    "  checksum text NOT NULL,"
    "  applied_at timestamptz NOT NULL DEFAULT now())";

/* Applies one file in a transaction together with its record. */
static int
apply_one(struct db *db, const struct migration_file *f, const char *sql, const char *sum,
    char *err, size_t errlen)
{
	char version[16];
	const char *params[3] = {version, f->name, sum};
	PGresult *res;

	snprintf(version, sizeof(version), "%d", f->version);
	if (db_begin(db) != 0)
		goto err;
	if (db_exec(db, sql) != 0)
		goto err;
	res = db_exec_params(db,
	    "INSERT INTO pulse.schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
	    3, params);
	if (res == NULL)
		goto err;
	PQclear(res);
	if (db_commit(db) != 0)
		goto err;
	return 0;
err:
	snprintf(err, errlen, "migration %s failed: %s", f->name, db_error(db));
	db_rollback(db);
	return -1;
}

int
migrate_run(struct db *db, const char *dir, int *applied, int *version, char *err,
    size_t errlen)
{
	struct migration_file *files = NULL;
	PGresult *res = NULL;
	int nfiles = 0, rc = -1, locked = 0, nrows;

	*applied = 0;
	*version = 0;
	if (migrate_list(dir, &files, &nfiles, err, errlen) != 0)
		return -1;
	if (db_ensure(db, 1) != 0) {
		snprintf(err, errlen, "database unreachable: %s", db_error(db));
		goto out;
	}
	/* Blocks while another process migrates; it then finds the work done. */
	if (db_lock(db, DB_LOCK_MIGRATE, 0) != 0) {
		snprintf(err, errlen, "cannot take the migration lock: %s", db_error(db));
		goto out;
	}
	locked = 1;
	if (db_exec(db, bootstrap_sql) != 0) {
		snprintf(err, errlen, "cannot create pulse.schema_migrations: %s", db_error(db));
		goto out;
	}
	res = db_exec_params(db, "SELECT version, name, checksum FROM pulse.schema_migrations "
	    "ORDER BY version", 0, NULL);
	if (res == NULL) {
		snprintf(err, errlen, "cannot read pulse.schema_migrations: %s", db_error(db));
		goto out;
	}
	nrows = PQntuples(res);
	for (int i = 0; i < nrows; i++) {
		int64_t v;
		if (parse_int64(PQgetvalue(res, i, 0), 1, 9999, &v) != 0)
			continue;
		if (v > nfiles) {
			snprintf(err, errlen, "the database is at schema version %lld, newer than the "
			    "%d migrations of this build: upgrade this program", (long long)v, nfiles);
			goto out;
		}
		*version = (int)v;
	}
	for (int i = 0; i < nfiles; i++) {
		const char *recorded = NULL;
		char sum[65], *sql;
		size_t len;

		for (int j = 0; j < nrows; j++) {
			int64_t v;
			if (parse_int64(PQgetvalue(res, j, 0), 1, 9999, &v) == 0 &&
			    v == files[i].version)
				recorded = PQgetvalue(res, j, 2);
		}
		sql = read_file(files[i].path, &len, err, errlen);
		if (sql == NULL)
			goto out;
		sha256_hex(sql, len, sum);
		if (recorded != NULL) {
			free(sql);
			if (strcmp(recorded, sum) != 0) {
				snprintf(err, errlen, "migration %s was changed after it was applied "
				    "(checksum %.12s..., recorded %.12s...): restore the original file",
				    files[i].name, sum, recorded);
				goto out;
			}
			continue;
		}
		log_info("msg=\"applying migration\" file=%s", files[i].name);
		if (apply_one(db, &files[i], sql, sum, err, errlen) != 0) {
			free(sql);
			goto out;
		}
		free(sql);
		(*applied)++;
		*version = files[i].version;
	}
	rc = 0;
out:
	PQclear(res);
	if (locked)
		(void)db_unlock(db, DB_LOCK_MIGRATE, 0);
	migrate_free_list(files, nfiles);
	return rc;
}
