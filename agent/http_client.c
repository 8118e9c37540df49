/* http_client.c: the agent's HTTP/1.1 exchanges on plain sockets and OpenSSL, with kept-alive
 * connections per target, explicit connect and total deadlines and verified TLS. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http_client.h"
#include "util.h"

#define DEFAULT_MAX_RESPONSE ((size_t)1024 * 1024)
#define READ_CHUNK 16384
#define MAX_CONNS 4

/* A kept connection; key names its target and TLS settings. */
struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char key[640];
	long last_used;
};

static struct conn conns[MAX_CONNS];
static long use_counter;

void
agent_http_request_init(struct agent_http_request *req, const char *method, const char *url)
{
	memset(req, 0, sizeof(*req));
	req->method = method ? method : "GET";
	req->url = url;
	req->user_agent = "pulse-agent";
	req->max_response = DEFAULT_MAX_RESPONSE;
	req->timeout_ms = 30000;
	req->connect_timeout_ms = 10000;
}

/* Whether s may stand in a header line's value: printable bytes and tab only. */
static int
value_ok(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == 0x7f || (c < ' ' && c != '\t'))
			return 0;
	}
	return 1;
}

static int
name_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "!#$%&'*+-.^_`|~");

	return n > 0 && s[n] == '\0';
}

int
agent_http_add_header(struct agent_http_request *req, const char *name, const char *fmt, ...)
{
	struct strbuf value = {0};
	va_list ap;
	int ok;

	va_start(ap, fmt);
	sb_vprintf(&value, fmt, ap);
	va_end(ap);
	/* A NUL inside (from %c) would hide what follows it from the check. */
	ok = req->nheaders < AGENT_HTTP_MAX_HEADERS && name_ok(name) && (value.len == 0 ||
	    (memchr(value.data, '\0', value.len) == NULL && value_ok(value.data)));
	if (ok)
		req->headers[req->nheaders++] = xasprintf("%s: %s", name, value.data ?
		    value.data : "");
	else
		req->refused = 1;
	if (value.data)
		secret_free_n(value.data, value.len);
	return ok ? 0 : -1;
}

void
agent_http_request_clear(struct agent_http_request *req)
{
	for (int i = 0; i < req->nheaders; i++)
		secret_free(req->headers[i]);	/* they may carry a token */
	req->nheaders = 0;
}

void
agent_http_answer_free(struct agent_http_answer *ans)
{
	free(ans->body);
	ans->body = NULL;
	ans->len = 0;
}

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->ctx)
		SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
agent_http_close_all(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].key[0])
			conn_close(&conns[i]);
}

/* Waits until fd is ready for events or the deadline passes: 0, or -1 (timed out). */
static int
wait_fd(int fd, short events, long deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	long left;
	int r;

	do {
		if ((left = deadline - now_ms()) <= 0)
			return -1;
		r = poll(&p, 1, (int)(left > 60000 ? 60000 : left));
	} while (r == 0 || (r < 0 && errno == EINTR));
	return r < 0 ? -1 : 0;
}

static void __attribute__((format(printf, 2, 3)))
fail(struct agent_http_answer *ans, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ans->error, sizeof(ans->error), fmt, ap);
	va_end(ap);
}

/* A non-blocking connected socket to addr, or -1. */
static int
connect_addr(const struct sockaddr *addr, socklen_t addrlen, long deadline, int *err)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	socklen_t len = sizeof(*err);

	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, addr, addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		*err = errno;
		close(fd);
		return -1;
	}
	if (wait_fd(fd, POLLOUT, deadline) != 0) {
		*err = ETIMEDOUT;
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &len) != 0 || *err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
connect_unix(const char *path, long deadline, struct agent_http_answer *ans)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err = 0;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		fail(ans, "socket path too long");
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = connect_addr((struct sockaddr *)&sun, sizeof(sun), deadline, &err)) < 0)
		fail(ans, "could not connect to the socket: %s", strerror(err));
	return fd;
}

static int
connect_tcp(const char *host, int port, long deadline, struct agent_http_answer *ans)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *res, *ai;
	char service[8];
	int fd = -1, err = ECONNREFUSED, rc;

	snprintf(service, sizeof(service), "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		fail(ans, "could not resolve the host: %s", gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai && fd < 0 && now_ms() < deadline; ai = ai->ai_next)
		fd = connect_addr(ai->ai_addr, ai->ai_addrlen, deadline, &err);
	freeaddrinfo(res);
	if (fd < 0)
		fail(ans, "could not connect: %s", err == ETIMEDOUT ? "connect timed out" :
		    strerror(err));
	else
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){1}, sizeof(int));
	return fd;
}

