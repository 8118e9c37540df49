/* metrics_writer.c: the worker's side of metrics ingest. Polls record samples into a
 * bounded buffer; the metrics_flush job writes them to pulse.metric_raw in one transaction
 * per flush (COPY in binary, one row per poll instant and block of series) and forgets them
 * only after the commit. While PostgreSQL is away the buffer keeps them (bounded by
 * metrics_buffer_samples; the oldest go first, logged) and the backlog is written after the
 * reconnect. A sample older than the minute rollup's progress marks its window for a new
 * rollup, so a late sample lands in its bucket. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "log.h"
#include "metrics.h"
#include "state.h"
#include "state_servers.h"
#include "util.h"
#include "worker.h"

/* One series the worker has recorded, 24 bytes and one allocation: 70,000 of them at
 * 10,000 guests. The resource types and metric names are a handful of words, each kept
 * once (W.words); the id and the name share one block. */
struct key {
	char *text;		/* "<id>\0<name>" (key_id, key_name) */
	int32_t series;		/* -1 until known */
	uint32_t hash;
	int next;		/* chain in the hash table */
	uint8_t type, metric;	/* in W.words */
	uint8_t name_dirty;	/* the name changed since it was written */
};

struct sample {
	uint32_t key;
	double ts;
	double v;
};

static struct {
	struct key *keys;
	int nkeys, capkeys;
	char **words;		/* resource types and metric names */
	int nwords, capwords;
	int *table;		/* heads of chains, -1: empty */
	int tablesize;
	struct sample *buf;
	size_t n, cap, limit;
	uint64_t dropped, dropped_logged;
	int down_logged;
} W;

static uint32_t
hash3(const char *a, const char *b, const char *c)
{
	uint32_t h = 2166136261u;
	const char *parts[3] = {a, b, c};

	for (int i = 0; i < 3; i++) {
		for (const char *p = parts[i]; *p; p++)
			h = (h ^ (unsigned char)*p) * 16777619u;
		h = (h ^ 0x1f) * 16777619u;
	}
	return h;
}

static void
rehash(void)
{
	free(W.table);
	W.tablesize = W.tablesize ? W.tablesize * 2 : 1024;
	W.table = xmalloc(sizeof(int) * (size_t)W.tablesize);
	for (int i = 0; i < W.tablesize; i++)
		W.table[i] = -1;
	for (int i = 0; i < W.nkeys; i++) {
		int b = (int)(W.keys[i].hash & (uint32_t)(W.tablesize - 1));
		W.keys[i].next = W.table[b];
		W.table[b] = i;
	}
}

static const char *key_id(const struct key *k) { return k->text; }
static const char *key_name(const struct key *k) { return k->text + strlen(k->text) + 1; }

/* Sets k's id and name (one block). */
static void
key_set_text(struct key *k, const char *id, const char *name)
{
	size_t ni = strlen(id) + 1, nn = strlen(name) + 1;

	free(k->text);
	k->text = xmalloc(ni + nn);
	memcpy(k->text, id, ni);
	memcpy(k->text + ni, name, nn);
}

/* The index of word in W.words, added when new. The words are the literals of the
 * callers (a few dozen), never data: more than 256 is a bug. */
static uint8_t
word_of(const char *word)
{
	for (int i = 0; i < W.nwords; i++)
		if (strcmp(W.words[i], word) == 0)
			return (uint8_t)i;
	if (W.nwords > UINT8_MAX)
		log_fatal("msg=\"more than 256 metric names and resource types\" word=%s", word);
	GROW(W.words, W.nwords, W.capwords);
	W.words[W.nwords] = xstrdup(word);
	return (uint8_t)W.nwords++;
}

/* The index of a known key, or -1. */
static int
key_find(const char *type, const char *id, const char *metric, uint32_t h)
{
	if (W.tablesize == 0)
		return -1;
	for (int i = W.table[h & (uint32_t)(W.tablesize - 1)]; i >= 0; i = W.keys[i].next) {
		const struct key *k = &W.keys[i];
		if (k->hash == h && strcmp(key_id(k), id) == 0 &&
		    strcmp(W.words[k->metric], metric) == 0 && strcmp(W.words[k->type], type) == 0)
			return i;
	}
	return -1;
}

