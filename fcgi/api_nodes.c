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
#include "mockmode.h"
#include "proxmox.h"
#include "pve_cluster.h"
#include "state.h"
#include "timefmt.h"

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
	extra = resp_object(r);
	json_object_object_add(extra, "fields", p->fields);
	resp_error_with(r, 400, "validation_failed", p->first, extra);
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

/* --- what a request owns ---------------------------------------------------------------- */

static void
cfg_release(void *c)
{
	instance_cfg_clear(c);
	free(c);
}

/* A zeroed instance_cfg cleared and freed with the request. */
static struct instance_cfg *
request_cfg(struct request *r)
{
	struct instance_cfg *c = xcalloc(1, sizeof(*c));

	arena_defer(r->arena, cfg_release, c);
	return c;
}


/* --- mock mode and listing ------------------------------------------------------------ */

static int
refuse_in_mock(struct request *r)
{
	int m = mockmode_blocks_changes(r->db);

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
	"  'lastCheck', extract(epoch FROM h.last_check), "
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
		double checked = jsonread_number(h, "lastCheck", 0);
		char checked_at[TIMEFMT_LEN];
		const char *seen = jsonread_string(e, "lastSeen", "");

		json_object_object_add(o, "Online", json_object_new_boolean(jsonread_int(e, "online", 0) != 0));
		if (*seen == '\0')	/* never seen: Go's zero time, as the original writes */
			seen = TIMEFMT_ZERO;
		json_object_object_add(o, "LastSeen", json_object_new_string(seen));
		json_object_object_add(o, "PulseReachable", h ?
		    json_object_new_boolean(jsonread_int(h, "reachable", 0) != 0) : NULL);
		json_object_object_add(o, "LastPulseCheck", h && checked > 0 ? json_object_new_string(
		    timefmt_rfc3339(checked, checked_at, sizeof(checked_at))) : NULL);
		json_object_object_add(o, "PulseError", json_object_new_string(jsonread_string(h, "error", "")));
		json_object_array_add(out, o);
	}
	json_object_put(in);
	if (health)
		json_object_put(health);
	return out;
}

/* The monitoring settings of c that its type has. */
static void
node_settings(struct json_object *o, const struct instance_cfg *c)
{
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		if (instance_flags[i].types & instance_type_bit(c->type))
			jsonwrite_true_if(o, instance_flags[i].json, instance_flag_shown(c, i));
	if (strcmp(c->type, "pve") == 0) {
		if (c->monitor_physical_disks >= 0)
			jsonwrite_bool(o, "monitorPhysicalDisks", c->monitor_physical_disks);
		if (c->physical_disk_polling_minutes > 0)
			jsonwrite_int(o, "physicalDiskPollingMinutes", c->physical_disk_polling_minutes);
	}
	if (c->temperature_monitoring >= 0)
		jsonwrite_bool(o, "temperatureMonitoringEnabled", c->temperature_monitoring);
	/* The original names how it reads the node's sensors (SSH, a proxy); we have no
	 * collector for real nodes, so none is in use whatever the setting says
	 * (docs/COMPATIBILITY.md). */
	jsonwrite_str(o, "temperatureTransport", "disabled");
}

/* One instance of stmt_list as the node API shows it (no secret ever). */
static struct json_object *
node_response(struct request *r, PGresult *res, int row)
{
	struct instance_cfg *c = request_cfg(r);
	struct json_object *o = json_object_new_object(), *eps;
	int ncols = PQnfields(res);

	instances_from_row(res, row, c);
	jsonwrite_str(o, "id", c->id);
	jsonwrite_str(o, "type", c->type);
	jsonwrite_str(o, "name", c->name);
	jsonwrite_str(o, "host", c->host);
	jsonwrite_opt_str(o, "guestURL", c->guest_url);
	jsonwrite_opt_str(o, "user", c->username);
	jsonwrite_bool(o, "hasPassword", PQgetvalue(res, row, ncols - 3)[0] == 't');
	jsonwrite_opt_str(o, "tokenName", c->token_name);
	jsonwrite_bool(o, "hasToken", PQgetvalue(res, row, ncols - 2)[0] == 't');
	jsonwrite_opt_str(o, "fingerprint", c->fingerprint);
	jsonwrite_bool(o, "verifySSL", c->verify_ssl);
	node_settings(o, c);
	jsonwrite_str(o, "status", PQgetvalue(res, row, ncols - 4)[0] == 't' ? "connected" : "disconnected");
	jsonwrite_true_if(o, "isCluster", c->is_cluster);
	jsonwrite_opt_str(o, "clusterName", c->cluster_name);
	if ((eps = endpoints_json(c->cluster_endpoints, PQgetvalue(res, row, ncols - 1))) != NULL)
		json_object_object_add(o, "clusterEndpoints", eps);
	return o;
}

