/* audit.c: the security audit trail as an HMAC hash chain (security.md §9 and beyond): the
 * append under the chain head's row lock, verification, the listing, retention with an
 * anchor, and the audit webhooks queued with the event. */
#include "config.h"

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_queue.h"
#include "notify_send.h"
#include "timefmt.h"
#include "util.h"

#include <math.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_CONTEXT "pulse.audit.key"
#define WEBHOOKS_CONTEXT "pulse.audit.webhooks"
#define MAC_HEX 65

/* The chain key, opened once per process (it never changes once made). */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned char chain_key[32];
static int chain_key_ready;

/* Opens the sealed key into chain_key. Returns 0 or -1 (logged). */
static int
key_open(const char *sealed)
{
	char *plain = NULL;
	size_t len = 0;
	int rc = -1;

	pthread_mutex_lock(&key_lock);
	if (chain_key_ready) {
		rc = 0;
	} else if (secrets_open(KEY_CONTEXT, sealed, &plain, &len) == 0 && len == 32) {
		memcpy(chain_key, plain, 32);
		chain_key_ready = 1;
		rc = 0;
	} else {
		log_error("msg=\"audit chain key cannot be opened with this encryption key\"");
	}
	pthread_mutex_unlock(&key_lock);
	if (plain) {
		explicit_bzero(plain, len);
		free(plain);
	}
	return rc;
}

/* The fields a row's MAC covers, as text. */
struct audit_row {
	const char *seq, *ts_us, *id, *event, *user, *ip, *path, *details, *mac;
	int success;
};

/* hex(HMAC-SHA256(key, canonical)) where canonical is every field length-prefixed
 * ("<len>:<bytes>;"), so no field's content can shift into another, ending with the
 * predecessor's MAC. */
static void
row_mac(const struct audit_row *r, const char *prev_mac, char out[MAC_HEX])
{
	const char *f[] = {"pulse-audit-v1", r->seq, r->ts_us, r->id, r->event, r->user, r->ip,
	    r->path, r->success ? "1" : "0", r->details, prev_mac};
	struct strbuf sb = {0};
	unsigned char mac[32];
	unsigned int maclen = 0;

	for (size_t i = 0; i < ARRAY_LEN(f); i++) {
		sb_printf(&sb, "%zu:", strlen(f[i]));
		sb_puts(&sb, f[i]);
		sb_puts(&sb, ";");
	}
	HMAC(EVP_sha256(), chain_key, sizeof(chain_key), (const unsigned char *)sb.data, sb.len,
	    mac, &maclen);
	hex_encode(mac, 32, out);
	sb_free(&sb);
}

static int
mac_equal(const char *a, const char *b)
{
	return strlen(a) == MAC_HEX - 1 && strlen(b) == MAC_HEX - 1 &&
	    CRYPTO_memcmp(a, b, MAC_HEX - 1) == 0;
}

/* --- append ----------------------------------------------------------------------------- */

static const struct db_stmt stmt_head = {
	"audit_head",
	"SELECT key_sealed, last_seq, last_mac, (extract(epoch FROM now()) * 1000000)::bigint, "
	"(SELECT urls_sealed FROM pulse.audit_webhooks WHERE id = 1), "
	"to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
	"FROM pulse.audit_chain WHERE id = 1 FOR UPDATE",
	0,
};

static const struct db_stmt stmt_append = {
	"audit_append",
	"WITH ins AS (INSERT INTO pulse.audit_events (id, ts, event, username, client_ip, path, "
	"success, details, seq, mac) VALUES ($1, now(), $2, $3, $4, $5, $6, $7, $8, $9)) "
	"UPDATE pulse.audit_chain SET last_seq = $8, last_mac = $9, updated_at = now() "
	"WHERE id = 1",
	9,
};

static const struct db_stmt stmt_set_key = {
	"audit_set_key", "UPDATE pulse.audit_chain SET key_sealed = $1 WHERE id = 1", 1,
};

/* Rows written before the chain had a key (before the upgrade), oldest first. */
static const struct db_stmt stmt_legacy = {
	"audit_legacy",
	"SELECT id::text, (extract(epoch FROM ts) * 1000000)::bigint, event, username, client_ip, "
	"path, success, details FROM pulse.audit_events WHERE seq IS NULL ORDER BY ts, id",
	0,
};

static const struct db_stmt stmt_adopt = {
	"audit_adopt", "UPDATE pulse.audit_events SET seq = $2, mac = $3 WHERE id = $1", 3,
};

