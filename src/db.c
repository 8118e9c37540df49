/* db.c: the PostgreSQL connection layer shared by the responder and the worker. */
#include "config.h"

#include "db.h"
#include "log.h"
#include "util.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DB_MIN_BACKOFF 0.25
/* Retry interval while a server answers but only read-only (a standby): it may be promoted
 * at any moment, and the backoff's cap (30 s in the worker) would add that much to a
 * failover. */
#define DB_STANDBY_RETRY 1.0

struct db {
	char *conninfo;		/* may hold a password: never logged */
	char *target;		/* host list and database, safe to log */
	char *application_name;
	PGconn *conn;
	enum db_state state;
	int connect_timeout_s;
	int statement_timeout_ms;
	double backoff, max_backoff, next_attempt;
	int outage_logged;

	const char **prepared;	/* names prepared on the current connection */
	int nprepared, capprepared;

	char **channels;	/* LISTEN channels, re-issued on reconnect */
	int nchannels;

	void (*on_connect)(struct db *, void *);
	void *on_connect_arg;

	char error[512];
	char sqlstate[6];

	int pipelined;		/* between db_pipeline_begin and db_pipeline_end */
	int queued;		/* statements sent since the last sync */
	int pipe_failed;	/* one of them failed: the rest are not run */
};

/* Statements sent in a pipeline before their results are read: bounded, so that neither
 * side's socket buffer fills while the other waits. */
#define DB_PIPELINE_CHUNK 128

static char *
describe_target(const char *conninfo)
{
	PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
	const char *host = NULL, *port = NULL, *dbname = NULL, *hostaddr = NULL;
	char *out;

	if (opts == NULL)
		return xstrdup("(unparsable conninfo)");
	for (PQconninfoOption *o = opts; o->keyword; o++) {
		if (o->val == NULL)
			continue;
		if (strcmp(o->keyword, "host") == 0)
			host = o->val;
		else if (strcmp(o->keyword, "hostaddr") == 0)
			hostaddr = o->val;
		else if (strcmp(o->keyword, "port") == 0)
			port = o->val;
		else if (strcmp(o->keyword, "dbname") == 0)
			dbname = o->val;
	}
	out = xasprintf("host=%s port=%s dbname=%s",
	    host ? host : hostaddr ? hostaddr : "(default)", port ? port : "(default)",
	    dbname ? dbname : "(default)");
	PQconninfoFree(opts);
	return out;
}

struct db *
db_new(const char *conninfo, const char *application_name, double max_backoff)
{
	struct db *db = xcalloc(1, sizeof(*db));

	db->conninfo = xstrdup(conninfo);
	db->target = describe_target(conninfo);
	db->application_name = xstrdup(application_name);
	db->state = DB_STATE_NEW;
	db->connect_timeout_s = 5;
	db->statement_timeout_ms = 30000;
	db->max_backoff = max_backoff > DB_MIN_BACKOFF ? max_backoff : DB_MIN_BACKOFF;
	db->backoff = DB_MIN_BACKOFF;
	return db;
}

void
db_free(struct db *db)
{
	if (db == NULL)
		return;
	if (db->conn)
		PQfinish(db->conn);
	/* Scrub the conninfo: it may carry a password. */
	explicit_bzero(db->conninfo, strlen(db->conninfo));
	free(db->conninfo);
	free(db->target);
	free(db->application_name);
	free(db->prepared);
	for (int i = 0; i < db->nchannels; i++)
		free(db->channels[i]);
	free(db->channels);
	free(db);
}

void
db_set_timeouts(struct db *db, int connect_timeout_s, int statement_timeout_ms)
{
	db->connect_timeout_s = connect_timeout_s;
	db->statement_timeout_ms = statement_timeout_ms;
}

void
db_set_on_connect(struct db *db, void (*fn)(struct db *, void *), void *arg)
{
	db->on_connect = fn;
	db->on_connect_arg = arg;
}

enum db_state
db_get_state(const struct db *db)
{
	return db->state;
}

const char *
db_state_name(enum db_state state)
{
	switch (state) {
	case DB_STATE_NEW: return "connecting";
	case DB_STATE_OK: return "ok";
	case DB_STATE_DOWN: return "down";
	}
	return "unknown";
}

