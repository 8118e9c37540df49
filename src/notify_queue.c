/* notify_queue.c: pulse.notification_queue and pulse.notification_deliveries behind
 * notify_queue.h. Every operation is one statement, so that two workers (and the sender
 * threads of one) share the queue through row locks alone. */
#include "config.h"

#include "notify_queue.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "util.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define REDACTED "***REDACTED***"

static const struct db_stmt st_enqueue = {"nq_enqueue",
	"WITH r AS (INSERT INTO pulse.notification_queue (id, type, channel_id, alerts, alert_ids, "
	"config) SELECT $1, $2, $3, $4::jsonb, coalesce(array_agg(a->>'id') FILTER "
	"(WHERE a->>'id' IS NOT NULL), '{}') , $5 FROM jsonb_array_elements($4::jsonb) a "
	"RETURNING id) SELECT pg_notify('" NOTIFY_QUEUE_CHANNEL "', '') FROM r", 5};

static const struct db_stmt st_claim = {"nq_claim",
	"WITH l AS (SELECT id, created_at FROM pulse.notification_queue WHERE status = 'pending' "
	"AND (next_retry_at IS NULL OR next_retry_at <= now()) ORDER BY created_at LIMIT $2 "
	"FOR UPDATE SKIP LOCKED), "
	"c AS (SELECT id, row_number() OVER (ORDER BY created_at, id) AS k FROM l) "
	"UPDATE pulse.notification_queue q SET status = 'sending', attempts = q.attempts + 1, "
	"last_attempt = now(), worker_id = $1, "
	"lease_until = now() + make_interval(secs => $3::int * c.k + $4::int) FROM c WHERE q.id = c.id "
	"RETURNING q.id, q.type, q.channel_id, q.alerts::text, q.config, q.attempts, "
	"q.max_attempts, c.k", 4};

static const struct db_stmt st_next_due = {"nq_next_due",
	"SELECT ceil(extract(epoch FROM min(next_retry_at) - now()) * 1000) "
	"FROM pulse.notification_queue WHERE status = 'pending' AND next_retry_at > now()", 0};

static const struct db_stmt st_finish = {"nq_finish",
	"WITH d AS (INSERT INTO pulse.notification_deliveries (notification_id, delivery_key, type, "
	"channel_id, channel_name, target, alert_ids, attempt, success, status_code, error, "
	"payload_bytes, worker_id) SELECT id, id, type, channel_id, $7, $8, alert_ids, $2::int, "
	"$4::boolean, $5::int, $6, $9::int, $3 FROM pulse.notification_queue WHERE id = $1) "
	"UPDATE pulse.notification_queue SET "
	"status = CASE WHEN $4::boolean THEN 'sent' WHEN attempts >= max_attempts THEN 'dlq' "
	"ELSE 'pending' END, "
	"completed_at = CASE WHEN $4::boolean OR attempts >= max_attempts THEN now() END, "
	"next_retry_at = CASE WHEN NOT $4::boolean AND attempts < max_attempts THEN now() + "
	"make_interval(secs => least(power(2, attempts), 60)) END, "
	"last_error = CASE WHEN $4::boolean THEN NULL ELSE $6 END, "
	"lease_until = NULL, payload_bytes = $9::int "
	"WHERE id = $1 AND status = 'sending' AND attempts = $2::int AND worker_id = $3", 9};

static const struct db_stmt st_release = {"nq_release",
	"UPDATE pulse.notification_queue SET status = 'pending', attempts = attempts - 1, "
	"lease_until = NULL, next_retry_at = CASE WHEN $3::float8 > 0 "
	"THEN now() + $3::float8 * interval '1 second' ELSE next_retry_at END "
	"WHERE id = ANY($1::text[]) AND status = 'sending' AND worker_id = $2", 3};

static const struct db_stmt st_recover = {"nq_recover",
	"UPDATE pulse.notification_queue SET status = 'pending', lease_until = NULL "
	"WHERE status = 'sending' AND lease_until < now()", 0};

