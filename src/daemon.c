/* daemon.c: the start of each of our programs (see daemon.h). */
#include "config.h"

#include "daemon.h"
#include "conf.h"
#include "log.h"

#include <errno.h>
#include <string.h>

void
daemon_load_settings(const char *path)
{
	char err[512];
	int named = path != NULL;

	if (path == NULL)
		path = SYSCONFDIR "/pulse/pulse.conf";
	if (conf_load(path, named, err, sizeof(err)) != 0)
		log_fatal("msg=\"configuration error\" error=\"%s\"", err);
}

void
daemon_start_logging(void)
{
	enum log_level level;

	(void)log_parse_level(conf_str("log_level"), &level);
	log_set_level(level);
	if (log_open_file(conf_str("log_file")) != 0)
		log_fatal("msg=\"cannot open log file\" path=%s error=\"%s\"", conf_str("log_file"),
		    strerror(errno));
}

void
daemon_stop_signals(sigset_t *set)
{
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}