/* The chain has no key yet: makes one, seals it, and takes the rows written before into the
 * chain (oldest first), so that afterwards every row outside it is one nobody signed. Runs
 * under the head's lock. Returns 0 with *seq and prev (the new head), or -1. */
static int
key_create(struct db *db, int64_t *seq, char prev[MAC_HEX])
{
	unsigned char raw[32];
	char *sealed;
	PGresult *res;
	int rc;

	crypto_random(raw, sizeof(raw));
	sealed = secrets_seal(KEY_CONTEXT, raw, sizeof(raw));
	explicit_bzero(raw, sizeof(raw));
	if (sealed == NULL)
		return -1;
	rc = db_exec_stmt_ok(db, &stmt_set_key, (const char *const[]){sealed});
	if (rc == 0 && key_open(sealed) != 0)
		rc = -1;
	free(sealed);
	if (rc != 0 || (res = db_exec_stmt(db, &stmt_legacy, NULL)) == NULL)
		return -1;
	for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
		char seqtext[24], mac[MAC_HEX];
		struct audit_row r = {
			.seq = seqtext, .ts_us = PQgetvalue(res, i, 1), .id = PQgetvalue(res, i, 0),
			.event = PQgetvalue(res, i, 2), .user = PQgetvalue(res, i, 3),
			.ip = PQgetvalue(res, i, 4), .path = PQgetvalue(res, i, 5),
			.success = PQgetvalue(res, i, 6)[0] == 't', .details = PQgetvalue(res, i, 7),
		};
		snprintf(seqtext, sizeof(seqtext), "%lld", (long long)++*seq);
		row_mac(&r, prev, mac);
		rc = db_exec_stmt_ok(db, &stmt_adopt, (const char *const[]){r.id, seqtext, mac});
		memcpy(prev, mac, MAC_HEX);
	}
	PQclear(res);
	return rc;
}

/* Queues the event for each audit webhook, in the append's transaction under a savepoint: a
 * delivery that cannot be queued is logged and the event is still recorded. */
static void
queue_webhooks(struct db *db, const char *urls_sealed, const struct audit_row *r,
    const char *timestamp)
{
	struct json_object *cfg = NULL, *urls, *payload, *data;
	char *plain = NULL, qid[128], err[256];
	size_t len = 0;

	if (secrets_open(WEBHOOKS_CONTEXT, urls_sealed, &plain, &len) != 0) {
		log_warn("msg=\"audit webhooks cannot be opened with this encryption key\"");
		return;
	}
	cfg = jsonutil_parse(plain, len, NULL, 0);
	explicit_bzero(plain, len);
	free(plain);
	urls = jsonread_member(cfg, "urls");
	if (jsonread_array_len(urls) == 0)
		goto done;
	data = json_object_new_object();
	jsonwrite_str(data, "id", r->id);
	jsonwrite_str(data, "timestamp", timestamp);
	jsonwrite_str(data, "event", r->event);
	jsonwrite_opt_str(data, "user", r->user);
	jsonwrite_str(data, "ip", r->ip);
	jsonwrite_opt_str(data, "path", r->path);
	jsonwrite_bool(data, "success", r->success);
	jsonwrite_opt_str(data, "details", r->details);
	jsonwrite_str(data, "signature", r->mac);
	payload = json_object_new_array();
	{
		struct json_object *p = json_object_new_object();
		char *type = xasprintf("audit.%s", r->event);
		jsonwrite_str(p, "event", type);
		jsonwrite_str(p, "timestamp", timestamp);
		json_object_object_add(p, "data", data);
		json_object_array_add(payload, p);
		free(type);
	}
	if (db_exec(db, "SAVEPOINT audit_webhooks") != 0) {
		log_warn("msg=\"audit webhooks not queued\" event=%s error=\"%s\"", r->event,
		    db_error(db));
		json_object_put(payload);
		goto done;
	}
	for (int i = 0; i < jsonread_array_len(urls); i++) {
		struct json_object *c = json_object_new_object();
		int rc;

		jsonwrite_str(c, "url", json_object_get_string(json_object_array_get_idx(urls,
		    (size_t)i)));
		jsonwrite_str(c, "secret", jsonread_string(cfg, "signingSecret", ""));
		rc = notify_queue_enqueue(db, AUDIT_WEBHOOK_TYPE, "", jsonutil_to_string(payload, NULL),
		    jsonutil_to_string(c, NULL), qid, sizeof(qid), err, sizeof(err));
		json_object_put(c);
		if (rc != 0) {
			log_warn("msg=\"audit webhooks not queued\" event=%s error=\"%s\"", r->event,
			    err);
			(void)db_exec(db, "ROLLBACK TO SAVEPOINT audit_webhooks");
			break;
		}
	}
	(void)db_exec(db, "RELEASE SAVEPOINT audit_webhooks");
	json_object_put(payload);
done:
	json_object_put(cfg);
}

