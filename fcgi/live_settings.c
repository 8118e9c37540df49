/* live_settings.c: the responder's copy of the system settings and the headers made from
 * them. */
#include "config.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "live_settings.h"
#include "log.h"
#include "util.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct sysconfig held;		/* under lock */
static char *headers;			/* under lock; NULL until first made */
static size_t headers_len;
static double loaded_at;		/* monotonic; under lock */
static atomic_int stale = 1;

void
live_settings_mark_stale(void)
{
	atomic_store(&stale, 1);
}

/* Whether an origin can go into a header as written: a scheme, host and port, or '*'. */
static int
origin_ok(const char *s, size_t n)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789:/.-_*[]%";

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strchr(allowed, s[i]) == NULL)
			return 0;
	return 1;
}

/* The frame-ancestors list of §12.1: none, everyone, or 'self' and the listed origins
 * (trimmed, blanks and anything that is not an origin skipped). */
static void
frame_ancestors(struct strbuf *sb, const struct sysconfig *c)
{
	const char *p = c->embed_origins;
	size_t before;

	if (!c->allow_embedding) {
		sb_puts(sb, "'none'");
		return;
	}
	before = sb->len;
	sb_puts(sb, "'self'");
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n;
		if (end == NULL)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		n = (size_t)(end - p);
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (origin_ok(p, n))
			sb_printf(sb, " %.*s", (int)n, p);
		p = *end ? end + 1 : end;
	}
	if (sb->len == before + strlen("'self'")) {
		sb->len = before;
		sb->data[before] = '\0';
		sb_puts(sb, "*");
	}
}

/* Whether the allowed origins can be sent as written (the original sends the value
 * verbatim): printable characters only, so no header can be split. */
static int
cors_value_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* Every answer's header block for these settings. */
static void
make_headers(const struct sysconfig *c, struct strbuf *sb)
{
	sb_puts(sb, "X-Content-Type-Options: nosniff\r\n");
	if (!c->allow_embedding)
		sb_puts(sb, "X-Frame-Options: DENY\r\n");
	sb_puts(sb, "X-XSS-Protection: 1; mode=block\r\n"
	    "Content-Security-Policy: default-src 'self'; script-src 'self' 'unsafe-inline' "
	    "'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
	    "connect-src 'self' ws: wss:; font-src 'self' data:; frame-ancestors ");
	frame_ancestors(sb, c);
	sb_puts(sb, "\r\nReferrer-Policy: strict-origin-when-cross-origin\r\n"
	    "Permissions-Policy: geolocation=(), microphone=(), camera=()\r\n"
	    "Cache-Control: no-store\r\n");
	if (c->allowed_origins[0] != '\0' && cors_value_ok(c->allowed_origins)) {
		sb_printf(sb, "Access-Control-Allow-Origin: %s\r\n"
		    "Access-Control-Allow-Methods: GET, POST, PUT, DELETE, OPTIONS\r\n"
		    "Access-Control-Allow-Headers: Content-Type, Authorization, X-API-Token, "
		    "X-CSRF-Token, X-Setup-Token\r\n"
		    "Access-Control-Expose-Headers: X-CSRF-Token, X-Authenticated-User, "
		    "X-Auth-Method\r\n", c->allowed_origins);
		if (strcmp(c->allowed_origins, "*") != 0)
			sb_puts(sb, "Access-Control-Allow-Credentials: true\r\n");
	}
}

/* Takes c as the settings held (lock held). */
static void
install(const struct sysconfig *c)
{
	struct strbuf sb = {0};

	make_headers(c, &sb);
	held = *c;
	free(headers);
	headers = sb.data;
	headers_len = sb.len;
	loaded_at = clock_monotonic();
}

void
live_settings_attach(struct request *r)
{
	pthread_mutex_lock(&lock);
	if (headers == NULL) {
		struct sysconfig c;
		sysconfig_from_conf(&c);
		install(&c);
		loaded_at = 0;	/* the stored settings are still to be read */
	}
	r->base_headers = arena_strndup(r->arena, headers, headers_len);
	r->base_headers_len = headers_len;
	pthread_mutex_unlock(&lock);
}

void
live_settings_refresh(struct request *r)
{
	struct sysconfig c;
	double age;

	auth_check_invalidations(r);	/* hands pulse_settings notices to mark_stale */
	pthread_mutex_lock(&lock);
	age = clock_monotonic() - loaded_at;
	pthread_mutex_unlock(&lock);
	if (!atomic_exchange(&stale, 0) && age < LIVE_SETTINGS_TTL)
		return;
	if (sysconfig_load(r->db, &c) != 0) {
		atomic_store(&stale, 1);
		return;
	}
	pthread_mutex_lock(&lock);
	install(&c);
	pthread_mutex_unlock(&lock);
	live_settings_attach(r);
}

void
live_settings_get(struct sysconfig *out)
{
	pthread_mutex_lock(&lock);
	if (headers == NULL) {
		struct sysconfig c;
		sysconfig_from_conf(&c);
		install(&c);
		loaded_at = 0;
	}
	*out = held;
	pthread_mutex_unlock(&lock);
}
