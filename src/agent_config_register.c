/* agent_config_register.c: a Proxmox server registered by a host agent (agents.md §9.10):
 * checked, de-duplicated by host (or by name and token id), merged into the configured
 * instance of its cluster when it is a node of one, else written to pulse.instances with the
 * statements src/instances.c builds; the worker polls it from its next cycle. */
#include "config.h"

#include "agent_config_register.h"
#include "crypto.h"
#include "http.h"
#include "instances.h"
#include "jsonutil.h"
#include "pve_cluster.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
agent_register_check(const struct agent_register *reg, char *host_norm, size_t len, char *err,
    size_t errlen)
{
	const char *at;

	if (!*reg->type || !*reg->host || !*reg->token_id || !*reg->token_value) {
		snprintf(err, errlen, "Missing required fields");
		return -1;
	}
	if (strcmp(reg->type, "pve") != 0 && strcmp(reg->type, "pbs") != 0) {
		snprintf(err, errlen, "type must be 'pve' or 'pbs'");
		return -1;
	}
	if (*reg->source && strcmp(reg->source, "agent") != 0 && strcmp(reg->source, "script") != 0) {
		snprintf(err, errlen, "source must be 'agent' or 'script'");
		return -1;
	}
	/* The node API's rule: the full token id, user@realm!name. */
	at = strchr(reg->token_id, '@');
	if (at == NULL || at == reg->token_id || strchr(at, '!') == NULL ||
	    strchr(at, '!')[1] == '\0') {
		snprintf(err, errlen, "tokenId must be the full token id: user@realm!tokenid");
		return -1;
	}
	return proxmox_normalize_host(reg->host, instance_product(reg->type), host_norm, len, err,
	    errlen);
}

void
agent_register_fingerprint(const char *host_norm, long timeout_ms, char out[65])
{
	char *url = xasprintf("%s/api2/json/version", host_norm);
	struct http_request *req = http_request_new(url);

	free(url);
	req->tls = HTTP_TLS_INSECURE;
	req->timeout_ms = timeout_ms;
	req->connect_timeout_ms = timeout_ms;
	req->max_response = 64 * 1024;
	out[0] = '\0';
	/* The certificate is seen in the handshake whatever the answer (401 without a token). */
	if (http_perform(req) == 0 && strlen(req->peer_fingerprint) == 64)
		snprintf(out, 65, "%s", req->peer_fingerprint);
	http_request_free(req);
}

/* The instance a registration replaces: the same host first, else the same name and token
 * id (the original's DHCP case). */
static const struct db_stmt stmt_existing = {
	"agent_register_existing",
	"SELECT id, name FROM pulse.instances WHERE type = $1 AND (host = $2 OR "
	"(lower(name) = lower($3) AND token_name = $4)) ORDER BY host = $2 DESC, number LIMIT 1",
	4,
};

/* Whether another instance of the type has the name. */
static const struct db_stmt stmt_name_taken = {
	"agent_register_name_taken",
	"SELECT 1 FROM pulse.instances WHERE type = $1 AND lower(name) = lower($2)",
	2,
};

static const struct db_stmt stmt_number = {
	"agent_register_number", "SELECT nextval('pulse.instance_number')", 0,
};

static int
run_sql(struct db *db, struct instance_sql *sql)
{
	PGresult *res = db_exec_params(db, sql->text, sql->nparams, sql->params);

	instance_sql_clear(sql);
	if (res == NULL)
		return -1;
	PQclear(res);
	return 0;
}

/* The new instance's name: the server's name, or "name (host)" when another has it. */
static int
unique_name(struct db *db, const struct agent_register *reg, const char *host_norm, char *out,
    size_t len)
{
	const char *base = *reg->server_name ? reg->server_name : host_norm + strlen("https://");
	const char *params[2] = {reg->type, base};
	PGresult *res = db_exec_stmt(db, &stmt_name_taken, params);

	if (res == NULL)
		return -1;
	if (PQntuples(res) > 0)
		snprintf(out, len, "%.60s (%.60s)", base, host_norm + strlen("https://"));
	else
		snprintf(out, len, "%s", base);
	PQclear(res);
	return 0;
}

/* The credentials and TLS settings a registration brings, as columns of c. */
static uint64_t
credentials(const struct agent_register *reg, const char *fingerprint, struct instance_cfg *c)
{
	snprintf(c->token_name, sizeof(c->token_name), "%s", reg->token_id);
	c->token_value_enc = secrets_seal(SECRET_CTX_TOKEN, reg->token_value,
	    strlen(reg->token_value));
	snprintf(c->fingerprint, sizeof(c->fingerprint), "%s", fingerprint);
	c->verify_ssl = 1;
	return INSTANCE_BIT(INSTANCE_F_TOKEN_NAME) | INSTANCE_BIT(INSTANCE_F_TOKEN_VALUE_ENC) |
	    INSTANCE_BIT(INSTANCE_F_USERNAME) | INSTANCE_BIT(INSTANCE_F_PASSWORD_ENC) |
	    INSTANCE_BIT(INSTANCE_F_VERIFY_SSL) |
	    (*fingerprint ? INSTANCE_BIT(INSTANCE_F_FINGERPRINT) : 0);
}

/* The original's monitor flags for a registered server: everything of a PVE; of a PBS all
 * but garbage collection jobs. */
static void
registration_flags(struct instance_cfg *c)
{
	unsigned bit = instance_type_bit(c->type);

	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		if (instance_flags[i].types & bit)
			instance_flag_set(c, i, strcmp(instance_flags[i].column,
			    "monitor_garbage_jobs") != 0);
}

/* Adds the registered server as a new instance, a cluster's with its members when found
 * says it is one. */
