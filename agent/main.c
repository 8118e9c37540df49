/* main.c: pulse-agent, the host agent (agents.md §9): configuration, identity, the remote
 * configuration at start, the health server, and the report loop with its buffer. */
#include "config.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "http_client.h"
#include "log.h"
#include "util.h"

static volatile sig_atomic_t stop_requested;

static void
on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static const char *
env_get(const char *name)
{
	return getenv(name);
}

/* Sleeps until the monotonic time t, or until a stop signal. */
static void
sleep_until(double t)
{
	while (!stop_requested) {
		double left = t - clock_monotonic();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 0.5)
			left = 0.5;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
}

struct report_loop {
	struct agent_config *cfg;
	struct agent_collector collector;
	struct agent_outbox host;
	struct dockeragent *docker;	/* NULL when the Docker module is off or stopped */
	struct kubeagent *kube;		/* NULL when the Kubernetes module is off or stopped */
	char machine_id[128];
	const char *agent_id;
	int commands_enabled;
};

/* Whether name is an executable on PATH (Go's exec.LookPath, which the original's Docker
 * auto-enable asks). */
static int
on_path(const char *name)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path ? path : ""; *p; p = *end ? end + 1 : end) {
		char file[512];

		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		if (end > p && *p == '/') {
			snprintf(file, sizeof(file), "%.*s/%s", (int)(end - p), p, name);
			if (access(file, X_OK) == 0)
				return 1;
		}
	}
	return 0;
}

static void
run_loop(struct report_loop *l)
{
	double next = clock_monotonic();
	double sample = l->cfg->interval < 2 ? l->cfg->interval / 2 : 1.0;

	while (!stop_requested) {
		struct agent_report r = {0};

		r.agent_id = l->agent_id;
		r.version = PACKAGE_VERSION;
		r.interval_seconds = (int)lround(l->cfg->interval);
		r.commands_enabled = l->commands_enabled;
		r.report_ip = l->cfg->report_ip;
		r.tags = l->cfg->tags;
		r.ntags = l->cfg->ntags;
		snprintf(r.machine_id, sizeof(r.machine_id), "%s", l->machine_id);
		agent_collect(&l->collector, &r, sample);
		if (l->cfg->enable_host)
			agent_outbox_deliver(l->cfg, &l->host, agent_report_json(&r));
		if (l->docker && dockeragent_cycle(l->docker, &r) != 0) {
			dockeragent_free(l->docker);
			l->docker = NULL;
		}
		if (l->kube && kubeagent_cycle(l->kube) != 0) {
			kubeagent_free(l->kube);
			l->kube = NULL;
		}
		if (!l->cfg->enable_host && !l->docker && !l->kube) {
			log_info("no module is left running: exiting");
			stop_requested = 1;
		}
		agent_report_free(&r);
		next += l->cfg->interval;
		if (next < clock_monotonic())
			next = clock_monotonic() + l->cfg->interval;
		sleep_until(next);
	}
}

int
main(int argc, char **argv)
{
	struct report_loop loop = {0};
	struct agent_config cfg;
	struct sigaction sa = {0};
	enum log_level level;
	char err[256], hostname[256];
	int health_on = 0;

	log_init("pulse-agent", LOGL_INFO);
	if (agent_config_parse(&cfg, argc, argv, env_get, err, sizeof(err)) != 0) {
		fprintf(stderr, "pulse-agent: %s\n", err);
		return 2;
	}
	if (cfg.show_version) {
		printf("pulse-agent %s\n", PACKAGE_VERSION);
		agent_config_free(&cfg);
		return 0;
	}
	if (log_parse_level(cfg.log_level, &level) == 0)
		log_set_level(level);
	else
		log_warn("unknown log level level=%s, using info", cfg.log_level);
	for (size_t i = 0; i < cfg.nunsupported; i++)
		log_warn("flag accepted but not supported by this agent yet, ignored flag=--%s",
		    cfg.unsupported[i]);
	if (cfg.self_test) {
		log_info("self-test passed");
		agent_config_free(&cfg);
		return 0;
	}
	if (!cfg.docker_given && (on_path("docker") || on_path("podman"))) {
		cfg.enable_docker = 1;
		log_info("docker or podman found on PATH: the Docker module is on "
		    "(--enable-docker=false turns it off)");
	}
	if (!cfg.enable_host && !cfg.enable_docker && !cfg.enable_kubernetes) {
		log_error("the host, Docker and Kubernetes modules are disabled: nothing to do");
		agent_config_free(&cfg);
		return 1;
	}
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	agent_machine_id(loop.machine_id, sizeof(loop.machine_id));
	if (cfg.hostname && *cfg.hostname)
		snprintf(hostname, sizeof(hostname), "%s", cfg.hostname);
	else if (gethostname(hostname, sizeof(hostname)) != 0 || !*hostname)
		snprintf(hostname, sizeof(hostname), "unknown-host");
	hostname[sizeof(hostname) - 1] = '\0';
	loop.agent_id = cfg.agent_id && *cfg.agent_id ? cfg.agent_id :
	    *loop.machine_id ? loop.machine_id : hostname;
	loop.cfg = &cfg;
	loop.host.channel = (struct agent_channel){ "report", "/api/agents/host/report",
	    "pulse-host-agent/" PACKAGE_VERSION, "host-agent:report" };
	loop.host.stop = &stop_requested;
	loop.collector.cfg = &cfg;
	loop.commands_enabled = cfg.enable_commands;
	log_info("pulse-agent %s starting url=%s interval=%gs hostname=%s agent_id=%s",
	    PACKAGE_VERSION, cfg.url, cfg.interval, hostname, loop.agent_id);
	if (cfg.enable_commands)
		log_warn("--enable-commands: this agent runs no commands; it only reports the flag");

	int remote = agent_fetch_remote_config(&cfg, hostname, loop.agent_id);
	if (remote >= 0) {
		loop.commands_enabled = remote;
		log_info("remote config applied commandsEnabled=%s", remote ? "true" : "false");
	}
	/* A profile may have changed the log level (the interval is read by the loop). */
	if (log_parse_level(cfg.log_level, &level) == 0)
		log_set_level(level);
	agent_health_set_modules(cfg.enable_host, cfg.enable_docker, cfg.enable_kubernetes);
	if (*cfg.health_addr)
		health_on = agent_health_start(cfg.health_addr, PACKAGE_VERSION) == 0;
	if (cfg.enable_docker)
		loop.docker = dockeragent_new(&cfg, loop.agent_id, hostname, loop.machine_id,
		    &stop_requested);
	if (cfg.enable_kubernetes)
		loop.kube = kubeagent_new(&cfg, &stop_requested);
	agent_health_set_ready(1);

	run_loop(&loop);

	log_info("stopping buffered=%d", loop.host.buffer.count);
	dockeragent_free(loop.docker);
	kubeagent_free(loop.kube);
	if (health_on)
		agent_health_stop();
	agent_buffer_free(&loop.host.buffer);
	agent_http_close_all();
	agent_config_free(&cfg);
	return 0;
}