static int
key_of(const char *type, const char *id, const char *metric, const char *name)
{
	uint32_t h = hash3(type, id, metric);
	int i = key_find(type, id, metric, h), b;
	struct key *k;

	if (i >= 0) {
		k = &W.keys[i];
		if (strcmp(key_name(k), name) != 0) {
			key_set_text(k, id, name);
			k->name_dirty = 1;
		}
		return i;
	}
	if (W.tablesize == 0)
		rehash();
	b = (int)(h & (uint32_t)(W.tablesize - 1));
	GROW(W.keys, W.nkeys, W.capkeys);
	k = &W.keys[W.nkeys];
	key_set_text(k, id, name);
	k->type = word_of(type);
	k->metric = word_of(metric);
	k->series = -1;
	k->hash = h;
	k->next = W.table[b];
	W.table[b] = W.nkeys++;
	if (W.nkeys > W.tablesize)
		rehash();
	return W.nkeys - 1;
}

void
metrics_record(const char *type, const char *id, const char *name, const char *metric,
    double ts, double v)
{
	if (!isfinite(v) || !isfinite(ts) || *id == '\0')
		return;
	if (W.limit == 0)
		W.limit = (size_t)conf_int("metrics_buffer_samples");
	if (W.n >= W.limit) {
		/* Full: the oldest tenth goes, so this is not done for every sample. */
		size_t drop = W.limit / 10 + 1;
		if (drop > W.n)
			drop = W.n;
		memmove(W.buf, W.buf + drop, sizeof(*W.buf) * (W.n - drop));
		W.n -= drop;
		W.dropped += drop;
	}
	if (W.n == W.cap) {
		W.cap = W.cap ? W.cap * 2 : 4096;
		W.buf = xrealloc(W.buf, sizeof(*W.buf) * W.cap);
	}
	W.buf[W.n].key = (uint32_t)key_of(type, id, metric, name);
	W.buf[W.n].ts = round(ts * 1e6) / 1e6;
	W.buf[W.n].v = v;
	W.n++;
}

size_t
metrics_buffered(void)
{
	return W.n;
}

/* Percentages are kept to 1/10,000 of a percent: far below what is measured, and what
 * charts send stays short (docs/COMPATIBILITY.md). */
static double
pct(double v)
{
	return round(v * 1e4) / 1e4;
}

void
metrics_record_instance(const struct st_instance *s, double ts)
{
	for (int i = 0; i < s->nnodes; i++) {
		const struct st_node *n = &s->nodes[i];
		if (strcmp(n->status, "online") != 0)
			continue;
		metrics_record("node", n->id, n->node, "cpu", ts, pct(n->cpu * 100));
		metrics_record("node", n->id, n->node, "memory", ts, pct(n->memory.usage));
		if (n->disk.total > 0)
			metrics_record("node", n->id, n->node, "disk", ts, pct(n->disk.usage));
	}
	for (int i = 0; i < s->nguests; i++) {
		const struct st_guest *g = &s->guests[i];
		const char *type = strcmp(g->type, "qemu") == 0 ? "vm" : "container";
		if (strcmp(g->status, "running") != 0)
			continue;
		metrics_record(type, g->id, g->name, "cpu", ts, pct(g->cpu * 100));
		metrics_record(type, g->id, g->name, "memory", ts, pct(g->memory.usage));
		if (g->disk.usage >= 0 && g->disk.total > 0)
			metrics_record(type, g->id, g->name, "disk", ts, pct(g->disk.usage));
		metrics_record(type, g->id, g->name, "diskread", ts, (double)g->disk_read);
		metrics_record(type, g->id, g->name, "diskwrite", ts, (double)g->disk_write);
		metrics_record(type, g->id, g->name, "netin", ts, (double)g->net_in);
		metrics_record(type, g->id, g->name, "netout", ts, (double)g->net_out);
	}
	for (int i = 0; i < s->nstorage; i++) {
		const struct st_storage *st = &s->storage[i];
		if (st->total <= 0 && st->used <= 0)
			continue;
		metrics_record("storage", st->id, st->name, "usage", ts,
		    st->total > 0 ? pct((double)st->used / (double)st->total * 100) : 0);
		metrics_record("storage", st->id, st->name, "used", ts, (double)st->used);
		metrics_record("storage", st->id, st->name, "total", ts, (double)st->total);
		metrics_record("storage", st->id, st->name, "avail", ts, (double)st->avail);
	}
}