/* Drives an OpenSSL call that may want to read or write until it completes: its result, or
 * -1 with *timed_out set when the deadline passed first. */
static int
ssl_wait(SSL *ssl, int r, long deadline, int *timed_out)
{
	int e = SSL_get_error(ssl, r);

	*timed_out = 0;
	if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		return -1;
	if (wait_fd(SSL_get_fd(ssl), e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline) != 0) {
		*timed_out = 1;
		return -1;
	}
	return 0;
}

static const char *
tls_reason(SSL *ssl)
{
	long v = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_last_error();

	if (v != X509_V_OK)
		return X509_verify_cert_error_string(v);
	return e ? ERR_reason_error_string(e) : "handshake failed";
}

/* The TLS handshake on c->fd, verifying the chain and host unless insecure. */
static int
tls_start(struct conn *c, const struct agent_http_request *req, const char *host,
    long deadline, struct agent_http_answer *ans)
{
	int r, timed_out = 0, ip;
	unsigned char buf[16];

	ERR_clear_error();
	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (c->ssl = SSL_new(c->ctx)) == NULL) {
		fail(ans, "TLS setup failed");
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	ip = inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
	if (!req->insecure) {
		if (req->ca_file ? SSL_CTX_load_verify_locations(c->ctx, req->ca_file, NULL) != 1 :
		    SSL_CTX_set_default_verify_paths(c->ctx) != 1) {
			fail(ans, "TLS: the CA certificates could not be loaded");
			return -1;
		}
		SSL_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
		if ((ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host) :
		    SSL_set1_host(c->ssl, host)) != 1) {
			fail(ans, "TLS: the host name cannot be checked");
			return -1;
		}
	} else
		SSL_set_verify(c->ssl, SSL_VERIFY_NONE, NULL);
	if (!ip)
		SSL_set_tlsext_host_name(c->ssl, host);
	SSL_set_fd(c->ssl, c->fd);
	while ((r = SSL_connect(c->ssl)) != 1)
		if (ssl_wait(c->ssl, r, deadline, &timed_out) != 0) {
			fail(ans, "TLS: %s", timed_out ? "handshake timed out" : tls_reason(c->ssl));
			return -1;
		}
	return 0;
}

/* Writes all of buf: 0, or -1 (ans->error set). */
static int
send_all(struct conn *c, const char *buf, size_t len, long deadline,
    struct agent_http_answer *ans)
{
	int timed_out;

