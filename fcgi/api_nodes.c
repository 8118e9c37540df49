/* api_nodes.c: /api/config/nodes: the PVE, PBS and PMG connections the workers poll
 * (state-proxmox.md §8). Secrets are sealed before they reach the database and never
 * returned; a change is announced to the workers at once (NOTIFY pulse_config, by trigger). */
#include "config.h"

#include "audit.h"
#include "crypto.h"
#include "handlers.h"
#include "http.h"
#include "instances.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "netaddr.h"
#include "proxmox.h"
#include "pve_cluster.h"
#include "state.h"
#include "timefmt.h"

#include <ctype.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A request body, field by field, with what was present. */
struct node_req {
	const char *type, *name, *host, *guest_url, *user, *password, *token_name, *token_value,
	    *fingerprint;
	int has_guest_url, has_fingerprint, has_password, has_token;
	int verify_ssl, has_verify_ssl;
	int flags[INSTANCE_NFLAGS], has_flag[INSTANCE_NFLAGS];
	int physical_disks, has_physical_disks;		/* -1 null */
	int64_t disk_minutes;
	int has_disk_minutes;
	int temperature, has_temperature;		/* -1 null */
	char host_norm[300], fp_norm[65], user_norm[160];
};

/* Collected validation errors: the first message and a map field -> message. */
struct problems {
	struct json_object *fields;
	char first[200];
};

static void
problem(struct problems *p, const char *field, const char *msg)
{
	if (p->fields == NULL)
		p->fields = json_object_new_object();
	if (!json_object_object_get_ex(p->fields, field, NULL))
		json_object_object_add(p->fields, field, json_object_new_string(msg));
	if (p->first[0] == '\0')
		snprintf(p->first, sizeof(p->first), "%s", msg);
}

static int
answer_problems(struct request *r, struct problems *p)
{
	struct json_object *extra;

	if (p->fields == NULL)
		return 0;
	extra = json_object_new_object();
	json_object_object_add(extra, "fields", p->fields);
	resp_error_with(r, 400, "validation_failed", p->first, extra);
	json_object_put(extra);
	return -1;
}

/* A nullable boolean: 1/0 present, -1 null; returns 0 absent, 1 present, -1 wrong type. */
static int
nullable_bool(struct json_object *body, const char *key, int *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(body, key, &v))
		return 0;
	if (v == NULL) {
		*out = -1;
		return 1;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return -1;
	*out = json_object_get_boolean(v);
	return 1;
}

/* Fields that end up in a header or a login form sent to the server (L5). */
#define HEADER_FIELD 1

static void
read_string(struct json_object *body, const char *key, size_t max, const char **out, int *present,
    struct problems *p, int header)
{
	struct json_object *v;

	if (!json_object_object_get_ex(body, key, &v) || v == NULL)
		return;
	if (!json_object_is_type(v, json_type_string)) {
		problem(p, key, "must be a string");
		return;
	}
	if (strlen(json_object_get_string(v)) > max) {
		problem(p, key, "is too long");
		return;
	}
	/* json-c keeps a \u0000 in the length but strlen stops there: refuse both. */
	if (header && (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v) ||
	    !http_header_value_ok(json_object_get_string(v)))) {
		problem(p, key, "must not contain control characters (CR, LF, NUL ...)");
		return;
	}
	*out = json_object_get_string(v);
	if (present)
		*present = 1;
}

/* Reads every known field with its type; unknown fields are ignored as the original does. */
static void
read_body(struct json_object *body, struct node_req *q, struct problems *p)
{
	struct json_object *v;
	int rc;

	memset(q, 0, sizeof(*q));
	read_string(body, "type", 8, &q->type, NULL, p, 0);
	read_string(body, "name", 128, &q->name, NULL, p, 0);
	read_string(body, "host", 255, &q->host, NULL, p, HEADER_FIELD);
	read_string(body, "guestURL", 255, &q->guest_url, &q->has_guest_url, p, 0);
	read_string(body, "user", 128, &q->user, NULL, p, HEADER_FIELD);
	read_string(body, "password", 1024, &q->password, &q->has_password, p, HEADER_FIELD);
	read_string(body, "tokenName", 255, &q->token_name, NULL, p, HEADER_FIELD);
	read_string(body, "tokenValue", 1024, &q->token_value, &q->has_token, p, HEADER_FIELD);
	read_string(body, "fingerprint", 128, &q->fingerprint, &q->has_fingerprint, p, HEADER_FIELD);
	if (q->password && *q->password == '\0')
		q->has_password = 0;
	if (q->token_value && *q->token_value == '\0')
		q->has_token = 0;
	if ((rc = nullable_bool(body, "verifySSL", &q->verify_ssl)) < 0 || (rc == 1 && q->verify_ssl < 0))
		problem(p, "verifySSL", "must be true or false");
	else
		q->has_verify_ssl = rc == 1;
	for (int i = 0; i < INSTANCE_NFLAGS; i++) {
		rc = nullable_bool(body, instance_flags[i].json, &q->flags[i]);
		if (rc < 0 || (rc == 1 && q->flags[i] < 0))
			problem(p, instance_flags[i].json, "must be true or false");
		else
			q->has_flag[i] = rc == 1;
	}
	if ((rc = nullable_bool(body, "monitorPhysicalDisks", &q->physical_disks)) < 0)
		problem(p, "monitorPhysicalDisks", "must be true, false or null");
	q->has_physical_disks = rc == 1;
	if ((rc = nullable_bool(body, "temperatureMonitoringEnabled", &q->temperature)) < 0)
		problem(p, "temperatureMonitoringEnabled", "must be true, false or null");
	q->has_temperature = rc == 1;
	if (json_object_object_get_ex(body, "physicalDiskPollingMinutes", &v) && v != NULL) {
		if (jsonutil_get_int(body, "physicalDiskPollingMinutes", 0, 1440, &q->disk_minutes) !=
		    JSONUTIL_OK)
			problem(p, "physicalDiskPollingMinutes", "must be an integer from 0 to 1440");
		else
			q->has_disk_minutes = 1;
	}
}

