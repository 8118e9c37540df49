/* peer.h: who is at the other end of a FastCGI connection. FastCGI carries the client's
 * address as a parameter anyone who reaches the socket can write, so only a web server
 * named in fastcgi_peers (or root, or our own user) is believed when it says "loopback". */
#ifndef PULSE_PEER_H
#define PULSE_PEER_H

#include <stddef.h>

enum peer_verdict {
	PEER_WEB_SERVER,	/* a trusted web server: its REMOTE_ADDR is believed */
	PEER_OTHER,		/* a local process that may use the socket, without loopback rights */
	PEER_REFUSED,		/* a TCP peer not in fastcgi_peers: not served */
};

/* Reads fastcgi_peers (user names and addresses or CIDR ranges) and the kind of the
 * listening socket. A TCP listener needs at least one address in the list. Returns 0, or
 * -1 with a message. Once, before threads start. */
int peer_init(int listen_fd, char *err, size_t errlen);

/* Judges the peer of an accepted connection. Thread-safe. */
enum peer_verdict peer_check(int fd);

#endif