static const struct db_stmt st_cancel = {"nq_cancel",
	"UPDATE pulse.notification_queue SET alert_ids = array_remove(alert_ids, $1), "
	"alerts = (SELECT coalesce(jsonb_agg(a ORDER BY n), '[]'::jsonb) FROM "
	"jsonb_array_elements(alerts) WITH ORDINALITY AS e(a, n) WHERE a->>'id' IS DISTINCT FROM $1), "
	"status = CASE WHEN alert_ids = ARRAY[$1] OR cardinality(array_remove(alert_ids, $1)) = 0 "
	"THEN 'cancelled' ELSE status END, "
	"last_error = CASE WHEN cardinality(array_remove(alert_ids, $1)) = 0 THEN 'Alert resolved' "
	"ELSE last_error END, "
	"completed_at = CASE WHEN cardinality(array_remove(alert_ids, $1)) = 0 THEN now() "
	"ELSE completed_at END "
	"WHERE status IN ('pending', 'sending') AND type NOT LIKE '%\\_resolved' "
	"AND alert_ids @> ARRAY[$1]", 1};

static const struct db_stmt st_retention = {"nq_retention",
	"WITH q AS (DELETE FROM pulse.notification_queue WHERE "
	"(status IN ('sent', 'failed', 'cancelled') AND completed_at < now() - interval '7 days') "
	"OR (status = 'dlq' AND completed_at < now() - interval '30 days') RETURNING 1), "
	"d AS (DELETE FROM pulse.notification_deliveries WHERE at < now() - interval '30 days' "
	"RETURNING 1) SELECT (SELECT count(*) FROM q) + (SELECT count(*) FROM d)", 0};

static const struct db_stmt st_stats = {"nq_stats",
	"SELECT status, count(*) FROM pulse.notification_queue WHERE completed_at IS NULL "
	"OR completed_at > now() - interval '24 hours' GROUP BY status ORDER BY status", 0};

static const struct db_stmt st_dlq = {"nq_dlq",
	"SELECT id, type, status, alerts::text, config, attempts, max_attempts, "
	"extract(epoch FROM last_attempt), last_error, extract(epoch FROM created_at), "
	"extract(epoch FROM next_retry_at), extract(epoch FROM completed_at), payload_bytes "
	"FROM pulse.notification_queue WHERE status = 'dlq' "
	"ORDER BY completed_at DESC NULLS LAST, id LIMIT $1", 1};

static const struct db_stmt st_dlq_retry = {"nq_dlq_retry",
	"UPDATE pulse.notification_queue SET status = 'pending', attempts = 0, next_retry_at = NULL, "
	"completed_at = NULL, lease_until = NULL WHERE id = $1 AND status = 'dlq' RETURNING id", 1};

static const struct db_stmt st_dlq_delete = {"nq_dlq_delete",
	"DELETE FROM pulse.notification_queue WHERE id = $1 AND status = 'dlq' RETURNING id", 1};

