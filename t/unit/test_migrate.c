/* test_migrate.c: the migration file list, and the schema version this build expects. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "migrate.h"
#include "schema.h"
#include "tap.h"

static void
touch(const char *dir, const char *name)
{
	char p[512];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fp = fopen(p, "w");
	fputs("SELECT 1;\n", fp);
	fclose(fp);
}

static void
clean(const char *dir)
{
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

int
main(void)
{
	struct migration_file *files;
	int n = 0;
	char err[512], dir[] = "/tmp/pulse-test-migrate-XXXXXX";

	ok(migrate_list(TOP_SRCDIR "/sql", &files, &n, err, sizeof(err)) == 0,
	    "the shipped migrations list cleanly");
	is_int(n, PULSE_SCHEMA_VERSION, "PULSE_SCHEMA_VERSION is the newest migration");
	if (n > 0)
		is_str(files[0].name, "0001_init.sql", "first file");
	migrate_free_list(files, n);

	ok(mkdtemp(dir) != NULL, "temp dir");
	touch(dir, "0002_second.sql");
	touch(dir, "0001_first.sql");
	touch(dir, "README.md");
	touch(dir, "0003_Bad-Name.sql");
	ok(migrate_list(dir, &files, &n, err, sizeof(err)) == 0, "lists in order");
	is_int(n, 2, "ignores files that are not migrations");
	is_int(files[0].version, 1, "sorted by number");
	is_str(files[1].name, "0002_second.sql", "second");
	migrate_free_list(files, n);

	touch(dir, "0004_gap.sql");
	ok(migrate_list(dir, &files, &n, err, sizeof(err)) != 0, "a gap is refused");
	ok(strstr(err, "0004_gap.sql") != NULL, "message names the file: %s", err);
	clean(dir);

	ok(migrate_list("/nonexistent/dir", &files, &n, err, sizeof(err)) != 0,
	    "missing directory refused");
	return done_testing();
}
