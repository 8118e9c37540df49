/* test_agent_report.c: the agent's flags and environment and a profile's settings over them
 * (agent/config.c), the send buffer (agent/send.c) and the report's JSON shape
 * (agent/report.c). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "../../agent/agent.h"
#include "agent_alerts_json.h"
#include "tap.h"

static const char *const *test_env;

/* The environment of a test: NAME=value strings, NULL-terminated. */
static const char *
env_table(const char *name)
{
	size_t len = strlen(name);

	for (const char *const *e = test_env; e && *e; e++)
		if (strncmp(*e, name, len) == 0 && (*e)[len] == '=')
			return *e + len + 1;
	return NULL;
}

static int
parse(struct agent_config *cfg, const char *const *env, int argc, const char **argv, char *err,
    size_t errlen)
{
	test_env = env;
	return agent_config_parse(cfg, argc, (char **)argv, env_table, err, errlen);
}

static void
test_durations(void)
{
	double d = 0;

	ok(agent_parse_duration("30s", &d) == 0 && d == 30, "30s");
	ok(agent_parse_duration("1m30s", &d) == 0 && d == 90, "1m30s");
	ok(agent_parse_duration("500ms", &d) == 0 && d == 0.5, "500ms");
	ok(agent_parse_duration("1.5h", &d) == 0 && d == 5400, "1.5h");
	ok(agent_parse_duration("30", &d) == -1, "a bare number is not a Go duration");
	ok(agent_parse_duration("", &d) == -1, "empty");
	ok(agent_parse_duration("-5s", &d) == -1, "negative");
	ok(agent_parse_duration("5x", &d) == -1, "unknown unit");
	ok(agent_env_truthy("YES") && agent_env_truthy("on") && agent_env_truthy("1") &&
	    agent_env_truthy("y"), "truthy words");
	ok(!agent_env_truthy("false") && !agent_env_truthy("2") && !agent_env_truthy(NULL),
	    "anything else is false");
}

