/* api_system.c: GET /api/health, GET /api/version (state-proxmox.md §7), GET /api/agent/version
 * (agents.md §2), and mock mode (GET, POST and PUT /api/system/mock-mode, state-proxmox.md §6.1). */
#include "config.h"

#include "audit.h"
#include "handlers.h"
#include "agent_mock.h"
#include "conf.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "mockmode.h"
#include "responder.h"
#include "settings.h"
#include "update_version.h"
#include "updates.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Health asks the database at most this often; between probes it reports what the last
 * probe saw, so a load balancer polling health costs no query per request. */
#define HEALTH_PROBE_INTERVAL 1.0

enum probe_state { PROBE_NONE, PROBE_OK, PROBE_DOWN, PROBE_SCHEMA };

/* What the last probe saw. */
struct probe {
	double checked_at;	/* monotonic */
	time_t checked_wall;
	enum probe_state state;
	int schema_version;
	double latency_ms;
	int update_available;	/* from the last update check cached in the database */
	char latest_version[64];
};

static struct {
	pthread_mutex_t lock;
	struct probe last;
} health = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* What the last probe read of the update check, for /api/version: copied under a lock of
 * its own, held only for the copy, so that version never waits for a probe. */
static struct {
	pthread_mutex_t lock;
	int available;
	char latest[64];
} update_seen = {.lock = PTHREAD_MUTEX_INITIALIZER};

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
			version = db_value_int32(res, 0, 0);
			PQclear(res);
			state = version == responder_process.expected_schema ? PROBE_OK : PROBE_SCHEMA;
		} else if (strcmp(db_sqlstate(t->db), "42P01") == 0 ||
		    strcmp(db_sqlstate(t->db), "3F000") == 0) {
			version = 0;	/* no migration ran yet */
			state = PROBE_SCHEMA;
		}
		latency = (clock_monotonic() - start) * 1000.0;
	}
	/* What the last update check found, for /api/version and /api/health (§6.2): read
	 * with the probe, never a request to the feed. */
	if (state == PROBE_OK && updates_cached(t->db, &health.last.update_available,
	    health.last.latest_version, sizeof(health.last.latest_version)) < 0) {
		health.last.update_available = 0;
		health.last.latest_version[0] = '\0';
	}
	pthread_mutex_lock(&update_seen.lock);
	update_seen.available = health.last.update_available;
	memcpy(update_seen.latest, health.last.latest_version, sizeof(update_seen.latest));
	pthread_mutex_unlock(&update_seen.lock);
	health.last.state = state;
	health.last.schema_version = version;
	health.last.latency_ms = latency;
	health.last.checked_at = clock_monotonic();
	health.last.checked_wall = time(NULL);
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

/* The last probe, made again when older than HEALTH_PROBE_INTERVAL. */
static struct probe
probe_current(struct responder *t)
{
	struct probe p;

	/* One thread probes; the others report the previous result instead of queueing. */
	if (pthread_mutex_trylock(&health.lock) == 0) {
		if (health.last.state == PROBE_NONE ||
		    clock_monotonic() - health.last.checked_at >= HEALTH_PROBE_INTERVAL)
			probe_database(t);
	} else {
		pthread_mutex_lock(&health.lock);
	}
	p = health.last;
	pthread_mutex_unlock(&health.lock);
	return p;
}

void
api_health(struct request *r)
{
	struct json_object *obj = resp_object(r), *dbobj;
	struct probe p = probe_current(r->thread);

	jsonwrite_str(obj, "status", p.state == PROBE_OK ? "healthy" : "unhealthy");
	jsonwrite_int(obj, "timestamp", (int64_t)time(NULL));
	jsonwrite_num(obj, "uptime", clock_monotonic() - responder_process.started_monotonic);
	jsonwrite_bool(obj, "proxyInstallScriptAvailable", 0);
	jsonwrite_bool(obj, "updateAvailable", p.update_available);
	jsonwrite_opt_str(obj, "latestVersion", p.latest_version);
	dbobj = json_object_new_object();
	jsonwrite_str(dbobj, "status", probe_state_name(p.state));
	json_object_object_add(dbobj, "schemaVersion",
	    p.schema_version >= 0 ? json_object_new_int(p.schema_version) : NULL);
	jsonwrite_int(dbobj, "expectedSchemaVersion", responder_process.expected_schema);
	json_object_object_add(dbobj, "latencyMs", p.state == PROBE_DOWN ? NULL :
	    jsonutil_new_double((double)(int64_t)(p.latency_ms * 1000) / 1000));
	jsonwrite_int(dbobj, "checkedAt", (int64_t)p.checked_wall);
	json_object_object_add(obj, "database", dbobj);
	if (p.state != PROBE_OK)
		resp_header(r, "Retry-After", "5");
	resp_json(r, p.state == PROBE_OK ? 200 : 503, obj);
}

