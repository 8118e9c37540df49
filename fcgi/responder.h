/* responder.h: the state of the responder process and of each of its threads. */
#ifndef PULSE_RESPONDER_H
#define PULSE_RESPONDER_H

#include <pthread.h>
#include <stdint.h>

#include "arena.h"
#include "db.h"

/* What a thread knows about its own connection's readiness. */
enum readiness {
	READY_OK,
	READY_DB_DOWN,
	READY_SCHEMA_MISMATCH,
};

struct responder {
	int index;
	pthread_t thread;
	struct db *db;
	struct arena *arena;
	int schema_checked;	/* the schema version matched on this connection */
	int schema_seen;	/* the version last read, for messages */
	double next_schema_check;
	struct auth_cache *auth_cache;	/* credentials verified on this thread (auth.c) */
	struct lockout_cache *lockout_cache;	/* locks this thread heard of (ratelimit.c) */
	int auth_stale;		/* a reconnect may have missed notifications */
};

/* Settings and counters shared by all threads; written before threads start. */
struct responder_process {
	double started_monotonic;
	int64_t body_limit;
	int access_log;
	int expected_schema;
};

extern struct responder_process responder_process;

/* Whether this thread can serve a request that needs the database: connects if needed
 * (honouring the backoff) and checks the schema version once per connection. */
enum readiness responder_ready(struct responder *t);

/* The db on-connect hook: a new session must have its schema version read again. */
void responder_forget_schema(struct db *db, void *arg);

#endif