static void
test_config(void)
{
	struct agent_config cfg;
	char err[256];
	const char *env[] = { "PULSE_URL=https://pulse.example:7655///", "PULSE_TOKEN=envtok",
		"PULSE_INTERVAL=bogus", "PULSE_TAGS= a, b ,a,,c", "PULSE_INSECURE_SKIP_VERIFY=yes",
		"PULSE_ENABLE_DOCKER=true", "PULSE_HEALTH_ADDR=", NULL };
	const char *argv1[] = { "pulse-agent", NULL };
	const char *argv2[] = { "pulse-agent", "--token=flagtok", "-interval", "45s", "--tag", "x",
		"--tag=y,x", "--insecure=false", "--hostname", "h1", "--enable-kubernetes",
		"--kubeconfig", "/k", "--disk-exclude", "/mnt/*", NULL };
	const char *argv_bad[] = { "pulse-agent", "--nope", NULL };
	const char *argv_bad_dur[] = { "pulse-agent", "--token", "t", "--interval", "30", NULL };
	const char *argv_missing[] = { "pulse-agent", "--url", NULL };
	const char *argv_version[] = { "pulse-agent", "--version", NULL };
	const char *no_env[] = { "HOME=/nonexistent", NULL };

	ok(parse(&cfg, env, 1, argv1, err, sizeof(err)) == 0, "environment only");
	is_str(cfg.url, "https://pulse.example:7655", "trailing slashes trimmed");
	is_str(cfg.token, "envtok", "PULSE_TOKEN");
	ok(cfg.interval == 30, "an unparsable PULSE_INTERVAL is ignored");
	is_int(cfg.ntags, 3, "tags trimmed and deduplicated");
	ok(cfg.ntags == 3 && strcmp(cfg.tags[0], "a") == 0 && strcmp(cfg.tags[2], "c") == 0,
	    "tag order kept");
	is_int(cfg.insecure, 1, "PULSE_INSECURE_SKIP_VERIFY=yes");
	is_str(cfg.health_addr, ":9191", "an empty PULSE_HEALTH_ADDR leaves the default");
	ok(cfg.nunsupported == 0 && cfg.enable_docker == 1 && cfg.docker_given == 1,
	    "PULSE_ENABLE_DOCKER turns the Docker module on");
	is_str(cfg.docker_runtime, "auto", "--docker-runtime is auto by default");
	is_int(cfg.enable_host, 1, "host module on by default");
	agent_config_free(&cfg);

	ok(parse(&cfg, env, 15, argv2, err, sizeof(err)) == 0, "flags over the environment");
	is_str(cfg.token, "flagtok", "--token wins");
	ok(cfg.interval == 45, "-interval 45s (single dash, separate value)");
	ok(cfg.ntags == 2 && strcmp(cfg.tags[0], "x") == 0 && strcmp(cfg.tags[1], "y") == 0,
	    "--tag replaces PULSE_TAGS, repeated and CSV");
	is_int(cfg.insecure, 0, "--insecure=false");
	is_str(cfg.hostname, "h1", "--hostname");
	is_int(cfg.enable_kubernetes, 1, "--enable-kubernetes turns the Kubernetes module on");
	is_int(cfg.nunsupported, 1, "--kubeconfig noted as not supported");
	ok(cfg.nunsupported == 1 && strcmp(cfg.unsupported[0], "kubeconfig") == 0,
	    "the unsupported flag is kubeconfig");
	ok(cfg.ndisk_exclude == 1 && strcmp(cfg.disk_exclude[0], "/mnt/*") == 0, "--disk-exclude");
	agent_config_free(&cfg);

	ok(parse(&cfg, env, 2, argv_bad, err, sizeof(err)) == -1, "unknown flag refused");
	ok(strstr(err, "nope") != NULL, "the message names the flag");
	ok(parse(&cfg, env, 5, argv_bad_dur, err, sizeof(err)) == -1, "--interval 30 refused");
	ok(parse(&cfg, env, 2, argv_missing, err, sizeof(err)) == -1, "a flag without its value");
	ok(parse(&cfg, no_env, 2, argv_version, err, sizeof(err)) == 0 && cfg.show_version,
	    "--version needs no token");
	agent_config_free(&cfg);
	ok(parse(&cfg, no_env, 1, argv1, err, sizeof(err)) == -1 && strstr(err, "token"),
	    "no token: refused with a message");
	ok(strstr(err, "envtok") == NULL, "the message holds no token");
}

/* A profile's settings from the remote configuration over the flags (agents.md §7). */
static void
test_remote_settings(void)
{
	static const char *const env[] = {"PULSE_TOKEN=tok", NULL};
	static const char *argv[] = {"pulse-agent", "--interval", "30s"};
	struct agent_config cfg;
	struct json_object *s;
	char err[256];

	ok(parse(&cfg, env, 3, argv, err, sizeof(err)) == 0, "flags for the settings test");
	s = json_tokener_parse("{\"interval\":\"1m30s\",\"log_level\":\"debug\","
	    "\"report_ip\":\"10.0.0.5\",\"enable_docker\":true,\"enable_kubernetes\":true,"
	    "\"disable_ceph\":true,\"other\":1}");
	is_int(agent_config_apply_settings(&cfg, s), 4, "four settings this agent has applied");
	ok(cfg.interval == 90, "interval from a Go duration");
	is_str(cfg.log_level, "debug", "log level");
	is_str(cfg.report_ip, "10.0.0.5", "report ip");
	ok(cfg.enable_docker && cfg.docker_given, "enable_docker turns the Docker module on");
	json_object_put(s);
	s = json_tokener_parse("{\"interval\":45,\"enable_docker\":\"yes\",\"log_level\":7}");
	is_int(agent_config_apply_settings(&cfg, s), 1, "wrong types are left alone");
	ok(cfg.interval == 45, "interval as a number of seconds");
	json_object_put(s);
	s = json_tokener_parse("{\"interval\":\"30\"}");
	is_int(agent_config_apply_settings(&cfg, s), 0, "an interval without a unit is no duration");
	json_object_put(s);
	s = json_tokener_parse("{\"interval\":-5}");
	is_int(agent_config_apply_settings(&cfg, s), 0, "a negative interval is left alone");
	json_object_put(s);
	is_int(agent_config_apply_settings(&cfg, NULL), 0, "no settings");
	agent_config_free(&cfg);
}

