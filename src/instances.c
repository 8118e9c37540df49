/* instances.c: reading pulse.instances and opening their secrets. */
#include "config.h"

#include "instances.h"
#include "crypto.h"
#include "log.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
cp(char *dst, size_t len, PGresult *res, int row, int col)
{
	snprintf(dst, len, "%s", PQgetisnull(res, row, col) ? "" : PQgetvalue(res, row, col));
}

static int
flag(PGresult *res, int row, int col)
{
	if (PQgetisnull(res, row, col))
		return -1;
	return PQgetvalue(res, row, col)[0] == 't';
}

void
instances_from_row(PGresult *res, int row, struct instance_cfg *c)
{
	int64_t number = 0;

	memset(c, 0, sizeof(*c));
	cp(c->id, sizeof(c->id), res, row, 0);
	cp(c->type, sizeof(c->type), res, row, 1);
	cp(c->name, sizeof(c->name), res, row, 2);
	cp(c->host, sizeof(c->host), res, row, 3);
	cp(c->guest_url, sizeof(c->guest_url), res, row, 4);
	cp(c->username, sizeof(c->username), res, row, 5);
	c->password_enc = PQgetisnull(res, row, 6) ? NULL : xstrdup(PQgetvalue(res, row, 6));
	cp(c->token_name, sizeof(c->token_name), res, row, 7);
	c->token_value_enc = PQgetisnull(res, row, 8) ? NULL : xstrdup(PQgetvalue(res, row, 8));
	cp(c->fingerprint, sizeof(c->fingerprint), res, row, 9);
	c->verify_ssl = flag(res, row, 10) == 1;
	c->monitor_vms = flag(res, row, 11) == 1;
	c->monitor_containers = flag(res, row, 12) == 1;
	c->monitor_storage = flag(res, row, 13) == 1;
	c->monitor_backups = flag(res, row, 14) == 1;
	c->monitor_physical_disks = flag(res, row, 15);
	c->physical_disk_polling_minutes = (int)strtol(PQgetvalue(res, row, 16), NULL, 10);
	c->temperature_monitoring = flag(res, row, 17);
	c->monitor_datastores = flag(res, row, 18) == 1;
	c->monitor_sync_jobs = flag(res, row, 19) == 1;
	c->monitor_verify_jobs = flag(res, row, 20) == 1;
	c->monitor_prune_jobs = flag(res, row, 21) == 1;
	c->monitor_garbage_jobs = flag(res, row, 22) == 1;
	c->monitor_mail_stats = flag(res, row, 23) == 1;
	c->monitor_queues = flag(res, row, 24) == 1;
	c->monitor_quarantine = flag(res, row, 25) == 1;
	c->monitor_domain_stats = flag(res, row, 26) == 1;
	c->is_cluster = flag(res, row, 27) == 1;
	cp(c->cluster_name, sizeof(c->cluster_name), res, row, 28);
	c->cluster_endpoints = xstrdup(PQgetvalue(res, row, 29));
	(void)parse_int64(PQgetvalue(res, row, 30), 0, INT32_MAX, &number);
	c->number = (int)number;
}

void
instance_cfg_clear(struct instance_cfg *c)
{
	free(c->password_enc);
	free(c->token_value_enc);
	free(c->cluster_endpoints);
	memset(c, 0, sizeof(*c));
}

int
instances_load(struct db *db, struct instance_cfg **out)
{
	PGresult *res = db_exec_params(db, "SELECT " INSTANCE_COLUMNS " FROM pulse.instances "
	    "ORDER BY type, number", 0, NULL);
	int n;

	*out = NULL;
	if (res == NULL)
		return -1;
	n = PQntuples(res);
	*out = xcalloc((size_t)(n ? n : 1), sizeof(**out));
	for (int i = 0; i < n; i++)
		instances_from_row(res, i, &(*out)[i]);
	PQclear(res);
	return n;
}

enum proxmox_product
instance_product(const char *type)
{
	if (strcmp(type, "pbs") == 0)
		return PROXMOX_PRODUCT_PBS;
	if (strcmp(type, "pmg") == 0)
		return PROXMOX_PRODUCT_PMG;
	return PROXMOX_PRODUCT_PVE;
}

int
instance_connect_params(const struct instance_cfg *cfg, struct proxmox_conn *conn, char *err,
    size_t errlen)
{
	size_t len;

	memset(conn, 0, sizeof(*conn));
	conn->product = instance_product(cfg->type);
	snprintf(conn->base, sizeof(conn->base), "%s/api2/json", cfg->host);
	conn->timeout_ms = 30000;
	if (cfg->fingerprint[0]) {
		conn->tls = HTTP_TLS_PIN;
		snprintf(conn->pin, sizeof(conn->pin), "%s", cfg->fingerprint);
	} else {
		conn->tls = cfg->verify_ssl ? HTTP_TLS_VERIFY : HTTP_TLS_INSECURE;
	}
	if (cfg->token_name[0] && cfg->token_value_enc) {
		snprintf(conn->token_id, sizeof(conn->token_id), "%s", cfg->token_name);
		if (secrets_open(SECRET_CTX_TOKEN, cfg->token_value_enc, &conn->token_secret, &len) != 0) {
			snprintf(err, errlen, "the stored token secret cannot be decrypted (wrong key file?)");
			return -1;
		}
		return 0;
	}
	if (cfg->username[0] && cfg->password_enc) {
		snprintf(conn->user, sizeof(conn->user), "%s", cfg->username);
		if (secrets_open(SECRET_CTX_PASSWORD, cfg->password_enc, &conn->password, &len) != 0) {
			snprintf(err, errlen, "the stored password cannot be decrypted (wrong key file?)");
			return -1;
		}
		return 0;
	}
	snprintf(err, errlen, "no credentials configured");
	return -1;
}