/* user@realm: the realm the original adds when none is given. */
static void
normalize_user(struct node_req *q, const char *type)
{
	const char *realm = strcmp(type, "pbs") == 0 ? "pbs" : strcmp(type, "pmg") == 0 ? "pmg" : "pam";

	if (q->user == NULL || *q->user == '\0')
		return;
	if (strchr(q->user, '@'))
		snprintf(q->user_norm, sizeof(q->user_norm), "%s", q->user);
	else
		snprintf(q->user_norm, sizeof(q->user_norm), "%s@%s", q->user, realm);
}

/* The checks shared by add and update, in the original's order. */
static void
validate(struct node_req *q, const char *type, int adding, struct problems *p)
{
	char err[120];

	if (adding && (q->name == NULL || *q->name == '\0'))
		problem(p, "name", "Name is required");
	if (adding && (q->type == NULL || *q->type == '\0'))
		problem(p, "type", "Type is required");
	if (type && strcmp(type, "pve") != 0 && strcmp(type, "pbs") != 0 && strcmp(type, "pmg") != 0)
		problem(p, "type", "Invalid node type");
	if (adding && (q->host == NULL || *q->host == '\0'))
		problem(p, "host", "Host is required");
	if (q->host && *q->host && type &&
	    proxmox_normalize_host(q->host, instance_product(type), q->host_norm, sizeof(q->host_norm), err,
	    sizeof(err)) != 0)
		problem(p, "host", err);
	if (q->has_fingerprint && q->fingerprint && *q->fingerprint &&
	    http_normalize_fingerprint(q->fingerprint, q->fp_norm) != 0)
		problem(p, "fingerprint", "Invalid fingerprint: expected a SHA-256 in hex (colons allowed)");
	if (q->token_name && *q->token_name &&
	    (strchr(q->token_name, '@') == NULL || strchr(q->token_name, '!') == NULL))
		problem(p, "tokenName", "tokenName must be the full token id: user@realm!tokenid");
	if (q->guest_url && *q->guest_url && strncasecmp(q->guest_url, "http://", 7) != 0 &&
	    strncasecmp(q->guest_url, "https://", 8) != 0)
		problem(p, "guestURL", "guestURL must start with http:// or https://");
	if (adding) {
		int password = q->user && *q->user && q->has_password;
		int token = q->token_name && *q->token_name && q->has_token;
		if (!password && !token)
			problem(p, "credentials", "Authentication credentials required");
	}
	if (type)
		normalize_user(q, type);
}

/* --- mock mode and listing ------------------------------------------------------------ */

static const struct db_stmt stmt_mock_state = {
	"nodes_mock_state", "SELECT enabled, source FROM pulse.mock_mode WHERE id = 1", 0,
};
static const struct db_stmt stmt_mock_auto_off = {
	"nodes_mock_auto_off",
	"UPDATE pulse.mock_mode SET enabled = false, updated_at = now() WHERE id = 1 "
	"AND enabled AND source = 'auto'",
	0,
};

/* 1 when mock mode was switched on through the API (changes refused), 0 otherwise, -1 on a
 * database error. */
static int
mock_blocks_changes(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_mock_state, NULL);
	int blocked;

	if (res == NULL)
		return -1;
	blocked = PQntuples(res) == 1 && PQgetvalue(res, 0, 0)[0] == 't' &&
	    strcmp(PQgetvalue(res, 0, 1), "api") == 0;
	PQclear(res);
	return blocked;
}

static int
refuse_in_mock(struct request *r)
{
	int m = mock_blocks_changes(r);

	if (m < 0) {
		resp_db_unavailable(r);
		return -1;
	}
	if (m == 1) {
		resp_error(r, 403, "mock_mode", "Node configuration is disabled while mock mode is on");
		return -1;
	}
	return 0;
}

static const struct db_stmt stmt_list = {
	"nodes_list",
	"SELECT " INSTANCE_COLUMNS ", coalesce(p.connected, false), "
	"(password_enc IS NOT NULL), (token_value_enc IS NOT NULL), "
	"(SELECT json_agg(json_build_object('node', h.node_name, 'reachable', h.reachable, "
	"  'lastCheck', to_char(h.last_check AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
	"  'error', h.error))::text FROM pulse.endpoint_health h WHERE h.instance_id = i.id) "
	"FROM pulse.instances i LEFT JOIN pulse.poll_status p ON p.instance_id = i.id "
	"ORDER BY CASE type WHEN 'pve' THEN 0 WHEN 'pbs' THEN 1 ELSE 2 END, number",
	0,
};

