/* test_db.c: the db layer's column reader, asynchronous statements, notification drain and
 * quick retry while a server is read-only; without a server, and against one when
 * PULSE_TEST_DSN names it (a conninfo string). */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "log.h"
#include "tap.h"
#include "util.h"

static const struct db_stmt stmt_square = {
	"test_db_square", "SELECT $1::int * $1::int, pg_backend_pid()", 1,
};
static const struct db_stmt stmt_divide = {
	"test_db_divide", "SELECT 1 / $1::int", 1,
};
static const struct db_stmt stmt_put = {
	"test_db_put", "INSERT INTO test_db_pipe VALUES ($1::int)", 1,
};
static const struct db_stmt stmt_put_checked = {
	"test_db_put_checked", "INSERT INTO test_db_pipe VALUES (10 / $1::int)", 1,
};

struct heard {
	int n;
	char channel[64], payload[64];
};

static void
on_notify(const char *channel, const char *payload, void *arg)
{
	struct heard *h = arg;

	h->n++;
	snprintf(h->channel, sizeof(h->channel), "%s", channel);
	snprintf(h->payload, sizeof(h->payload), "%s", payload);
}

static int
count_rows(struct db *db)
{
	PGresult *res = db_exec_params(db, "SELECT count(*) FROM test_db_pipe", 0, NULL);
	int n = res ? atoi(PQgetvalue(res, 0, 0)) : -1;

	PQclear(res);
	return n;
}

/* Pipelined writes: many statements (more than one chunk), all kept; one failing among
 * them fails the end with its error, and the rollback keeps none. */
static void
pipelined(struct db *db)
{
	char v[16];
	const char *p[1] = {v};
	int rc = 0;

	ok(db_exec(db, "CREATE TEMP TABLE test_db_pipe (n int)") == 0, "a table for the pipeline");
	ok(db_begin(db) == 0, "begin");
	ok(db_pipeline_begin(db) == 0, "pipeline begins");
	is_int(db_pipeline_begin(db), -1, "a second begin is refused");
	for (int i = 1; i <= 300 && rc == 0; i++) {
		snprintf(v, sizeof(v), "%d", i);
		rc = db_exec_stmt_ok(db, &stmt_put, p);
	}
	is_int(rc, 0, "300 statements sent (over two chunks)");
	ok(db_exec_stmt(db, &stmt_square, p) == NULL, "a statement with rows is refused meanwhile");
	is_int(db_pipeline_end(db), 0, "pipeline ends: every statement succeeded");
	ok(db_commit(db) == 0, "commit");
	is_int(count_rows(db), 300, "all 300 rows are there");

	ok(db_begin(db) == 0, "begin again");
	ok(db_pipeline_begin(db) == 0, "pipeline begins again");
	rc = 0;
	for (int i = 5; i >= -5 && rc == 0; i--) {
		snprintf(v, sizeof(v), "%d", i);
		rc = db_exec_stmt_ok(db, &stmt_put_checked, p);
	}
	is_int(db_pipeline_end(db), -1, "a statement dividing by zero fails the pipeline");
	is_str(db_sqlstate(db), "22012", "with its SQLSTATE");
	db_rollback(db);
	is_int(db_get_state(db), DB_STATE_OK, "the session stays usable");
	is_int(count_rows(db), 300, "and the rollback kept none of the second pipeline");
}

/* Nothing is sent on a session that is not there, and nothing is reconnected for it. */
static void
without_server(void)
{
	struct db *db = db_new("host=/nonexistent-pulse-test port=1 dbname=none", "test_db", 1);
	const char *p[1] = {"3"};
	struct heard h = {0};

	ok(db_send_stmt(db, &stmt_square, p, 0) == -1, "send without a session fails");
	is_str(db_error(db), "not connected", "and says why");
	is_int(db_get_state(db), DB_STATE_NEW, "no connection was attempted for it");
	ok(db_wait(db) == NULL, "wait without a session gives nothing");
	is_int(db_consume(db), -1, "consume without a session fails");
	is_int(db_drain_notifies(db, on_notify, &h), -1, "drain without a session fails");
	is_int(h.n, 0, "no notification");
	db_free(db);
}