	while (len > 0) {
		ssize_t n;

		if (c->ssl) {
			int r = SSL_write(c->ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);

			if (r <= 0) {
				if (ssl_wait(c->ssl, r, deadline, &timed_out) == 0)
					continue;
				fail(ans, "send failed: %s", timed_out ? "timed out" : "TLS error");
				return -1;
			}
			n = r;
		} else if ((n = send(c->fd, buf, len, MSG_NOSIGNAL)) < 0) {
			if ((errno == EAGAIN || errno == EINTR) && wait_fd(c->fd, POLLOUT, deadline) == 0)
				continue;
			fail(ans, "send failed: %s", errno == EAGAIN ? "timed out" : strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads what is there (waiting up to the deadline): the byte count, 0 at the end of the
 * stream, -1 on an error or timeout (ans->error set). */
static ssize_t
recv_some(struct conn *c, char *buf, size_t len, long deadline, struct agent_http_answer *ans)
{
	int timed_out;

	for (;;) {
		ssize_t n;

		if (c->ssl) {
			int r = SSL_read(c->ssl, buf, (int)len);

			if (r > 0)
				return r;
			if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (ssl_wait(c->ssl, r, deadline, &timed_out) == 0)
				continue;
			if (!timed_out && SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL)
				return 0;	/* closed without close_notify */
			fail(ans, "receive failed: %s", timed_out ? "timed out" : "TLS error");
			return -1;
		}
		if ((n = recv(c->fd, buf, len, 0)) >= 0)
			return n;
		if ((errno == EAGAIN || errno == EINTR) && wait_fd(c->fd, POLLIN, deadline) == 0)
			continue;
		fail(ans, "receive failed: %s", errno == EAGAIN ? "timed out" : strerror(errno));
		return -1;
	}
}

/* The kept connection for key, or a free slot (the least recently used one is closed). */
static struct conn *
conn_slot(const char *key, int *reused)
{
	struct conn *oldest = &conns[0];

	for (int i = 0; i < MAX_CONNS; i++) {
		if (conns[i].key[0] && strcmp(conns[i].key, key) == 0) {
			*reused = 1;
			return &conns[i];
		}
		if (!conns[i].key[0] || (oldest->key[0] && conns[i].last_used < oldest->last_used))
			oldest = &conns[i];
	}
	*reused = 0;
	if (oldest->key[0])
		conn_close(oldest);
	oldest->fd = -1;
	return oldest;
}

/* The request's bytes; through a proxy (http:// only) the target is the whole URL. */
static char *
build_request(const struct agent_http_request *req, const char *host, int port, int tls,
    const char *path, int proxied, size_t *len)
{
	struct strbuf sb = {0};
	size_t body_len = req->body ? strlen(req->body) : 0;
	int v6 = strchr(host, ':') != NULL;

	sb_printf(&sb, "%s %s%s HTTP/1.1\r\nHost: %s%s%s", req->method,
	    proxied ? req->url : path, proxied && *path == '/' && !strstr(req->url + 7, "/") ?
	    "/" : "", v6 ? "[" : "", req->unix_socket ? "localhost" : host, v6 ? "]" : "");
	if (!req->unix_socket && port != (tls ? 443 : 80))
		sb_printf(&sb, ":%d", port);
	sb_printf(&sb, "\r\nUser-Agent: %s\r\n", req->user_agent);
	if (req->body || strcmp(req->method, "GET") != 0)
		sb_printf(&sb, "Content-Length: %zu\r\n", body_len);
	if (req->body && req->content_type)
		sb_printf(&sb, "Content-Type: %s\r\n", req->content_type);
	for (int i = 0; i < req->nheaders; i++)
		sb_printf(&sb, "%s\r\n", req->headers[i]);
	sb_puts(&sb, "\r\n");
	if (body_len)
		sb_append(&sb, req->body, body_len);
	*len = sb.len;
	return sb.data;
}

/* One exchange on c; -1 with *retry set when a reused connection turned out closed before
 * any byte of the answer came (the request is then sent again on a new one). */
static int
exchange(struct conn *c, const struct agent_http_request *req, const char *wire,
    size_t wire_len, long deadline, int reused, int *retry, struct agent_http_answer *ans)
{
	struct strbuf in = {0};
	size_t need = 1, used = 0;
	int keep = 0, eof = 0;
	int head = strcmp(req->method, "HEAD") == 0 || strcmp(req->method, "CONNECT") == 0;
	enum agent_http_parse res = AGENT_HTTP_PARSE_MORE;

	memset(ans, 0, sizeof(*ans));
	*retry = 0;
	if (send_all(c, wire, wire_len, deadline, ans) != 0) {
		*retry = reused;
		return -1;
	}
	while (res == AGENT_HTTP_PARSE_MORE) {
		if (in.len < need && !eof) {
			ssize_t n;

			sb_reserve(&in, READ_CHUNK);
			if ((n = recv_some(c, in.data + in.len, in.cap - in.len - 1, deadline,
			    ans)) < 0) {
				*retry = reused && in.len == 0;
				break;
			}
			eof = n == 0;
			in.len += (size_t)n;
			in.data[in.len] = '\0';
			if (eof && in.len == 0) {
				fail(ans, "the server closed the connection without answering");
				*retry = reused;
				break;
			}
			if (!eof && in.len < need)
				continue;
		}
		res = agent_http_parse_answer(in.data, in.len, eof, req->max_response, head, ans,
		    &need, &used, &keep);
	}
	if (res == AGENT_HTTP_PARSE_DONE && (!keep || used != in.len))
		c->key[0] = '\0';	/* not to be reused; closed below */
	sb_free(&in);
	if (res != AGENT_HTTP_PARSE_DONE) {
		ans->status = 0;
		agent_http_answer_free(ans);
		c->key[0] = '\0';
		return -1;
	}
	return 0;
}

/* Whether host is listed in NO_PROXY / no_proxy: "*", a host name, or a domain (with or
 * without its leading dot) that host is in. Ports and address ranges in the list are not read
 * (an entry with them does not match). */
static int
no_proxy_for(const char *host)
{
	const char *list = getenv("NO_PROXY");
	size_t hl = strlen(host);

	if (!list || !*list)
		list = getenv("no_proxy");
	for (const char *p = list ? list : ""; *p; ) {
		size_t n = strcspn(p, ",");
		const char *e = p;

		while (n && (*e == ' ' || *e == '.'))
			e++, n--;
		while (n && e[n - 1] == ' ')
			n--;
		if ((n == 1 && *e == '*') || (n && n <= hl && strncasecmp(host + hl - n, e, n) == 0 &&
		    (n == hl || host[hl - n - 1] == '.')))
			return 1;
		p = e + n + strspn(e + n, " ");
		p += *p == ',';
	}
	return 0;
}

/* The proxy for a tls or plain target from HTTPS_PROXY / HTTP_PROXY (or their lower-case
 * forms) and NO_PROXY, as the original's Go client reads them (agents.md §9.5): 1 with host
 * and port set, 0 for none, -1 when it is set but not an http://host:port this client can
 * use (credentials in it, too). */
static int
proxy_for(int tls, const char *target, char *host, size_t hostlen, int *port)
{
	const char *v = getenv(tls ? "HTTPS_PROXY" : "HTTP_PROXY"), *path;
	char url[512];
	int ptls;

	if (!v || !*v)
		v = getenv(tls ? "https_proxy" : "http_proxy");
	/* Like Go's, never for the loopback. */
	if (!v || !*v || no_proxy_for(target) || strcasecmp(target, "localhost") == 0 ||
	    strncmp(target, "127.", 4) == 0 || strcmp(target, "::1") == 0)
		return 0;
	snprintf(url, sizeof(url), "%s%s", strstr(v, "://") ? "" : "http://", v);
	if (agent_http_split_url(url, &ptls, host, hostlen, port, &path) != 0 || ptls)
		return -1;
	return 1;
}

/* Asks the proxy on c for a tunnel to host:port: 0 when it answers 2xx. */
static int
tunnel(struct conn *c, const char *host, int port, long deadline,
    struct agent_http_answer *ans)
{
	struct agent_http_request connect;
	struct agent_http_answer got;
	char *wire;
	int v6 = strchr(host, ':') != NULL, retry, rc;

	agent_http_request_init(&connect, "CONNECT", "");
	connect.max_response = 0;
	wire = xasprintf("CONNECT %s%s%s:%d HTTP/1.1\r\nHost: %s%s%s:%d\r\n\r\n", v6 ? "[" : "",
	    host, v6 ? "]" : "", port, v6 ? "[" : "", host, v6 ? "]" : "", port);
	rc = exchange(c, &connect, wire, strlen(wire), deadline, 0, &retry, &got);
	free(wire);
	if (rc == 0 && got.status >= 200 && got.status < 300)
		return 0;
	if (rc == 0)
		fail(ans, "the proxy refused the tunnel: status %ld", got.status);
	else
		fail(ans, "the proxy gave no answer to CONNECT: %s", got.error);
	agent_http_answer_free(&got);
	return -1;
}

int
agent_http_perform(struct agent_http_request *req, struct agent_http_answer *ans)
{
	char host[256], phost[256], key[sizeof(conns[0].key)], *wire = NULL;
	const char *path;
	int tls, port, pport = 0, proxied, reused, retry = 0, rc = -1;
	long start = now_ms(), deadline = start + req->timeout_ms;
	size_t wire_len;
	struct conn *c;

	memset(ans, 0, sizeof(*ans));
	if (req->refused) {
		fail(ans, "request not sent: a header holds a control character or is one too "
		    "many");
		return -1;
	}
	if (agent_http_split_url(req->url, &tls, host, sizeof(host), &port, &path) != 0 ||
	    !name_ok(req->method)) {
		fail(ans, "request not sent: not an http(s) URL");
		return -1;
	}
	proxied = req->unix_socket ? 0 : proxy_for(tls, host, phost, sizeof(phost), &pport);
	if (proxied < 0) {
		fail(ans, "request not sent: the proxy variable is not an http://host:port this "
		    "agent can use");
		return -1;
	}
	snprintf(key, sizeof(key), "%d|%s|%d|%s|%d|%s|%s:%d", tls, host, port,
	    req->unix_socket ? req->unix_socket : "", req->insecure,
	    req->ca_file ? req->ca_file : "", proxied ? phost : "", proxied ? pport : 0);
	wire = build_request(req, host, port, tls, path, proxied && !tls, &wire_len);
	do {
		c = conn_slot(key, &reused);
		if (!reused) {
			long cdeadline = start + req->connect_timeout_ms;

			if (cdeadline > deadline)
				cdeadline = deadline;
			c->fd = req->unix_socket ? connect_unix(req->unix_socket, cdeadline, ans) :
			    proxied ? connect_tcp(phost, pport, cdeadline, ans) :
			    connect_tcp(host, port, cdeadline, ans);
			snprintf(c->key, sizeof(c->key), "%s", key);
			if (c->fd < 0 || (tls && proxied && tunnel(c, host, port, cdeadline, ans) != 0) ||
			    (tls && tls_start(c, req, host, cdeadline, ans) != 0)) {
				conn_close(c);
				break;
			}
		}
		c->last_used = ++use_counter;
		rc = exchange(c, req, wire, wire_len, deadline, reused, &retry, ans);
		if (!c->key[0] || rc != 0)
			conn_close(c);
	} while (rc != 0 && retry && now_ms() < deadline);
	secret_free_n(wire, wire_len);
	return rc;
}
