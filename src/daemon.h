/* daemon.h: what each of our programs (pulse-fcgi, pulse-worker) does at start: its settings
 * and its logging. Failures are fatal (log_fatal): a program that cannot read its settings or
 * open its log does not start. */
#ifndef PULSE_DAEMON_H
#define PULSE_DAEMON_H

#include <signal.h>

/* Loads the settings from path (named by -c or $PULSE_CONFIG: it must exist), or from the
 * default file when path is NULL (missing: the defaults). */
void daemon_load_settings(const char *path);

/* Sets the log level and opens the log file the settings name. */
void daemon_start_logging(void);

/* The signals a program stops or reloads on (SIGTERM, SIGINT, SIGHUP), into set; SIGPIPE is
 * ignored (a peer gone shows as an error of the write). */
void daemon_stop_signals(sigset_t *set);

#endif
