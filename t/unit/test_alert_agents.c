/* test_alert_agents.c: the agents' alert checks of src/alert_agents.c, each evaluation
 * applied to an in-memory "database" (alerts and pending entries) as alert_store would:
 * host offline and its switches, metrics, disks, SMART temperatures, RAID (Synology md0/md1
 * left out); Docker offline, container state/health/restart loop/OOM/memory limit/image
 * update, ignored prefixes, services; Kubernetes; the offline windows and sanitisers. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert_agents.h"
#include "alert_engine.h"
#include "alert_db.h"
#include "tap.h"

#define NOW 1767225600.0	/* 2026-01-01T00:00:00Z */

enum which { HOST, DOCKER, K8S };

static void
evaluate(const struct alert_config *c, enum which w, const void *src, double now)
{
	struct alert_eval e;

	alert_changes_free(&last);
	alert_eval_begin(&e, c, &db, now, &last);
	if (w == HOST)
		alert_eval_host(&e, src);
	else if (w == DOCKER)
		alert_eval_docker_host(&e, src);
	else
		alert_eval_kubernetes(&e, src);
	alert_eval_finish(&e);
	db_apply(&last);
}

static const struct alert_pending *
pending(const char *id)
{
	for (int k = 0; k < db.npending; k++)
		if (strcmp(db.pending[k].id, id) == 0)
			return &db.pending[k];
	return NULL;
}

static int
npending_prefix(const char *prefix)
{
	int n = 0;

	for (int k = 0; k < db.npending; k++)
		n += strncmp(db.pending[k].id, prefix, strlen(prefix)) == 0;
	return n;
}

static int
raised(const char *id)
{
	for (int i = 0; i < last.n; i++)
		if (last.v[i].kind == ALERT_RAISED && strcmp(last.v[i].alert.id, id) == 0)
			return 1;
	return 0;
}

/* The defaults without time thresholds: a metric alert is raised on its first sighting. */
static void
config(struct alert_config *c)
{
	alert_config_defaults(c);
	alert_config_normalize(c, NOW);
	c->time_threshold = 0;
	c->n_delays = 0;
	c->n_metric_delays = 0;
}

/* --- host ----------------------------------------------------------------------------- */

static struct agent_disk disks[3];
static struct agent_smart smart[2];
static struct agent_raid raid[3];

static void
host(struct agent_host *h)
{
	memset(h, 0, sizeof(*h));
	strcpy(h->id, "h1");
	strcpy(h->hostname, "nas01");
	strcpy(h->display_name, "nas01");
	strcpy(h->platform, "debian");
	h->online = 1;
	h->cpu = 10;
	h->memory = 20;
	memset(disks, 0, sizeof(disks));
	strcpy(disks[0].mountpoint, "/");
	strcpy(disks[0].device, "/dev/sda2");
	disks[0].total = 100;
	disks[0].used = 40;
	disks[0].usage = 40;
	strcpy(disks[1].mountpoint, "/srv/Data");
	strcpy(disks[1].device, "/dev/sdb1");
	disks[1].total = 1000;
	disks[1].used = 970;		/* usage from used / total: 97 % */
	h->disks = disks;
	h->ndisks = 2;
	memset(smart, 0, sizeof(smart));
	strcpy(smart[0].device, "sda");
	smart[0].temperature = 40;
	strcpy(smart[1].device, "sdb");
	smart[1].temperature = 0;
	h->smart = smart;
	h->nsmart = 2;
	memset(raid, 0, sizeof(raid));
	strcpy(raid[0].device, "/dev/md2");
	strcpy(raid[0].level, "raid1");
	strcpy(raid[0].state, "clean");
	h->raid = raid;
	h->nraid = 1;
}