int32_t
db_value_int32(const PGresult *res, int row, int col)
{
	int64_t v = 0;

	(void)parse_int64(PQgetvalue(res, row, col), INT32_MIN, INT32_MAX, &v);
	return (int32_t)v;
}

double
db_value_double(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? 0 : strtod(PQgetvalue(res, row, col), NULL);
}

const char *
db_error(const struct db *db)
{
	return db->error;
}

const char *
db_sqlstate(const struct db *db)
{
	return db->sqlstate;
}

const char *
db_target(const struct db *db)
{
	return db->target;
}

static void
set_error(struct db *db, const char *msg, const PGresult *res)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	size_t len;

	snprintf(db->error, sizeof(db->error), "%s", msg ? msg : "unknown error");
	len = strlen(db->error);
	while (len > 0 && (db->error[len - 1] == '\n' || db->error[len - 1] == ' '))
		db->error[--len] = '\0';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
}

static void
mark_down(struct db *db)
{
	double now = clock_monotonic();

	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->nprepared = 0;
	if (db->state != DB_STATE_DOWN)
		db->backoff = DB_MIN_BACKOFF;
	db->state = DB_STATE_DOWN;
	db->next_attempt = now + db->backoff;
	db->backoff *= 2;
	if (db->backoff > db->max_backoff)
		db->backoff = db->max_backoff;
}

/* Did the failed connect find a server that only refused because it is read-only? With
 * target_session_attrs=read-write libpq tries every host and says so for each standby. The
 * messages are libpq's own (English unless libpq's translations and a locale are set; then
 * this is only a missed shortcut, and the ordinary backoff applies). */
static int
standby_answered(const char *error)
{
	return strstr(error, "session is read-only") != NULL ||
	    strstr(error, "server is in hot standby mode") != NULL;
}

static int
open_connection(struct db *db)
{
	char timeout[16];
	/* Over TCP, a primary whose host died (not its process: the kernel closes those
	 * connections) answers nothing: without these, a thread waiting for a reply or whose
	 * query is unacknowledged waits for the kernel's retransmissions, a quarter of an hour.
	 * Keepalives (probes after 10 s idle) and tcp_user_timeout (30 s unacknowledged) end
	 * such a wait within about half a minute; a live server's kernel answers them, however
	 * long its statement runs. Unix sockets ignore them; the conninfo may override them. */
	const char *keys[] = {"connect_timeout", "application_name", "keepalives",
	    "keepalives_idle", "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	    "dbname", NULL};
	const char *vals[] = {timeout, db->application_name, "1", "10", "5", "3", "30000",
	    db->conninfo, NULL};
	char sql[64];
	PGresult *res;

	snprintf(timeout, sizeof(timeout), "%d", db->connect_timeout_s);
	/* dbname last: its expansion may override the defaults before it. */
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		return -1;
	}
	snprintf(sql, sizeof(sql), "SET statement_timeout = %d", db->statement_timeout_ms);
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(db, PQerrorMessage(db->conn), res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	for (int i = 0; i < db->nchannels; i++) {
		char *ident = PQescapeIdentifier(db->conn, db->channels[i], strlen(db->channels[i]));
		char *listen = xasprintf("LISTEN %s", ident);
		PQfreemem(ident);
		res = PQexec(db->conn, listen);
		free(listen);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			set_error(db, PQerrorMessage(db->conn), res);
			PQclear(res);
			return -1;
		}
		PQclear(res);
	}
	return 0;
}