/* The health the worker recorded for the endpoint of node (NULL: none). */
static struct json_object *
endpoint_health(struct json_object *health, const char *node)
{
	size_t n = health && json_object_is_type(health, json_type_array) ?
	    json_object_array_length(health) : 0;

	for (size_t i = 0; i < n; i++) {
		struct json_object *h = json_object_array_get_idx(health, i);
		if (*node && strcmp(jsonread_string(h, "node", ""), node) == 0)
			return h;
	}
	return NULL;
}

/* PascalCase endpoint objects, as the original sends them, with the health the worker
 * recorded (health_text: JSON from pulse.endpoint_health, or NULL). */
static struct json_object *
endpoints_json(const char *text, const char *health_text)
{
	char err[64];
	struct json_object *in = jsonutil_parse(text, strlen(text), err, sizeof(err)), *out;
	struct json_object *health = health_text && *health_text ?
	    jsonutil_parse(health_text, strlen(health_text), err, sizeof(err)) : NULL;

	if (in == NULL || !json_object_is_type(in, json_type_array) ||
	    json_object_array_length(in) == 0) {
		if (in)
			json_object_put(in);
		return NULL;
	}
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(in); i++) {
		struct json_object *e = json_object_array_get_idx(in, i), *o = json_object_new_object();
		const char *keys[][2] = {{"nodeId", "NodeID"}, {"nodeName", "NodeName"}, {"host", "Host"},
		    {"guestURL", "GuestURL"}, {"ip", "IP"}, {"ipOverride", "IPOverride"},
		    {"fingerprint", "Fingerprint"}};
		for (size_t k = 0; k < ARRAY_LEN(keys); k++)
			json_object_object_add(o, keys[k][1],
			    json_object_new_string(jsonread_string(e, keys[k][0], "")));
		struct json_object *h = endpoint_health(health, jsonread_string(e, "nodeName", ""));
		const char *checked = jsonread_string(h, "lastCheck", "");
		const char *seen = jsonread_string(e, "lastSeen", "");

		json_object_object_add(o, "Online", json_object_new_boolean(jsonread_int(e, "online", 0) != 0));
		if (*seen == '\0')	/* never seen: Go's zero time, as the original writes */
			seen = TIMEFMT_ZERO;
		json_object_object_add(o, "LastSeen", json_object_new_string(seen));
		json_object_object_add(o, "PulseReachable", h ?
		    json_object_new_boolean(jsonread_int(h, "reachable", 0) != 0) : NULL);
		json_object_object_add(o, "LastPulseCheck", h && *checked ?
		    json_object_new_string(checked) : NULL);
		json_object_object_add(o, "PulseError", json_object_new_string(jsonread_string(h, "error", "")));
		json_object_array_add(out, o);
	}
	json_object_put(in);
	if (health)
		json_object_put(health);
	return out;
}

static struct json_object *
node_response(PGresult *res, int row)
{
	struct instance_cfg c;
	struct json_object *o = json_object_new_object(), *eps;
	int ncols = PQnfields(res);

	instances_from_row(res, row, &c);
	json_object_object_add(o, "id", json_object_new_string(c.id));
	json_object_object_add(o, "type", json_object_new_string(c.type));
	json_object_object_add(o, "name", json_object_new_string(c.name));
	json_object_object_add(o, "host", json_object_new_string(c.host));
	if (c.guest_url[0])
		json_object_object_add(o, "guestURL", json_object_new_string(c.guest_url));
	if (c.username[0])
		json_object_object_add(o, "user", json_object_new_string(c.username));
	json_object_object_add(o, "hasPassword",
	    json_object_new_boolean(PQgetvalue(res, row, ncols - 3)[0] == 't'));
	if (c.token_name[0])
		json_object_object_add(o, "tokenName", json_object_new_string(c.token_name));
	json_object_object_add(o, "hasToken",
	    json_object_new_boolean(PQgetvalue(res, row, ncols - 2)[0] == 't'));
	if (c.fingerprint[0])
		json_object_object_add(o, "fingerprint", json_object_new_string(c.fingerprint));
	json_object_object_add(o, "verifySSL", json_object_new_boolean(c.verify_ssl));
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		if (instance_flags[i].types & instance_type_bit(c.type))
			jsonwrite_true_if(o, instance_flags[i].json, instance_flag_shown(&c, i));
	if (strcmp(c.type, "pve") == 0) {
		if (c.monitor_physical_disks >= 0)
			json_object_object_add(o, "monitorPhysicalDisks",
			    json_object_new_boolean(c.monitor_physical_disks));
		if (c.physical_disk_polling_minutes > 0)
			json_object_object_add(o, "physicalDiskPollingMinutes",
			    json_object_new_int(c.physical_disk_polling_minutes));
	}
	if (c.temperature_monitoring >= 0)
		json_object_object_add(o, "temperatureMonitoringEnabled",
		    json_object_new_boolean(c.temperature_monitoring));
	/* The original names how it reads the node's sensors (SSH, a proxy); we have no
	 * collector for real nodes, so none is in use whatever the setting says
	 * (docs/COMPATIBILITY.md). */
	json_object_object_add(o, "temperatureTransport", json_object_new_string("disabled"));
	json_object_object_add(o, "status", json_object_new_string(
	    PQgetvalue(res, row, ncols - 4)[0] == 't' ? "connected" : "disconnected"));
	if (c.is_cluster)
		json_object_object_add(o, "isCluster", json_object_new_boolean(1));
	if (c.cluster_name[0])
		json_object_object_add(o, "clusterName", json_object_new_string(c.cluster_name));
	if ((eps = endpoints_json(c.cluster_endpoints, PQgetvalue(res, row, ncols - 1))) != NULL)
		json_object_object_add(o, "clusterEndpoints", eps);
	instance_cfg_clear(&c);
	return o;
}