static void
test_host(void)
{
	struct alert_config c;
	struct agent_host h;
	const struct alert *a;

	config(&c);
	db_reset();
	host(&h);
	evaluate(&c, HOST, &h, NOW);
	a = active("host:h1/disk:srv-data-disk");
	ok(a != NULL, "full disk: host:h1/disk:srv-data-disk");
	if (a) {
		is_str(a->type, "disk", "type disk");
		is_str(a->level, "warning", "97 %% < 90 + 10: warning");
		is_str(a->message, "Host Disk disk at 97.0%", "message");
		is_str(a->resource_id, "host:h1/disk:srv-data", "resourceId");
	}
	ok(active("host:h1/disk:root-disk") == NULL, "40 %% root: nothing");
	is_int(db.nalerts, 1, "one alert");

	/* a hot SMART disk, a degraded and a rebuilding array, cpu and memory high */
	smart[0].temperature = 70;
	strcpy(raid[0].state, "active, degraded");
	raid[0].failed_devices = 1;
	strcpy(raid[1].device, "/dev/md3");
	strcpy(raid[1].level, "raid5");
	strcpy(raid[1].state, "active, recovering");
	raid[1].rebuild_percent = 42.5;
	h.nraid = 2;
	h.cpu = 95;
	h.memory = 86;
	evaluate(&c, HOST, &h, NOW + 10);
	a = active("host:h1/disk_temp:sda-diskTemperature");
	ok(a != NULL, "hot SMART disk alert");
	if (a) {
		is_str(a->level, "critical", "70 >= 55 + 10: critical");
		is_str(a->message, "Host Disk diskTemperature at 70.0°C", "temperature message");
	}
	a = active("host-h1-raid-md2");
	ok(a != NULL, "degraded md2");
	if (a) {
		is_str(a->type, "raid", "type raid");
		is_str(a->level, "critical", "degraded: critical");
		ok(strstr(a->message, "degraded") != NULL, "message says degraded: %s", a->message);
		is_str(a->resource_name, "nas01 - /dev/md2 (raid1)", "resourceName");
	}
	a = active("host-h1-raid-md3");
	ok(a && strcmp(a->level, "warning") == 0, "recovering md3: warning");
	ok(active("host:h1-cpu") && strcmp(active("host:h1-cpu")->level, "critical") == 0,
	    "cpu 95 >= 90: critical");
	ok(active("host:h1-memory") != NULL, "memory 86 >= 85");

	/* the standby disk and a disk no longer reported resolve */
	smart[0].standby = 1;
	h.ndisks = 1;
	evaluate(&c, HOST, &h, NOW + 20);
	ok(active("host:h1/disk_temp:sda-diskTemperature") == NULL, "standby: resolved");
	ok(active("host:h1/disk:srv-data-disk") == NULL, "disk gone: resolved");
	ok(active("host-h1-raid-md2") != NULL, "RAID stays");

	/* offline: counted 3 times, nothing else moves */
	h.online = 0;
	evaluate(&c, HOST, &h, NOW + 30);
	ok(pending("host-offline-h1") && pending("host-offline-h1")->count == 1, "offline 1");
	ok(active("host-h1-raid-md2") != NULL, "offline: the rest stays");
	evaluate(&c, HOST, &h, NOW + 40);
	ok(active("host-offline-h1") == NULL, "offline 2: not yet");
	evaluate(&c, HOST, &h, NOW + 50);
	a = active("host-offline-h1");
	ok(a != NULL, "offline 3: host-offline");
	if (a) {
		is_str(a->level, "critical", "critical");
		is_str(a->message, "Host 'nas01' is offline", "offline message");
		is_str(a->resource_id, "host:h1", "resourceId host:h1");
	}
	ok(active("host:h1-cpu") != NULL, "cpu alert kept while offline");

	/* back: offline resolves; healthy values resolve the rest */
	host(&h);
	h.ndisks = 1;
	evaluate(&c, HOST, &h, NOW + 60);
	is_int(db.nalerts, 0, "recovered: nothing active");
	is_int(db.npending, 0, "no pending");

	/* the switches: an active offline alert resolves, the rest stays */
	h.online = 0;
	for (int i = 0; i < 3; i++)
		evaluate(&c, HOST, &h, NOW + 70 + i);
	ok(active("host-offline-h1") != NULL, "offline again");
	h.cpu = 99;
	c.disable_all_hosts_offline = 1;
	evaluate(&c, HOST, &h, NOW + 80);
	ok(active("host-offline-h1") == NULL, "disableAllHostsOffline: resolved");
	h.online = 1;
	evaluate(&c, HOST, &h, NOW + 85);
	ok(active("host:h1-cpu") != NULL, "cpu alert");
	h.online = 0;
	evaluate(&c, HOST, &h, NOW + 90);
	ok(active("host:h1-cpu") != NULL, "offline: kept");
	for (int i = 0; i < 4; i++)
		evaluate(&c, HOST, &h, NOW + 100 + i * 10);
	ok(active("host-offline-h1") == NULL, "disableAllHostsOffline: no alert");
	c.disable_all_hosts_offline = 0;
	c.overrides = calloc(1, sizeof(*c.overrides));
	c.n_overrides = 1;
	strcpy(c.overrides[0].resource_id, "h1");	/* the bare host id */
	c.overrides[0].t.disable_connectivity = 1;
	for (int i = 0; i < 4; i++)
		evaluate(&c, HOST, &h, NOW + 200 + i * 10);
	ok(active("host-offline-h1") == NULL, "override disableConnectivity: no alert");
	c.overrides[0].t.disable_connectivity = 0;
	for (int i = 0; i < 3; i++)
		evaluate(&c, HOST, &h, NOW + 300 + i * 10);
	ok(active("host-offline-h1") != NULL, "without it: host-offline");

	/* alerts off: nothing evaluated, nothing cleared */
	c.enabled = 0;
	host(&h);
	evaluate(&c, HOST, &h, NOW + 400);
	ok(active("host-offline-h1") != NULL, "disabled alerts: nothing resolves");
	alert_config_free(&c);
	db_reset();
}

