/* uri.h: percent-decoding of URI paths and query strings, and the host and port of a URL. */
#ifndef PULSE_URI_H
#define PULSE_URI_H

#include <stddef.h>

#include "arena.h"

/* Percent-decodes src[0..len) (plus as space when form is set) into a new arena string;
 * returns NULL if an escape is malformed or decodes to NUL. */
char *uri_decode(struct arena *a, const char *src, size_t len, int form);

/* The host and port of a URL: "scheme://host:port/path?query", the scheme, port and path
 * each optional, an IPv6 host in brackets. Writes the host (without brackets) and the port
 * (default_port when the URL names none). Returns 0, or -1 with host "" and port default_port
 * for no host, an unclosed '[', a port that is not a number from 1 to 65535, or anything
 * but a path, query or fragment after the authority. */
int uri_split_host_port(const char *url, const char *default_port, char *host, size_t hostlen,
    char *port, size_t portlen);

#endif