void
api_nodes_list(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_list, NULL);
	struct json_object *a;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	a = json_object_new_array();
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(a, node_response(res, i));
	PQclear(res);
	resp_json(r, 200, a);
	json_object_put(a);
}

/* --- talking to a server for tests and cluster detection ----------------------------- */

/* A connection from a request body (unsaved), or from a saved instance. */
static int
conn_from_req(const struct node_req *q, const char *type, struct proxmox_conn *c)
{
	memset(c, 0, sizeof(*c));
	c->product = instance_product(type);
	snprintf(c->base, sizeof(c->base), "%s/api2/json", q->host_norm);
	c->timeout_ms = 10000;
	if (q->fp_norm[0]) {
		c->tls = HTTP_TLS_PIN;
		memcpy(c->pin, q->fp_norm, sizeof(c->pin));
	} else {
		c->tls = q->has_verify_ssl && !q->verify_ssl ? HTTP_TLS_INSECURE : HTTP_TLS_VERIFY;
	}
	if (q->token_name && *q->token_name && q->has_token) {
		snprintf(c->token_id, sizeof(c->token_id), "%s", q->token_name);
		c->token_secret = xstrdup(q->token_value);
	} else if (q->user_norm[0] && q->has_password) {
		snprintf(c->user, sizeof(c->user), "%s", q->user_norm);
		c->password = xstrdup(q->password);
	} else {
		return -1;
	}
	return 0;
}

/* --- add, update, delete -------------------------------------------------------------- */

static const struct db_stmt stmt_dup_host = {
	"nodes_dup_host",
	"SELECT id FROM pulse.instances WHERE type = $1 AND host = $2 AND id <> $3",
	3,
};
static const struct db_stmt stmt_cluster_by_name = {
	"nodes_cluster_by_name",
	"SELECT id, name, cluster_endpoints::text FROM pulse.instances WHERE type = 'pve' "
	"AND is_cluster AND cluster_name = $1",
	1,
};
static const struct db_stmt stmt_merge_endpoints = {
	"nodes_merge_endpoints",
	"UPDATE pulse.instances SET cluster_endpoints = $2::jsonb, updated_at = now() WHERE id = $1",
	2,
};

static int
duplicate_host(struct request *r, const char *type, const char *host, const char *self)
{
	const char *params[3] = {type, host, self};
	PGresult *res = db_exec_stmt(r->db, &stmt_dup_host, params);
	int dup;

	if (res == NULL)
		return -1;
	dup = PQntuples(res) > 0;
	PQclear(res);
	return dup;
}

static char *
seal(const char *ctx, const char *value)
{
	return value ? secrets_seal(ctx, value, strlen(value)) : NULL;
}

static void
free_sealed(char *s)
{
	free(s);
}

/* Merges the endpoints of a new node into the existing instance of the same cluster, marked
 * unconfirmed. */
static int
merge_into_cluster(struct request *r, const char *cluster, struct json_object *endpoints)
{
	const char *params[2] = {cluster, NULL};
	PGresult *res = db_exec_stmt(r->db, &stmt_cluster_by_name, params);
	struct json_object *existing, *obj;
	char err[64], id[32], name[128];
	int total, saved;

	if (res == NULL)
		return -1;
	if (PQntuples(res) == 0) {
		PQclear(res);
		return 0;
	}
	snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
	snprintf(name, sizeof(name), "%s", PQgetvalue(res, 0, 1));
	existing = jsonutil_parse(PQgetvalue(res, 0, 2), strlen(PQgetvalue(res, 0, 2)), err, sizeof(err));
	PQclear(res);
	if (existing == NULL)
		existing = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(endpoints); i++) {
		struct json_object *e = json_object_array_get_idx(endpoints, i);
		int seen = 0;
		for (size_t j = 0; j < json_object_array_length(existing); j++)
			if (strcmp(jsonread_string(json_object_array_get_idx(existing, j), "nodeName", ""),
			    jsonread_string(e, "nodeName", "")) == 0)
				seen = 1;
		if (seen)
			continue;
		/* The new node's server vouched for these members, not the configured
		 * instance's: the worker leaves them alone (no credentials of that instance go
		 * there) until refresh-cluster asks its own server (M3, M4). */
		json_object_object_del(e, "fingerprintSource");
		json_object_object_add(e, "unconfirmed", json_object_new_boolean(1));
		json_object_array_add(existing, json_object_get(e));
	}
	total = (int)json_object_array_length(existing);
	params[0] = id;
	params[1] = jsonutil_to_string(existing, NULL);
	saved = db_exec_stmt_ok(r->db, &stmt_merge_endpoints, params);
	json_object_put(existing);
	if (saved != 0)
		return -1;
	obj = json_object_new_object();
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "merged", json_object_new_boolean(1));
	json_object_object_add(obj, "cluster", json_object_new_string(cluster));
	json_object_object_add(obj, "existingNode", json_object_new_string(name));
	json_object_object_add(obj, "message", json_object_new_string(
	    "Node belongs to an already configured cluster: its endpoints were added there"));
	json_object_object_add(obj, "totalEndpoints", json_object_new_int(total));
	resp_json(r, 200, obj);
	json_object_put(obj);
	return 1;
}