static void
test_buffer(void)
{
	struct agent_buffer b = {0};
	char name[16];

	for (int i = 0; i < AGENT_BUFFER_MAX + 5; i++) {
		snprintf(name, sizeof(name), "r%d", i);
		agent_buffer_push(&b, strdup(name));
	}
	is_int(b.count, AGENT_BUFFER_MAX, "bounded at 60");
	is_int(b.dropped, 5, "the oldest dropped");
	is_str(agent_buffer_peek(&b), "r5", "oldest kept first");
	agent_buffer_pop(&b);
	is_str(agent_buffer_peek(&b), "r6", "FIFO");
	agent_buffer_free(&b);
	is_int(b.count, 0, "emptied");
	ok(agent_buffer_peek(&b) == NULL, "nothing left");
	agent_buffer_pop(&b);
}

static struct json_object *
path(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return v;
}

static void
test_report_json(void)
{
	struct agent_fs disk = { "/dev/sda2", "/", "ext4", 1000, 400, 550, 42.1 };
	struct agent_iface nic = { "eth0", "52:54:00:12:34:56", { "192.168.1.20/24" }, 1, 1000, 2000 };
	struct agent_kv temp = { "cpu_package", 48 };
	struct agent_smart_disk smart = { "sda", "X", "", "", "sata", 33, 1, 0 };
	char *tags[] = { "prod" };
	struct agent_report r = {
		.agent_id = "id-1", .version = "5.0.4", .interval_seconds = 30,
		.machine_id = "3f2a9c1e-0d4b-4c1a-9e77-51a2b3c4d5e6", .hostname = "nas01",
		.platform = "debian", .os_name = "debian", .os_version = "12", .kernel = "6.1.0",
		.arch = "x86_64", .cpu_count = 8, .uptime = 86400, .load = { 0.4, 0.3, 0.2 },
		.cpu_percent = 7.5,
		.mem = { 16777216000, 4194304000, 2097152000, 2147483648, 0, 25.0 },
		.disks = &disk, .ndisks = 1, .ifaces = &nic, .nifaces = 1,
		.sensors = { .temps = &temp, .ntemps = 1, .smart = &smart, .nsmart = 1 },
		.tags = tags, .ntags = 1, .timestamp = 1768212930.5,
	};
	char *text = agent_report_json(&r);
	struct json_object *o = json_tokener_parse(text), *v;

	ok(o != NULL, "the report is JSON");
	is_str(json_object_get_string(path(o, "agent", "type")), "unified", "agent.type unified");
	is_int(json_object_get_int(path(o, "agent", "intervalSeconds")), 30, "intervalSeconds");
	is_str(json_object_get_string(path(o, "host", "id")), r.machine_id, "host.id = machine id");
	is_str(json_object_get_string(path(o, "host", "machineId")), r.machine_id, "machineId");
	is_str(json_object_get_string(path(o, "host", "displayName")), "nas01", "displayName");
	is_int(json_object_array_length(path(o, "host", "loadAverage")), 3, "three load values");
	ok(json_object_get_double(path(o, "metrics", "cpuUsagePercent")) == 7.5, "cpu percent");
	v = path(o, "metrics", "memory");
	ok(json_object_get_int64(path(v, "totalBytes", NULL)) == 16777216000LL, "memory total");
	ok(path(v, "swapUsedBytes", NULL) == NULL, "a zero swapUsedBytes is omitted (omitempty)");
	v = json_object_array_get_idx(path(o, "disks", NULL), 0);
	is_str(json_object_get_string(path(v, "filesystem", NULL)), "ext4", "disk filesystem");
	is_str(json_object_get_string(path(v, "type", NULL)), "ext4", "disk type = fs type");
	ok(path(o, "diskIO", NULL) == NULL, "no diskIO: omitted");
	ok(path(o, "raid", NULL) == NULL, "no raid: omitted");
	v = json_object_array_get_idx(path(o, "network", NULL), 0);
	is_str(json_object_get_string(json_object_array_get_idx(path(v, "addresses", NULL), 0)),
	    "192.168.1.20/24", "CIDR address");
	ok(json_object_get_double(path(path(o, "sensors", "temperatureCelsius"), "cpu_package",
	    NULL)) == 48, "sensors.temperatureCelsius");
	v = json_object_array_get_idx(path(o, "sensors", "smart"), 0);
	is_str(json_object_get_string(path(v, "health", NULL)), "PASSED", "smart health");
	ok(path(v, "serial", NULL) == NULL, "an empty serial is omitted");
	is_str(json_object_get_string(path(o, "tags", NULL)), "[ \"prod\" ]", "tags");
	is_str(json_object_get_string(path(o, "timestamp", NULL)), "2026-01-12T10:15:30.5Z",
	    "timestamp RFC 3339 in UTC");
	json_object_put(o);
	free(text);

	memset(&r, 0, sizeof(r));
	r.agent_id = "a";
	text = agent_report_json(&r);
	o = json_tokener_parse(text);
	ok(path(o, "sensors", NULL) != NULL, "sensors always present");
	ok(path(o, "host", "hostname") != NULL, "host.hostname always present");
	ok(path(o, "disks", NULL) == NULL && path(o, "tags", NULL) == NULL, "empty lists omitted");
	json_object_put(o);
	free(text);
}