void
api_nodes_list(struct request *r)
{
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_list, NULL));
	struct json_object *a;

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	a = req_json(r, json_object_new_array());
	for (int i = 0; i < PQntuples(res); i++)
		json_object_array_add(a, node_response(r, res, i));
	resp_json(r, 200, a);
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
/* Answers 409 (or 503) when another instance of the type has the host; 0 when none has. */
static int
refuse_duplicate_host(struct request *r, const char *type, const char *host, const char *self)
{
	const char *params[3] = {type, host, self};
	PGresult *res = req_result(r, db_exec_stmt(r->db, &stmt_dup_host, params));

	if (res == NULL) {
		resp_db_unavailable(r);
		return -1;
	}
	if (PQntuples(res) > 0) {
		resp_error(r, 409, "duplicate_host", "A node with this host URL already exists");
		return -1;
	}
	return 0;
}

static char *
seal(const char *ctx, const char *value)
{
	return value ? secrets_seal(ctx, value, strlen(value)) : NULL;
}

/* A new node of an already configured cluster: its members merged into that instance
 * (src/instances.c), answered as the original does. Returns 1 when merged, 0 when no such
 * cluster is configured, -1 after answering 503. */
static int
merge_into_cluster(struct request *r, const char *cluster, struct json_object *endpoints)
{
	struct instance_merge m;
	struct json_object *obj;
	char err[256];
	int rc = instances_merge_cluster(r->db, cluster, endpoints, &m, err, sizeof(err));

	if (rc < 0) {
		log_error("msg=\"cluster merge not stored\" cluster=\"%s\" error=\"%s\"", cluster, err);
		resp_db_unavailable(r);
	}
	if (rc <= 0)
		return rc;
	obj = req_json(r, json_object_new_object());
	json_object_object_add(obj, "success", json_object_new_boolean(1));
	json_object_object_add(obj, "merged", json_object_new_boolean(1));
	json_object_object_add(obj, "cluster", json_object_new_string(cluster));
	json_object_object_add(obj, "existingNode", json_object_new_string(m.name));
	json_object_object_add(obj, "message", json_object_new_string(
	    "Node belongs to an already configured cluster: its endpoints were added there"));
	json_object_object_add(obj, "totalEndpoints", json_object_new_int(m.total_endpoints));
	resp_json(r, 200, obj);
	return 1;
}

/* Reads and checks a body: for an add (existing NULL; derive_name: a test, which needs no
 * name), or an update of existing. Answers 400 and returns -1 on any problem. */
static int
read_request(struct request *r, struct node_req *q, const struct instance_cfg *existing, int derive_name)
{
	struct json_object *body = req_body_object(r, 0);
	struct problems p = {0};

	if (body == NULL)
		return -1;
	read_body(body, q, &p);
	if (derive_name && (q->name == NULL || *q->name == '\0'))
		q->name = arena_strdup(r->arena, q->host ? q->host : "test");
	if (existing && q->type && *q->type && strcmp(q->type, existing->type) != 0)
		problem(&p, "type", "The type of a node cannot change");
	validate(q, existing ? existing->type : q->type && *q->type ? q->type : NULL, existing == NULL, &p);
	return answer_problems(r, &p);
}

/* The optional settings a request gives (physical disks, temperature, polling minutes)
 * into c, with their bits; nulls only when null_ok (an update clears them). */
