/* peer.c: the FastCGI peer's identity: SO_PEERCRED on a Unix socket, the address on TCP. */
#include "config.h"

#include "peer.h"
#include "conf.h"
#include "log.h"
#include "netaddr.h"
#include "util.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#define MAX_PEER_USERS 16
#define UNTRUSTED_LOGGED 32

static int listen_family;
static uid_t peer_uids[MAX_PEER_USERS];
static int npeer_uids;
static struct cidr *peer_nets;
static int npeer_nets;

/* Each untrusted uid and refused address is logged once, not once per request. */
static pthread_mutex_t logged_lock = PTHREAD_MUTEX_INITIALIZER;
static char logged[UNTRUSTED_LOGGED][64];
static int nlogged;

static void
log_once(const char *what, const char *who)
{
	int seen = 0;

	pthread_mutex_lock(&logged_lock);
	for (int i = 0; i < nlogged && !seen; i++)
		seen = strcmp(logged[i], who) == 0;
	if (!seen && nlogged < UNTRUSTED_LOGGED)
		snprintf(logged[nlogged++], sizeof(logged[0]), "%s", who);
	pthread_mutex_unlock(&logged_lock);
	if (!seen)
		log_warn("msg=\"%s\" peer=%s", what, who);
}

int
peer_init(int listen_fd, char *err, size_t errlen)
{
	char *list = xstrdup(conf_str("fastcgi_peers")), *save = NULL;
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int rc = -1;

	npeer_uids = npeer_nets = 0;
	for (char *tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		struct cidr net;
		struct passwd *pw;

		if (cidr_parse(tok, &net) == 0) {
			peer_nets = xrealloc(peer_nets, sizeof(*peer_nets) * (size_t)(npeer_nets + 1));
			peer_nets[npeer_nets++] = net;
		} else if ((pw = getpwnam(tok)) != NULL && npeer_uids < MAX_PEER_USERS) {
			peer_uids[npeer_uids++] = pw->pw_uid;
		} else {
			snprintf(err, errlen, "fastcgi_peers: \"%.64s\" is neither an address, a CIDR "
			    "range nor a user of this host", tok);
			goto out;
		}
	}
	if (getsockname(listen_fd, (struct sockaddr *)&ss, &len) != 0) {
		snprintf(err, errlen, "cannot read the listening socket's address");
		goto out;
	}
	listen_family = ss.ss_family;
	if (listen_family != AF_UNIX && npeer_nets == 0) {
		snprintf(err, errlen, "listening on TCP needs fastcgi_peers to name the web servers' "
		    "addresses: anyone who reaches the port could claim any client address");
		goto out;
	}
	if (listen_family == AF_UNIX && npeer_uids == 0)
		log_info("msg=\"fastcgi_peers names no user: only root and this user count as the "
		    "web server (loopback rights for recovery)\"");
	rc = 0;
out:
	free(list);
	return rc;
}

enum peer_verdict
peer_check(int fd)
{
	if (listen_family == AF_UNIX) {
		struct ucred cred;
		socklen_t len = sizeof(cred);
		char who[32];

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
			return PEER_OTHER;
		if (cred.uid == 0 || cred.uid == geteuid())
			return PEER_WEB_SERVER;
		for (int i = 0; i < npeer_uids; i++)
			if (peer_uids[i] == cred.uid)
				return PEER_WEB_SERVER;
		snprintf(who, sizeof(who), "uid:%lu", (unsigned long)cred.uid);
		log_once("FastCGI peer not in fastcgi_peers: served without loopback rights", who);
		return PEER_OTHER;
	} else {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char text[INET6_ADDRSTRLEN] = "?";
		struct ipaddr ip;

		if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
			return PEER_REFUSED;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, text, sizeof(text));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, text, sizeof(text));
		if (ip_parse(text, &ip) == 0 && cidr_list_contains(peer_nets, npeer_nets, &ip))
			return PEER_WEB_SERVER;
		log_once("FastCGI connection from an address not in fastcgi_peers refused", text);
		return PEER_REFUSED;
	}
}