static int
set_err(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

int
notify_queue_enqueue(struct db *db, const char *type, const char *channel_id,
    const char *alerts_json, const char *config_json, char *id, size_t idlen, char *err,
    size_t errlen)
{
	struct timespec ts;
	char *sealed, *suffix;
	const char *params[5];
	int rc;

	clock_gettime(CLOCK_REALTIME, &ts);
	suffix = crypto_random_hex(4);
	/* <type>-<unix ns> as the original names rows, and a random part: two workers may
	 * enqueue in the same nanosecond. */
	snprintf(id, idlen, "%s-%lld%09ld-%s", type, (long long)ts.tv_sec, ts.tv_nsec, suffix);
	free(suffix);
	sealed = secrets_seal(NOTIFY_QUEUE_CONFIG_CONTEXT, config_json, strlen(config_json));
	params[0] = id;
	params[1] = type;
	params[2] = channel_id ? channel_id : "";
	params[3] = alerts_json;
	params[4] = sealed;
	/* No rows read: it may be pipelined. The NOTIFY's payload is empty so that a
	 * transaction's many enqueues wake the senders once. */
	rc = db_exec_stmt_ok(db, &st_enqueue, params);
	free(sealed);
	return rc != 0 ? set_err(err, errlen, db_error(db)) : 0;
}

int
notify_queue_claim(struct db *db, const char *worker_id, int limit, int lease_s,
    int margin_s, struct nq_row **out)
{
	char lim[16], lease[16], margin[16];
	const char *params[4] = {worker_id, lim, lease, margin};
	struct nq_row *rows;
	PGresult *res;
	int n;

	*out = NULL;
	snprintf(lim, sizeof(lim), "%d", limit);
	snprintf(lease, sizeof(lease), "%d", lease_s);
	snprintf(margin, sizeof(margin), "%d", margin_s);
	res = db_exec_stmt(db, &st_claim, params);
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	rows = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*rows));
	for (int i = 0; i < n; i++) {
		int k = db_value_int32(res, i, 7) - 1;
		struct nq_row *r;
		size_t len = 0;

		if (k < 0 || k >= n || rows[k].id[0])
			k = i;	/* never: row_number is 1..n */
		r = &rows[k];
		snprintf(r->id, sizeof(r->id), "%s", PQgetvalue(res, i, 0));
		snprintf(r->type, sizeof(r->type), "%s", PQgetvalue(res, i, 1));
		snprintf(r->channel_id, sizeof(r->channel_id), "%s", PQgetvalue(res, i, 2));
		r->alerts = xstrdup(PQgetvalue(res, i, 3));
		if (secrets_open(NOTIFY_QUEUE_CONFIG_CONTEXT, PQgetvalue(res, i, 4), &r->config, &len) != 0)
			r->config = NULL;	/* the sender reports it as the attempt's failure */
		r->attempts = db_value_int32(res, i, 5);
		r->max_attempts = db_value_int32(res, i, 6);
	}
	PQclear(res);
	*out = rows;
	return n;
}

void
notify_queue_rows_free(struct nq_row *rows, int n)
{
	if (rows == NULL)
		return;
	for (int i = 0; i < n; i++) {
		free(rows[i].alerts);
		secret_free(rows[i].config);
	}
	free(rows);
}

int
notify_queue_finish(struct db *db, const struct nq_row *row, const char *worker_id,
    const struct nq_result *res)
{
	char attempt[16], code[16], bytes[16];
	const char *params[9];

	snprintf(attempt, sizeof(attempt), "%d", row->attempts);
	snprintf(code, sizeof(code), "%d", res->status_code);
	snprintf(bytes, sizeof(bytes), "%d", res->payload_bytes);
	params[0] = row->id;
	params[1] = attempt;
	params[2] = worker_id;
	params[3] = res->success ? "true" : "false";
	params[4] = res->status_code ? code : NULL;
	params[5] = res->success ? NULL : res->error;
	params[6] = res->channel_name;
	params[7] = res->target;
	params[8] = res->payload_bytes ? bytes : NULL;
	return db_exec_stmt_ok(db, &st_finish, params);
}

int
notify_queue_release(struct db *db, const struct nq_row *rows, int n, const char *worker_id,
    double delay_s)
{
	struct strbuf ids = {0};
	char delay[32];
	const char *params[3] = {NULL, worker_id, delay};
	int rc;

	if (n <= 0)
		return 0;
	sb_puts(&ids, "{");
	for (int i = 0; i < n; i++) {
		/* Ids are ours: type, digits, hex; quoted anyway. */
		sb_printf(&ids, "%s\"%s\"", i ? "," : "", rows[i].id);
	}
	sb_puts(&ids, "}");
	params[0] = ids.data;
	snprintf(delay, sizeof(delay), "%.3f", delay_s);
	rc = db_exec_stmt_ok(db, &st_release, params);
	sb_free(&ids);
	return rc;
}

/* Runs a statement that changes rows; the count, or -1. */
static int
exec_count(struct db *db, const struct db_stmt *st, const char *const *params)
{
	PGresult *res = db_exec_stmt(db, st, params);
	int n;

	if (res == NULL)
		return -1;
	n = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 && PQnfields(res) == 1 &&
	    st == &st_retention ? db_value_int32(res, 0, 0) : atoi(PQcmdTuples(res));
	PQclear(res);
	return n;
}

