/* log.c: line-oriented logging shared by the responder and the worker. */
#include "config.h"

#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_program = "pulse";
static enum log_level log_threshold = LOGL_INFO;
static int log_fd = STDERR_FILENO;

static const char *level_names[] = {"debug", "info", "warn", "error", "fatal"};

void
log_init(const char *program, enum log_level level)
{
	log_program = program;
	log_threshold = level;
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

enum log_level
log_get_level(void)
{
	return log_threshold;
}

int
log_open_file(const char *path)
{
	int fd;

	if (path == NULL || *path == '\0') {
		log_fd = STDERR_FILENO;
		return 0;
	}
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0)
		return -1;
	log_fd = fd;
	return 0;
}

int
log_parse_level(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcasecmp(s, "warning") == 0) {
		*out = LOGL_WARN;
		return 0;
	}
	return -1;
}

/* Copies src into dst escaping control characters; returns bytes written. */
static size_t
escape_into(char *dst, size_t cap, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p && o + 5 < cap; p++) {
		if (*p == '\n') {
			dst[o++] = '\\';
			dst[o++] = 'n';
		} else if (*p == '\r') {
			dst[o++] = '\\';
			dst[o++] = 'r';
		} else if (*p == '\t') {
			dst[o++] = ' ';
		} else if (*p < 0x20 || *p == 0x7f) {
			dst[o++] = '\\';
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		} else {
			dst[o++] = (char)*p;
		}
	}
	return o;
}

const char *
log_quote(char *buf, size_t buflen, const char *s)
{
	size_t o = 0;

	for (; s && *s && o + 2 < buflen; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
log_write(enum log_level level, const char *fmt, va_list ap)
{
	char msg[3072], line[4096 + 256];
	struct timeval tv;
	struct tm tm;
	size_t n;
	int head;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	head = snprintf(line, sizeof(line),
	    "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s prog=%s pid=%ld ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    (long)(tv.tv_usec / 1000), level_names[level], log_program, (long)getpid());
	if (head < 0)
		return;
	n = (size_t)head;
	n += escape_into(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	/* One write per line keeps lines from different threads whole. */
	(void)!write(log_fd, line, n);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level < log_threshold)
		return;
	va_start(ap, fmt);
	log_write(level, fmt, ap);
	va_end(ap);
}

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_write(LOGL_FATAL, fmt, ap);
	va_end(ap);
	exit(1);
}