void
metrics_record_pbs(const struct st_pbs *p, double ts)
{
	char id[400];

	for (int i = 0; i < p->nds; i++) {
		const struct st_pbs_datastore *d = &p->ds[i];
		if (d->total <= 0)
			continue;
		snprintf(id, sizeof(id), "pbs-%s:%s", p->name, d->name);
		metrics_record("pbsDatastore", id, d->name, "usage", ts,
		    pct((double)d->used / (double)d->total * 100));
		metrics_record("pbsDatastore", id, d->name, "used", ts, (double)d->used);
		metrics_record("pbsDatastore", id, d->name, "total", ts, (double)d->total);
		metrics_record("pbsDatastore", id, d->name, "avail", ts, (double)d->avail);
	}
}

/* A PostgreSQL text[] literal. */
static void
text_array(struct strbuf *sb, const char **v, int n)
{
	sb_reset(sb);
	sb_puts(sb, "{");
	for (int i = 0; i < n; i++) {
		sb_puts(sb, i ? ",\"" : "\"");
		for (const char *p = v[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_append(sb, "\\", 1);
			sb_append(sb, p, 1);
		}
		sb_puts(sb, "\"");
	}
	sb_puts(sb, "}");
}

static const struct db_stmt stmt_series = {
	"metrics_series",
	"INSERT INTO pulse.metric_series (resource_type, resource_id, metric, resource_name) "
	"SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
	"ON CONFLICT (resource_type, resource_id, metric) "
	"DO UPDATE SET resource_name = EXCLUDED.resource_name "
	"RETURNING id, resource_type, resource_id, metric",
	4,
};

/* Gives every buffered sample's key its series id (new series are created) and writes
 * changed names. Returns 0 or -1. */
static int
resolve_keys(struct worker *w)
{
	int *todo = NULL, ntodo = 0, cap = 0, rc = 0;
	struct strbuf arr[4] = {{0}};

	for (int i = 0; i < W.nkeys; i++) {
		if (W.keys[i].series >= 0 && !W.keys[i].name_dirty)
			continue;
		if (ntodo == cap) {
			cap = cap ? cap * 2 : 256;
			todo = xrealloc(todo, sizeof(int) * (size_t)cap);
		}
		todo[ntodo++] = i;
	}
	/* In slices, so one statement stays of reasonable size. */
	for (int at = 0; at < ntodo && rc == 0; at += 5000) {
		int m = ntodo - at < 5000 ? ntodo - at : 5000;
		const char **cols[4];
		const char *params[4];
		PGresult *res;

		for (int c = 0; c < 4; c++)
			cols[c] = xmalloc(sizeof(char *) * (size_t)m);
		for (int i = 0; i < m; i++) {
			struct key *k = &W.keys[todo[at + i]];
			cols[0][i] = W.words[k->type];
			cols[1][i] = key_id(k);
			cols[2][i] = W.words[k->metric];
			cols[3][i] = key_name(k);
		}
		for (int c = 0; c < 4; c++) {
			text_array(&arr[c], cols[c], m);
			params[c] = arr[c].data;
			free(cols[c]);
		}
		res = db_exec_stmt(w->db, &stmt_series, params);
		if (res == NULL) {
			rc = -1;
			break;
		}
		for (int r = 0; r < PQntuples(res); r++) {
			const char *type = PQgetvalue(res, r, 1), *id = PQgetvalue(res, r, 2);
			const char *metric = PQgetvalue(res, r, 3);
			int k = key_find(type, id, metric, hash3(type, id, metric));
			int64_t series = 0;
			(void)parse_int64(PQgetvalue(res, r, 0), INT32_MIN, INT32_MAX, &series);
			if (k >= 0)
				W.keys[k].series = (int32_t)series;
		}
		for (int i = 0; i < m; i++)
			W.keys[todo[at + i]].name_dirty = 0;
		PQclear(res);
	}
	for (int c = 0; c < 4; c++)
		sb_free(&arr[c]);
	free(todo);
	return rc;
}

static int
cmp_sample(const void *pa, const void *pb)
{
	const struct sample *a = pa, *b = pb;
	int32_t sa = W.keys[a->key].series, sb = W.keys[b->key].series;

	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return (sa > sb) - (sa < sb);
}

/* The COPY data of samples [0, n) sorted: one row per instant and block. */
static int
build_rows(size_t n, struct strbuf *sb)
{
	double vals[MET_BLOCK];
	int rows = 0;

	met_copy_header(sb);
	for (size_t i = 0; i < n;) {
		double ts = W.buf[i].ts;
		int32_t blk = W.keys[W.buf[i].key].series / MET_BLOCK;
		int top = 0;

		for (int j = 0; j < MET_BLOCK; j++)
			vals[j] = NAN;
		for (; i < n && W.buf[i].ts == ts &&
		    W.keys[W.buf[i].key].series / MET_BLOCK == blk; i++) {
			int slot = W.keys[W.buf[i].key].series % MET_BLOCK;
			vals[slot] = W.buf[i].v;
			if (slot + 1 > top)
				top = slot + 1;
		}
		met_copy_row(sb, 3);
		met_copy_ts(sb, ts);
		met_copy_i4(sb, blk);
		met_copy_f8_block(sb, vals, top);
		rows++;
	}
	met_copy_trailer(sb);
	return rows;
}

static const struct db_stmt stmt_ensure = {
	"metrics_partition_ensure",
	"SELECT pulse.metric_partition_ensure('raw', to_timestamp($1))",
	1,
};

static const struct db_stmt stmt_count = {
	"metrics_partition_count",
	"UPDATE pulse.metric_partitions SET samples = samples + $2 "
	"WHERE tier = 'raw' AND lo <= to_timestamp($1) AND hi > to_timestamp($1)",
	2,
};

static const struct db_stmt stmt_done = {
	"metrics_minute_done",
	"SELECT extract(epoch FROM done_until) FROM pulse.metric_rollup WHERE tier = 'minute' "
	"FOR SHARE",
	0,
};

static const struct db_stmt stmt_dirty = {
	"metrics_mark_dirty",
	"INSERT INTO pulse.metric_dirty (tier, t0) "
	"VALUES ('minute', date_bin('1 hour', to_timestamp($1), timestamptz 'epoch')) "
	"ON CONFLICT DO NOTHING",
	1,
};

static const struct db_stmt stmt_writer = {
	"metrics_writer_row",
	"INSERT INTO pulse.metric_writers AS m (worker_id, total_writes, buffered, dropped, "
	"last_flush, updated_at) VALUES ($1, $2, $3, $4, now(), now()) "
	"ON CONFLICT (worker_id) DO UPDATE SET total_writes = m.total_writes + $2, "
	"buffered = $3, dropped = m.dropped + $4, last_flush = now(), updated_at = now()",
	4,
};

/* Everything a flush writes besides the rows, in the open transaction: partitions, their
 * counts, late windows. */
static int
write_bookkeeping(struct worker *w, size_t n)
{
	char a[64], b[32];
	const char *p[2] = {a, b};
	PGresult *res;
	double done = NAN, last_hour = NAN;
	size_t count = 0;

	/* Raw partitions are an hour each: one statement per hour the samples span. */
	for (size_t i = 0; i <= n; i++) {
		double hour = i < n ? floor(W.buf[i].ts / 3600) : NAN;
		if (i < n && hour == last_hour) {
			count++;
			continue;
		}
		if (count > 0) {
			snprintf(a, sizeof(a), "%.0f", last_hour * 3600);
			snprintf(b, sizeof(b), "%lu", (unsigned long)count);
			if (db_exec_stmt_ok(w->db, &stmt_count, p) != 0)
				return -1;
		}
		if (i == n)
			break;
		snprintf(a, sizeof(a), "%.0f", hour * 3600);
		if (db_exec_stmt_ok(w->db, &stmt_ensure, p) != 0)
			return -1;
		last_hour = hour;
		count = 1;
	}
	/* Samples in windows the minute rollup already wrote: those windows again. The row
	 * lock orders this against a rollup that is advancing. */
	res = db_exec_stmt(w->db, &stmt_done, NULL);
	if (res == NULL)
		return -1;
	if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
		done = strtod(PQgetvalue(res, 0, 0), NULL);
	PQclear(res);
	last_hour = NAN;
	for (size_t i = 0; i < n && !isnan(done) && W.buf[i].ts < done; i++) {
		double hour = floor(W.buf[i].ts / 3600);
		if (hour == last_hour)
			continue;
		last_hour = hour;
		snprintf(a, sizeof(a), "%.6f", W.buf[i].ts);
		if (db_exec_stmt_ok(w->db, &stmt_dirty, p) != 0)
			return -1;
		log_info("msg=\"late metrics samples\" window=%.0f", hour * 3600);
	}
	return 0;
}

/* One attempt to write samples [0, n): 0 when committed, 1 when rows of the same instant
 * and block exist (a batch written before whose commit was not seen), -1 on failure. */
static int
write_once(struct worker *w, size_t n, const struct strbuf *data, int merge, uint64_t dropped)
{
	char nb[32], db_[32], dr[32];
	const char *wp[4] = {w->id, nb, db_, dr};

	if (db_begin(w->db) != 0)
		return -1;
	if (write_bookkeeping(w, n) != 0)
		goto fail;
	if (merge && db_exec(w->db, "CREATE TEMP TABLE IF NOT EXISTS metric_blocks_in "
	    "(ts timestamptz, blk integer, vals bytea) ON COMMIT DELETE ROWS") != 0)
		goto fail;
	if (db_copy_begin(w->db, merge ? "COPY metric_blocks_in FROM STDIN (FORMAT binary)" :
	    "COPY pulse.metric_raw (ts, blk, vals) FROM STDIN (FORMAT binary)") != 0 ||
	    db_copy_put(w->db, data->data, data->len) != 0 || db_copy_end(w->db) != 0) {
		if (!merge && strcmp(db_sqlstate(w->db), "23505") == 0) {
			db_rollback(w->db);
			return 1;
		}
		goto fail;
	}
	if (merge && db_exec(w->db, "INSERT INTO pulse.metric_raw SELECT * FROM metric_blocks_in "
	    "ON CONFLICT (blk, ts) DO UPDATE "
	    "SET vals = pulse.metric_merge(metric_raw.vals, EXCLUDED.vals)") != 0)
		goto fail;
	snprintf(nb, sizeof(nb), "%lu", (unsigned long)n);
	snprintf(db_, sizeof(db_), "%lu", (unsigned long)(W.n - n));
	snprintf(dr, sizeof(dr), "%lu", (unsigned long)dropped);
	if (db_exec_stmt_ok(w->db, &stmt_writer, wp) != 0 || db_commit(w->db) != 0)
		goto fail;
	return 0;
fail:
	db_rollback(w->db);
	return -1;
}

int
metrics_flush(struct worker *w)
{
	struct strbuf data = {0};
	double horizon = clock_wall() - (double)conf_int("metrics_retention_raw_hours") * 3600 + 300;
	size_t n, old = 0;
	int rc;

	if (W.dropped > W.dropped_logged) {
		log_warn("msg=\"metrics buffer full, oldest samples dropped\" dropped=%lu",
		    (unsigned long)(W.dropped - W.dropped_logged));
		W.dropped_logged = W.dropped;
	}
	if (W.n == 0)
		return 0;
	if (resolve_keys(w) != 0)
		goto down;
	qsort(W.buf, W.n, sizeof(*W.buf), cmp_sample);
	/* Samples older than the raw retention (a long outage) would only be dropped again. */
	while (old < W.n && W.buf[old].ts < horizon)
		old++;
	if (old > 0) {
		log_warn("msg=\"metrics samples older than the raw retention dropped\" count=%lu",
		    (unsigned long)old);
		memmove(W.buf, W.buf + old, sizeof(*W.buf) * (W.n - old));
		W.n -= old;
		W.dropped += old;
		W.dropped_logged += old;
	}
	n = W.n;
	if (n == 0)
		return 0;
	build_rows(n, &data);
	rc = write_once(w, n, &data, 0, W.dropped);
	if (rc == 1) {
		log_warn("msg=\"metrics rows already written, merging\" samples=%lu",
		    (unsigned long)n);
		rc = write_once(w, n, &data, 1, W.dropped);
	}
	sb_free(&data);
	if (rc != 0)
		goto down;
	/* Committed: forget them (new samples recorded meanwhile are not in [0, n)). */
	memmove(W.buf, W.buf + n, sizeof(*W.buf) * (W.n - n));
	W.n -= n;
	W.dropped = 0;
	W.dropped_logged = 0;
	if (W.down_logged)
		log_info("msg=\"metrics backlog written\" samples=%lu", (unsigned long)n);
	W.down_logged = 0;
	return 0;
down:
	if (!W.down_logged)
		log_warn("msg=\"metrics write failed, keeping samples\" buffered=%lu error=\"%s\"",
		    (unsigned long)W.n, db_error(w->db));
	W.down_logged = 1;
	return -1;
}

int
job_metrics_flush(struct worker *w, struct job *job)
{
	(void)job;
	return metrics_flush(w);
}

void
metrics_writer_free(void)
{
	for (int i = 0; i < W.nkeys; i++)
		free(W.keys[i].text);
	for (int i = 0; i < W.nwords; i++)
		free(W.words[i]);
	free(W.words);
	free(W.keys);
	free(W.table);
	free(W.buf);
	memset(&W, 0, sizeof(W));
}