/* Appends one row at the head. Returns 0 or -1 (the caller rolls back). */
static int
append(struct db *db, struct audit_row *r)
{
	PGresult *res = db_exec_stmt(db, &stmt_head, NULL);
	char prev[MAC_HEX], mac[MAC_HEX], seqtext[24], timestamp[40], *urls = NULL;
	int64_t seq;
	int rc = -1;

	if (res == NULL || PQntuples(res) != 1)
		goto done;
	seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(prev, sizeof(prev), "%s", PQgetvalue(res, 0, 2));
	snprintf(timestamp, sizeof(timestamp), "%s", PQgetvalue(res, 0, 5));
	r->ts_us = xstrdup(PQgetvalue(res, 0, 3));
	if (!PQgetisnull(res, 0, 4))
		urls = xstrdup(PQgetvalue(res, 0, 4));
	if (PQgetisnull(res, 0, 0)) {
		if (key_create(db, &seq, prev) != 0)
			goto done;
	} else if (key_open(PQgetvalue(res, 0, 0)) != 0) {
		goto done;
	}
	snprintf(seqtext, sizeof(seqtext), "%lld", (long long)(seq + 1));
	r->seq = seqtext;
	row_mac(r, prev, mac);
	r->mac = mac;
	{
		const char *params[9] = {r->id, r->event, r->user, r->ip, r->path,
		    r->success ? "true" : "false", r->details, seqtext, mac};
		rc = db_exec_stmt_ok(db, &stmt_append, params);
	}
	if (rc == 0 && urls != NULL)
		queue_webhooks(db, urls, r, timestamp);
done:
	PQclear(res);
	free(urls);
	free((char *)r->ts_us);
	r->ts_us = NULL;
	return rc;
}

void
audit_record(struct db *db, const char *event, const char *username, const char *client_ip,
    const char *path, int success, const char *details)
{
	char id[37];
	struct audit_row r;
	int own_tx, rc;

	if (!conf_bool("audit_log"))
		return;
	crypto_uuid4(id);
	memset(&r, 0, sizeof(r));
	r.id = id;
	r.event = event;
	r.user = username ? username : "";
	r.ip = client_ip ? client_ip : "";
	r.path = path ? path : "";
	r.success = success;
	r.details = details ? details : "";
	/* Inside a caller's transaction the row commits (or not) with the caller's work. */
	own_tx = !db_in_transaction(db);
	if (own_tx && db_begin(db) != 0) {
		log_warn("msg=\"audit event not recorded\" event=%s error=\"%s\"", event, db_error(db));
		return;
	}
	rc = append(db, &r);
	if (own_tx) {
		if (rc == 0)
			rc = db_commit(db);
		else
			db_rollback(db);
	}
	if (rc != 0) {
		log_warn("msg=\"audit event not recorded\" event=%s error=\"%s\"", event, db_error(db));
		return;
	}
	{
		char user[136];
		log_info("msg=audit event=%s user=\"%s\" client=%.64s success=%s", event,
		    log_quote(user, sizeof(user), r.user), r.ip, success ? "true" : "false");
	}
}

/* --- verification ----------------------------------------------------------------------- */

static const struct db_stmt stmt_chain = {
	"audit_chain",
	"SELECT key_sealed, last_seq, last_mac, anchor_seq, anchor_mac FROM pulse.audit_chain "
	"WHERE id = 1",
	0,
};

#define ROW_COLUMNS \
	"id::text, (extract(epoch FROM ts) * 1000000)::bigint, event, username, client_ip, " \
	"path, success, details, seq, mac"

static const struct db_stmt stmt_rows_between = {
	"audit_rows_between",
	"SELECT " ROW_COLUMNS " FROM pulse.audit_events WHERE seq BETWEEN $1 AND $2 ORDER BY seq",
	2,
};

static const struct db_stmt stmt_rows_after = {
	"audit_rows_after",
	"SELECT " ROW_COLUMNS " FROM pulse.audit_events WHERE seq > $1 ORDER BY seq LIMIT 5000",
	1,
};

static const struct db_stmt stmt_below_anchor = {
	"audit_below_anchor",
	"SELECT id::text, seq FROM pulse.audit_events WHERE seq <= $1 ORDER BY seq LIMIT 1",
	1,
};

static const struct db_stmt stmt_seq_of = {
	"audit_seq_of", "SELECT seq FROM pulse.audit_events WHERE id = $1::uuid", 1,
};

