/* db.h: one PostgreSQL connection with reconnect and backoff, prepared statements,
 * transactions, advisory locks and LISTEN/NOTIFY. */
#ifndef PULSE_DB_H
#define PULSE_DB_H

#include <libpq-fe.h>
#include <stdint.h>

enum db_state {
	DB_STATE_NEW,		/* never tried */
	DB_STATE_OK,		/* connected and usable */
	DB_STATE_DOWN,		/* the last attempt or query lost the server; retrying */
};

/* A statement prepared lazily, once per connection, under its name. Define them as static
 * constants next to the code that runs them. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

/* Advisory lock classes (the first int4 of pg_advisory_lock(int4, int4)). */
enum db_lock_class {
	DB_LOCK_MIGRATE = 0x50550001,	/* schema migrations */
	DB_LOCK_INSTANCE = 0x50550002,	/* polling of one monitored instance */
	DB_LOCK_SINGLETON = 0x50550003,	/* a job that one worker runs at a time */
};

struct db;

/* A connection that is not opened yet. conninfo may be a key=value string or a URI and
 * may list several hosts; it is kept private and never logged. application_name names the
 * program in pg_stat_activity. max_backoff caps the wait between reconnect attempts. */
struct db *db_new(const char *conninfo, const char *application_name, double max_backoff);
void db_free(struct db *db);

/* Settings applied to every new session. */
void db_set_timeouts(struct db *db, int connect_timeout_s, int statement_timeout_ms);

/* Called after every successful (re)connect, e.g. to LISTEN again or forget held locks. */
void db_set_on_connect(struct db *db, void (*fn)(struct db *, void *), void *arg);

/* Makes the connection usable: returns 0 when it is, -1 when the server cannot be reached
 * now. While down, a new attempt is made only once the backoff has passed (force ignores
 * it); attempts are logged at most once per outage. */
int db_ensure(struct db *db, int force);

enum db_state db_get_state(const struct db *db);
const char *db_state_name(enum db_state state);

/* Runs a prepared statement with text parameters (NULL for SQL NULL). Returns a result the
 * caller must PQclear, or NULL on failure: the error is logged, db_error() holds its
 * message and db_sqlstate() its SQLSTATE. A connection lost outside a transaction is
 * re-opened and the statement retried once. */
PGresult *db_exec_stmt(struct db *db, const struct db_stmt *stmt, const char *const *params);

/* The same for a statement whose rows are not read: returns 0 or -1 (the error as above),
 * with the result already cleared. */
int db_exec_stmt_ok(struct db *db, const struct db_stmt *stmt, const char *const *params);

/* Pipelined writes (libpq's pipeline mode), for a transaction of many statements whose rows
 * are not read: between db_pipeline_begin and db_pipeline_end, db_exec_stmt_ok only sends
 * its statement (unnamed, not prepared) and returns 0, or -1 once one has failed; the
 * results are read every 128 statements and at the end, so the whole costs a few round
 * trips instead of one per statement. db_pipeline_end returns 0 when every statement
 * succeeded, else -1 with the first error in db_error() (the statements after it did not
 * run: roll the transaction back). Use inside the caller's transaction (after db_begin,
 * before db_commit); db_exec_stmt is refused meanwhile. Never reconnected nor retried. */
int db_pipeline_begin(struct db *db);
int db_pipeline_end(struct db *db);

/* The same, with the result in binary format (PQgetvalue gives network-order values). */
PGresult *db_exec_stmt_binary(struct db *db, const struct db_stmt *stmt,
    const char *const *params);

/* A prepared statement sent without waiting for its result (binary: the result in binary
 * format), so that the caller works while the server answers; db_wait takes the result.
 * One statement at a time may be out. It runs in the session as it is, usually inside the
 * caller's transaction: never reconnected nor retried. Returns 0, or -1 with the error in
 * db_error(). */
int db_send_stmt(struct db *db, const struct db_stmt *stmt, const char *const *params,
    int binary);

/* The result of the statement db_send_stmt sent, waiting for it as needed: a result the
 * caller must PQclear, or NULL on failure (the error in db_error()). */
PGresult *db_wait(struct db *db);

/* Takes what the server has sent so far off the socket without waiting, so that a long
 * result keeps coming while the caller works. Returns 0, or -1 when the connection is lost
 * (db_wait then fails). */
int db_consume(struct db *db);

/* The same for ad-hoc SQL with parameters (not prepared). */
PGresult *db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params);

/* Runs SQL that returns no rows (may hold several statements). Returns 0 or -1. */
int db_exec(struct db *db, const char *sql);

/* COPY ... FROM STDIN: begin with the COPY statement, put rows (text format, built with
 * db_copy_field), end. Each returns 0 or -1 (the error in db_error()). Use inside a
 * transaction; a failed copy leaves the transaction to be rolled back. */
int db_copy_begin(struct db *db, const char *sql);
int db_copy_put(struct db *db, const char *data, size_t len);
int db_copy_end(struct db *db);
/* Appends value to a COPY text row, escaped, followed by a tab (or a newline when last);
 * NULL appends \N. */
struct strbuf;
void db_copy_field(struct strbuf *row, const char *value, int last);

/* Transactions: begin/commit return 0 or -1; rollback is safe to call in any state. */
int db_begin(struct db *db);
/* Whether the session is inside a transaction (a caller's, that a library call must not
 * commit). */
int db_in_transaction(struct db *db);
int db_commit(struct db *db);
void db_rollback(struct db *db);

/* Whether a statement only reads: it starts with SELECT and calls no function of the pulse
 * schema, nextval, setval or pg_notify. Only such a statement is sent again on a new
 * connection when the connection went while it ran outside a transaction. */
int db_sql_reads_only(const char *sql);

/* An integer column's value within int32 (text format); 0 when it is NULL or not such a
 * number, which the statements read this way do not give. */
int32_t db_value_int32(const PGresult *res, int row, int col);
/* A float8/numeric cell as a double: NULL (or not a number) is 0. */
double db_value_double(const PGresult *res, int row, int col);

const char *db_error(const struct db *db);
const char *db_sqlstate(const struct db *db);

/* Session-level advisory locks. try_lock returns 1 when taken, 0 when another session holds
 * it, -1 on error. Locks die with the session: after a reconnect nothing is held. */
int db_try_lock(struct db *db, enum db_lock_class cls, int32_t key);
int db_lock(struct db *db, enum db_lock_class cls, int32_t key);
int db_unlock(struct db *db, enum db_lock_class cls, int32_t key);

/* LISTEN on channel now and after every reconnect. Returns 0 or -1. */
int db_listen(struct db *db, const char *channel);

/* Reads pending input and calls fn(channel, payload) for each notification received.
 * Returns the number handled, or -1 if the connection was lost. */
int db_drain_notifies(struct db *db, void (*fn)(const char *, const char *, void *), void *arg);

/* The socket to poll() for notifications, or -1 while disconnected. */
int db_socket(struct db *db);

/* The schema version recorded by migrations: 0 when none ran, -1 on error. */
int db_schema_version(struct db *db);

/* A short description of where the connection goes: host list and database, no password. */
const char *db_target(const struct db *db);

#endif