/* GET /api/version (§6.2): the build as update_version.c detected it, and what the last
 * update check cached in the database found (no request to the feed). */
void
api_version(struct request *r)
{
	const struct update_build *b = update_build_current();
	struct json_object *obj = resp_object(r);
	char latest[64];
	int available;

	/* Probes when no other thread is and the last one is stale, but not again and again
	 * while the database is down: version answers without it. */
	if (pthread_mutex_trylock(&health.lock) == 0) {
		double age = clock_monotonic() - health.last.checked_at;
		if (health.last.state == PROBE_NONE || (age >= HEALTH_PROBE_INTERVAL &&
		    (health.last.state != PROBE_DOWN || age >= 10 * HEALTH_PROBE_INTERVAL)))
			probe_database(r->thread);
		pthread_mutex_unlock(&health.lock);
	}
	pthread_mutex_lock(&update_seen.lock);
	available = update_seen.available;
	memcpy(latest, update_seen.latest, sizeof(latest));
	pthread_mutex_unlock(&update_seen.lock);

	jsonwrite_str(obj, "version", b->version);
	jsonwrite_str(obj, "buildTime", b->build);
	jsonwrite_str(obj, "build", b->build);
	jsonwrite_str(obj, "runtime", "c");
	jsonwrite_str(obj, "channel", b->channel);
	jsonwrite_bool(obj, "isDocker", b->docker);
	jsonwrite_bool(obj, "isSourceBuild", strcmp(b->deployment, "source") == 0);
	jsonwrite_bool(obj, "isDevelopment", strcmp(b->build, "development") == 0);
	jsonwrite_str(obj, "deploymentType", b->deployment);
	jsonwrite_bool(obj, "updateAvailable", available);
	jsonwrite_opt_str(obj, "latestVersion", latest);
	jsonwrite_bool(obj, "containerized", b->containerized);
	if (b->containerized) {
		char host[256] = "";
		if (gethostname(host, sizeof(host) - 1) == 0 && host[0])
			jsonwrite_str(obj, "containerId", host);
	}
	resp_json(r, 200, obj);
}

/* GET /api/agent/version (agents.md §2): the version agents compare with their own before
 * updating themselves: the server's, as /api/version gives it. */
void
api_agent_version(struct request *r)
{
	struct json_object *obj = resp_object(r);

	jsonwrite_str(obj, "version", update_build_current()->version);
	resp_json(r, 200, obj);
}

/* --- mock mode (state-proxmox.md §6.1) ------------------------------------------------ */

/* The response: PascalCase config keys, as the original sends them (its struct has no JSON
 * tags). Defaults fill what was never set. */