void
api_nodes_add(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *endpoints = NULL, *obj;
	struct problems p = {0};
	struct node_req q;
	struct proxmox_conn conn;
	char cluster[128] = "", id[32], number[24], *pw = NULL, *tok = NULL, num[96], disk_minutes[16];
	int is_cluster = 0, dup, merged;
	const char *params[40];	/* the columns below: 30 at most */
	PGresult *res;
	struct strbuf cols = {0}, vals = {0};
	int n = 0;

	if (body == NULL)
		return;
	read_body(body, &q, &p);
	validate(&q, q.type && *q.type ? q.type : NULL, 1, &p);
	if (answer_problems(r, &p) != 0 || refuse_in_mock(r) != 0)
		return;
	dup = duplicate_host(r, q.type, q.host_norm, "");
	if (dup < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (dup) {
		resp_error(r, 409, "duplicate_host", "A node with this host URL already exists");
		return;
	}
	if (strcmp(q.type, "pve") == 0 && conn_from_req(&q, q.type, &conn) == 0) {
		struct pve_cluster found;
		pve_cluster_detect(&conn, 1, NULL, &found);
		proxmox_conn_clear(&conn);
		is_cluster = found.is_cluster;
		snprintf(cluster, sizeof(cluster), "%s", found.name);
		endpoints = found.endpoints;
		if (is_cluster) {
			merged = merge_into_cluster(r, cluster, endpoints);
			if (merged != 0) {
				json_object_put(endpoints);
				if (merged < 0)
					resp_db_unavailable(r);
				return;
			}
		}
	}
	res = db_exec_params(r->db, "SELECT nextval('pulse.instance_number')", 0, NULL);
	if (res == NULL) {
		if (endpoints)
			json_object_put(endpoints);
		resp_db_unavailable(r);
		return;
	}
	snprintf(number, sizeof(number), "%s", PQgetvalue(res, 0, 0));
	snprintf(id, sizeof(id), "%s-%s", q.type, number);
	PQclear(res);

	/* Columns beyond the defaults, as parameters. */
#define COL(name, value) do { \
		sb_printf(&cols, "%s%s", n ? ", " : "", name); \
		sb_printf(&vals, "%s$%d", n ? ", " : "", n + 1); \
		params[n++] = (value); \
	} while (0)
	COL("id", id);
	COL("number", number);
	COL("type", q.type);
	COL("name", q.name);
	COL("host", q.host_norm);
	COL("guest_url", q.guest_url ? q.guest_url : "");
	if (q.token_name && *q.token_name && q.has_token) {
		tok = seal(SECRET_CTX_TOKEN, q.token_value);
		COL("token_name", q.token_name);
		COL("token_value_enc", tok);
		if (q.user_norm[0])
			COL("username", q.user_norm);
	} else {
		pw = seal(SECRET_CTX_PASSWORD, q.password);
		COL("username", q.user_norm);
		COL("password_enc", pw);
	}
	COL("fingerprint", q.fp_norm);
	COL("verify_ssl", q.has_verify_ssl ? (q.verify_ssl ? "true" : "false") : "true");
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		COL(instance_flags[i].column, instance_flag_on_add(i, q.has_flag, q.flags) ? "true" : "false");
	if (q.has_physical_disks && q.physical_disks >= 0)
		COL("monitor_physical_disks", q.physical_disks ? "true" : "false");
	if (q.has_temperature && q.temperature >= 0)
		COL("temperature_monitoring_enabled", q.temperature ? "true" : "false");
	if (q.has_disk_minutes) {
		snprintf(disk_minutes, sizeof(disk_minutes), "%lld", (long long)q.disk_minutes);
		COL("physical_disk_polling_minutes", disk_minutes);
	}
	COL("is_cluster", is_cluster ? "true" : "false");
	COL("cluster_name", cluster);
	COL("cluster_endpoints", endpoints ? jsonutil_to_string(endpoints, NULL) : "[]");
#undef COL
	{
		char *sql = xasprintf("INSERT INTO pulse.instances (%s) VALUES (%s)", cols.data, vals.data);
		res = db_exec_params(r->db, sql, n, params);
		free(sql);
	}
	sb_free(&cols);
	sb_free(&vals);
	free_sealed(pw);
	free_sealed(tok);
	if (endpoints)
		json_object_put(endpoints);
	if (res == NULL) {
		if (strcmp(db_sqlstate(r->db), "23505") == 0)
			resp_error(r, 409, "duplicate_host", "A node with this host URL already exists");
		else
			resp_db_unavailable(r);
		return;
	}
	PQclear(res);
	/* The quickstart's demo estate gives way to the first real node. */
	db_exec_stmt_ok(r->db, &stmt_mock_auto_off, NULL);
	snprintf(num, sizeof(num), "Node added: %s (%.8s)", id, q.type);
	audit_record(r->db, "node_added", r->auth.username, r->client_ip, r->raw_path, 1, num);
	obj = json_object_new_object();
	json_object_object_add(obj, "status", json_object_new_string("success"));
	json_object_object_add(obj, "id", json_object_new_string(id));
	resp_json(r, 201, obj);
	json_object_put(obj);
}