static void
test_raid_keys(void)
{
	struct agent_host h;
	struct agent_raid r = {0};
	char key[64];

	alert_agent_raid_key("/dev/md0", key, sizeof(key));
	is_str(key, "md0", "/dev/ stripped");
	alert_agent_raid_key("/dev/md/Data_1", key, sizeof(key));
	is_str(key, "md-data-1", "runs of others: one dash, lower case");
	alert_agent_raid_key("/dev/", key, sizeof(key));
	is_str(key, "unknown", "nothing left: unknown");
	alert_key("/", key, sizeof(key));
	is_str(key, "root", "alert_key: / is root");

	host(&h);
	strcpy(r.device, "/dev/md0");
	ok(!alert_agent_raid_ignored(&h, &r), "md0 on Debian: judged");
	strcpy(h.platform, "Synology");
	ok(alert_agent_raid_ignored(&h, &r), "md0 on Synology: ignored");
	strcpy(r.device, "md1");
	ok(alert_agent_raid_ignored(&h, &r), "md1 on Synology: ignored");
	strcpy(r.device, "/dev/md2");
	ok(!alert_agent_raid_ignored(&h, &r), "md2 on Synology: judged");
	strcpy(h.platform, "linux");
	strcpy(h.os_version, "DSM 7.2");
	strcpy(r.device, "/dev/md1");
	ok(alert_agent_raid_ignored(&h, &r), "DSM in the OS version: ignored");

	is_int(alert_agent_offline_window(AGENT_HOST, 30), 180, "host 30 s: 180 s");
	is_int(alert_agent_offline_window(AGENT_HOST, 0), 360, "host default 60 s: 360 s");
	is_int(alert_agent_offline_window(AGENT_HOST, 5), 60, "host clamp 60");
	is_int(alert_agent_offline_window(AGENT_HOST, 500), 600, "host clamp 600");
	is_int(alert_agent_offline_window(AGENT_DOCKER, 30), 120, "docker 30 s: 120 s");
	is_int(alert_agent_offline_window(AGENT_DOCKER, 5), 30, "docker clamp 30");
	is_int(alert_agent_offline_window(AGENT_KUBERNETES, -1), 120, "k8s default 30 s: 120");
	is_int(alert_agent_offline_window(AGENT_KUBERNETES, 1000), 600, "k8s clamp 600");
}

