/* claim.c: work claimed through session advisory locks. */
#include "config.h"

#include "worker.h"
#include "log.h"
#include "util.h"

#include <string.h>

int
claim_holds(const struct worker *w, enum db_lock_class cls, int32_t key)
{
	for (int i = 0; i < w->nclaims; i++)
		if (w->claims[i].cls == cls && w->claims[i].key == key)
			return 1;
	return 0;
}

int
claim_try(struct worker *w, enum db_lock_class cls, int32_t key)
{
	int rc;

	/* A lost session took its locks along: only trust claims made on this one. */
	if (db_ensure(w->db, 0) != 0)
		return -1;
	if (claim_holds(w, cls, key))
		return 1;
	rc = db_try_lock(w->db, cls, key);
	if (rc != 1)
		return rc;
	if (w->nclaims == w->capclaims) {
		w->capclaims = w->capclaims ? w->capclaims * 2 : 16;
		w->claims = xrealloc(w->claims, sizeof(*w->claims) * (size_t)w->capclaims);
	}
	w->claims[w->nclaims].cls = cls;
	w->claims[w->nclaims].key = key;
	w->nclaims++;
	log_info("msg=\"claimed\" class=%d key=%d worker=%s", (int)cls, key, w->id);
	return 1;
}

int
claim_release(struct worker *w, enum db_lock_class cls, int32_t key)
{
	for (int i = 0; i < w->nclaims; i++) {
		if (w->claims[i].cls != cls || w->claims[i].key != key)
			continue;
		w->claims[i] = w->claims[--w->nclaims];
		return db_unlock(w->db, cls, key);
	}
	return 0;
}

void
claim_forget_all(struct worker *w)
{
	if (w->nclaims > 0)
		log_warn("msg=\"database session lost: claims released\" count=%d", w->nclaims);
	w->nclaims = 0;
}

/* A new session holds no claim. Until the work of the old session's claims is dropped, a
 * write may still be on its way (a cycle finishing as this session is opened): PostgreSQL
 * refuses it in a read-only session. */
void
claim_session_new(struct worker *w)
{
	claim_forget_all(w);
	w->session_gen++;
	w->fenced = 1;
	if (db_exec(w->db, "SET default_transaction_read_only = on") != 0)
		log_error("msg=\"new database session not made read-only\" error=\"%s\"",
		    db_error(w->db));
}

int
claim_session_settle(struct worker *w)
{
	unsigned gen = w->session_gen;

	if (!w->fenced)
		return 0;
	poll_drop_unclaimed(w);
	/* A reconnect meanwhile made a newer session: settled on the next call. */
	if (db_exec(w->db, "SET default_transaction_read_only = off") != 0 || w->session_gen != gen)
		return -1;
	w->fenced = 0;
	return 0;
}