static void
with_server(const char *dsn)
{
	struct db *db = db_new(dsn, "test_db", 1);
	const char *p3[1] = {"3"}, *p0[1] = {"0"}, *p4[1] = {"4"};
	struct heard h = {0};
	PGresult *res;
	char pid[16] = "";

	ok(db_ensure(db, 1) == 0, "connects to PULSE_TEST_DSN");
	ok(db_send_stmt(db, &stmt_square, p3, 0) == 0, "sends a statement");
	is_int(db_consume(db), 0, "consumes input meanwhile");
	res = db_wait(db);
	ok(res != NULL && PQntuples(res) == 1, "waits for its result");
	if (res) {
		is_str(PQgetvalue(res, 0, 0), "9", "the statement's answer");
		snprintf(pid, sizeof(pid), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);

	ok(db_send_stmt(db, &stmt_square, p4, 1) == 0, "sends again (prepared once)");
	res = db_wait(db);
	ok(res != NULL && PQgetlength(res, 0, 0) == 4, "binary result: an int4 of four bytes");
	if (res && PQgetlength(res, 0, 0) == 4) {
		const unsigned char *v = (const unsigned char *)PQgetvalue(res, 0, 0);
		is_int((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3], 16, "in network order");
	}
	PQclear(res);

	ok(db_send_stmt(db, &stmt_divide, p0, 0) == 0, "sends a statement that fails");
	ok(db_wait(db) == NULL, "its wait gives nothing");
	is_str(db_sqlstate(db), "22012", "with the SQLSTATE of the failure");
	ok(strstr(db_error(db), "division by zero") != NULL, "and its message");
	is_int(db_get_state(db), DB_STATE_OK, "an SQL error keeps the session");

	/* Inside a transaction: the statement runs in it. */
	ok(db_begin(db) == 0, "begin");
	ok(db_send_stmt(db, &stmt_square, p3, 0) == 0, "sends inside the transaction");
	res = db_wait(db);
	ok(res != NULL, "result inside the transaction");
	if (res)
		is_str(PQgetvalue(res, 0, 1), pid, "on the same session");
	PQclear(res);
	ok(db_commit(db) == 0, "commit");

	pipelined(db);

	ok(db_listen(db, "pulse_test_db") == 0, "listen");
	ok(db_exec(db, "NOTIFY pulse_test_db, 'hello'") == 0, "notify");
	is_int(db_drain_notifies(db, on_notify, &h), 1, "drain hands one notification");
	is_str(h.channel, "pulse_test_db", "its channel");
	is_str(h.payload, "hello", "its payload");
	is_int(db_drain_notifies(db, on_notify, &h), 0, "and nothing more");
	db_free(db);
}

static void
value_int32(void)
{
	PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
	PGresAttDesc col = {.name = (char *)"n", .format = 0};
	static const char *const cells[] = {"42", "-7", "2147483648", "x", NULL};

	PQsetResultAttrs(res, 1, &col);
	for (int i = 0; cells[i]; i++)
		PQsetvalue(res, i, 0, (char *)cells[i], (int)strlen(cells[i]));
	PQsetvalue(res, 4, 0, NULL, -1);
	is_int(db_value_int32(res, 0, 0), 42, "an int4 value");
	is_int(db_value_int32(res, 1, 0), -7, "a negative one");
	is_int(db_value_int32(res, 2, 0), 0, "out of int32: 0");
	is_int(db_value_int32(res, 3, 0), 0, "not a number: 0");
	is_int(db_value_int32(res, 4, 0), 0, "NULL: 0");
	PQclear(res);
}

/* A server that offers only read-only sessions (a standby, here a database whose sessions
 * default to read-only) is refused under target_session_attrs=read-write, and the next
 * attempt comes within about a second however often it failed, not at the backoff's cap. */
static void
read_only_server(const char *dsn)
{
	static const char ro_on[] = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET "
	    "default_transaction_read_only = on', current_database()); END $$";
	static const char ro_off[] = "DO $$ BEGIN EXECUTE format('ALTER DATABASE %I RESET "
	    "default_transaction_read_only', current_database()); END $$";
	struct db *admin = db_new(dsn, "test_db admin", 1);
	char *conninfo = xasprintf("%s target_session_attrs=read-write", dsn);
	struct db *db = db_new(conninfo, "test_db", 30);
	struct timespec pause = {1, 300000000};
	int refused = 0;

	ok(db_exec(admin, ro_on) == 0, "sessions of the database made read-only");
	for (int i = 0; i < 8; i++)
		refused += db_ensure(db, 1) == -1;
	is_int(refused, 8, "a read-only server is refused 8 times in a row");
	ok(strstr(db_error(db), "read-only") != NULL, "as read-only: %s", db_error(db));
	ok(db_exec(admin, ro_off) == 0, "the database writable again");
	nanosleep(&pause, NULL);
	ok(db_ensure(db, 0) == 0, "connected at the next attempt, 1.3 s later (the cap is 30 s)");
	db_free(db);
	db_free(admin);
	free(conninfo);
}

static void
reads_only(void)
{
	ok(db_sql_reads_only("SELECT 1"), "SELECT reads");
	ok(db_sql_reads_only("  select id FROM pulse.guests WHERE id = $1"), "a select of a table reads");
	ok(db_sql_reads_only("(SELECT 1) UNION ALL (SELECT 2)"), "a parenthesised select reads");
	ok(!db_sql_reads_only("SELECT pulse.metric_maintain()"), "our function may write");
	ok(!db_sql_reads_only("SELECT pulse.claim_job ($1)"), "a space before the parenthesis");
	ok(!db_sql_reads_only("SELECT nextval('pulse.seq')"), "nextval writes");
	ok(!db_sql_reads_only("SELECT pg_notify('x', '')"), "pg_notify is not a read");
	ok(!db_sql_reads_only("INSERT INTO t VALUES (1)"), "INSERT writes");
	ok(!db_sql_reads_only("WITH d AS (DELETE FROM t RETURNING 1) SELECT * FROM d"), "WITH may write");
	ok(!db_sql_reads_only("SELECTED"), "not the keyword");
	ok(!db_sql_reads_only("UPDATE t SET a = 1"), "UPDATE writes");
}

int
main(void)
{
	const char *dsn = getenv("PULSE_TEST_DSN");

	log_set_level(LOGL_ERROR);
	value_int32();
	reads_only();
	without_server();
	if (dsn && *dsn) {
		with_server(dsn);
		read_only_server(dsn);
	} else
		ok(1, "# SKIP no PULSE_TEST_DSN: the server part runs in t/api/44-db-layer.t");
	return done_testing();
}