/* The server's reader of host reports (src/agent_alerts_json.c, what the alert checks see)
 * takes the agent's JSON as the agent meant it. */
static void
test_server_reads_it(void)
{
	struct agent_fs disk = { "/dev/sda2", "/srv", "xfs", 1000, 400, 550, 42.1 };
	struct agent_smart_disk smart = { "sdb", "Disk", "", "", "sata", 41, 1, 0 };
	struct agent_md_array md = { .device = "/dev/md1", .level = "raid5",
		.state = "clean, degraded, recovering", .total = 4, .active = 3, .working = 3,
		.failed = 1, .ndevices = 1, .rebuild_percent = 17.3,
		.devices = { { "/dev/sdc1", "faulty", -1 } } };
	struct agent_report r = {
		.agent_id = "agent-9", .machine_id = "mid-12345678", .hostname = "db1",
		.platform = "debian", .cpu_percent = 12.5,
		.mem = { .total = 1000, .used = 250, .free = 100, .usage = 25 },
		.disks = &disk, .ndisks = 1, .raid = &md, .nraid = 1,
		.sensors = { .smart = &smart, .nsmart = 1 }, .timestamp = 1768212930,
	};
	char *text = agent_report_json(&r);
	struct json_object *o = json_tokener_parse(text);
	struct agent_host h;

	is_int(agent_host_from_json(o, &h), 0, "the server's reader takes the report");
	is_str(h.id, "mid-12345678", "identity: host.id");
	is_str(h.hostname, "db1", "hostname");
	ok(h.cpu == 12.5 && h.memory == 25, "cpu and memory percent");
	ok(h.ndisks == 1 && strcmp(h.disks[0].mountpoint, "/srv") == 0 &&
	    h.disks[0].total == 1000 && h.disks[0].used == 400, "the filesystem");
	ok(h.nsmart == 1 && h.smart[0].temperature == 41, "the SMART temperature");
	ok(h.nraid == 1 && h.raid[0].failed_devices == 1 &&
	    strcmp(h.raid[0].state, "clean, degraded, recovering") == 0, "the md array");
	agent_host_free(&h);
	json_object_put(o);
	free(text);
}

static void
test_os_release(void)
{
	struct agent_report r = {0};

	agent_parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian\"\n"
	    "VERSION_ID=\"12\"\nID=Debian\n", &r);
	is_str(r.platform, "debian", "ID lowercased");
	is_str(r.os_name, "debian", "osName");
	is_str(r.os_version, "12", "VERSION_ID unquoted");
}

int
main(void)
{
	test_durations();
	test_config();
	test_remote_settings();
	test_buffer();
	test_report_json();
	test_server_reads_it();
	test_os_release();
	return done_testing();
}
