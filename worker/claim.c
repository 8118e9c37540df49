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
