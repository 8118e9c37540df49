/* live_settings.h: the system settings a responder acts on (sysconfig.h), shared by its
 * threads: reloaded when a pulse_settings notification says they changed (or at the latest
 * LIVE_SETTINGS_TTL seconds after the last load, in case a notification was missed while a
 * connection was down), and the security and CORS headers of every answer made from them
 * (security.md §12.1, §12.2). */
#ifndef PULSE_LIVE_SETTINGS_H
#define PULSE_LIVE_SETTINGS_H

#include "request.h"
#include "sysconfig.h"

#define LIVE_SETTINGS_TTL 10.0

/* A notification or a reconnect: reload before the next use. Any thread. */
void live_settings_mark_stale(void);

/* Gives the request the headers of the settings held now (no database). */
void live_settings_attach(struct request *r);

/* For a request whose thread has a usable connection: takes in pending notifications,
 * reloads the settings when they are stale, and attaches the headers again. */
void live_settings_refresh(struct request *r);

/* A copy of the settings held now. */
void live_settings_get(struct sysconfig *out);

#endif