/* --- Docker ------------------------------------------------------------------------------ */

static struct agent_container cts[4];
static struct agent_service svcs[1];

static void
docker(struct agent_docker *d)
{
	memset(d, 0, sizeof(*d));
	strcpy(d->id, "d1");
	strcpy(d->hostname, "dock1");
	strcpy(d->display_name, "dock1");
	d->online = 1;
	memset(cts, 0, sizeof(cts));
	for (int i = 0; i < 4; i++) {
		snprintf(cts[i].id, sizeof(cts[i].id), "c%d", i);
		snprintf(cts[i].name, sizeof(cts[i].name), "/app%d", i);
		strcpy(cts[i].state, "running");
		strcpy(cts[i].status, "Up 1 hour");
		cts[i].cpu = 1;
		cts[i].memory_percent = 1;
	}
	d->containers = cts;
	d->ncontainers = 4;
	memset(svcs, 0, sizeof(svcs));
	strcpy(svcs[0].id, "s1");
	strcpy(svcs[0].name, "web");
	svcs[0].desired_tasks = 4;
	svcs[0].running_tasks = 4;
	d->services = svcs;
	d->nservices = 1;
}

static void
test_docker_state(void)
{
	struct alert_config c;
	struct agent_docker d;
	const struct alert *a;

	config(&c);
	db_reset();
	docker(&d);
	evaluate(&c, DOCKER, &d, NOW);
	is_int(db.nalerts, 0, "healthy host: nothing");
	ok(pending("docker-restart-base-docker:d1/c0") != NULL, "restart baseline recorded");

	strcpy(cts[0].state, "exited");
	strcpy(cts[0].status, "Exited (1) 5 seconds ago");
	cts[0].exit_code = 1;
	strcpy(cts[1].health, "unhealthy");
	strcpy(cts[2].health, "weird");
	evaluate(&c, DOCKER, &d, NOW + 10);
	ok(active("docker-container-state-docker:d1/c0") == NULL, "exited once: not yet");
	a = active("docker-container-health-docker:d1/c1");
	ok(a && strcmp(a->level, "critical") == 0, "unhealthy: critical");
	if (a)
		is_str(a->message, "Docker container 'app1' health is unhealthy", "health message");
	a = active("docker-container-health-docker:d1/c2");
	ok(a && strcmp(a->level, "warning") == 0, "other health: warning");
	evaluate(&c, DOCKER, &d, NOW + 20);
	a = active("docker-container-state-docker:d1/c0");
	ok(a != NULL, "exited twice: state alert");
	if (a) {
		is_str(a->level, "warning", "default severity warning");
		is_str(a->message, "Docker container 'app0' is Exited (1) 5 seconds ago", "message");
		is_str(a->instance, "Docker:dock1", "instance Docker:<name>");
		is_str(a->resource_id, "docker:d1/c0", "resourceId");
	}
	ok(active("docker-container-oom-docker:d1/c0") == NULL, "exit 1: no OOM");

	/* statePoweredOffSeverity, and an override's poweredOffSeverity that wins */
	db_reset();
	strcpy(c.docker.state_powered_off_severity, "critical");
	evaluate(&c, DOCKER, &d, NOW + 30);
	evaluate(&c, DOCKER, &d, NOW + 40);
	a = active("docker-container-state-docker:d1/c0");
	ok(a && strcmp(a->level, "critical") == 0, "statePoweredOffSeverity critical");
	db_reset();
	c.overrides = calloc(1, sizeof(*c.overrides));
	c.n_overrides = 1;
	strcpy(c.overrides[0].resource_id, "docker:d1/c0");
	strcpy(c.overrides[0].t.powered_off_severity, "warning");
	evaluate(&c, DOCKER, &d, NOW + 50);
	evaluate(&c, DOCKER, &d, NOW + 60);
	a = active("docker-container-state-docker:d1/c0");
	ok(a && strcmp(a->level, "warning") == 0, "override poweredOffSeverity wins");
	/* stateDisableConnectivity, re-enabled by the override */
	db_reset();
	c.docker.state_disable_connectivity = 1;
	evaluate(&c, DOCKER, &d, NOW + 70);
	evaluate(&c, DOCKER, &d, NOW + 80);
	ok(active("docker-container-state-docker:d1/c0") != NULL,
	    "override without disableConnectivity re-enables");
	c.n_overrides = 0;
	evaluate(&c, DOCKER, &d, NOW + 90);
	ok(active("docker-container-state-docker:d1/c0") == NULL,
	    "stateDisableConnectivity: resolved");
	c.docker.state_disable_connectivity = 0;

	/* ignored prefixes (any case, name or id) */
	c.docker_ignored_prefixes.v = calloc(1, sizeof(*c.docker_ignored_prefixes.v));
	c.docker_ignored_prefixes.n = 1;
	strcpy(c.docker_ignored_prefixes.v[0], "APP1");
	evaluate(&c, DOCKER, &d, NOW + 100);
	ok(active("docker-container-health-docker:d1/c1") == NULL, "ignored prefix: resolved");
	ok(pending("docker-restart-base-docker:d1/c1") == NULL, "ignored: tracking dropped");
	ok(active("docker-container-health-docker:d1/c2") != NULL, "others stay");

	/* offline: 3 evaluations, then the containers' alerts resolve */
	d.online = 0;
	evaluate(&c, DOCKER, &d, NOW + 110);
	evaluate(&c, DOCKER, &d, NOW + 120);
	ok(active("docker-container-health-docker:d1/c2") != NULL, "offline 2: kept");
	evaluate(&c, DOCKER, &d, NOW + 130);
	a = active("docker-host-offline-d1");
	ok(a != NULL, "offline 3: docker-host-offline");
	if (a)
		is_str(a->message, "Docker host 'dock1' is offline", "offline message");
	is_int(db.nalerts, 1, "only the offline alert is left");
	c.disable_all_docker_hosts_offline = 1;
	evaluate(&c, DOCKER, &d, NOW + 140);
	ok(active("docker-host-offline-d1") == NULL, "disableAllDockerHostsOffline: resolved");
	alert_config_free(&c);
	db_reset();
}