/* M3: an update that changes where or how the stored secret travels (the host, TLS
 * verification turned off, another or no fingerprint) must carry the secret again, or a
 * settings:write holder could send it to a server of their choosing. Answers 400 naming the
 * missing field and returns -1; 0 when the update may go on. */
static int
require_credentials(struct request *r, const struct node_req *q, const struct instance_cfg *c)
{
	int token_stored = c->token_name[0] && c->token_value_enc;
	int password_stored = c->username[0] && c->password_enc;
	int host = q->host && *q->host && strcmp(q->host_norm, c->host) != 0;
	int verify_off = q->has_verify_ssl && !q->verify_ssl && c->verify_ssl;
	int fingerprint = q->has_fingerprint && strcmp(q->fp_norm, c->fingerprint) != 0;
	const char *missing;
	struct json_object *extra, *fields, *list;

	if (!(host || verify_off || fingerprint) || (!token_stored && !password_stored))
		return 0;
	/* New credentials of either kind replace the stored ones. */
	if (q->has_token && ((q->token_name && *q->token_name) || c->token_name[0]))
		return 0;
	if (q->has_password && (q->user_norm[0] || c->username[0]))
		return 0;
	missing = token_stored ? "tokenValue" : "password";
	extra = json_object_new_object();
	fields = json_object_new_object();
	list = json_object_new_array();
	json_object_array_add(list, json_object_new_string(missing));
	json_object_object_add(fields, missing, json_object_new_string(
	    "required again when host, verifySSL or fingerprint changes"));
	json_object_object_add(extra, "missing", list);
	json_object_object_add(extra, "fields", fields);
	resp_error_with(r, 400, "credentials_required", token_stored ?
	    "Changing host, verifySSL or fingerprint requires the credentials again: tokenValue" :
	    "Changing host, verifySSL or fingerprint requires the credentials again: password", extra);
	json_object_put(extra);
	return -1;
}

static const struct db_stmt stmt_get = {
	"nodes_get", "SELECT " INSTANCE_COLUMNS " FROM pulse.instances WHERE id = $1", 1,
};

/* Loads the instance named by the {id} path parameter, or answers 404. */
static int
load_instance(struct request *r, struct instance_cfg *c)
{
	const char *id = req_path_param(r, "id");
	const char *params[1] = {id};
	PGresult *res;

	if (id == NULL || strlen(id) > 31) {
		resp_error(r, 404, "not_found", "Node not found");
		return -1;
	}
	res = db_exec_stmt(r->db, &stmt_get, params);
	if (res == NULL) {
		resp_db_unavailable(r);
		return -1;
	}
	if (PQntuples(res) != 1) {
		PQclear(res);
		resp_error(r, 404, "not_found", "Node not found");
		return -1;
	}
	instances_from_row(res, 0, c);
	PQclear(res);
	return 0;
}

void
api_nodes_update(struct request *r)
{
	struct json_object *body;
	struct instance_cfg c;
	struct problems p = {0};
	struct node_req q;
	struct strbuf set = {0};
	const char *params[32];
	char *pw = NULL, *tok = NULL, disk_minutes[16], msg[96];
	int n = 1, dup;
	PGresult *res;

	if (load_instance(r, &c) != 0)
		return;
	body = req_body_object(r, 0);
	if (body == NULL) {
		instance_cfg_clear(&c);
		return;
	}
	read_body(body, &q, &p);
	if (q.type && *q.type && strcmp(q.type, c.type) != 0)
		problem(&p, "type", "The type of a node cannot change");
	validate(&q, c.type, 0, &p);
	if (answer_problems(r, &p) != 0 || require_credentials(r, &q, &c) != 0 ||
	    refuse_in_mock(r) != 0) {
		instance_cfg_clear(&c);
		return;
	}
	params[0] = c.id;
#define SET(col, value) do { \
		sb_printf(&set, "%s%s = $%d", n > 1 ? ", " : "", col, n + 1); \
		params[n++] = (value); \
	} while (0)
	if (q.name && *q.name)
		SET("name", q.name);
	if (q.host && *q.host) {
		dup = duplicate_host(r, c.type, q.host_norm, c.id);
		if (dup != 0) {
			if (dup < 0)
				resp_db_unavailable(r);
			else
				resp_error(r, 409, "duplicate_host", "A node with this host URL already exists");
			instance_cfg_clear(&c);
			sb_free(&set);
			return;
		}
		SET("host", q.host_norm);
	}
	/* guestURL is always taken (omitting clears it), as the original. The fingerprint only
	 * when sent: omitting it keeps the pin, "" clears it (L8; the original clears it). */
	SET("guest_url", q.guest_url ? q.guest_url : "");
	if (q.has_fingerprint)
		SET("fingerprint", q.fp_norm);
	if (q.has_token && ((q.token_name && *q.token_name) || c.token_name[0])) {
		/* A token secret alone keeps the stored token id. */
		tok = seal(SECRET_CTX_TOKEN, q.token_value);
		SET("token_name", q.token_name && *q.token_name ? q.token_name : c.token_name);
		SET("token_value_enc", tok);
		sb_printf(&set, ", password_enc = NULL");
		if (q.user_norm[0])
			SET("username", q.user_norm);
	} else if (q.has_password) {
		pw = seal(SECRET_CTX_PASSWORD, q.password);
		if (q.user_norm[0])
			SET("username", q.user_norm);
		SET("password_enc", pw);
		sb_printf(&set, ", token_name = '', token_value_enc = NULL");
	} else if (q.user_norm[0]) {
		SET("username", q.user_norm);
	}
	if (q.has_verify_ssl)
		SET("verify_ssl", q.verify_ssl ? "true" : "false");
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		if (q.has_flag[i])
			SET(instance_flags[i].column, q.flags[i] ? "true" : "false");
	if (q.has_physical_disks)
		SET("monitor_physical_disks", q.physical_disks < 0 ? NULL : q.physical_disks ? "true" : "false");
	if (q.has_temperature)
		SET("temperature_monitoring_enabled", q.temperature < 0 ? NULL : q.temperature ? "true" : "false");
	if (q.has_disk_minutes) {
		snprintf(disk_minutes, sizeof(disk_minutes), "%lld", (long long)q.disk_minutes);
		SET("physical_disk_polling_minutes", disk_minutes);
	}
