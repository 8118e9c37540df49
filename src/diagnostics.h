/* diagnostics.h: the answer of GET /api/diagnostics, made from what the database knows: the
 * configured instances with their last poll (no connection is made: responders never reach
 * Proxmox on their own), API tokens without any secret, the metrics tiers. */
#ifndef PULSE_DIAGNOSTICS_H
#define PULSE_DIAGNOSTICS_H

#include <json-c/json.h>

#include "db.h"

/* Facts of the answering process. */
struct diagnostics_process {
	double uptime;		/* seconds */
	int threads;		/* request threads (the original counts goroutines) */
};

/* The original's DiagnosticsInfo (internal/api/diagnostics.go) as far as this server has
 * its parts. A new object, or NULL (database). Never holds a password, token or secret of
 * a node, nor an API token or any part of one. */
struct json_object *diagnostics_json(struct db *db, const struct diagnostics_process *p);

#endif