static uint64_t
optional_settings(const struct node_req *q, struct instance_cfg *c, int null_ok)
{
	uint64_t present = 0;

	if (q->has_physical_disks && (null_ok || q->physical_disks >= 0)) {
		c->monitor_physical_disks = q->physical_disks;
		present |= INSTANCE_BIT(INSTANCE_F_PHYSICAL_DISKS);
	}
	if (q->has_temperature && (null_ok || q->temperature >= 0)) {
		c->temperature_monitoring = q->temperature;
		present |= INSTANCE_BIT(INSTANCE_F_TEMPERATURE);
	}
	if (q->has_disk_minutes) {
		c->physical_disk_polling_minutes = (int)q->disk_minutes;
		present |= INSTANCE_BIT(INSTANCE_F_DISK_MINUTES);
	}
	return present;
}

/* The new instance c of an add request, with its cluster; returns the columns to insert
 * (the others take their defaults). The sealed secrets are c's; name, host and user are
 * taken from q by save(). */
static uint64_t
cfg_for_add(const struct node_req *q, const struct pve_cluster *found, struct instance_cfg *c)
{
	uint64_t present = INSTANCE_BIT(INSTANCE_F_ID) | INSTANCE_BIT(INSTANCE_F_NUMBER) |
	    INSTANCE_BIT(INSTANCE_F_TYPE) | INSTANCE_BIT(INSTANCE_F_NAME) | INSTANCE_BIT(INSTANCE_F_HOST) |
	    INSTANCE_BIT(INSTANCE_F_GUEST_URL) | INSTANCE_BIT(INSTANCE_F_FINGERPRINT) |
	    INSTANCE_BIT(INSTANCE_F_VERIFY_SSL) | INSTANCE_BIT(INSTANCE_F_IS_CLUSTER) |
	    INSTANCE_BIT(INSTANCE_F_CLUSTER_NAME) | INSTANCE_BIT(INSTANCE_F_CLUSTER_ENDPOINTS);

	snprintf(c->type, sizeof(c->type), "%s", q->type);
	snprintf(c->name, sizeof(c->name), "%s", q->name);
	snprintf(c->guest_url, sizeof(c->guest_url), "%s", q->guest_url ? q->guest_url : "");
	if (q->token_name && *q->token_name && q->has_token) {
		snprintf(c->token_name, sizeof(c->token_name), "%s", q->token_name);
		c->token_value_enc = seal(SECRET_CTX_TOKEN, q->token_value);
		present |= INSTANCE_BIT(INSTANCE_F_TOKEN_NAME) | INSTANCE_BIT(INSTANCE_F_TOKEN_VALUE_ENC) |
		    (q->user_norm[0] ? INSTANCE_BIT(INSTANCE_F_USERNAME) : 0);
	} else {
		c->password_enc = seal(SECRET_CTX_PASSWORD, q->password);
		present |= INSTANCE_BIT(INSTANCE_F_USERNAME) | INSTANCE_BIT(INSTANCE_F_PASSWORD_ENC);
	}
	snprintf(c->fingerprint, sizeof(c->fingerprint), "%s", q->fp_norm);
	c->verify_ssl = q->has_verify_ssl ? q->verify_ssl : 1;
	for (int i = 0; i < INSTANCE_NFLAGS; i++)
		instance_flag_set(c, i, instance_flag_on_add(i, q->has_flag, q->flags));
	present |= ((INSTANCE_BIT(INSTANCE_NFLAGS) - 1) << INSTANCE_F_FLAG) | optional_settings(q, c, 0);
	c->is_cluster = found->is_cluster;
	snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", found->name);
	c->cluster_endpoints = found->endpoints ? xstrdup(jsonutil_to_string(found->endpoints, NULL)) : NULL;
	return present;
}

/* Gives c its number and id ("pve-N") from the sequence; -1 after answering 503. */
static int
number_instance(struct request *r, struct instance_cfg *c)
{
	PGresult *res = req_result(r, db_exec_params(r->db, "SELECT nextval('pulse.instance_number')", 0, NULL));
	int64_t number = 0;

	if (res == NULL || parse_int64(PQgetvalue(res, 0, 0), 1, INT32_MAX, &number) != 0) {
		resp_db_unavailable(r);
		return -1;
	}
	c->number = (int)number;
	snprintf(c->id, sizeof(c->id), "%s-%d", c->type, c->number);
	return 0;
}