int
db_ensure(struct db *db, int force)
{
	int was_down;

	if (db->state == DB_STATE_OK && db->conn && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	if (db->state == DB_STATE_OK)
		mark_down(db);
	if (!force && db->state == DB_STATE_DOWN && clock_monotonic() < db->next_attempt)
		return -1;
	was_down = db->state == DB_STATE_DOWN;
	if (db->conn) {
		PQfinish(db->conn);
		db->conn = NULL;
	}
	db->nprepared = 0;
	if (open_connection(db) != 0) {
		if (!db->outage_logged) {
			log_warn("msg=\"database unreachable, will retry\" %s error=\"%s\"",
			    db->target, db->error);
			db->outage_logged = 1;
		}
		mark_down(db);
		if (standby_answered(db->error)) {
			double soon = clock_monotonic() + DB_STANDBY_RETRY;

			if (db->next_attempt > soon)
				db->next_attempt = soon;
			if (db->backoff > DB_STANDBY_RETRY)
				db->backoff = DB_STANDBY_RETRY;
		}
		return -1;
	}
	db->state = DB_STATE_OK;
	db->backoff = DB_MIN_BACKOFF;
	db->error[0] = '\0';
	db->sqlstate[0] = '\0';
	if (was_down || db->outage_logged)
		log_info("msg=\"database connection restored\" %s", db->target);
	db->outage_logged = 0;
	if (db->on_connect)
		db->on_connect(db, db->on_connect_arg);
	return 0;
}

static int
is_prepared(struct db *db, const char *name)
{
	for (int i = 0; i < db->nprepared; i++)
		if (db->prepared[i] == name || strcmp(db->prepared[i], name) == 0)
			return 1;
	return 0;
}

static int
prepare(struct db *db, const struct db_stmt *stmt)
{
	PGresult *res;

	if (is_prepared(db, stmt->name))
		return 0;
	res = PQprepare(db->conn, stmt->name, stmt->sql, stmt->nparams, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		set_error(db, PQerrorMessage(db->conn), res);
		PQclear(res);
		return -1;
	}
	PQclear(res);
	if (db->nprepared == db->capprepared) {
		db->capprepared = db->capprepared ? db->capprepared * 2 : 16;
		db->prepared = xrealloc(db->prepared, sizeof(*db->prepared) * db->capprepared);
	}
	db->prepared[db->nprepared++] = stmt->name;
	return 0;
}

static int
result_ok(const PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN ||
	    st == PGRES_COPY_OUT;
}

/* After a failure: was the connection lost (as opposed to an SQL error)? */
static int
connection_lost(struct db *db)
{
	return db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK;
}

/* One attempt of a statement; stmt NULL means ad-hoc SQL. */
static PGresult *
exec_once(struct db *db, const struct db_stmt *stmt, const char *sql, int nparams,
    const char *const *params, int fmt)
{
	PGresult *res;

	if (stmt) {
		if (prepare(db, stmt) != 0)
			return NULL;
		res = PQexecPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL, fmt);
	} else if (nparams > 0 || fmt) {
		res = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, fmt);
	} else {
		res = PQexec(db->conn, sql);
	}
	if (res != NULL && result_ok(res))
		return res;
	set_error(db, PQerrorMessage(db->conn), res);
	PQclear(res);
	return NULL;
}

int
db_sql_reads_only(const char *sql)
{
	const char *p = sql;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '(')
		p++;
	if (strncasecmp(p, "SELECT", 6) != 0 || isalnum((unsigned char)p[6]) || p[6] == '_')
		return 0;
	/* A function of ours may write (pulse.metric_maintain() and the like); nextval and
	 * setval do. */
	for (const char *q = p; (q = strstr(q, "pulse.")) != NULL; q++) {
		const char *e = q + 6;
		while (isalnum((unsigned char)*e) || *e == '_')
			e++;
		while (*e == ' ')
			e++;
		if (*e == '(')
			return 0;
	}
	return strcasestr(p, "nextval(") == NULL && strcasestr(p, "setval(") == NULL &&
	    strcasestr(p, "pg_notify(") == NULL;
}

static PGresult *
exec_retrying(struct db *db, const struct db_stmt *stmt, const char *sql, int nparams,
    const char *const *params, int fmt)
{
	PGresult *res;
	int in_tx;

	if (db->pipelined) {
		set_error(db, "a statement whose rows are read cannot run in a pipeline", NULL);
		return NULL;
	}
	if (db_ensure(db, 0) != 0)
		return NULL;
	in_tx = PQtransactionStatus(db->conn) != PQTRANS_IDLE;
	res = exec_once(db, stmt, sql, nparams, params, fmt);
	if (res != NULL)
		return res;
	if (!connection_lost(db)) {
		log_debug("msg=\"statement failed\" stmt=%s sqlstate=%s error=\"%s\"",
		    stmt ? stmt->name : "adhoc", db->sqlstate, db->error);
		return NULL;
	}
	mark_down(db);
	/* Outside a transaction a read was not half done: reconnect at once and read again,
	 * so the first request after a server restart does not fail. A write is not sent
	 * twice: the server may have committed it before the connection went (a primary
	 * that died after the commit), and the caller's error says so. */
	if (in_tx || !db_sql_reads_only(stmt ? stmt->sql : sql) || db_ensure(db, 1) != 0)
		return NULL;
	res = exec_once(db, stmt, sql, nparams, params, fmt);
	if (res == NULL && connection_lost(db))
		mark_down(db);
	return res;
}

