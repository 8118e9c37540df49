/* agent-alerts.c: a test tool (not installed) that stands in for the agents' ingestion
 * (issue 14): reads a host, Docker or Kubernetes report (a JSON file, or stdin for "-"),
 * parses it as the ingestion will (src/agent_alerts_json.c) and runs the worker's alert
 * evaluation of that agent (worker/alerts.c: evaluate, store, dispatch) against the
 * database of the settings file in $PULSE_CONFIG (or -c).
 *   agent-alerts [-c pulse.conf] -k host|docker|kubernetes [-o 0|1] [-t unix_time] file
 * -o 0 evaluates the report as an agent gone silent; -t is the evaluation time (default:
 * now). Prints the source evaluated. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_alerts_json.h"
#include "conf.h"
#include "crypto.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "util.h"
#include "worker.h"

static struct json_object *
read_report(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct strbuf sb = {0};
	char buf[8192];
	size_t n;
	struct json_object *o;

	if (f == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_append(&sb, buf, n);
	if (f != stdin)
		fclose(f);
	o = sb.data ? json_tokener_parse(sb.data) : NULL;
	free(sb.data);
	return o;
}

static int
evaluate(struct worker *w, const char *kind, struct json_object *report, int online,
    double now, char *source, size_t len)
{
	int rc = -1;

	if (strcmp(kind, "host") == 0) {
		struct agent_host h;
		if (agent_host_from_json(report, &h) == 0) {
			h.online = online;
			snprintf(source, len, "host:%s", h.id);
			rc = alerts_evaluate_host(w, &h, now);
			agent_host_free(&h);
		}
	} else if (strcmp(kind, "docker") == 0) {
		struct agent_docker d;
		if (agent_docker_from_json(report, &d) == 0) {
			d.online = online;
			snprintf(source, len, "docker:%s", d.id);
			rc = alerts_evaluate_docker(w, &d, now);
			agent_docker_free(&d);
		}
	} else if (strcmp(kind, "kubernetes") == 0) {
		struct agent_kubernetes k;
		if (agent_kubernetes_from_json(report, &k) == 0) {
			k.online = online;
			snprintf(source, len, "kubernetes:%s", k.id);
			rc = alerts_evaluate_kubernetes(w, &k, now);
			agent_kubernetes_free(&k);
		}
	}
	return rc;
}

int
main(int argc, char **argv)
{
	const char *config_path = getenv("PULSE_CONFIG"), *kind = "host";
	char err[512], source[300] = "";
	struct worker w;
	struct json_object *report;
	double now = clock_wall();
	int ch, online = 1, rc;

	while ((ch = getopt(argc, argv, "c:k:o:t:")) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 'k': kind = optarg; break;
		case 'o': online = strcmp(optarg, "0") != 0; break;
		case 't': now = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: agent-alerts [-c conf] -k host|docker|kubernetes "
			    "[-o 0|1] [-t time] file|-\n");
			return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "agent-alerts: one report file (or -) expected\n");
		return 2;
	}
	if ((report = read_report(argv[optind])) == NULL) {
		fprintf(stderr, "agent-alerts: %s: not JSON\n", argv[optind]);
		return 1;
	}
	log_init("agent-alerts", LOGL_WARN);
	daemon_load_settings(config_path);
	if (secrets_init(conf_str("data_dir"), 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "secrets key: %s\n", err);
		json_object_put(report);
		return 1;
	}
	memset(&w, 0, sizeof(w));
	w.db = db_new(conf_str("database_url"), "agent-alerts", 5.0);
	if (db_ensure(w.db, 1) != 0) {
		fprintf(stderr, "database unreachable\n");
		rc = 1;
		goto out;
	}
	rc = evaluate(&w, kind, report, online, now, source, sizeof(source)) != 0;
	if (rc)
		fprintf(stderr, "agent-alerts: %s report not evaluated (no identity, unknown kind "
		    "or a database error)\n", kind);
	else
		printf("%s\n", source);
out:
	db_free(w.db);
	json_object_put(report);
	return rc;
}