/* Runs an INSERT or UPDATE built from c; -1 after answering (409 for a host another
 * instance has when conflict_409, else 503). */
static int
save(struct request *r, const struct node_req *q, const struct instance_cfg *c, uint64_t present,
    void (*build)(const struct instance_cfg *, uint64_t, struct instance_sql *), int conflict_409)
{
	struct instance_sql sql = {0};
	PGresult *res;

	/* The request's own text: it may be longer than the cfg holds. */
	sql.value[INSTANCE_F_NAME] = q->name;
	sql.value[INSTANCE_F_HOST] = q->host_norm;
	sql.value[INSTANCE_F_USERNAME] = q->user_norm;
	build(c, present, &sql);
	res = req_result(r, db_exec_params(r->db, sql.text, sql.nparams, sql.params));
	instance_sql_clear(&sql);
	if (res != NULL)
		return 0;
	if (conflict_409 && strcmp(db_sqlstate(r->db), "23505") == 0)
		resp_error(r, 409, "duplicate_host", "A node with this host URL already exists");
	else
		resp_db_unavailable(r);
	return -1;
}

static void
audit_node(struct request *r, const char *event, const char *msg)
{
	audit_record(r->db, event, r->auth.username, r->client_ip, r->raw_path, 1, msg);
}

void
api_nodes_add(struct request *r)
{
	struct node_req q;
	struct pve_cluster found = {0};
	struct proxmox_conn conn;
	struct instance_cfg *c;
	struct json_object *obj;
	uint64_t present;

	if (read_request(r, &q, NULL, 0) != 0 || refuse_in_mock(r) != 0 ||
	    refuse_duplicate_host(r, q.type, q.host_norm, "") != 0)
		return;
	if (strcmp(q.type, "pve") == 0 && conn_from_req(&q, q.type, &conn) == 0) {
		pve_cluster_detect(&conn, 1, NULL, &found);
		proxmox_conn_clear(&conn);
		req_json(r, found.endpoints);
		if (found.is_cluster && merge_into_cluster(r, found.name, found.endpoints) != 0)
			return;
	}
	c = request_cfg(r);
	present = cfg_for_add(&q, &found, c);
	if (number_instance(r, c) != 0 || save(r, &q, c, present, instances_insert_sql, 1) != 0)
		return;
	/* The quickstart's demo estate gives way to the first real node. */
	(void)mockmode_demo_off(r->db);
	audit_node(r, "node_added", arena_printf(r->arena, "Node added: %s (%.8s)", c->id, c->type));
	obj = req_json(r, json_object_new_object());
	json_object_object_add(obj, "status", json_object_new_string("success"));
	json_object_object_add(obj, "id", json_object_new_string(c->id));
	resp_json(r, 201, obj);
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
	extra = req_json(r, json_object_new_object());
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
	return -1;
}

static const struct db_stmt stmt_get = {
	"nodes_get", "SELECT " INSTANCE_COLUMNS " FROM pulse.instances WHERE id = $1", 1,
};

/* The instance named by the {id} path parameter (the request's), or NULL after answering
 * 404 or 503. */
static struct instance_cfg *
load_instance(struct request *r)
{
	const char *id = req_path_param(r, "id");
	const char *params[1] = {id};
	struct instance_cfg *c;
	PGresult *res;

	if (id == NULL || strlen(id) > 31) {
		resp_error(r, 404, "not_found", "Node not found");
		return NULL;
	}
	res = req_result(r, db_exec_stmt(r->db, &stmt_get, params));
	if (res == NULL) {
		resp_db_unavailable(r);
		return NULL;
	}
	if (PQntuples(res) != 1) {
		resp_error(r, 404, "not_found", "Node not found");
		return NULL;
	}
	c = request_cfg(r);
	instances_from_row(res, 0, c);
	return c;
}

/* The changes an update request makes to the instance old, into u; returns the columns to
 * update. The sealed secrets are u's; name, host and user are taken from q by save(). */