static void
test_docker_restarts(void)
{
	struct alert_config c;
	struct agent_docker d;
	const struct alert *a;
	double t = NOW;

	config(&c);
	db_reset();
	docker(&d);
	d.ncontainers = 1;
	cts[0].restart_count = 10;
	evaluate(&c, DOCKER, &d, t);
	ok(pending("docker-restart-base-docker:d1/c0")->count == 10, "baseline 10");
	cts[0].restart_count = 12;
	evaluate(&c, DOCKER, &d, t += 60);
	is_int(npending_prefix("docker-restarts-docker:d1/c0-"), 1, "one sighting");
	ok(active("docker-container-restart-loop-docker:d1/c0") == NULL, "2 restarts: no loop");
	cts[0].restart_count = 14;
	evaluate(&c, DOCKER, &d, t += 60);
	a = active("docker-container-restart-loop-docker:d1/c0");
	ok(a != NULL, "4 > 3 restarts in 5 minutes: loop");
	if (a) {
		is_str(a->level, "critical", "critical");
		is_str(a->message, "Docker container 'app0' has restarted 4 times in the last 5 "
		    "minutes (restart loop detected)", "loop message");
	}
	/* the window passes: the first sighting (t - 60) expires at t + 240 */
	evaluate(&c, DOCKER, &d, t + 239);
	ok(active("docker-container-restart-loop-docker:d1/c0") != NULL, "within window: kept");
	evaluate(&c, DOCKER, &d, t + 241);
	ok(active("docker-container-restart-loop-docker:d1/c0") == NULL,
	    "first sighting expired: 2 left, resolved");
	is_int(npending_prefix("docker-restarts-docker:d1/c0-"), 1, "expired sighting dropped");

	/* at most 32 sightings: the oldest fold into the next */
	t += 1000;
	for (int i = 0; i < 40; i++) {
		cts[0].restart_count++;
		evaluate(&c, DOCKER, &d, t += 1);
	}
	is_int(npending_prefix("docker-restarts-docker:d1/c0-"), AGENT_RESTART_ENTRIES,
	    "bounded at 32 sightings");
	{
		int sum = 0;
		for (int k = 0; k < db.npending; k++)
			if (strncmp(db.pending[k].id, "docker-restarts-docker:d1/c0-", 29) == 0)
				sum += db.pending[k].count;
		is_int(sum, 40, "no restart lost in the fold");
	}
	ok(active("docker-container-restart-loop-docker:d1/c0") != NULL, "looping");
	alert_config_free(&c);
	db_reset();
}