static const struct db_stmt stmt_outside = {
	"audit_outside",
	"SELECT id::text FROM pulse.audit_events WHERE seq IS NULL ORDER BY ts LIMIT 1",
	0,
};

/* The chain's head and anchor, its key opened. */
struct chain_state {
	int has_key;
	int64_t last_seq, anchor_seq;
	char last_mac[MAC_HEX], anchor_mac[MAC_HEX];
};

/* Returns 0, or -1 on a database error or a key that cannot be opened. */
static int
chain_load(struct db *db, struct chain_state *c)
{
	PGresult *res = db_exec_stmt(db, &stmt_chain, NULL);
	int rc = -1;

	memset(c, 0, sizeof(*c));
	if (res == NULL || PQntuples(res) != 1)
		goto done;
	c->has_key = !PQgetisnull(res, 0, 0);
	c->last_seq = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	snprintf(c->last_mac, sizeof(c->last_mac), "%s", PQgetvalue(res, 0, 2));
	c->anchor_seq = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
	snprintf(c->anchor_mac, sizeof(c->anchor_mac), "%s", PQgetvalue(res, 0, 4));
	rc = c->has_key ? key_open(PQgetvalue(res, 0, 0)) : 0;
done:
	PQclear(res);
	return rc;
}

static void
row_from_result(const PGresult *res, int i, struct audit_row *r)
{
	r->id = PQgetvalue(res, i, 0);
	r->ts_us = PQgetvalue(res, i, 1);
	r->event = PQgetvalue(res, i, 2);
	r->user = PQgetvalue(res, i, 3);
	r->ip = PQgetvalue(res, i, 4);
	r->path = PQgetvalue(res, i, 5);
	r->success = PQgetvalue(res, i, 6)[0] == 't';
	r->details = PQgetvalue(res, i, 7);
	r->seq = PQgetvalue(res, i, 8);
	r->mac = PQgetvalue(res, i, 9);
}

/* Whether the row of seq s in res (rows ordered by seq) checks against its predecessor: the
 * anchor's MAC when s follows the retention cut, else the stored MAC of row s - 1, which
 * must be there. */
static int
row_checks(const PGresult *res, const struct chain_state *c, int64_t s)
{
	const char *prev = NULL;
	struct audit_row r;
	char mac[MAC_HEX];
	int at = -1;

	if (s <= c->anchor_seq)
		return 0;
	for (int i = 0; i < PQntuples(res); i++) {
		int64_t q = strtoll(PQgetvalue(res, i, 8), NULL, 10);
		if (q == s)
			at = i;
		else if (q == s - 1)
			prev = PQgetvalue(res, i, 9);
	}
	if (s - 1 == c->anchor_seq)
		prev = c->anchor_mac;
	if (at < 0 || prev == NULL)
		return 0;
	row_from_result(res, at, &r);
	row_mac(&r, prev, mac);
	return mac_equal(mac, r.mac);
}

static int
is_uuid(const char *s)
{
	if (strlen(s) != 36)
		return 0;
	for (int i = 0; i < 36; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	}
	return 1;
}

/* Verification reads one snapshot: an append or a retention cut committing meanwhile must
 * not look like a gap or a truncation. Returns 0, or -1 (the caller's transaction, if any,
 * is used as it is). */
static int
snapshot_begin(struct db *db, int *own)
{
	*own = !db_in_transaction(db);
	return *own ? db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") : 0;
}

static void
snapshot_end(struct db *db, int own)
{
	if (own)
		db_rollback(db);
}

static enum audit_verdict verify_event(struct db *db, const char *id);

enum audit_verdict
audit_verify_event(struct db *db, const char *id)
{
	enum audit_verdict v;
	int own;

	if (!is_uuid(id))
		return AUDIT_NOT_FOUND;
	if (snapshot_begin(db, &own) != 0)
		return AUDIT_ERROR;
	v = verify_event(db, id);
	snapshot_end(db, own);
	return v;
}

