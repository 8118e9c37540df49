/* test_lockout.c: the locks a responder thread hears of (ratelimit.c), without a database. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ratelimit.h"
#include "request.h"
#include "responder.h"
#include "tap.h"
#include "util.h"

static int
notice(struct lockout_cache *c, double until, const char *identifier)
{
	char payload[256];

	snprintf(payload, sizeof(payload), "lock %.3f %s", until, identifier);
	return lockout_notice(c, payload);
}

int
main(void)
{
	struct responder thread;
	struct request r;
	char id[LOCKOUT_ID_MAX], user_id[LOCKOUT_ID_MAX], address_id[LOCKOUT_ID_MAX];
	double now = clock_wall(), until = 0;

	memset(&thread, 0, sizeof(thread));
	memset(&r, 0, sizeof(r));
	thread.lockout_cache = lockout_cache_new();
	r.thread = &thread;
	r.client_ip = "2001:db8:1:2::7";

	/* Identifiers: prefixed by kind, the client counted by its key (an IPv6 /64). */
	lockout_identifier(&r, LOCKOUT_ADDRESS, NULL, address_id, sizeof(address_id));
	is_str(address_id, "ip:2001:db8:1:2::/64", "an address identifier is the client's key");
	lockout_identifier(&r, LOCKOUT_TOKEN, NULL, id, sizeof(id));
	is_str(id, "token:2001:db8:1:2::/64", "a token identifier");
	lockout_identifier(&r, LOCKOUT_USER, "alice", user_id, sizeof(user_id));
	is_str(user_id, "user:2001:db8:1:2::/64|alice", "a user identifier: the name after the '|'");

	/* What a notification says. */
	is_int(lockout_known(&r, address_id, &until), 0, "nothing is known locked at first");
	is_int(notice(thread.lockout_cache, now + 600, address_id), 1, "a lock notice is lockout's");
	is_int(lockout_known(&r, address_id, &until), 1, "the announced lock is known");
	ok(until > now + 599 && until < now + 601, "with its end");
	is_int(notice(thread.lockout_cache, now + 900, address_id), 1, "the same lock again");
	is_int(lockout_known(&r, address_id, &until), 1, "is still known");
	ok(until > now + 899, "with the later end");
	is_int(lockout_notice(thread.lockout_cache, "pulse.api_tokens"), 0,
	    "a table name is not lockout's (the credential cache's)");
	is_int(lockout_notice(thread.lockout_cache, "lock soon ip:x"), 1,
	    "a malformed lock notice is lockout's all the same");
	is_int(lockout_known(&r, "ip:x", &until), 0, "and remembers nothing");
	is_int(notice(thread.lockout_cache, now - 10, "ip:192.0.2.1"), 1, "a lock already over");
	is_int(lockout_known(&r, "ip:192.0.2.1", &until), 0, "is not known locked");

	/* A password check counts under the user at this address and under the address. */
	is_int(lockout_password_known(&r, "bob", &until), 1, "a locked address locks every user");
	is_int(lockout_notice(thread.lockout_cache, "unlock"), 1, "unlock is lockout's");
	is_int(lockout_known(&r, address_id, &until), 0, "unlock forgets every lock");
	notice(thread.lockout_cache, now + 600, user_id);
	is_int(lockout_password_known(&r, "alice", &until), 1, "the locked user at this address");
	is_int(lockout_password_known(&r, "bob", &until), 0, "another user at this address is not");

	/* The table is bounded: the oldest lock gives way. */
	for (int i = 0; i < 40; i++) {
		snprintf(id, sizeof(id), "ip:198.51.100.%d", i);
		notice(thread.lockout_cache, now + 600, id);
	}
	is_int(lockout_known(&r, "ip:198.51.100.0", &until), 0, "the oldest of 40 locks is forgotten");
	is_int(lockout_known(&r, "ip:198.51.100.39", &until), 1, "the newest is known");

	lockout_cache_free(thread.lockout_cache);
	return done_testing();
}
