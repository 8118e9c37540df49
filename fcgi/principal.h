/* principal.h: who a request was authenticated as, and with what rights. */
#ifndef PULSE_PRINCIPAL_H
#define PULSE_PRINCIPAL_H

enum auth_method {
	AUTH_METHOD_NONE,	/* not authenticated */
	AUTH_METHOD_PROXY,	/* X-Proxy-Secret from the authenticating proxy */
	AUTH_METHOD_TOKEN,	/* an API token */
	AUTH_METHOD_SESSION,	/* the pulse_session cookie */
	AUTH_METHOD_BASIC,	/* HTTP Basic with the local admin's password */
	AUTH_METHOD_RECOVERY,	/* recovery mode, direct loopback client */
};

/* Scopes as bits; SCOPE_WILDCARD ("*") satisfies every check. */
enum scope_bit {
	SCOPE_MONITORING_READ = 1 << 0,
	SCOPE_MONITORING_WRITE = 1 << 1,
	SCOPE_SETTINGS_READ = 1 << 2,
	SCOPE_SETTINGS_WRITE = 1 << 3,
	SCOPE_HOST_AGENT_REPORT = 1 << 4,
	SCOPE_HOST_AGENT_MANAGE = 1 << 5,
	SCOPE_DOCKER_REPORT = 1 << 6,
	SCOPE_DOCKER_MANAGE = 1 << 7,
	SCOPE_KUBERNETES_REPORT = 1 << 8,
	SCOPE_KUBERNETES_MANAGE = 1 << 9,
	SCOPE_WILDCARD = 1 << 10,
};

struct principal {
	enum auth_method method;
	char username[136];	/* "admin", "token:<id>", a proxy user ... */
	int admin;
	unsigned scopes;	/* tokens only */
	char token_id[37];
	char session_hash[65];	/* sessions: hex(SHA-256(cookie)) */
	char csrf_hash[65];	/* sessions: hex(SHA-256(csrf token)), may be empty */
	int oidc;		/* sessions: made by an OIDC login */
};

#endif
