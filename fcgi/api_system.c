/* api_system.c: GET /api/health and GET /api/version (state-proxmox.md §7). */
#include "config.h"

#include "handlers.h"
#include "conf.h"
#include "jsonutil.h"
#include "log.h"
#include "responder.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Health asks the database at most this often; between probes it reports what the last
 * probe saw, so a load balancer polling health costs no query per request. */
#define HEALTH_PROBE_INTERVAL 1.0
/* The mock estate is rebuilt every poll: bounded, it stays a demonstration (the worker's
 * defaults are 7 nodes, 5 VMs and 8 containers each). */
#define MOCK_MAX_GUESTS 25000

enum probe_state { PROBE_NONE, PROBE_OK, PROBE_DOWN, PROBE_SCHEMA };

static struct {
	pthread_mutex_t lock;
	double checked_at;	/* monotonic */
	time_t checked_wall;
	enum probe_state state;
	int schema_version;
	double latency_ms;
} health = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const struct db_stmt stmt_schema_version = {
	"health_schema_version",
	"SELECT coalesce(max(version), 0) FROM pulse.schema_migrations", 0,
};

static void
probe_database(struct responder *t)
{
	enum probe_state state = PROBE_DOWN;
	int version = -1;
	double start = clock_monotonic(), latency = 0;
	PGresult *res;

	if (db_ensure(t->db, 0) == 0) {
		res = db_exec_stmt(t->db, &stmt_schema_version, NULL);
		if (res != NULL) {
			int64_t v = -1;
			(void)parse_int64(PQgetvalue(res, 0, 0), 0, 1000000, &v);
			version = (int)v;
			PQclear(res);
			state = version == responder_process.expected_schema ? PROBE_OK : PROBE_SCHEMA;
		} else if (strcmp(db_sqlstate(t->db), "42P01") == 0 ||
		    strcmp(db_sqlstate(t->db), "3F000") == 0) {
			version = 0;	/* no migration ran yet */
			state = PROBE_SCHEMA;
		}
		latency = (clock_monotonic() - start) * 1000.0;
	}
	health.state = state;
	health.schema_version = version;
	health.latency_ms = latency;
	health.checked_at = clock_monotonic();
	health.checked_wall = time(NULL);
}

static const char *
probe_state_name(enum probe_state s)
{
	switch (s) {
	case PROBE_OK: return "ok";
	case PROBE_DOWN: return "down";
	case PROBE_SCHEMA: return "schema_mismatch";
	case PROBE_NONE: break;
	}
	return "unknown";
}

void
api_health(struct request *r)
{
	struct json_object *obj, *dbobj;
	enum probe_state state;
	int schema;
	double latency;
	time_t checked;

	/* One thread probes; the others report the previous result instead of queueing. */
	if (pthread_mutex_trylock(&health.lock) == 0) {
		if (health.state == PROBE_NONE ||
		    clock_monotonic() - health.checked_at >= HEALTH_PROBE_INTERVAL)
			probe_database(r->thread);
		state = health.state;
		schema = health.schema_version;
		latency = health.latency_ms;
		checked = health.checked_wall;
		pthread_mutex_unlock(&health.lock);
	} else {
		pthread_mutex_lock(&health.lock);
		state = health.state;
		schema = health.schema_version;
		latency = health.latency_ms;
		checked = health.checked_wall;
		pthread_mutex_unlock(&health.lock);
	}

	obj = json_object_new_object();
	json_object_object_add(obj, "status",
	    json_object_new_string(state == PROBE_OK ? "healthy" : "unhealthy"));
	json_object_object_add(obj, "timestamp", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(obj, "uptime",
	    jsonutil_new_double(clock_monotonic() - responder_process.started_monotonic));
	json_object_object_add(obj, "proxyInstallScriptAvailable", json_object_new_boolean(0));
	dbobj = json_object_new_object();
	json_object_object_add(dbobj, "status", json_object_new_string(probe_state_name(state)));
	json_object_object_add(dbobj, "schemaVersion",
	    schema >= 0 ? json_object_new_int(schema) : NULL);
	json_object_object_add(dbobj, "expectedSchemaVersion",
	    json_object_new_int(responder_process.expected_schema));
	json_object_object_add(dbobj, "latencyMs",
	    state == PROBE_DOWN ? NULL : jsonutil_new_double((double)(int64_t)(latency * 1000) / 1000));
	json_object_object_add(dbobj, "checkedAt", json_object_new_int64((int64_t)checked));
	json_object_object_add(obj, "database", dbobj);
	if (state != PROBE_OK)
		resp_header(r, "Retry-After", "5");
	resp_json(r, state == PROBE_OK ? 200 : 503, obj);
	json_object_put(obj);
}

/* The version answer does not change while the process runs: built once. */
static pthread_once_t version_once = PTHREAD_ONCE_INIT;
static char *version_body;
static size_t version_len;

static void
build_version(void)
{
	struct json_object *obj = json_object_new_object();
	const char *deployment = conf_str("deployment_type");
	int containerized = access("/run/systemd/container", F_OK) == 0 ||
	    access("/.dockerenv", F_OK) == 0;
	int docker = access("/.dockerenv", F_OK) == 0;
	const char *body;
	size_t len;

	json_object_object_add(obj, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(obj, "buildTime", json_object_new_string("release"));
	json_object_object_add(obj, "build", json_object_new_string("release"));
	json_object_object_add(obj, "runtime", json_object_new_string("c"));
	json_object_object_add(obj, "channel",
	    json_object_new_string(strstr(PACKAGE_VERSION, "rc") ? "rc" : "stable"));
	json_object_object_add(obj, "isDocker", json_object_new_boolean(docker));
	json_object_object_add(obj, "isSourceBuild",
	    json_object_new_boolean(strcmp(deployment, "source") == 0));
	json_object_object_add(obj, "isDevelopment", json_object_new_boolean(0));
	json_object_object_add(obj, "deploymentType",
	    json_object_new_string(docker ? "docker" : deployment));
	json_object_object_add(obj, "updateAvailable", json_object_new_boolean(0));
	json_object_object_add(obj, "containerized", json_object_new_boolean(containerized));
	if (containerized) {
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) == 0 && host[0])
			json_object_object_add(obj, "containerId", json_object_new_string(host));
	}
	body = jsonutil_to_string(obj, &len);
	version_body = xstrndup(body, len);
	version_len = len;
	json_object_put(obj);
}

