/* instances.c: reading and writing pulse.instances, the monitor flag table, and opening
 * the secrets, and a new node of a configured cluster merged into its instance. */
#include "config.h"

#include "instances.h"
#include "crypto.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "log.h"
#include "util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INSTANCE_FLAG_ENTRY(json, column, def, types) \
	{#json, #column, def, types, offsetof(struct instance_cfg, column)},
const struct instance_flag instance_flags[INSTANCE_NFLAGS] = {INSTANCE_FLAGS(INSTANCE_FLAG_ENTRY)};
#undef INSTANCE_FLAG_ENTRY

unsigned
instance_type_bit(const char *type)
{
	return strcmp(type, "pve") == 0 ? INSTANCE_TYPE_PVE : strcmp(type, "pbs") == 0 ? INSTANCE_TYPE_PBS :
	    strcmp(type, "pmg") == 0 ? INSTANCE_TYPE_PMG : 0;
}

int
instance_flag_get(const struct instance_cfg *c, int i)
{
	return *(const int *)(const void *)((const char *)c + instance_flags[i].offset);
}

void
instance_flag_set(struct instance_cfg *c, int i, int value)
{
	*(int *)(void *)((char *)c + instance_flags[i].offset) = value;
}

/* Whether any flag other than i, of a type flag i has, is on (on[k] for flag k). */
static int
others_on(int i, const int *given, const int *on)
{
	for (int k = 0; k < INSTANCE_NFLAGS; k++)
		if (k != i && (instance_flags[k].types & instance_flags[i].types) &&
		    (given == NULL || given[k]) && on[k])
			return 1;
	return 0;
}

int
instance_flag_shown(const struct instance_cfg *c, int i)
{
	int on[INSTANCE_NFLAGS];

	for (int k = 0; k < INSTANCE_NFLAGS; k++)
		on[k] = instance_flag_get(c, k);
	if (instance_flags[i].def == INSTANCE_FLAG_UNLESS_OTHERS)
		return on[i] || !others_on(i, NULL, on);
	return on[i];
}

int
instance_flag_on_add(int i, const int *given, const int *value)
{
	if (given[i])
		return value[i];
	if (instance_flags[i].def == INSTANCE_FLAG_UNLESS_OTHERS)
		return !others_on(i, given, value);
	return instance_flags[i].def == INSTANCE_FLAG_ON;
}

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
	int col = 0;

	memset(c, 0, sizeof(*c));
	cp(c->id, sizeof(c->id), res, row, col++);
	cp(c->type, sizeof(c->type), res, row, col++);
	cp(c->name, sizeof(c->name), res, row, col++);
	cp(c->host, sizeof(c->host), res, row, col++);
	cp(c->guest_url, sizeof(c->guest_url), res, row, col++);
	cp(c->username, sizeof(c->username), res, row, col++);
	c->password_enc = PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
	col++;
	cp(c->token_name, sizeof(c->token_name), res, row, col++);
	c->token_value_enc = PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
	col++;
	cp(c->fingerprint, sizeof(c->fingerprint), res, row, col++);
	c->verify_ssl = flag(res, row, col++) == 1;
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		instance_flag_set(c, i, flag(res, row, col++) == 1);
	c->monitor_physical_disks = flag(res, row, col++);
	c->physical_disk_polling_minutes = (int)strtol(PQgetvalue(res, row, col++), NULL, 10);
	c->temperature_monitoring = flag(res, row, col++);
	c->is_cluster = flag(res, row, col++) == 1;
	cp(c->cluster_name, sizeof(c->cluster_name), res, row, col++);
	c->cluster_endpoints = xstrdup(PQgetvalue(res, row, col++));
	(void)parse_int64(PQgetvalue(res, row, col), 0, INT32_MAX, &number);
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

/* --- INSERT and UPDATE ------------------------------------------------------------------ */

static const char *const field_columns[INSTANCE_F_COUNT] = {
	[INSTANCE_F_ID] = "id", [INSTANCE_F_NUMBER] = "number", [INSTANCE_F_TYPE] = "type",
	[INSTANCE_F_NAME] = "name", [INSTANCE_F_HOST] = "host", [INSTANCE_F_GUEST_URL] = "guest_url",
	[INSTANCE_F_TOKEN_NAME] = "token_name", [INSTANCE_F_TOKEN_VALUE_ENC] = "token_value_enc",
	[INSTANCE_F_USERNAME] = "username", [INSTANCE_F_PASSWORD_ENC] = "password_enc",
	[INSTANCE_F_FINGERPRINT] = "fingerprint", [INSTANCE_F_VERIFY_SSL] = "verify_ssl",
	[INSTANCE_F_PHYSICAL_DISKS] = "monitor_physical_disks",
	[INSTANCE_F_TEMPERATURE] = "temperature_monitoring_enabled",
	[INSTANCE_F_DISK_MINUTES] = "physical_disk_polling_minutes",
	[INSTANCE_F_IS_CLUSTER] = "is_cluster", [INSTANCE_F_CLUSTER_NAME] = "cluster_name",
	[INSTANCE_F_CLUSTER_ENDPOINTS] = "cluster_endpoints",
};

static const char *
column_of(int f)
{
	return f >= INSTANCE_F_FLAG && f < INSTANCE_F_FLAG + INSTANCE_NFLAGS ?
	    instance_flags[f - INSTANCE_F_FLAG].column : field_columns[f];
}

static const char *
boolean(int v)
{
	return v < 0 ? NULL : v ? "true" : "false";
}

/* The parameter of field f of c. */
static const char *
param_of(const struct instance_cfg *c, int f, struct instance_sql *s)
{
	if (f >= INSTANCE_F_FLAG && f < INSTANCE_F_FLAG + INSTANCE_NFLAGS)
		return boolean(instance_flag_get(c, f - INSTANCE_F_FLAG));
	switch ((enum instance_field)f) {
	case INSTANCE_F_ID: return c->id;
	case INSTANCE_F_NUMBER:
		snprintf(s->number, sizeof(s->number), "%d", c->number);
		return s->number;
	case INSTANCE_F_TYPE: return c->type;
	case INSTANCE_F_NAME: return c->name;
	case INSTANCE_F_HOST: return c->host;
	case INSTANCE_F_GUEST_URL: return c->guest_url;
	case INSTANCE_F_TOKEN_NAME: return c->token_name;
	case INSTANCE_F_TOKEN_VALUE_ENC: return c->token_value_enc;
	case INSTANCE_F_USERNAME: return c->username;
	case INSTANCE_F_PASSWORD_ENC: return c->password_enc;
	case INSTANCE_F_FINGERPRINT: return c->fingerprint;
	case INSTANCE_F_VERIFY_SSL: return boolean(c->verify_ssl);
	case INSTANCE_F_PHYSICAL_DISKS: return boolean(c->monitor_physical_disks);
	case INSTANCE_F_TEMPERATURE: return boolean(c->temperature_monitoring);
	case INSTANCE_F_DISK_MINUTES:
		snprintf(s->minutes, sizeof(s->minutes), "%d", c->physical_disk_polling_minutes);
		return s->minutes;
	case INSTANCE_F_IS_CLUSTER: return boolean(c->is_cluster);
	case INSTANCE_F_CLUSTER_NAME: return c->cluster_name;
	case INSTANCE_F_CLUSTER_ENDPOINTS: return c->cluster_endpoints ? c->cluster_endpoints : "[]";
	default: return NULL;
	}
}

void
instances_insert_sql(const struct instance_cfg *c, uint64_t present, struct instance_sql *out)
{
	struct strbuf cols = {0}, vals = {0};

	out->nparams = 0;
	for (int f = 0; f < INSTANCE_F_COUNT; f++) {
		if (!(present & INSTANCE_BIT(f)))
			continue;
		sb_printf(&cols, "%s%s", out->nparams ? ", " : "", column_of(f));
		sb_printf(&vals, "%s$%d", out->nparams ? ", " : "", out->nparams + 1);
		out->params[out->nparams++] = out->value[f] ? out->value[f] : param_of(c, f, out);
	}
	out->text = xasprintf("INSERT INTO pulse.instances (%s) VALUES (%s)", cols.data, vals.data);
	sb_free(&cols);
	sb_free(&vals);
}

void
instances_update_sql(const struct instance_cfg *c, uint64_t present, struct instance_sql *out)
{
	struct strbuf set = {0};

	out->nparams = 0;
	out->params[out->nparams++] = c->id;
	for (int f = 0; f < INSTANCE_F_COUNT; f++) {
		if (f == INSTANCE_F_ID || !(present & INSTANCE_BIT(f)))
			continue;
		sb_printf(&set, "%s = $%d, ", column_of(f), out->nparams + 1);
		out->params[out->nparams++] = out->value[f] ? out->value[f] : param_of(c, f, out);
	}
	out->text = xasprintf("UPDATE pulse.instances SET %supdated_at = now() WHERE id = $1",
	    set.data ? set.data : "");
	sb_free(&set);
}

void
instance_sql_clear(struct instance_sql *s)
{
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* --- a node of an already configured cluster --------------------------------------------- */

static const struct db_stmt stmt_cluster_by_name = {
	"instances_cluster_by_name",
	"SELECT id, name, cluster_endpoints::text FROM pulse.instances WHERE type = 'pve' "
	"AND is_cluster AND cluster_name = $1 ORDER BY number LIMIT 1 FOR UPDATE",
	1,
};

static const struct db_stmt stmt_merge_endpoints = {
	"instances_merge_endpoints",
	"UPDATE pulse.instances SET cluster_endpoints = $2::jsonb, updated_at = now() WHERE id = $1",
	2,
};

/* Whether list has an endpoint of node name name. */
static int
lists_node(struct json_object *list, const char *name)
{
	for (size_t j = 0; j < json_object_array_length(list); j++)
		if (strcmp(jsonread_string(json_object_array_get_idx(list, j), "nodeName", ""),
		    name) == 0)
			return 1;
	return 0;
}

int
instances_merge_cluster(struct db *db, const char *cluster, struct json_object *endpoints,
    struct instance_merge *out, char *err, size_t errlen)
{
	const char *params[2] = {cluster, NULL};
	struct json_object *existing = NULL;
	PGresult *res = NULL;
	char perr[64];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (db_begin(db) != 0 || (res = db_exec_stmt(db, &stmt_cluster_by_name, params)) == NULL)
		goto fail;
	if (PQntuples(res) == 0) {
		if (db_commit(db) != 0)
			goto fail;
		rc = 0;
		goto done;
	}
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(res, 0, 0));
	snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(res, 0, 1));
	existing = jsonutil_parse(PQgetvalue(res, 0, 2), strlen(PQgetvalue(res, 0, 2)), perr,
	    sizeof(perr));
	if (!json_object_is_type(existing, json_type_array)) {
		json_object_put(existing);
		existing = json_object_new_array();
	}
	for (size_t i = 0; i < json_object_array_length(endpoints); i++) {
		struct json_object *e = json_object_array_get_idx(endpoints, i), *copy = NULL;

		if (lists_node(existing, jsonread_string(e, "nodeName", "")) ||
		    json_object_deep_copy(e, &copy, NULL) != 0)
			continue;
		json_object_object_del(copy, "fingerprintSource");
		json_object_object_add(copy, "unconfirmed", json_object_new_boolean(1));
		json_object_array_add(existing, copy);
	}
	params[0] = out->id;
	params[1] = jsonutil_to_string(existing, NULL);
	if (db_exec_stmt_ok(db, &stmt_merge_endpoints, params) != 0 || db_commit(db) != 0)
		goto fail;
	out->total_endpoints = (int)json_object_array_length(existing);
	rc = 1;
	goto done;
fail:
	snprintf(err, errlen, "%s", db_error(db));
	db_rollback(db);
	rc = -1;
done:
	if (res)
		PQclear(res);
	json_object_put(existing);
	return rc;
}