static uint64_t
cfg_for_update(const struct node_req *q, const struct instance_cfg *old, struct instance_cfg *u)
{
	/* guestURL is always taken (omitting clears it), as the original. The fingerprint only
	 * when sent: omitting it keeps the pin, "" clears it (L8; the original clears it). */
	uint64_t present = INSTANCE_BIT(INSTANCE_F_GUEST_URL);

	snprintf(u->id, sizeof(u->id), "%s", old->id);
	snprintf(u->guest_url, sizeof(u->guest_url), "%s", q->guest_url ? q->guest_url : "");
	if (q->name && *q->name) {
		snprintf(u->name, sizeof(u->name), "%s", q->name);
		present |= INSTANCE_BIT(INSTANCE_F_NAME);
	}
	if (q->host && *q->host)
		present |= INSTANCE_BIT(INSTANCE_F_HOST);
	if (q->has_fingerprint) {
		snprintf(u->fingerprint, sizeof(u->fingerprint), "%s", q->fp_norm);
		present |= INSTANCE_BIT(INSTANCE_F_FINGERPRINT);
	}
	if (q->user_norm[0])
		present |= INSTANCE_BIT(INSTANCE_F_USERNAME);
	if (q->has_token && ((q->token_name && *q->token_name) || old->token_name[0])) {
		/* A token secret alone keeps the stored token id; a token replaces a password. */
		snprintf(u->token_name, sizeof(u->token_name), "%s",
		    q->token_name && *q->token_name ? q->token_name : old->token_name);
		u->token_value_enc = seal(SECRET_CTX_TOKEN, q->token_value);
		present |= INSTANCE_BIT(INSTANCE_F_TOKEN_NAME) | INSTANCE_BIT(INSTANCE_F_TOKEN_VALUE_ENC) |
		    INSTANCE_BIT(INSTANCE_F_PASSWORD_ENC);
	} else if (q->has_password) {
		/* A password replaces a token: token_name "" and no secret. */
		u->password_enc = seal(SECRET_CTX_PASSWORD, q->password);
		present |= INSTANCE_BIT(INSTANCE_F_PASSWORD_ENC) | INSTANCE_BIT(INSTANCE_F_TOKEN_NAME) |
		    INSTANCE_BIT(INSTANCE_F_TOKEN_VALUE_ENC);
	}
	if (q->has_verify_ssl) {
		u->verify_ssl = q->verify_ssl;
		present |= INSTANCE_BIT(INSTANCE_F_VERIFY_SSL);
	}
	for (int i = 0; i < INSTANCE_NFLAGS; i++) {
		if (!q->has_flag[i])
			continue;
		instance_flag_set(u, i, q->flags[i]);
		present |= INSTANCE_BIT(INSTANCE_F_FLAG + i);
	}
	return present | optional_settings(q, u, 1);
}