void
api_version(struct request *r)
{
	pthread_once(&version_once, build_version);
	resp_raw(r, 200, "application/json", version_body, version_len);
}

/* --- mock mode (state-proxmox.md §6.1) ------------------------------------------------ */

static const struct db_stmt stmt_mock_get = {
	"mock_get", "SELECT enabled, config::text FROM pulse.mock_mode WHERE id = 1", 0,
};
static const struct db_stmt stmt_mock_set = {
	"mock_set",
	"UPDATE pulse.mock_mode SET enabled = $1::boolean, config = $2::jsonb, source = 'api', "
	"updated_at = now() WHERE id = 1",
	2,
};

/* The response: PascalCase config keys, as the original sends them (its struct has no JSON
 * tags). Defaults fill what was never set. */
static void
answer_mock(struct request *r, int enabled, const char *config_text)
{
	char err[64];
	struct json_object *cfg = jsonutil_parse(config_text, strlen(config_text), err, sizeof(err));
	struct json_object *o = json_object_new_object(), *c = json_object_new_object(), *hl;
	int64_t v;
	double d;
	int b;
	static const struct { const char *in, *out; int64_t def; } ints[] = {
		{"nodeCount", "NodeCount", 7}, {"vmsPerNode", "VMsPerNode", 5},
		{"lxcsPerNode", "LXCsPerNode", 8}, {"dockerHostCount", "DockerHostCount", 0},
		{"dockerContainersPerHost", "DockerContainersPerHost", 0},
		{"genericHostCount", "GenericHostCount", 0}, {"k8sClusterCount", "K8sClusterCount", 0},
		{"k8sNodesPerCluster", "K8sNodesPerCluster", 0}, {"k8sPodsPerCluster", "K8sPodsPerCluster", 0},
		{"k8sDeploymentsPerCluster", "K8sDeploymentsPerCluster", 0},
	};

	for (size_t i = 0; i < ARRAY_LEN(ints); i++)
		json_object_object_add(c, ints[i].out, json_object_new_int64(
		    jsonutil_get_int(cfg, ints[i].in, 0, 1000000, &v) == JSONUTIL_OK ? v : ints[i].def));
	json_object_object_add(c, "RandomMetrics", json_object_new_boolean(
	    jsonutil_get_bool(cfg, "randomMetrics", &b) == JSONUTIL_OK ? b : 1));
	json_object_object_add(c, "HighLoadNodes",
	    jsonutil_get_array(cfg, "highLoadNodes", &hl) == JSONUTIL_OK ? json_object_get(hl) : NULL);
	json_object_object_add(c, "StoppedPercent", jsonutil_new_double(
	    jsonutil_get_double(cfg, "stoppedPercent", &d) == JSONUTIL_OK ? d : 0.2));
	json_object_object_add(o, "enabled", json_object_new_boolean(enabled));
	json_object_object_add(o, "config", c);
	if (cfg)
		json_object_put(cfg);
	resp_json(r, 200, o);
	json_object_put(o);
}

void
api_mock_mode_get(struct request *r)
{
	PGresult *res = db_exec_stmt(r->db, &stmt_mock_get, NULL);

	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	answer_mock(r, PQgetvalue(res, 0, 0)[0] == 't', PQgetvalue(res, 0, 1));
	PQclear(res);
}