#undef SET
	{
		char *sql = xasprintf("UPDATE pulse.instances SET %s, updated_at = now() WHERE id = $1",
		    set.data);
		res = db_exec_params(r->db, sql, n, params);
		free(sql);
	}
	sb_free(&set);
	free_sealed(pw);
	free_sealed(tok);
	if (res == NULL) {
		instance_cfg_clear(&c);
		resp_db_unavailable(r);
		return;
	}
	PQclear(res);
	snprintf(msg, sizeof(msg), "Node updated: %s", c.id);
	audit_record(r->db, "node_updated", r->auth.username, r->client_ip, r->raw_path, 1, msg);
	instance_cfg_clear(&c);
	resp_raw(r, 200, "application/json", "{\"status\":\"success\"}", 20);
}

static const struct db_stmt stmt_delete = {
	"nodes_delete", "DELETE FROM pulse.instances WHERE id = $1 RETURNING type", 1,
};

void
api_nodes_delete(struct request *r)
{
	const char *id = req_path_param(r, "id");
	const char *params[1] = {id};
	char msg[96], err[200];
	PGresult *res;

	if (refuse_in_mock(r) != 0)
		return;
	res = db_exec_stmt(r->db, &stmt_delete, params);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		resp_error(r, 404, "not_found", "Node not found");
		return;
	}
	PQclear(res);
	/* Its state goes too; the worker polling it lets go when it hears of the change. */
	if (st_clear(r->db, id, err, sizeof(err)) != 0)
		log_warn("msg=\"state of a deleted node not cleared\" id=%.32s error=\"%s\"", id, err);
	snprintf(msg, sizeof(msg), "Node deleted: %.32s", id);
	audit_record(r->db, "node_deleted", r->auth.username, r->client_ip, r->raw_path, 1, msg);
	resp_raw(r, 200, "application/json", "{\"status\":\"success\"}", 20);
}

/* --- tests ---------------------------------------------------------------------------- */

static void
answer_test(struct request *r, int ok, const char *message, double latency_ms, int latency)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "status", json_object_new_string(ok ? "success" : "error"));
	json_object_object_add(o, "message", json_object_new_string(message));
	if (latency && ok)
		json_object_object_add(o, "latency", json_object_new_int64((int64_t)latency_ms));
	resp_json(r, ok ? 200 : 400, o);
	json_object_put(o);
}

/* Tries the connection as the poller would; fills a success message or the failure. */
static int
try_connection(struct proxmox_conn *c, const char *type, char *msg, size_t msglen, double *latency,
    int *nodes, int *is_cluster)
{
	char err[256];
	struct json_object *data;
	const char *path = strcmp(type, "pbs") == 0 ? "/admin/datastore" :
	    strcmp(type, "pmg") == 0 ? "/version" : "/nodes";

	data = proxmox_get(c, path, 10000, err, sizeof(err), latency);
	if (data == NULL) {
		snprintf(msg, msglen, "Connection failed: %s", err);
		return -1;
	}
	*nodes = json_object_is_type(data, json_type_array) ? (int)json_object_array_length(data) : 0;
	if (strcmp(type, "pbs") == 0)
		snprintf(msg, msglen, "Successfully connected. Found %d datastore(s)", *nodes);
	else if (strcmp(type, "pmg") == 0)
		snprintf(msg, msglen, "Connected to PMG instance (version %s)", jsonread_string(data, "version", "?"));
	else
		snprintf(msg, msglen, "Successfully connected to %d node(s)", *nodes);
	json_object_put(data);
	if (strcmp(type, "pve") == 0) {
		struct pve_cluster found;
		pve_cluster_detect(c, 0, NULL, &found);
		*is_cluster = found.is_cluster;
		json_object_put(found.endpoints);
	}
	return 0;
}