void
api_nodes_update(struct request *r)
{
	struct instance_cfg *c = load_instance(r), *u;
	struct node_req q;

	if (c == NULL || read_request(r, &q, c, 0) != 0 || require_credentials(r, &q, c) != 0 ||
	    refuse_in_mock(r) != 0)
		return;
	if (q.host && *q.host && refuse_duplicate_host(r, c->type, q.host_norm, c->id) != 0)
		return;
	u = request_cfg(r);
	if (save(r, &q, u, cfg_for_update(&q, c, u), instances_update_sql, 0) != 0)
		return;
	audit_node(r, "node_updated", arena_printf(r->arena, "Node updated: %s", c->id));
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
	res = req_result(r, db_exec_stmt(r->db, &stmt_delete, params));
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (PQntuples(res) == 0) {
		resp_error(r, 404, "not_found", "Node not found");
		return;
	}
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
	struct json_object *o = resp_object(r);

	jsonwrite_str(o, "status", ok ? "success" : "error");
	jsonwrite_str(o, "message", message);
	if (latency && ok)
		jsonwrite_int(o, "latency", (int64_t)latency_ms);
	resp_json(r, ok ? 200 : 400, o);
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
	struct node_req q;
	struct proxmox_conn c;
	struct json_object *o;
	char msg[320];
	double latency = 0;
	int nodes = 0, is_cluster = 0, ok;

	if (read_request(r, &q, NULL, 1) != 0)
		return;
	conn_from_req(&q, q.type, &c);
	ok = try_connection(&c, q.type, msg, sizeof(msg), &latency, &nodes, &is_cluster) == 0;
	proxmox_conn_clear(&c);
	if (with_latency || !ok) {
		if (with_latency)
			answer_test(r, ok, msg, latency, 1);
		else
			resp_error(r, 400, "connection_failed", "%s", msg);
		return;
	}
	o = req_json(r, json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "message", json_object_new_string(msg));
	if (strcmp(q.type, "pve") == 0) {
		json_object_object_add(o, "isCluster", json_object_new_boolean(is_cluster));
		json_object_object_add(o, "nodeCount", json_object_new_int(nodes));
	} else if (strcmp(q.type, "pbs") == 0) {
		json_object_object_add(o, "datastoreCount", json_object_new_int(nodes));
	}
	resp_json(r, 200, o);
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
	struct instance_cfg *c = load_instance(r);
	struct proxmox_conn conn;
	char msg[320], err[200];
	double latency = 0;
	int nodes = 0, is_cluster = 0, ok;

	if (c == NULL)
		return;
	if (instance_connect_params(c, &conn, err, sizeof(err)) != 0) {
		answer_test(r, 0, err, 0, 1);
		return;
	}
	ok = try_connection(&conn, c->type, msg, sizeof(msg), &latency, &nodes, &is_cluster) == 0;
	proxmox_conn_clear(&conn);
	answer_test(r, ok, msg, latency, 1);
}

/* The number of entries of a stored endpoint list. */
static int
endpoint_count(const char *text)
{
	char err[64];
	struct json_object *list = jsonutil_parse(text, strlen(text), err, sizeof(err));
	int n = jsonread_array_len(list);

	if (list)
		json_object_put(list);
	return n;
}

static const struct db_stmt stmt_refresh_cluster = {
	"nodes_refresh_cluster",
	"UPDATE pulse.instances SET is_cluster = true, cluster_name = $2, "
	"cluster_endpoints = $3::jsonb, updated_at = now() WHERE id = $1",
	3,
};

void
api_nodes_refresh_cluster(struct request *r)
{
	struct instance_cfg *c = load_instance(r);
	struct proxmox_conn conn;
	struct pve_cluster found;
	struct json_object *o;
	const char *params[3];
	char err[200];
	int old, now;

	if (c == NULL)
		return;
	if (strcmp(c->type, "pve") != 0) {
		resp_error(r, 400, "not_pve", "Only PVE nodes can be cluster members");
		return;
	}
	if (instance_connect_params(c, &conn, err, sizeof(err)) != 0) {
		resp_error(r, 400, "connection_failed", "%s", err);
		return;
	}
	pve_cluster_detect(&conn, 1, c->cluster_endpoints, &found);
	proxmox_conn_clear(&conn);
	req_json(r, found.endpoints);
	if (!found.is_cluster) {
		resp_error(r, 400, "not_cluster", "Node is not part of a cluster");
		return;
	}
	old = endpoint_count(c->cluster_endpoints);
	now = (int)json_object_array_length(found.endpoints);
	params[0] = c->id;
	params[1] = found.name;
	params[2] = jsonutil_to_string(found.endpoints, NULL);
	if (db_exec_stmt_ok(r->db, &stmt_refresh_cluster, params) != 0) {
		resp_db_unavailable(r);
		return;
	}
	o = req_json(r, json_object_new_object());
	json_object_object_add(o, "status", json_object_new_string("success"));
	json_object_object_add(o, "clusterName", json_object_new_string(found.name));
	json_object_object_add(o, "oldNodeCount", json_object_new_int(old));
	json_object_object_add(o, "newNodeCount", json_object_new_int(now));
	json_object_object_add(o, "nodesAdded", json_object_new_int(now - old));
	json_object_object_add(o, "clusterNodes", endpoints_json(params[2], NULL));
	resp_json(r, 200, o);
}