PGresult *
db_exec_stmt(struct db *db, const struct db_stmt *stmt, const char *const *params)
{
	return exec_retrying(db, stmt, NULL, stmt->nparams, params, 0);
}

static int session_usable(struct db *db);

/* Reads the results of the statements sent since the last sync, and the sync's: 0 when all
 * succeeded, else -1 with the first error kept. */
static int
pipeline_collect(struct db *db)
{
	int failed = db->pipe_failed, nulls = 0;

	if (PQpipelineSync(db->conn) != 1) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		db->pipe_failed = 1;
		return -1;
	}
	for (;;) {
		PGresult *res = PQgetResult(db->conn);
		ExecStatusType st;

		if (res == NULL) {
			/* One NULL ends each statement's results; two in a row: nothing more comes. */
			if (connection_lost(db) || ++nulls > 1) {
				if (!failed)
					set_error(db, PQerrorMessage(db->conn), NULL);
				failed = 1;
				break;
			}
			continue;
		}
		nulls = 0;
		st = PQresultStatus(res);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			break;
		}
		if (!result_ok(res) && !failed) {
			set_error(db, PQresultErrorMessage(res), res);
			failed = 1;
		}
		PQclear(res);
	}
	db->queued = 0;
	db->pipe_failed = failed;
	return failed ? -1 : 0;
}

int
db_pipeline_begin(struct db *db)
{
	if (db->pipelined || !session_usable(db))
		return -1;
	if (PQenterPipelineMode(db->conn) != 1) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		return -1;
	}
	db->pipelined = 1;
	db->queued = 0;
	db->pipe_failed = 0;
	return 0;
}

int
db_pipeline_end(struct db *db)
{
	int rc;

	if (!db->pipelined)
		return -1;
	if (db->conn == NULL) {		/* lost meanwhile */
		db->pipelined = 0;
		return -1;
	}
	rc = pipeline_collect(db);
	db->pipelined = 0;
	if (PQexitPipelineMode(db->conn) != 1) {
		/* Results still unread: the session is unusable; closing it rolls back. */
		if (rc == 0)
			set_error(db, PQerrorMessage(db->conn), NULL);
		mark_down(db);
		return -1;
	}
	if (rc != 0) {
		log_debug("msg=\"pipelined statement failed\" sqlstate=%s error=\"%s\"", db->sqlstate,
		    db->error);
		if (connection_lost(db))
			mark_down(db);
	}
	return rc;
}

/* A statement sent in the pipeline, unnamed (nothing to prepare, nothing to forget when
 * the pipeline fails). */
static int
pipeline_send(struct db *db, const struct db_stmt *stmt, const char *const *params)
{
	if (db->pipe_failed || db->conn == NULL)
		return -1;
	if (PQsendQueryParams(db->conn, stmt->sql, stmt->nparams, NULL, params, NULL, NULL, 0) != 1) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		db->pipe_failed = 1;
		return -1;
	}
	if (++db->queued >= DB_PIPELINE_CHUNK)
		return pipeline_collect(db);
	return 0;
}

