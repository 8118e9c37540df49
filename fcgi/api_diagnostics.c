/* api_diagnostics.c: GET /api/server/info, GET /api/diagnostics and GET /api/config, the
 * remaining system endpoints around the settings (api-coverage-1.md). */
#include "config.h"

#include "conf.h"
#include "diagnostics.h"
#include "handlers.h"
#include "jsonwrite.h"
#include "responder.h"
#include "sysconfig.h"

/* GET /api/server/info: public, for installers: this server's version and whether it is a
 * development build (state-proxmox.md §7). */
void
api_server_info(struct request *r)
{
	struct json_object *o = resp_object(r);

	jsonwrite_str(o, "version", PACKAGE_VERSION);
	jsonwrite_bool(o, "isDevelopment", 0);
	jsonwrite_str(o, "deploymentType", conf_str("deployment_type"));
	resp_json(r, 200, o);
}

/* GET /api/diagnostics: what the database knows of every instance, the tokens (names only),
 * the metrics tiers and this responder; nothing secret. */
void
api_diagnostics(struct request *r)
{
	struct diagnostics_process p = {
		.uptime = clock_monotonic() - responder_process.started_monotonic,
		.threads = (int)conf_int("threads"),
	};
	struct json_object *o = req_json(r, diagnostics_json(r->db, &p));

	if (o == NULL) {
		resp_db_unavailable_msg(r, "Failed to generate diagnostics");
		return;
	}
	resp_json(r, 200, o);
}

/* GET /api/config: the few settings the original's UI reads at start. */
void
api_config(struct request *r)
{
	struct json_object *o = req_json(r, sysconfig_client_json(r->db));

	if (o == NULL) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, o);
}
