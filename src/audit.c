/* audit.c: writes security events. */
#include "config.h"

#include "audit.h"
#include "conf.h"
#include "crypto.h"
#include "log.h"

static const struct db_stmt stmt_audit = {
	"audit_insert",
	"INSERT INTO pulse.audit_events (id, event, username, client_ip, path, success, details) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7)",
	7,
};

void
audit_record(struct db *db, const char *event, const char *username, const char *client_ip,
    const char *path, int success, const char *details)
{
	char id[37];
	const char *params[7];
	PGresult *res;

	if (!conf_bool("audit_log"))
		return;
	crypto_uuid4(id);
	params[0] = id;
	params[1] = event;
	params[2] = username ? username : "";
	params[3] = client_ip ? client_ip : "";
	params[4] = path ? path : "";
	params[5] = success ? "true" : "false";
	params[6] = details ? details : "";
	res = db_exec_stmt(db, &stmt_audit, params);
	if (res == NULL) {
		log_warn("msg=\"audit event not recorded\" event=%s error=\"%s\"", event, db_error(db));
		return;
	}
	PQclear(res);
	{
		char user[136];
		log_info("msg=audit event=%s user=\"%s\" client=%.64s success=%s", event,
		    log_quote(user, sizeof(user), params[2]), params[3], success ? "true" : "false");
	}
}
