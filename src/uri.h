/* uri.h: percent-decoding of URI paths and query strings. */
#ifndef PULSE_URI_H
#define PULSE_URI_H

#include <stddef.h>

#include "arena.h"

/* Percent-decodes src[0..len) (plus as space when form is set) into a new arena string;
 * returns NULL if an escape is malformed or decodes to NUL. */
char *uri_decode(struct arena *a, const char *src, size_t len, int form);

#endif