static enum audit_verdict
verify_event(struct db *db, const char *id)
{
	struct chain_state c;
	PGresult *res;
	char lo[24], hi[24];
	int64_t s;
	int ok;

	res = db_exec_stmt(db, &stmt_seq_of, (const char *const[]){id});
	if (res == NULL)
		return AUDIT_ERROR;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return AUDIT_NOT_FOUND;
	}
	if (PQgetisnull(res, 0, 0)) {	/* a row outside the chain: nobody signed it */
		PQclear(res);
		return AUDIT_BROKEN;
	}
	s = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	if (chain_load(db, &c) != 0)
		return AUDIT_ERROR;
	if (!c.has_key)
		return AUDIT_BROKEN;
	snprintf(lo, sizeof(lo), "%lld", (long long)(s - 2));
	snprintf(hi, sizeof(hi), "%lld", (long long)s);
	res = db_exec_stmt(db, &stmt_rows_between, (const char *const[]){lo, hi});
	if (res == NULL)
		return AUDIT_ERROR;
	ok = row_checks(res, &c, s) && (s - 1 <= c.anchor_seq || row_checks(res, &c, s - 1));
	PQclear(res);
	return ok ? AUDIT_VERIFIED : AUDIT_BROKEN;
}

static int
broken(struct audit_chain_report *rep, int64_t seq, const char *id, const char *reason)
{
	rep->broken_seq = seq;
	snprintf(rep->broken_id, sizeof(rep->broken_id), "%s", id ? id : "");
	snprintf(rep->reason, sizeof(rep->reason), "%s", reason);
	return 1;
}

static int verify_chain(struct db *db, struct audit_chain_report *rep);

int
audit_verify_chain(struct db *db, struct audit_chain_report *rep)
{
	int own, rc;

	memset(rep, 0, sizeof(*rep));
	if (snapshot_begin(db, &own) != 0)
		return -1;
	rc = verify_chain(db, rep);
	snapshot_end(db, own);
	return rc;
}

static int
verify_chain(struct db *db, struct audit_chain_report *rep)
{
	struct chain_state c;
	char after[24], prev[MAC_HEX];
	int64_t expected;
	PGresult *res;
	int n;

	memset(rep, 0, sizeof(*rep));
	if (chain_load(db, &c) != 0)
		return -1;
	rep->anchor_seq = c.anchor_seq;
	rep->last_seq = c.last_seq;
	expected = c.anchor_seq + 1;
	snprintf(prev, sizeof(prev), "%s", c.anchor_mac);
	/* Rows at or below the anchor were cut: one there now was put back. */
	snprintf(after, sizeof(after), "%lld", (long long)c.anchor_seq);
	res = db_exec_stmt(db, &stmt_below_anchor, (const char *const[]){after});
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		int rc = broken(rep, strtoll(PQgetvalue(res, 0, 1), NULL, 10), PQgetvalue(res, 0, 0),
		    "a row at or before the retention anchor (inserted)");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	do {
		snprintf(after, sizeof(after), "%lld", (long long)(expected - 1));
		res = db_exec_stmt(db, &stmt_rows_after, (const char *const[]){after});
		if (res == NULL)
			return -1;
		n = PQntuples(res);
		for (int i = 0; i < n; i++) {
			struct audit_row r;
			char mac[MAC_HEX], why[160];
			int64_t s;

			/* r points into res: the report is filled before res is cleared. */
			row_from_result(res, i, &r);
			s = strtoll(r.seq, NULL, 10);
			why[0] = '\0';
			if (!c.has_key) {
				snprintf(why, sizeof(why), "a chain row but the chain has no key");
			} else if (s != expected) {
				snprintf(why, sizeof(why), "its predecessor is missing (rows %lld to %lld "
				    "deleted)", (long long)expected, (long long)(s - 1));
			} else {
				row_mac(&r, prev, mac);
				if (!mac_equal(mac, r.mac))
					snprintf(why, sizeof(why), "its MAC does not match its content "
					    "and its predecessor's MAC (edited or inserted)");
			}
			if (why[0]) {
				broken(rep, s, r.id, why);
				PQclear(res);
				return 1;
			}
			memcpy(prev, r.mac, MAC_HEX);
			rep->rows++;
			expected = s + 1;
		}
		PQclear(res);
	} while (n == 5000);
	if (expected - 1 != c.last_seq || (c.last_seq > c.anchor_seq && strcmp(prev, c.last_mac)))
		return broken(rep, expected, NULL, "the chain ends before its head (rows deleted at "
		    "the end)");
	res = db_exec_stmt(db, &stmt_outside, NULL);
	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0) {
		int rc = broken(rep, -1, PQgetvalue(res, 0, 0), "a row outside the chain (inserted "
		    "without a place in it)");
		PQclear(res);
		return rc;
	}
	PQclear(res);
	return 0;
}