int
db_exec_stmt_ok(struct db *db, const struct db_stmt *stmt, const char *const *params)
{
	PGresult *res;

	if (db->pipelined)
		return pipeline_send(db, stmt, params);
	res = db_exec_stmt(db, stmt, params);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

PGresult *
db_exec_stmt_binary(struct db *db, const struct db_stmt *stmt, const char *const *params)
{
	return exec_retrying(db, stmt, NULL, stmt->nparams, params, 1);
}

/* The session the caller is in, as it is: no reconnect behind a transaction's back. */
static int
session_usable(struct db *db)
{
	if (db->conn != NULL && db->state == DB_STATE_OK && PQstatus(db->conn) == CONNECTION_OK)
		return 1;
	set_error(db, "not connected", NULL);
	return 0;
}

int
db_send_stmt(struct db *db, const struct db_stmt *stmt, const char *const *params, int binary)
{
	if (!session_usable(db))
		return -1;
	if (prepare(db, stmt) != 0)
		goto err;
	if (PQsendQueryPrepared(db->conn, stmt->name, stmt->nparams, params, NULL, NULL,
	    binary ? 1 : 0) == 1)
		return 0;
	set_error(db, PQerrorMessage(db->conn), NULL);
err:
	if (connection_lost(db))
		mark_down(db);
	return -1;
}

PGresult *
db_wait(struct db *db)
{
	PGresult *res, *more;

	if (db->conn == NULL) {
		set_error(db, "not connected", NULL);
		return NULL;
	}
	res = PQgetResult(db->conn);
	while ((more = PQgetResult(db->conn)) != NULL)
		PQclear(more);
	if (res != NULL && result_ok(res))
		return res;
	set_error(db, res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn), res);
	PQclear(res);
	if (connection_lost(db))
		mark_down(db);
	return NULL;
}

int
db_consume(struct db *db)
{
	if (db->conn == NULL || PQconsumeInput(db->conn) == 0)
		return -1;
	return 0;
}

PGresult *
db_exec_params(struct db *db, const char *sql, int nparams, const char *const *params)
{
	return exec_retrying(db, NULL, sql, nparams, params, 0);
}

