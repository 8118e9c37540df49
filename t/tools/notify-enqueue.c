/* notify-enqueue.c: a test tool (not installed) that queues notifications the way the
 * alert dispatch will: N rows of one type, a channel configuration and an alerts array, in
 * the database and with the secrets key of the settings file in $PULSE_CONFIG (or -c).
 * Prints the ids, one a line.
 *   notify-enqueue [-c pulse.conf] -t webhook -n 10 -C '{"name":..,"url":..}' -a '[{..}]'
 *     [-i channel_id]
 *   notify-enqueue [-c pulse.conf] -X alert_id    (the alert resolved: notify_queue_cancel_alert;
 *                                                  prints the rows changed)
 * In the alerts, "{n}" is replaced by the row's number (so alert ids can differ per row). */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "crypto.h"
#include "daemon.h"
#include "db.h"
#include "log.h"
#include "notify_queue.h"
#include "util.h"

static char *
numbered(const char *tpl, int n)
{
	struct strbuf sb = {0};
	const char *p = tpl, *hit;

	while ((hit = strstr(p, "{n}")) != NULL) {
		sb_append(&sb, p, (size_t)(hit - p));
		sb_printf(&sb, "%d", n);
		p = hit + 3;
	}
	sb_puts(&sb, p);
	return sb.data ? sb.data : xstrdup("");
}

int
main(int argc, char **argv)
{
	const char *config_path = getenv("PULSE_CONFIG"), *type = "webhook", *cfg = "{}";
	const char *alerts = "[]", *channel = "", *cancel = NULL;
	char err[512], id[128];
	struct db *db;
	long count = 1;
	int ch, rc = 0;

	while ((ch = getopt(argc, argv, "c:t:n:C:a:i:X:")) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 't': type = optarg; break;
		case 'n': count = strtol(optarg, NULL, 10); break;
		case 'C': cfg = optarg; break;
		case 'a': alerts = optarg; break;
		case 'i': channel = optarg; break;
		case 'X': cancel = optarg; break;
		default:
			fprintf(stderr, "usage: notify-enqueue [-c conf] -t type -n N -C config -a alerts "
			    "[-i channel]\n");
			return 2;
		}
	}
	log_init("notify-enqueue", LOGL_WARN);
	daemon_load_settings(config_path);
	if (secrets_init(conf_str("data_dir"), 0, err, sizeof(err)) != 0) {
		fprintf(stderr, "secrets key: %s\n", err);
		return 1;
	}
	db = db_new(conf_str("database_url"), "notify-enqueue", 5.0);
	if (db_ensure(db, 1) != 0) {
		fprintf(stderr, "database unreachable\n");
		db_free(db);
		return 1;
	}
	if (cancel) {
		int n = notify_queue_cancel_alert(db, cancel);
		printf("%d\n", n);
		db_free(db);
		return n < 0;
	}
	for (long i = 1; i <= count; i++) {
		char *a = numbered(alerts, (int)i);
		if (notify_queue_enqueue(db, type, channel, a, cfg, id, sizeof(id), err, sizeof(err)) != 0) {
			fprintf(stderr, "enqueue: %s\n", err);
			rc = 1;
			free(a);
			break;
		}
		printf("%s\n", id);
		free(a);
	}
	db_free(db);
	return rc;
}
