/* migrate.h: applies the numbered SQL files in sql/ in order, each exactly once. */
#ifndef PULSE_MIGRATE_H
#define PULSE_MIGRATE_H

#include <stddef.h>

#include "db.h"

struct migration_file {
	int version;
	char *name;		/* file name, e.g. 0001_init.sql */
	char *path;
};

/* Lists NNNN_name.sql files of dir in version order. Fails (-1, message in err) on an
 * unreadable dir, two files with one number or a gap in the numbering. The caller frees
 * the list with migrate_free_list(). */
int migrate_list(const char *dir, struct migration_file **out, int *count, char *err,
    size_t errlen);
void migrate_free_list(struct migration_file *files, int count);

/* Applies every file not yet recorded in pulse.schema_migrations, each in its own
 * transaction, under an advisory lock so that concurrent runs apply each file once (the
 * second waits, then finds nothing to do). Refuses to go on if an applied file changed
 * (checksum) or the database is newer than the files. Sets *applied to the number applied
 * and *version to the resulting schema version. Returns 0 or -1 with a message. */
int migrate_run(struct db *db, const char *dir, int *applied, int *version, char *err,
    size_t errlen);

#endif