/* The guests a stored mock configuration asks for, with the worker's defaults. */
static int64_t
mock_guests(struct json_object *cfg)
{
	int64_t nodes = 7, vms = 5, lxcs = 8;

	(void)jsonutil_get_int(cfg, "nodeCount", 1, 1000, &nodes);
	(void)jsonutil_get_int(cfg, "vmsPerNode", 0, 1000, &vms);
	(void)jsonutil_get_int(cfg, "lxcsPerNode", 0, 1000, &lxcs);
	return nodes * (vms + lxcs);
}

void
api_mock_mode_set(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *cfg, *stored, *v;
	char err[64];
	const char *params[2];
	int enabled, has_enabled;
	int64_t n;
	double d;
	PGresult *res;

	if (body == NULL)
		return;
	has_enabled = req_body_bool(r, body, "enabled", 0, &enabled);
	if (has_enabled < 0)
		return;
	res = db_exec_stmt(r->db, &stmt_mock_get, NULL);
	if (res == NULL) {
		resp_db_unavailable(r);
		return;
	}
	if (!has_enabled)
		enabled = PQgetvalue(res, 0, 0)[0] == 't';
	stored = jsonutil_parse(PQgetvalue(res, 0, 1), (size_t)PQgetlength(res, 0, 1), err, sizeof(err));
	PQclear(res);
	if (stored == NULL)
		stored = json_object_new_object();
	arena_defer(r->arena, jsonutil_put, stored);
	switch (jsonutil_get_object(body, "config", &cfg)) {
	case JSONUTIL_WRONG_TYPE:
		resp_error(r, 400, "invalid_field", "config must be an object");
		return;
	case JSONUTIL_MISSING:
		break;
	case JSONUTIL_OK:
		/* Each given setting is checked, then replaces the stored one. */
		if (json_object_object_get_ex(cfg, "nodeCount", &v) &&
		    jsonutil_get_int(cfg, "nodeCount", 1, 1000, &n) != JSONUTIL_OK) {
			resp_error(r, 400, "invalid_field", "nodeCount must be greater than zero");
			return;
		}
		if (json_object_object_get_ex(cfg, "vmsPerNode", &v) &&
		    jsonutil_get_int(cfg, "vmsPerNode", 0, 1000, &n) != JSONUTIL_OK) {
			resp_error(r, 400, "invalid_field", "vmsPerNode cannot be negative");
			return;
		}
		if (json_object_object_get_ex(cfg, "lxcsPerNode", &v) &&
		    jsonutil_get_int(cfg, "lxcsPerNode", 0, 1000, &n) != JSONUTIL_OK) {
			resp_error(r, 400, "invalid_field", "lxcsPerNode cannot be negative");
			return;
		}
		if (json_object_object_get_ex(cfg, "stoppedPercent", &v) &&
		    (jsonutil_get_double(cfg, "stoppedPercent", &d) != JSONUTIL_OK || d < 0 || d > 1)) {
			resp_error(r, 400, "invalid_field", "stoppedPercent must be between 0 and 1");
			return;
		}
		if (json_object_object_get_ex(cfg, "randomMetrics", &v) &&
		    !json_object_is_type(v, json_type_boolean)) {
			resp_error(r, 400, "invalid_field", "randomMetrics must be true or false");
			return;
		}
		if (json_object_object_get_ex(cfg, "highLoadNodes", &v) && v != NULL) {
			int ok = json_object_is_type(v, json_type_array);
			for (size_t i = 0; ok && i < json_object_array_length(v); i++)
				ok = json_object_is_type(json_object_array_get_idx(v, i), json_type_string);
			if (!ok) {
				resp_error(r, 400, "invalid_field", "highLoadNodes must be a list of node names");
				return;
			}
		}
		{
			static const char *const keys[] = {"nodeCount", "vmsPerNode", "lxcsPerNode",
			    "stoppedPercent", "randomMetrics", "highLoadNodes"};
			for (size_t i = 0; i < ARRAY_LEN(keys); i++)
				if (json_object_object_get_ex(cfg, keys[i], &v))
					json_object_object_add(stored, keys[i], json_object_get(v));
		}
		if (mock_guests(stored) > MOCK_MAX_GUESTS) {
			resp_error(r, 400, "invalid_field", "nodeCount x (vmsPerNode + lxcsPerNode) must "
			    "not exceed %d guests", MOCK_MAX_GUESTS);
			return;
		}
		break;
	}
	params[0] = enabled ? "true" : "false";
	params[1] = jsonutil_to_string(stored, NULL);
	if (db_exec_stmt_ok(r->db, &stmt_mock_set, params) != 0) {
		resp_db_unavailable(r);
		return;
	}
	log_info("msg=\"mock mode set\" enabled=%s", enabled ? "true" : "false");
	answer_mock(r, enabled, params[1]);
}
