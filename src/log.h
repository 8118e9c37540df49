/* log.h: one line per event, with level and context, to stderr or a file; never a secret. */
#ifndef PULSE_LOG_H
#define PULSE_LOG_H

#include <stddef.h>

enum log_level {
	LOGL_DEBUG,
	LOGL_INFO,
	LOGL_WARN,
	LOGL_ERROR,
	LOGL_FATAL,
};

/* Sets the program name written on every line and the lowest level written. */
void log_init(const char *program, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Opens path for appending and sends every later line there; NULL means stderr. */
int log_open_file(const char *path);

/* "debug", "info", "warn"/"warning", "error". Returns 0 or -1. */
int log_parse_level(const char *s, enum log_level *out);

/* Writes one line: time, level, program, then the formatted message. Newlines and other
 * control characters in the message are escaped so an event is always one line. Callers
 * pass context as key=value pairs and must never pass a password, token or conninfo. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOGL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOGL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOGL_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)

/* Logs at fatal level and exits with status 1. For start-up errors only. */
/* Copies s into buf for a quoted log field ("%s" inside key="..."): a quote or backslash
 * from a request gets a backslash, so it cannot close the field and forge others; cut to
 * fit. Returns buf. */
const char *log_quote(char *buf, size_t buflen, const char *s);

void log_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