int
notify_queue_recover_leases(struct db *db)
{
	return exec_count(db, &st_recover, NULL);
}

int
notify_queue_cancel_alert(struct db *db, const char *alert_id)
{
	const char *params[1] = {alert_id};

	return exec_count(db, &st_cancel, params);
}

int
notify_queue_retention(struct db *db)
{
	return exec_count(db, &st_retention, NULL);
}

struct json_object *
notify_queue_stats(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &st_stats, NULL);
	struct json_object *obj;

	if (res == NULL)
		return NULL;
	obj = json_object_new_object();
	for (int i = 0; i < PQntuples(res); i++)
		jsonwrite_int(obj, PQgetvalue(res, i, 0), db_value_int32(res, i, 1));
	PQclear(res);
	return obj;
}

/* A timestamp column (epoch seconds) as RFC 3339, left out when NULL. */
static void
opt_time(struct json_object *o, const char *k, const PGresult *res, int row, int col)
{
	if (!PQgetisnull(res, row, col))
		jsonwrite_time(o, k, atof(PQgetvalue(res, row, col)));
}

struct json_object *
notify_queue_dlq(struct db *db, int limit)
{
	char lim[16];
	const char *params[1] = {lim};
	struct json_object *arr;
	PGresult *res;

	snprintf(lim, sizeof(lim), "%d", limit);
	res = db_exec_stmt(db, &st_dlq, params);
	if (res == NULL)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *o = json_object_new_object(), *alerts, *config = NULL;
		char *plain = NULL;
		size_t len = 0;
		const char *a = PQgetvalue(res, i, 3);

		jsonwrite_str(o, "id", PQgetvalue(res, i, 0));
		jsonwrite_str(o, "type", PQgetvalue(res, i, 1));
		jsonwrite_str(o, "status", PQgetvalue(res, i, 2));
		alerts = jsonutil_parse(a, strlen(a), NULL, 0);
		json_object_object_add(o, "alerts", alerts ? alerts : json_object_new_array());
		if (secrets_open(NOTIFY_QUEUE_CONFIG_CONTEXT, PQgetvalue(res, i, 4), &plain, &len) == 0) {
			config = jsonutil_parse(plain, len, NULL, 0);
			secret_free(plain);
		}
		if (config)
			notify_queue_redact(config);
		json_object_object_add(o, "config", config ? config : json_object_new_object());
		jsonwrite_int(o, "attempts", db_value_int32(res, i, 5));
		jsonwrite_int(o, "maxAttempts", db_value_int32(res, i, 6));
		opt_time(o, "lastAttempt", res, i, 7);
		jsonwrite_opt_str(o, "lastError", PQgetvalue(res, i, 8));
		opt_time(o, "createdAt", res, i, 9);
		opt_time(o, "nextRetryAt", res, i, 10);
		opt_time(o, "completedAt", res, i, 11);
		jsonwrite_opt_int(o, "payloadBytes", db_value_int32(res, i, 12));
		json_object_array_add(arr, o);
	}
	PQclear(res);
	return arr;
}

static int
one_id(struct db *db, const struct db_stmt *st, const char *id)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, st, params);
	int n;

	if (res == NULL)
		return -1;
	n = PQntuples(res) > 0;
	PQclear(res);
	return n;
}

int
notify_queue_dlq_retry(struct db *db, const char *id)
{
	const char *params[1] = {id};
	int rc = one_id(db, &st_dlq_retry, id);

	if (rc == 1) {
		PGresult *res = db_exec_params(db, "SELECT pg_notify('" NOTIFY_QUEUE_CHANNEL "', $1)", 1,
		    params);
		PQclear(res);
	}
	return rc;
}

int
notify_queue_dlq_delete(struct db *db, const char *id)
{
	return one_id(db, &st_dlq_delete, id);
}

/* --- redaction -------------------------------------------------------------------------- */

static int
secret_key(const char *k)
{
	static const char *const names[] = {"password", "pass", "apikey", "api_key", "token",
	    "secret", "authorization", "routing_key", "routingkey", "app_token", "user_token",
	    "webhookurl", "bottoken", "key"};

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (strcasecmp(k, names[i]) == 0 || strcasestr(k, "password") || strcasestr(k, "token") ||
		    strcasestr(k, "secret"))
			return 1;
	return 0;
}

