/* pmg_history.c: loading and writing the Mail Gateway alert samples (sql/0015). */
#include "config.h"

#include "pmg_history.h"
#include "log.h"
#include "state_servers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct db_stmt stmt_load_quarantine = {
	"pmg_history_load_quarantine",
	"SELECT extract(epoch FROM taken_at), spam, virus FROM pulse.pmg_quarantine_samples "
	"WHERE instance_id = $1 AND taken_at > to_timestamp($2::float8) - interval '3 hours' "
	"ORDER BY taken_at DESC LIMIT $3::int",
	3,
};

static const struct db_stmt stmt_load_mail = {
	"pmg_history_load_mail",
	"SELECT extract(epoch FROM hour_start), spam_in, spam_out, virus_in, virus_out "
	"FROM pulse.pmg_mail_samples WHERE instance_id = $1 "
	"ORDER BY hour_start DESC LIMIT $2::int",
	2,
};

static const struct db_stmt stmt_add_quarantine = {
	"pmg_history_add_quarantine",
	"INSERT INTO pulse.pmg_quarantine_samples (instance_id, taken_at, spam, virus) "
	"VALUES ($1, to_timestamp($2::float8), $3::bigint, $4::bigint) ON CONFLICT DO NOTHING",
	4,
};

static const struct db_stmt stmt_trim_quarantine = {
	"pmg_history_trim_quarantine",
	"DELETE FROM pulse.pmg_quarantine_samples WHERE instance_id = $1 "
	"AND taken_at <= to_timestamp($2::float8) - interval '3 hours'",
	2,
};

static const struct db_stmt stmt_add_mail = {
	"pmg_history_add_mail",
	"INSERT INTO pulse.pmg_mail_samples (instance_id, hour_start, spam_in, spam_out, "
	"virus_in, virus_out) VALUES ($1, to_timestamp($2::float8), $3::float8, $4::float8, "
	"$5::float8, $6::float8) ON CONFLICT DO NOTHING",
	6,
};

/* Everything older than the oldest hour kept: beyond 48, or before a gap. */
static const struct db_stmt stmt_trim_mail = {
	"pmg_history_trim_mail",
	"DELETE FROM pulse.pmg_mail_samples WHERE instance_id = $1 "
	"AND hour_start < to_timestamp($2::float8)",
	2,
};

/* Both loads give the newest first: the arrays are filled oldest first. */
static int
load(struct db *db, const char *instance, double now, struct pmg_history *h)
{
	char when[64], limit[16];
	const char *qp[3] = {instance, when, limit};
	PGresult *res;

	snprintf(when, sizeof(when), "%.6f", now);
	snprintf(limit, sizeof(limit), "%d", PMG_QUARANTINE_SAMPLES);
	if ((res = db_exec_stmt(db, &stmt_load_quarantine, qp)) == NULL)
		return -1;
	h->nquarantine = PQntuples(res);
	for (int i = 0; i < h->nquarantine; i++) {
		struct pmg_quarantine_sample *s = &h->quarantine[h->nquarantine - 1 - i];
		s->time = db_value_double(res, i, 0);
		s->spam = strtoll(PQgetvalue(res, i, 1), NULL, 10);
		s->virus = strtoll(PQgetvalue(res, i, 2), NULL, 10);
	}
	PQclear(res);
	snprintf(limit, sizeof(limit), "%d", PMG_MAIL_SAMPLES);
	qp[1] = limit;
	if ((res = db_exec_stmt(db, &stmt_load_mail, qp)) == NULL)
		return -1;
	h->nmail = PQntuples(res);
	for (int i = 0; i < h->nmail; i++) {
		struct pmg_mail_sample *s = &h->mail[h->nmail - 1 - i];
		s->time = db_value_double(res, i, 0);
		for (int m = 0; m < PMG_RATE_COUNT; m++)
			s->v[m] = db_value_double(res, i, 1 + m);
	}
	PQclear(res);
	return 0;
}

static int
save_quarantine(struct db *db, const char *instance, const struct pmg_quarantine_sample *s,
    int added, double now)
{
	char when[64], spam[32], virus[32];
	const char *p[4] = {instance, when, spam, virus};

	snprintf(when, sizeof(when), "%.6f", now);
	snprintf(spam, sizeof(spam), "%lld", (long long)s->spam);
	snprintf(virus, sizeof(virus), "%lld", (long long)s->virus);
	if (added && db_exec_stmt_ok(db, &stmt_add_quarantine, p) != 0)
		return -1;
	return db_exec_stmt_ok(db, &stmt_trim_quarantine, p);
}

static int
save_mail(struct db *db, const char *instance, const struct pmg_history *h)
{
	const struct pmg_mail_sample *s = &h->mail[h->nmail - 1];
	char when[64], v[PMG_RATE_COUNT][40];
	const char *p[6] = {instance, when, v[0], v[1], v[2], v[3]};

	snprintf(when, sizeof(when), "%.6f", s->time);
	for (int m = 0; m < PMG_RATE_COUNT; m++)
		snprintf(v[m], sizeof(v[m]), "%.17g", s->v[m]);
	if (db_exec_stmt_ok(db, &stmt_add_mail, p) != 0)
		return -1;
	snprintf(when, sizeof(when), "%.6f", h->mail[0].time);
	return db_exec_stmt_ok(db, &stmt_trim_mail, p);
}

int
pmg_history_update(struct db *db, const struct st_pmg *p, int quarantine_read, double now,
    struct pmg_history *h)
{
	struct pmg_quarantine_sample q = {now, p->q_spam, p->q_virus};
	struct pmg_mail_sample mail;
	int added = 0;

	memset(h, 0, sizeof(*h));
	if (db_begin(db) != 0)
		goto err;
	if (load(db, p->instance_id, now, h) != 0)
		goto err;
	if (quarantine_read)
		added = alert_pmg_add_quarantine(h, &q, now);
	if (save_quarantine(db, p->instance_id, &q, added, now) != 0)
		goto err;
	if (alert_pmg_mail_sample(p, now, &mail) == 0 && alert_pmg_add_mail(h, &mail) > 0 &&
	    save_mail(db, p->instance_id, h) != 0)
		goto err;
	if (db_commit(db) != 0)
		goto err;
	return 0;
err:
	log_warn("msg=\"pmg alert history not updated\" instance=%s error=\"%s\"",
	    p->instance_id, db_error(db));
	db_rollback(db);
	memset(h, 0, sizeof(*h));
	return -1;
}