struct json_object *
audit_chain_report_json(const struct audit_chain_report *rep, int rc)
{
	struct json_object *o = json_object_new_object();

	jsonwrite_bool(o, "available", 1);
	jsonwrite_bool(o, "verified", rc == 0);
	jsonwrite_str(o, "message", rc == 0 ? "Audit log chain verified" :
	    "Audit log chain verification failed");
	jsonwrite_int(o, "rows", rep->rows);
	jsonwrite_int(o, "anchorSeq", rep->anchor_seq);
	jsonwrite_int(o, "headSeq", rep->last_seq);
	if (rc != 0) {
		struct json_object *b = json_object_new_object();
		jsonwrite_int(b, "seq", rep->broken_seq);
		jsonwrite_opt_str(b, "id", rep->broken_id);
		jsonwrite_str(b, "reason", rep->reason);
		json_object_object_add(o, "firstBroken", b);
	}
	return o;
}

/* --- listing ---------------------------------------------------------------------------- */

#define FILTERS \
	"WHERE ($1::text IS NULL OR event = $1) AND ($2::text IS NULL OR username = $2) " \
	"AND ($3::float8 IS NULL OR date_trunc('second', ts) >= to_timestamp($3)) " \
	"AND ($4::float8 IS NULL OR date_trunc('second', ts) <= to_timestamp($4)) " \
	"AND ($5::boolean IS NULL OR success = $5)"

static const struct db_stmt stmt_list = {
	"audit_list",
	"SELECT id::text, extract(epoch FROM ts)::float8, event, username, client_ip, path, "
	"success, details, mac FROM pulse.audit_events " FILTERS
	" ORDER BY ts DESC, seq DESC NULLS LAST LIMIT $6::bigint OFFSET $7::bigint",
	7,
};

static const struct db_stmt stmt_count = {
	"audit_count", "SELECT count(*) FROM pulse.audit_events " FILTERS, 5,
};

struct json_object *
audit_list(struct db *db, const struct audit_query *q)
{
	char start[32], end[32], limit[24], offset[24];
	const char *params[7] = {q->event, q->user, NULL, NULL, NULL, NULL, offset};
	struct json_object *o, *events;
	PGresult *res, *count;

	if (!isnan(q->start)) {
		snprintf(start, sizeof(start), "%.0f", floor(q->start));
		params[2] = start;
	}
	if (!isnan(q->end)) {
		snprintf(end, sizeof(end), "%.0f", floor(q->end));
		params[3] = end;
	}
	if (q->success >= 0)
		params[4] = q->success ? "true" : "false";
	if (q->limit > 0) {
		snprintf(limit, sizeof(limit), "%lld", (long long)q->limit);
		params[5] = limit;
	}
	snprintf(offset, sizeof(offset), "%lld", (long long)(q->offset > 0 ? q->offset : 0));
	res = db_exec_stmt(db, &stmt_list, params);
	if (res == NULL)
		return NULL;
	count = db_exec_stmt(db, &stmt_count, params);
	if (count == NULL) {
		PQclear(res);
		return NULL;
	}
	o = json_object_new_object();
	events = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++) {
		struct json_object *e = json_object_new_object();
		char ts[TIMEFMT_LEN];

		jsonwrite_str(e, "id", PQgetvalue(res, i, 0));
		jsonwrite_str(e, "timestamp", timefmt_rfc3339_nano(strtod(PQgetvalue(res, i, 1), NULL),
		    ts, sizeof(ts)));
		jsonwrite_str(e, "event", PQgetvalue(res, i, 2));
		jsonwrite_opt_str(e, "user", PQgetvalue(res, i, 3));
		jsonwrite_str(e, "ip", PQgetvalue(res, i, 4));
		jsonwrite_opt_str(e, "path", PQgetvalue(res, i, 5));
		jsonwrite_bool(e, "success", PQgetvalue(res, i, 6)[0] == 't');
		jsonwrite_opt_str(e, "details", PQgetvalue(res, i, 7));
		jsonwrite_opt_str(e, "signature", PQgetvalue(res, i, 8));
		json_object_array_add(events, e);
	}
	json_object_object_add(o, "events", events);
	jsonwrite_int(o, "total", strtoll(PQgetvalue(count, 0, 0), NULL, 10));
	jsonwrite_bool(o, "persistentLogging", 1);
	PQclear(res);
	PQclear(count);
	return o;
}

/* --- retention -------------------------------------------------------------------------- */

static const struct db_stmt stmt_lock_head = {
	"audit_lock_head", "SELECT anchor_seq FROM pulse.audit_chain WHERE id = 1 FOR UPDATE", 0,
};

/* The newest chain row past retention and its MAC: the new anchor. */
static const struct db_stmt stmt_cut = {
	"audit_cut",
	"SELECT seq, mac FROM pulse.audit_events WHERE seq IS NOT NULL AND "
	"ts < now() - make_interval(days => $1::int) ORDER BY seq DESC LIMIT 1",
	1,
};