static void
test_from_body(struct request *r, int with_latency)
{
	struct json_object *body = req_body_object(r, 0), *o;
	struct problems p = {0};
	struct node_req q;
	struct proxmox_conn c;
	char msg[320], derived[128];
	double latency = 0;
	int nodes = 0, is_cluster = 0, ok;

	if (body == NULL)
		return;
	read_body(body, &q, &p);
	if (q.name == NULL || *q.name == '\0') {
		/* The name is not needed to test: derive one from the host. */
		snprintf(derived, sizeof(derived), "%s", q.host ? q.host : "test");
		q.name = derived;
	}
	validate(&q, q.type && *q.type ? q.type : NULL, 1, &p);
	if (answer_problems(r, &p) != 0)
		return;
	conn_from_req(&q, q.type, &c);
	ok = try_connection(&c, q.type, msg, sizeof(msg), &latency, &nodes, &is_cluster) == 0;
	proxmox_conn_clear(&c);
	if (with_latency) {
		answer_test(r, ok, msg, latency, 1);
		return;
	}
	if (!ok) {
		resp_error(r, 400, "connection_failed", "%s", msg);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	if (strcmp(q.type, "pve") == 0) {
		json_object_object_add(o, "isCluster", json_object_new_boolean(is_cluster));
		json_object_object_add(o, "nodeCount", json_object_new_int(nodes));
	} else if (strcmp(q.type, "pbs") == 0) {
		json_object_object_add(o, "datastoreCount", json_object_new_int(nodes));
	}
	resp_json(r, 200, o);
	json_object_put(o);
}

void
api_nodes_test_connection(struct request *r)
{
	test_from_body(r, 0);
}

void
api_nodes_test_config(struct request *r)
{
	test_from_body(r, 1);
}

void
api_nodes_test_saved(struct request *r)
{
	struct instance_cfg c;
	struct proxmox_conn conn;
	char msg[320], err[200];
	double latency = 0;
	int nodes = 0, is_cluster = 0, ok;

	if (load_instance(r, &c) != 0)
		return;
	if (instance_connect_params(&c, &conn, err, sizeof(err)) != 0) {
		answer_test(r, 0, err, 0, 1);
		instance_cfg_clear(&c);
		return;
	}
	ok = try_connection(&conn, c.type, msg, sizeof(msg), &latency, &nodes, &is_cluster) == 0;
	proxmox_conn_clear(&conn);
	instance_cfg_clear(&c);
	answer_test(r, ok, msg, latency, 1);
}

void
api_nodes_refresh_cluster(struct request *r)
{
	struct instance_cfg c;
	struct proxmox_conn conn;
	struct json_object *endpoints, *o;
	char err[200], name[128] = "";
	const char *params[3];
	int is_cluster = 0, old;
	PGresult *res;

	if (load_instance(r, &c) != 0)
		return;
	if (strcmp(c.type, "pve") != 0) {
		instance_cfg_clear(&c);
		resp_error(r, 400, "not_pve", "Only PVE nodes can be cluster members");
		return;
	}
	if (instance_connect_params(&c, &conn, err, sizeof(err)) != 0) {
		instance_cfg_clear(&c);
		resp_error(r, 400, "connection_failed", "%s", err);
		return;
	}
	{
		struct pve_cluster found;
		pve_cluster_detect(&conn, 1, c.cluster_endpoints, &found);
		is_cluster = found.is_cluster;
		snprintf(name, sizeof(name), "%s", found.name);
		endpoints = found.endpoints;
	}
	proxmox_conn_clear(&conn);
	if (!is_cluster) {
		json_object_put(endpoints);
		instance_cfg_clear(&c);
		resp_error(r, 400, "not_cluster", "Node is not part of a cluster");
		return;
	}
	{
		char perr[64];
		struct json_object *prev = jsonutil_parse(c.cluster_endpoints, strlen(c.cluster_endpoints),
		    perr, sizeof(perr));
		old = prev && json_object_is_type(prev, json_type_array) ?
		    (int)json_object_array_length(prev) : 0;
		if (prev)
			json_object_put(prev);
	}
	params[0] = c.id;
	params[1] = name;
	params[2] = jsonutil_to_string(endpoints, NULL);
	res = db_exec_params(r->db, "UPDATE pulse.instances SET is_cluster = true, cluster_name = $2, "
	    "cluster_endpoints = $3::jsonb, updated_at = now() WHERE id = $1", 3, params);
	if (res == NULL) {
		json_object_put(endpoints);
		instance_cfg_clear(&c);
		resp_db_unavailable(r);
		return;
	}
	PQclear(res);
	o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "clusterName", json_object_new_string(name));
	json_object_object_add(o, "oldNodeCount", json_object_new_int(old));
	json_object_object_add(o, "newNodeCount", json_object_new_int((int)json_object_array_length(endpoints)));
	json_object_object_add(o, "nodesAdded", json_object_new_int((int)json_object_array_length(endpoints) - old));
	json_object_object_add(o, "clusterNodes", endpoints_json(jsonutil_to_string(endpoints, NULL), NULL));
	json_object_put(endpoints);
	instance_cfg_clear(&c);
	resp_json(r, 200, o);
	json_object_put(o);
}
