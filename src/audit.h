/* audit.h: the security audit trail in pulse.audit_events. */
#ifndef PULSE_AUDIT_H
#define PULSE_AUDIT_H

#include "db.h"

/* Records one event (login, logout, token_created, ...). Never fails the caller: a lost
 * event is logged as a warning. details must not hold a secret. */
void audit_record(struct db *db, const char *event, const char *username, const char *client_ip,
    const char *path, int success, const char *details);

#endif