static const struct db_stmt stmt_cut_delete = {
	"audit_cut_delete",
	"WITH gone AS (DELETE FROM pulse.audit_events WHERE seq <= $1 OR (seq IS NULL AND "
	"ts < now() - make_interval(days => $3::int)) RETURNING 1) "
	"UPDATE pulse.audit_chain SET anchor_seq = greatest(anchor_seq, $1), "
	"anchor_mac = CASE WHEN $1 > anchor_seq THEN $2 ELSE anchor_mac END "
	"WHERE id = 1 RETURNING (SELECT count(*) FROM gone), anchor_seq",
	3,
};

long
audit_prune(struct db *db, int days)
{
	char d[16], cut[24] = "0", mac[MAC_HEX] = "", details[200];
	PGresult *res;
	long deleted = -1;
	int64_t anchor = 0;

	snprintf(d, sizeof(d), "%d", days);
	if (db_begin(db) != 0)
		return -1;
	res = db_exec_stmt(db, &stmt_lock_head, NULL);
	if (res == NULL)
		goto fail;
	PQclear(res);
	res = db_exec_stmt(db, &stmt_cut, (const char *const[]){d});
	if (res == NULL)
		goto fail;
	if (PQntuples(res) == 1) {
		snprintf(cut, sizeof(cut), "%s", PQgetvalue(res, 0, 0));
		snprintf(mac, sizeof(mac), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	res = db_exec_stmt(db, &stmt_cut_delete, (const char *const[]){cut, mac, d});
	if (res == NULL || PQntuples(res) != 1) {
		PQclear(res);
		goto fail;
	}
	deleted = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	anchor = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
	PQclear(res);
	if (db_commit(db) != 0)
		return -1;
	if (deleted > 0) {
		snprintf(details, sizeof(details), "Deleted %ld events older than %d days; the chain "
		    "continues after seq %lld", deleted, days, (long long)anchor);
		audit_record(db, "audit_cleanup", "system", "", "", 1, details);
	}
	return deleted;
fail:
	db_rollback(db);
	return -1;
}

/* --- webhooks --------------------------------------------------------------------------- */

static const struct db_stmt stmt_webhooks_get = {
	"audit_webhooks_get", "SELECT urls_sealed FROM pulse.audit_webhooks WHERE id = 1", 0,
};

static const struct db_stmt stmt_webhooks_set = {
	"audit_webhooks_set",
	"INSERT INTO pulse.audit_webhooks (id, urls_sealed, updated_at) VALUES (1, $1, now()) "
	"ON CONFLICT (id) DO UPDATE SET urls_sealed = EXCLUDED.urls_sealed, updated_at = now()",
	1,
};

/* The stored configuration: a new reference ({} when none), or NULL on a database error. */
static struct json_object *
webhooks_read(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_webhooks_get, NULL);
	struct json_object *o = NULL;
	char *plain = NULL;
	size_t len = 0;

	if (res == NULL)
		return NULL;
	if (PQntuples(res) == 1 &&
	    secrets_open(WEBHOOKS_CONTEXT, PQgetvalue(res, 0, 0), &plain, &len) == 0) {
		o = jsonutil_parse(plain, len, NULL, 0);
		explicit_bzero(plain, len);
		free(plain);
	}
	PQclear(res);
	if (!jsonread_is_object(o)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	return o;
}

struct json_object *
audit_webhooks_get(struct db *db)
{
	struct json_object *stored = webhooks_read(db), *o, *urls;

	if (stored == NULL)
		return NULL;
	o = json_object_new_object();
	urls = jsonread_member(stored, "urls");
	json_object_object_add(o, "urls", jsonread_is_array(urls) ? json_object_get(urls) :
	    json_object_new_array());
	jsonwrite_opt_str(o, "signingSecret", jsonread_string(stored, "signingSecret", ""));
	json_object_put(stored);
	return o;
}

int
audit_webhooks_set(struct db *db, struct json_object *urls, char *err, size_t errlen)
{
	struct json_object *stored, *clean;
	const char *text;
	char *sealed, *secret = NULL;
	int n = jsonread_array_len(urls), rc;

	if (!jsonread_is_array(urls) || n > AUDIT_WEBHOOKS_MAX) {
		snprintf(err, errlen, "urls must be an array of at most %d URLs", AUDIT_WEBHOOKS_MAX);
		return -1;
	}
	clean = json_object_new_array();
	for (int i = 0; i < n; i++) {
		struct json_object *u = json_object_array_get_idx(urls, (size_t)i);
		const char *s = json_object_is_type(u, json_type_string) ?
		    json_object_get_string(u) : NULL;

		if (s == NULL || strlen(s) > 2048 || (strncmp(s, "http://", 7) != 0 &&
		    strncmp(s, "https://", 8) != 0) || strpbrk(s, " \t\r\n")) {
			snprintf(err, errlen, "urls[%d] is not an http or https URL", i);
			json_object_put(clean);
			return -1;
		}
		json_object_array_add(clean, json_object_new_string(s));
	}
	stored = webhooks_read(db);
	if (stored == NULL) {
		json_object_put(clean);
		return -2;
	}
	json_object_object_add(stored, "urls", clean);
	/* The signing secret is made once and kept when the URLs change. */
	if (jsonread_string(stored, "signingSecret", "")[0] == '\0') {
		secret = crypto_random_hex(32);
		jsonwrite_str(stored, "signingSecret", secret);
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	text = jsonutil_to_string(stored, NULL);
	sealed = secrets_seal(WEBHOOKS_CONTEXT, text, strlen(text));
	json_object_put(stored);
	if (sealed == NULL)
		return -2;
	rc = db_exec_stmt_ok(db, &stmt_webhooks_set, (const char *const[]){sealed});
	free(sealed);
	return rc == 0 ? 0 : -2;
}

int
audit_webhook_send(const struct nq_row *row, const struct notify_send_ctx *ctx,
    struct nq_result *res)
{
	struct json_object *cfg = NULL, *payloads = NULL, *payload, *data, *body_obj = NULL;
	struct webhook_kv headers[3];
	struct notify_http h;
	char sig[MAC_HEX], sighdr[80], *target;
	unsigned char mac[32];
	unsigned int maclen = 0;
	const char *url, *secret, *body;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	snprintf(res->channel_name, sizeof(res->channel_name), "audit webhook");
	if (row->config)
		cfg = jsonutil_parse(row->config, strlen(row->config), NULL, 0);
	payloads = jsonutil_parse(row->alerts, strlen(row->alerts), NULL, 0);
	payload = json_object_is_type(payloads, json_type_array) ?
	    json_object_array_get_idx(payloads, 0) : NULL;
	url = jsonread_string(cfg, "url", "");
	secret = jsonread_string(cfg, "secret", "");
	if (!url[0] || !jsonread_is_object(payload)) {
		snprintf(res->error, sizeof(res->error), "the queued audit webhook is not readable "
		    "(another secrets key?)");
		goto done;
	}
	target = notify_queue_redact_url(url);
	snprintf(res->target, sizeof(res->target), "%s", target);
	free(target);
	/* The queue keeps the payload as jsonb, which orders members its own way: the body is
	 * written again in the original's order. */
	data = jsonread_member(payload, "data");
	body_obj = json_object_new_object();
	jsonwrite_str(body_obj, "event", jsonread_string(payload, "event", ""));
	jsonwrite_str(body_obj, "timestamp", jsonread_string(payload, "timestamp", ""));
	{
		static const char *const keys[] = {"id", "timestamp", "event", "user", "ip", "path",
		    "success", "details", "signature"};
		struct json_object *d = json_object_new_object();
		for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
			struct json_object *v = jsonread_member(data, keys[i]);
			if (v != NULL)
				json_object_object_add(d, keys[i], json_object_get(v));
		}
		json_object_object_add(body_obj, "data", d);
	}
	body = jsonutil_to_string(body_obj, NULL);
	HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, strlen(body),
	    mac, &maclen);
	hex_encode(mac, 32, sig);
	snprintf(sighdr, sizeof(sighdr), "sha256=%s", sig);
	headers[0] = (struct webhook_kv){"X-Pulse-Event", jsonread_string(data, "event", "")};
	headers[1] = (struct webhook_kv){"X-Pulse-Event-ID", jsonread_string(data, "id", "")};
	headers[2] = (struct webhook_kv){"X-Pulse-Signature", sighdr};
	memset(&h, 0, sizeof(h));
	h.label = "audit webhook";
	h.body = body;
	h.content_type = "application/json";
	h.headers = headers;
	h.header_count = ARRAY_LEN(headers);
	h.delivery_key = row->id;
	h.user_agent = AUDIT_WEBHOOK_USER_AGENT;
	res->payload_bytes = (int)strlen(body);
	rc = notify_send_http(url, &h, ctx, res->error, sizeof(res->error));
	res->status_code = (int)h.status;
done:
	res->success = rc == 0;
	if (rc == 0)
		res->error[0] = '\0';
	json_object_put(body_obj);
	json_object_put(cfg);
	json_object_put(payloads);
	return rc;
}