static void
answer_mock(struct request *r, int enabled, const char *config_text)
{
	char err[64];
	struct json_object *cfg = jsonutil_parse(config_text, strlen(config_text), err, sizeof(err));
	struct json_object *o = resp_object(r), *c = json_object_new_object(), *hl;
	int64_t v;
	double d;
	int b;
	static const struct { const char *in, *out; int64_t def; } ints[] = {
		{"nodeCount", "NodeCount", MOCKMODE_NODES}, {"vmsPerNode", "VMsPerNode", MOCKMODE_VMS_PER_NODE},
		{"lxcsPerNode", "LXCsPerNode", MOCKMODE_LXCS_PER_NODE}, {"dockerHostCount", "DockerHostCount", AGENT_MOCK_DOCKER_HOSTS},
		{"dockerContainersPerHost", "DockerContainersPerHost", AGENT_MOCK_CONTAINERS},
		{"genericHostCount", "GenericHostCount", AGENT_MOCK_HOSTS},
		{"k8sClusterCount", "K8sClusterCount", AGENT_MOCK_KUBE_CLUSTERS},
		{"k8sNodesPerCluster", "K8sNodesPerCluster", AGENT_MOCK_KUBE_NODES},
		{"k8sPodsPerCluster", "K8sPodsPerCluster", AGENT_MOCK_KUBE_PODS},
		{"k8sDeploymentsPerCluster", "K8sDeploymentsPerCluster", AGENT_MOCK_KUBE_DEPLOYMENTS},
	};

	if (cfg)
		req_json(r, cfg);
	for (size_t i = 0; i < ARRAY_LEN(ints); i++)
		jsonwrite_int(c, ints[i].out,
		    jsonutil_get_int(cfg, ints[i].in, 0, 1000000, &v) == JSONUTIL_OK ? v : ints[i].def);
	jsonwrite_bool(c, "RandomMetrics", jsonutil_get_bool(cfg, "randomMetrics", &b) == JSONUTIL_OK ? b : 1);
	json_object_object_add(c, "HighLoadNodes",
	    jsonutil_get_array(cfg, "highLoadNodes", &hl) == JSONUTIL_OK ? json_object_get(hl) : NULL);
	jsonwrite_num(c, "StoppedPercent", jsonutil_get_double(cfg, "stoppedPercent", &d) == JSONUTIL_OK ?
	    d : MOCKMODE_STOPPED_PERCENT);
	jsonwrite_bool(o, "enabled", enabled);
	json_object_object_add(o, "config", c);
	resp_json(r, 200, o);
}

/* The stored mock configuration, request-owned; NULL after answering 503. */
static struct json_object *
mock_config_read(struct request *r, int *enabled)
{
	char err[64], *text;
	struct json_object *stored;

	if (mockmode_read(r->db, enabled, &text) != 0) {
		resp_db_unavailable(r);
		return NULL;
	}
	stored = jsonutil_parse(text, strlen(text), err, sizeof(err));
	free(text);
	if (stored == NULL)
		stored = json_object_new_object();
	req_json(r, stored);
	return stored;
}

void
api_mock_mode_get(struct request *r)
{
	int enabled;
	struct json_object *stored = mock_config_read(r, &enabled);

	if (stored != NULL)
		answer_mock(r, enabled, jsonutil_to_string(stored, NULL));
}

void
api_mock_mode_set(struct request *r)
{
	struct json_object *body = req_body_object(r, 0), *stored, *changes;
	char err[128];
	const char *text;
	int enabled, stored_enabled, has_enabled;

	if (body == NULL)
		return;
	has_enabled = req_body_bool(r, body, "enabled", 0, &enabled);
	if (has_enabled < 0)
		return;
	stored = mock_config_read(r, &stored_enabled);
	if (stored == NULL)
		return;
	if (!has_enabled)
		enabled = stored_enabled;
	switch (jsonutil_get_object(body, "config", &changes)) {
	case JSONUTIL_WRONG_TYPE:
		resp_error(r, 400, "invalid_field", "config must be an object");
		return;
	case JSONUTIL_MISSING:
		break;
	case JSONUTIL_OK:
		/* Each given setting is checked, then replaces the stored one. */
		if (mockmode_config_merge(stored, changes, err, sizeof(err)) != 0) {
			resp_error(r, 400, "invalid_field", "%s", err);
			return;
		}
		break;
	}
	text = jsonutil_to_string(stored, NULL);
	if (mockmode_set(r->db, enabled, text) != 0) {
		resp_db_unavailable(r);
		return;
	}
	log_info("msg=\"mock mode set\" enabled=%s", enabled ? "true" : "false");
	audit_record(r->db, "settings_updated", r->auth.username, r->client_ip, r->raw_path, 1,
	    enabled ? "Mock mode enabled" : "Mock mode disabled");
	answer_mock(r, enabled, text);
}