static void
test_docker_oom_memory_update(void)
{
	struct alert_config c;
	struct agent_docker d;
	const struct alert *a;

	config(&c);
	db_reset();
	docker(&d);
	d.ncontainers = 2;
	strcpy(cts[0].state, "exited");
	cts[0].exit_code = 137;
	evaluate(&c, DOCKER, &d, NOW);
	a = active("docker-container-oom-docker:d1/c0");
	ok(a != NULL, "exit 137: OOM");
	if (a) {
		is_str(a->type, "docker-container-oom-kill", "type");
		is_str(a->level, "critical", "critical");
	}
	evaluate(&c, DOCKER, &d, NOW + 10);
	ok(active("docker-container-oom-docker:d1/c0") != NULL, "still exited 137: kept");
	strcpy(cts[0].state, "running");
	cts[0].exit_code = 0;
	evaluate(&c, DOCKER, &d, NOW + 20);
	ok(active("docker-container-oom-docker:d1/c0") == NULL, "running: resolved");
	ok(pending("docker-exit-docker:d1/c0") == NULL, "exit 0: record dropped");
	/* one-shot: 137 seen before the alert was resolved by hand does not raise again */
	strcpy(cts[0].state, "exited");
	cts[0].exit_code = 137;
	evaluate(&c, DOCKER, &d, NOW + 30);
	ok(active("docker-container-oom-docker:d1/c0") != NULL, "a new OOM after running");
	db_remove_alert("docker-container-oom-docker:d1/c0");	/* cleared by a user */
	alert_prev_index(&db);
	evaluate(&c, DOCKER, &d, NOW + 40);
	ok(active("docker-container-oom-docker:d1/c0") == NULL,
	    "one-shot: the same exit does not raise again");

	/* memory limit: 90 warn, 95 critical, clear below 85 */
	db_reset();
	docker(&d);
	d.ncontainers = 1;
	cts[0].memory_limit = 1000 * 1048576LL;
	cts[0].memory_usage = 920 * 1048576LL;
	evaluate(&c, DOCKER, &d, NOW);
	a = active("docker-container-memory-limit-docker:d1/c0");
	ok(a && strcmp(a->level, "warning") == 0, "92 %%: warning");
	if (a)
		is_str(a->message, "Docker container 'app0' is using 92.0% of its memory limit "
		    "(920 MB / 1000 MB)", "memory limit message");
	cts[0].memory_usage = 960 * 1048576LL;
	evaluate(&c, DOCKER, &d, NOW + 10);
	a = active("docker-container-memory-limit-docker:d1/c0");
	ok(a && strcmp(a->level, "critical") == 0, "96 %%: critical");
	cts[0].memory_usage = 860 * 1048576LL;
	evaluate(&c, DOCKER, &d, NOW + 20);
	a = active("docker-container-memory-limit-docker:d1/c0");
	ok(a && strcmp(a->level, "critical") == 0, "86 %% (>= warn - 5): kept as it was");
	cts[0].memory_usage = 850 * 1048576LL;
	evaluate(&c, DOCKER, &d, NOW + 30);
	ok(active("docker-container-memory-limit-docker:d1/c0") != NULL, "85 %% = warn - 5: kept");
	cts[0].memory_usage = 849 * 1048576LL;
	evaluate(&c, DOCKER, &d, NOW + 40);
	ok(active("docker-container-memory-limit-docker:d1/c0") == NULL, "84.9 %%: resolved");

	/* image update: 24 h by default, first sighting kept */
	db_reset();
	cts[0].has_update_status = 1;
	cts[0].update_available = 1;
	evaluate(&c, DOCKER, &d, NOW);
	ok(pending("docker-update-seen-docker:d1/c0") != NULL, "first sighting recorded");
	evaluate(&c, DOCKER, &d, NOW + 23 * 3600);
	ok(active("docker-container-update-docker:d1/c0") == NULL, "23 h: not yet");
	ok(pending("docker-update-seen-docker:d1/c0")->first_seen == NOW, "first sighting kept");
	strcpy(cts[0].update_error, "rate limited");
	evaluate(&c, DOCKER, &d, NOW + 23.5 * 3600);
	ok(pending("docker-update-seen-docker:d1/c0") != NULL, "check failed: sighting stays");
	cts[0].update_error[0] = '\0';
	evaluate(&c, DOCKER, &d, NOW + 24 * 3600);
	a = active("docker-container-update-docker:d1/c0");
	ok(a != NULL, "24 h: update alert");
	if (a) {
		is_str(a->level, "warning", "warning");
		is_str(a->message, "Docker container 'app0' has an image update available for 24 "
		    "hours", "update message");
		ok(a->start_time == NOW, "startTime is the first sighting");
	}
	cts[0].update_available = 0;
	evaluate(&c, DOCKER, &d, NOW + 25 * 3600);
	ok(active("docker-container-update-docker:d1/c0") == NULL, "no update: resolved");
	ok(pending("docker-update-seen-docker:d1/c0") == NULL, "sighting dropped");
	/* a negative delay disables; 0 is 24 h */
	cts[0].update_available = 1;
	c.docker.update_alert_delay_hours = -1;
	evaluate(&c, DOCKER, &d, NOW + 26 * 3600);
	evaluate(&c, DOCKER, &d, NOW + 60 * 3600);
	ok(active("docker-container-update-docker:d1/c0") == NULL, "negative: never");
	ok(pending("docker-update-seen-docker:d1/c0") == NULL, "negative: not tracked");
	c.docker.update_alert_delay_hours = 0;
	evaluate(&c, DOCKER, &d, NOW + 61 * 3600);
	evaluate(&c, DOCKER, &d, NOW + 84 * 3600);
	ok(active("docker-container-update-docker:d1/c0") == NULL, "0: 23 h is not enough");
	evaluate(&c, DOCKER, &d, NOW + 85 * 3600);
	ok(active("docker-container-update-docker:d1/c0") != NULL, "0: 24 h");

	/* container metrics: disk from writable layer / root FS */
	db_reset();
	docker(&d);
	d.ncontainers = 1;
	cts[0].cpu = 99;
	cts[0].writable_layer = 90;
	cts[0].root_filesystem = 100;
	evaluate(&c, DOCKER, &d, NOW);
	a = active("docker:d1/c0-cpu");
	ok(a != NULL, "container cpu");
	if (a)
		is_str(a->message, "Docker Container cpu at 99.0%", "cpu message");
	ok(active("docker:d1/c0-disk") != NULL, "container disk 90 %%");
	strcpy(cts[0].state, "paused");
	evaluate(&c, DOCKER, &d, NOW + 10);
	ok(active("docker:d1/c0-cpu") == NULL, "not running: metric alerts resolve");
	alert_config_free(&c);
	db_reset();
}