static int
add_instance(struct db *db, const struct agent_register *reg, const char *host_norm,
    const char *fingerprint, const struct pve_cluster *found, struct instance_cfg *c)
{
	struct instance_sql sql = {0};
	uint64_t present = INSTANCE_BIT(INSTANCE_F_ID) | INSTANCE_BIT(INSTANCE_F_NUMBER) |
	    INSTANCE_BIT(INSTANCE_F_TYPE) | INSTANCE_BIT(INSTANCE_F_NAME) |
	    INSTANCE_BIT(INSTANCE_F_HOST) | ((INSTANCE_BIT(INSTANCE_NFLAGS) - 1) << INSTANCE_F_FLAG);
	PGresult *res = db_exec_stmt(db, &stmt_number, NULL);

	if (res == NULL)
		return -1;
	c->number = db_value_int32(res, 0, 0);
	PQclear(res);
	snprintf(c->type, sizeof(c->type), "%s", reg->type);
	snprintf(c->id, sizeof(c->id), "%s-%d", c->type, c->number);
	snprintf(c->host, sizeof(c->host), "%s", host_norm);
	if (unique_name(db, reg, host_norm, c->name, sizeof(c->name)) != 0)
		return -1;
	registration_flags(c);
	present |= credentials(reg, fingerprint, c);
	if (found->is_cluster) {
		c->is_cluster = 1;
		snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", found->name);
		c->cluster_endpoints = xstrdup(jsonutil_to_string(found->endpoints, NULL));
		present |= INSTANCE_BIT(INSTANCE_F_IS_CLUSTER) | INSTANCE_BIT(INSTANCE_F_CLUSTER_NAME) |
		    INSTANCE_BIT(INSTANCE_F_CLUSTER_ENDPOINTS);
	}
	instances_insert_sql(c, present, &sql);
	return run_sql(db, &sql);
}

/* The instance with the registration's host (or name and token id) given its token and
 * host in place, in one transaction: 1 done, 0 when there is none, -1 on a database error
 * (err). */
static int
replace_existing(struct db *db, const struct agent_register *reg, const char *host_norm,
    const char *fingerprint, struct instance_cfg *c, char *err, size_t errlen)
{
	const char *params[4] = {reg->type, host_norm, reg->server_name, reg->token_id};
	struct instance_sql sql = {0};
	PGresult *res;

	if (db_begin(db) != 0 || (res = db_exec_stmt(db, &stmt_existing, params)) == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		PQclear(res);
		db_rollback(db);
		return 0;
	}
	snprintf(c->id, sizeof(c->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(c->name, sizeof(c->name), "%s", PQgetvalue(res, 0, 1));
	snprintf(c->host, sizeof(c->host), "%s", host_norm);
	PQclear(res);
	instances_update_sql(c, credentials(reg, fingerprint, c) | INSTANCE_BIT(INSTANCE_F_HOST),
	    &sql);
	if (run_sql(db, &sql) != 0 || db_commit(db) != 0)
		goto fail;
	return 1;
fail:
	snprintf(err, errlen, "%s", db_error(db));
	db_rollback(db);
	return -1;
}

/* The cluster of a PVE server, asked with the registration's token, trusting the certificate
 * as the stored instance will (state-proxmox.md §2.3, members checked as for a node added by
 * hand). A server that cannot be asked is standalone. */
static void
detect_cluster(const struct agent_register *reg, const char *host_norm, const char *fingerprint,
    struct pve_cluster *found)
{
	struct instance_cfg c = {0};
	struct proxmox_conn conn;
	char err[128];

	memset(found, 0, sizeof(*found));
	snprintf(c.type, sizeof(c.type), "%s", reg->type);
	snprintf(c.host, sizeof(c.host), "%s", host_norm);
	(void)credentials(reg, fingerprint, &c);
	if (instance_connect_params(&c, &conn, err, sizeof(err)) == 0) {
		conn.timeout_ms = 10000;
		pve_cluster_detect(&conn, 1, NULL, found);
	}
	proxmox_conn_clear(&conn);
	instance_cfg_clear(&c);
}

int
agent_register_store(struct db *db, const struct agent_register *reg, const char *host_norm,
    const char *fingerprint, struct agent_register_result *out, char *err, size_t errlen)
{
	struct instance_cfg c = {0};
	struct pve_cluster found = {0};
	struct instance_merge m;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = replace_existing(db, reg, host_norm, fingerprint, &c, err, errlen)) != 0)
		goto done;
	if (strcmp(reg->type, "pve") == 0)
		detect_cluster(reg, host_norm, fingerprint, &found);
	if (found.is_cluster &&
	    (rc = instances_merge_cluster(db, found.name, found.endpoints, &m, err, errlen)) != 0) {
		if (rc > 0) {
			snprintf(c.id, sizeof(c.id), "%s", m.id);
			snprintf(c.name, sizeof(c.name), "%s", m.name);
			snprintf(out->cluster, sizeof(out->cluster), "%s", found.name);
			out->merged = 1;
		}
		goto done;
	}
	if (db_begin(db) != 0 || add_instance(db, reg, host_norm, fingerprint, &found, &c) != 0 ||
	    db_commit(db) != 0) {
		snprintf(err, errlen, "%s", db_error(db));
		db_rollback(db);
		rc = -1;
		goto done;
	}
	out->added = 1;
	rc = 1;
done:
	if (rc > 0) {
		snprintf(out->id, sizeof(out->id), "%s", c.id);
		snprintf(out->name, sizeof(out->name), "%s", c.name);
	}
	json_object_put(found.endpoints);
	instance_cfg_clear(&c);
	return rc < 0 ? -1 : 0;
}
