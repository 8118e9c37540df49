/* urlguard.h: the webhook URL rules against server-side request forgery
 * (alerts-notifications.md §8.3), applied when a webhook is saved and before every send,
 * redirect hops included. */
#ifndef PULSE_URLGUARD_H
#define PULSE_URLGUARD_H

#include <stddef.h>

/* Where a checked URL goes: the caller connects to addr (pinned with CURLOPT_RESOLVE as
 * "host:port:addr") so that DNS cannot answer differently between the check and the
 * connection. */
struct urlguard_target {
	char host[256];		/* as in the URL, without IPv6 brackets */
	int port;		/* explicit or the scheme's default */
	char addr[64];		/* the one address to connect to (numeric) */
	int https;
};

/* Checks url against the rules: scheme http or https; a host; no user name or password in
 * the URL; localhost, 127.x and ::1 only when 127.0.0.1 is in the allowlist; link-local
 * (169.254.x, fe80:) and cloud metadata names never; the name must resolve and every address
 * it resolves to that is loopback, private, link-local, unique-local, 0.0.0.0/8 or
 * 100.64.0.0/10 must be inside the allowlist (comma-separated CIDRs or bare addresses; NULL
 * or empty: none). Returns 0 with out filled (out may be NULL), or -1 with a reason in err
 * that names no credential. */
int urlguard_check(const char *url, const char *allowlist_csv, struct urlguard_target *out,
    char *err, size_t errlen);

/* The "host:port:addr" line for CURLOPT_RESOLVE (IPv6 addresses bracketed) in buf, or "" when
 * the host is a literal address (nothing to resolve, nothing to pin). */
void urlguard_resolve_line(const struct urlguard_target *t, char *buf, size_t len);

#endif