static void
test_services_kubernetes(void)
{
	struct alert_config c;
	struct agent_docker d;
	struct agent_kubernetes k;
	struct agent_deployment dp[2];
	const struct alert *a;

	config(&c);
	db_reset();
	docker(&d);
	d.ncontainers = 0;
	svcs[0].running_tasks = 3;		/* 25 % missing: warning (10) */
	evaluate(&c, DOCKER, &d, NOW);
	a = active("docker-service-health-docker:d1/service/s1");
	ok(a && strcmp(a->level, "warning") == 0, "25 %% missing: warning");
	if (a)
		is_str(a->message, "Docker service 'web' is running 3 of 4 desired tasks",
		    "service message");
	svcs[0].running_tasks = 1;
	evaluate(&c, DOCKER, &d, NOW + 10);
	a = active("docker-service-health-docker:d1/service/s1");
	ok(a && strcmp(a->level, "critical") == 0, "75 %% missing: critical");
	svcs[0].running_tasks = 4;
	strcpy(svcs[0].update_state, "rollback_failed");
	evaluate(&c, DOCKER, &d, NOW + 20);
	a = active("docker-service-health-docker:d1/service/s1");
	ok(a && strcmp(a->level, "critical") == 0, "rollback_failed: critical");
	strcpy(svcs[0].update_state, "completed");
	evaluate(&c, DOCKER, &d, NOW + 30);
	ok(active("docker-service-health-docker:d1/service/s1") == NULL, "healthy: resolved");
	svcs[0].running_tasks = 0;
	c.disable_all_docker_services = 1;
	evaluate(&c, DOCKER, &d, NOW + 40);
	ok(db.nalerts == 0, "disableAllDockerServices");

	db_reset();
	memset(&k, 0, sizeof(k));
	memset(dp, 0, sizeof(dp));
	strcpy(k.id, "k1");
	strcpy(k.name, "prod");
	k.online = 1;
	strcpy(dp[0].namespace_, "default");
	strcpy(dp[0].name, "api");
	dp[0].desired = 3;
	dp[0].available = 1;
	strcpy(dp[1].namespace_, "kube-system");
	strcpy(dp[1].name, "dns");
	dp[1].desired = 2;
	dp[1].available = 0;
	k.deployments = dp;
	k.ndeployments = 2;
	evaluate(&c, K8S, &k, NOW);
	a = active("kubernetes-deployment-kubernetes:k1/deployment/default/api");
	ok(a && strcmp(a->level, "warning") == 0, "1 of 3: warning");
	if (a)
		is_str(a->message, "Kubernetes deployment 'default/api' has 1 of 3 replicas "
		    "available", "deployment message");
	a = active("kubernetes-deployment-kubernetes:k1/deployment/kube-system/dns");
	ok(a && strcmp(a->level, "critical") == 0, "0 of 2: critical");
	k.online = 0;
	evaluate(&c, K8S, &k, NOW + 10);
	evaluate(&c, K8S, &k, NOW + 20);
	ok(active("kubernetes-cluster-offline-k1") == NULL, "offline 2: not yet");
	evaluate(&c, K8S, &k, NOW + 30);
	ok(raised("kubernetes-cluster-offline-k1"), "offline 3: raised");
	a = active("kubernetes-cluster-offline-k1");
	if (a)
		is_str(a->message, "Kubernetes cluster 'prod' is offline", "k8s offline message");
	is_int(db.nalerts, 3, "deployments kept while offline");
	k.online = 1;
	dp[0].available = 3;
	dp[1].available = 2;
	evaluate(&c, K8S, &k, NOW + 40);
	is_int(db.nalerts, 0, "recovered");
	alert_config_free(&c);
	db_reset();
}

int
main(void)
{
	test_raid_keys();
	test_host();
	test_docker_state();
	test_docker_restarts();
	test_docker_oom_memory_update();
	test_services_kubernetes();
	return done_testing();
}