char *
notify_queue_redact_url(const char *url)
{
	const char *scheme_end = strstr(url, "://"), *host, *at, *path, *q;
	struct strbuf sb = {0};

	if (scheme_end == NULL)
		return xstrdup(*url ? REDACTED : "");
	host = scheme_end + 3;
	path = host + strcspn(host, "/?#");
	at = memchr(host, '@', (size_t)(path - host));
	sb_append(&sb, url, (size_t)(host - url));
	if (at) {
		sb_puts(&sb, REDACTED "@");
		host = at + 1;
	}
	sb_append(&sb, host, (size_t)(path - host));
	if (*path == '/') {
		/* The first path segment is kept ("/api", "/hooks"); the rest may be a token. */
		size_t seg = 1 + strcspn(path + 1, "/?#");
		sb_append(&sb, path, seg);
		path += seg;
		if (*path == '/') {
			sb_puts(&sb, "/" REDACTED);
			path += strcspn(path, "?#");
		}
	}
	q = path;
	if (*q == '?') {
		/* Every value of the query: tokens travel there too. */
		const char *p = q + 1;
		sb_puts(&sb, "?");
		while (*p && *p != '#') {
			size_t n = strcspn(p, "&#"), eq = strcspn(p, "=&#");
			sb_append(&sb, p, eq < n ? eq : n);
			if (eq < n)
				sb_puts(&sb, "=" REDACTED);
			p += n;
			if (*p == '&') {
				sb_puts(&sb, "&");
				p++;
			}
		}
	}
	return sb.data ? sb.data : xstrdup("");
}

static void
redact_values(struct json_object *obj)
{
	if (!jsonread_is_object(obj))
		return;
	json_object_object_foreach(obj, k, v) {
		(void)v;
		json_object_object_add(obj, k, json_object_new_string(REDACTED));
	}
}

void
notify_queue_redact(struct json_object *config)
{
	if (!jsonread_is_object(config))
		return;
	json_object_object_foreach(config, k, v) {
		if (strcmp(k, "headers") == 0 || strcmp(k, "customFields") == 0) {
			redact_values(v);
		} else if (json_object_is_type(v, json_type_string) && (strcasecmp(k, "url") == 0 ||
		    strcasecmp(k, "serverUrl") == 0 || strcasecmp(k, "server_url") == 0)) {
			char *u = notify_queue_redact_url(json_object_get_string(v));
			json_object_object_add(config, k, json_object_new_string(u));
			free(u);
		} else if (json_object_is_type(v, json_type_string) && secret_key(k) &&
		    json_object_get_string_len(v) > 0) {
			json_object_object_add(config, k, json_object_new_string(REDACTED));
		} else if (strcasecmp(k, "targets") == 0 && jsonread_is_array(v)) {
			/* Apprise targets are URLs with tokens. */
			for (size_t i = 0; i < json_object_array_length(v); i++) {
				struct json_object *t = json_object_array_get_idx(v, i);
				const char *u = json_object_get_string(t), *sep;

				if (!json_object_is_type(t, json_type_string))
					continue;
				/* The host of an Apprise URL is often the token itself: only the
				 * scheme stays. */
				sep = strstr(u, "://");
				if (sep) {
					char *r = xasprintf("%.*s://" REDACTED, (int)(sep - u), u);
					json_object_array_put_idx(v, i, json_object_new_string(r));
					free(r);
				} else {
					json_object_array_put_idx(v, i, json_object_new_string(REDACTED));
				}
			}
		}
	}
}

int
notify_queue_next_due_ms(struct db *db, int max_ms)
{
	PGresult *res = db_exec_stmt(db, &st_next_due, NULL);
	int ms = max_ms;

	if (res != NULL && PQntuples(res) == 1 && !PQgetisnull(res, 0, 0)) {
		double v = db_value_double(res, 0, 0);
		if (v < (double)max_ms)
			ms = v < 1 ? 1 : (int)v;
	}
	PQclear(res);
	return ms;
}