int
db_exec(struct db *db, const char *sql)
{
	PGresult *res = exec_retrying(db, NULL, sql, 0, NULL, 0);

	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

int
db_begin(struct db *db)
{
	return db_exec(db, "BEGIN");
}

int
db_commit(struct db *db)
{
	PGresult *res;

	if (db->conn == NULL || db->state != DB_STATE_OK)
		return -1;
	res = exec_once(db, NULL, "COMMIT", 0, NULL, 0);
	if (res == NULL) {
		if (connection_lost(db))
			mark_down(db);
		return -1;
	}
	/* COMMIT of a failed transaction reports success but rolls back. */
	if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		PQclear(res);
		set_error(db, "transaction was rolled back", NULL);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
db_in_transaction(struct db *db)
{
	return db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE;
}

void
db_rollback(struct db *db)
{
	PGresult *res;

	if (db->conn == NULL || PQstatus(db->conn) != CONNECTION_OK)
		return;
	if (PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
	if (connection_lost(db))
		mark_down(db);
}

static int
lock_call(struct db *db, const char *fn, enum db_lock_class cls, int32_t key)
{
	char a[16], b[16], sql[96];
	const char *params[2] = {a, b};
	PGresult *res;
	int rc;

	snprintf(a, sizeof(a), "%d", (int32_t)cls);
	snprintf(b, sizeof(b), "%d", key);
	snprintf(sql, sizeof(sql), "SELECT %s($1::int4, $2::int4)", fn);
	/* Never retried on a new connection: a lock on a session we just lost means nothing. */
	if (db_ensure(db, 0) != 0)
		return -1;
	res = exec_once(db, NULL, sql, 2, params, 0);
	if (res == NULL) {
		if (connection_lost(db))
			mark_down(db);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		return -1;
	}
	/* The try/unlock forms return a boolean ("t"/"f"); pg_advisory_lock returns void,
	 * which reads as an empty value and means the lock was taken. */
	rc = strcmp(PQgetvalue(res, 0, 0), "f") != 0;
	PQclear(res);
	return rc;
}

int
db_try_lock(struct db *db, enum db_lock_class cls, int32_t key)
{
	return lock_call(db, "pg_try_advisory_lock", cls, key);
}

int
db_lock(struct db *db, enum db_lock_class cls, int32_t key)
{
	return lock_call(db, "pg_advisory_lock", cls, key) == 1 ? 0 : -1;
}

int
db_unlock(struct db *db, enum db_lock_class cls, int32_t key)
{
	return lock_call(db, "pg_advisory_unlock", cls, key) == 1 ? 0 : -1;
}

int
db_listen(struct db *db, const char *channel)
{
	char *ident, *sql;
	int rc;

	for (int i = 0; i < db->nchannels; i++)
		if (strcmp(db->channels[i], channel) == 0)
			return 0;
	db->channels = xrealloc(db->channels, sizeof(char *) * (db->nchannels + 1));
	db->channels[db->nchannels++] = xstrdup(channel);
	if (db_ensure(db, 0) != 0)
		return -1;	/* issued by open_connection() once the server is back */
	ident = PQescapeIdentifier(db->conn, channel, strlen(channel));
	sql = xasprintf("LISTEN %s", ident);
	PQfreemem(ident);
	rc = db_exec(db, sql);
	free(sql);
	return rc;
}

int
db_drain_notifies(struct db *db, void (*fn)(const char *, const char *, void *), void *arg)
{
	PGnotify *n;
	int count = 0;

	if (db->conn == NULL || db->state != DB_STATE_OK)
		return -1;
	if (PQconsumeInput(db->conn) == 0 || PQstatus(db->conn) != CONNECTION_OK) {
		set_error(db, PQerrorMessage(db->conn), NULL);
		log_warn("msg=\"database connection lost\" %s error=\"%s\"", db->target, db->error);
		db->outage_logged = 1;
		mark_down(db);
		return -1;
	}
	while ((n = PQnotifies(db->conn)) != NULL) {
		fn(n->relname, n->extra, arg);
		PQfreemem(n);
		count++;
	}
	return count;
}

int
db_socket(struct db *db)
{
	if (db->conn == NULL || db->state != DB_STATE_OK)
		return -1;
	return PQsocket(db->conn);
}

int
db_schema_version(struct db *db)
{
	static const char sql[] =
	    "SELECT coalesce(max(version), 0) FROM pulse.schema_migrations";
	PGresult *res = db_exec_params(db, sql, 0, NULL);
	int64_t v;

	if (res == NULL)
		return strcmp(db->sqlstate, "42P01") == 0 || strcmp(db->sqlstate, "3F000") == 0 ?
		    0 : -1;
	if (PQntuples(res) != 1 || parse_int64(PQgetvalue(res, 0, 0), 0, 1000000, &v) != 0)
		v = -1;
	PQclear(res);
	return (int)v;
}

int
db_copy_begin(struct db *db, const char *sql)
{
	PGresult *res;

	if (db_ensure(db, 0) != 0)
		return -1;
	res = PQexec(db->conn, sql);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		set_error(db, PQerrorMessage(db->conn), res);
		PQclear(res);
		if (connection_lost(db))
			mark_down(db);
		return -1;
	}
	PQclear(res);
	return 0;
}

int
db_copy_put(struct db *db, const char *data, size_t len)
{
	/* libpq grows its output buffer to hold the largest piece it is given and keeps it as
	 * long as the connection lives: a rollup's chunk of 7 MB given at once held 8 MB in the
	 * worker for good. In pieces it flushes as it goes (COPY data need not follow rows). */
	enum { PIECE = 64 * 1024 };

	do {
		size_t n = len < PIECE ? len : PIECE;

		if (db->conn == NULL || PQputCopyData(db->conn, data, (int)n) != 1) {
			set_error(db, db->conn ? PQerrorMessage(db->conn) : "not connected", NULL);
			return -1;
		}
		data += n;
		len -= n;
	} while (len > 0);
	return 0;
}

int
db_copy_end(struct db *db)
{
	PGresult *res;
	int rc = 0;

	if (db->conn == NULL || PQputCopyEnd(db->conn, NULL) != 1) {
		set_error(db, db->conn ? PQerrorMessage(db->conn) : "not connected", NULL);
		return -1;
	}
	while ((res = PQgetResult(db->conn)) != NULL) {
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			set_error(db, PQerrorMessage(db->conn), res);
			rc = -1;
		}
		PQclear(res);
	}
	if (rc != 0 && connection_lost(db))
		mark_down(db);
	return rc;
}

void
db_copy_field(struct strbuf *row, const char *value, int last)
{
	if (value == NULL) {
		sb_append(row, "\\N", 2);
	} else {
		for (const char *p = value; *p; p++) {
			switch (*p) {
			case '\\': sb_append(row, "\\\\", 2); break;
			case '\t': sb_append(row, "\\t", 2); break;
			case '\n': sb_append(row, "\\n", 2); break;
			case '\r': sb_append(row, "\\r", 2); break;
			default: sb_append(row, p, 1); break;
			}
		}
	}
	sb_append(row, last ? "\n" : "\t", 1);
}
