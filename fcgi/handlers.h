/* handlers.h: every handler the route table names, grouped by the file that holds them. */
#ifndef PULSE_HANDLERS_H
#define PULSE_HANDLERS_H

#include "request.h"

/* api_system.c */
void api_health(struct request *r);
void api_version(struct request *r);

#endif
