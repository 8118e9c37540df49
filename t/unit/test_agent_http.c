/* test_agent_http.c: the agent's HTTP client (agent/http_parse.c, agent/http_client.c): URLs,
 * the answer parser (status line, headers, Content-Length, chunked bodies, caps), header
 * refusal, a loop over truncated and garbage answers, exchanges with a forked server on a
 * Unix socket (keep-alive, a stale kept connection, a body sent, a timeout), and proxies. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../agent/http_client.h"
#include "tap.h"

/* Parses text whole (eof as given): the result, the answer in *ans (the caller frees it). */
static enum agent_http_parse
parse(const char *text, int eof, size_t max, struct agent_http_answer *ans, size_t *used,
    int *keep)
{
	size_t need;

	memset(ans, 0, sizeof(*ans));
	*used = 0;
	*keep = -1;
	return agent_http_parse_answer(text, strlen(text), eof, max, 0, ans, &need, used, keep);
}

static void
test_urls(void)
{
	char host[64];
	const char *path;
	int tls, port;

	ok(agent_http_split_url("https://pulse.example:7655/api/x?a=1", &tls, host, sizeof(host),
	    &port, &path) == 0 && tls && port == 7655 && strcmp(host, "pulse.example") == 0 &&
	    strcmp(path, "/api/x?a=1") == 0, "https URL with a port and a query");
	ok(agent_http_split_url("http://10.0.0.1", &tls, host, sizeof(host), &port, &path) == 0 &&
	    !tls && port == 80 && strcmp(path, "/") == 0, "http URL without a path: /");
	ok(agent_http_split_url("HTTPS://[::1]/v", &tls, host, sizeof(host), &port, &path) == 0 &&
	    port == 443 && strcmp(host, "::1") == 0, "IPv6 literal without brackets");
	ok(agent_http_split_url("ftp://x/", &tls, host, sizeof(host), &port, &path) == -1,
	    "another scheme refused");
	ok(agent_http_split_url("http://x:0/", &tls, host, sizeof(host), &port, &path) == -1 &&
	    agent_http_split_url("http://x:99999/", &tls, host, sizeof(host), &port, &path) == -1 &&
	    agent_http_split_url("http://x:8a/", &tls, host, sizeof(host), &port, &path) == -1,
	    "bad ports refused");
	ok(agent_http_split_url("http://u:p@x/", &tls, host, sizeof(host), &port, &path) == -1,
	    "credentials in the URL refused");
	ok(agent_http_split_url("http://x/a b", &tls, host, sizeof(host), &port, &path) == -1 &&
	    agent_http_split_url("http://x/a\r\nX: y", &tls, host, sizeof(host), &port, &path) == -1,
	    "a space or CR/LF in the path refused");
	ok(agent_http_split_url("http:///p", &tls, host, sizeof(host), &port, &path) == -1,
	    "no host refused");
}

static void
test_escape(void)
{
	char *e = agent_http_escape("a b/c?d=é~-_.");

	is_str(e, "a%20b%2Fc%3Fd%3D%C3%A9~-_.", "percent-encoding");
	free(e);
}

static void
test_status_and_headers(void)
{
	struct agent_http_answer ans;
	size_t used;
	int keep;
	const char *text;

	text = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX: y\r\n\r\nhello";
	ok(parse(text, 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE, "a whole answer");
	is_int(ans.status, 200, "status");
	is_str(ans.body, "hello", "body");
	is_int(used, strlen(text), "all bytes used");
	is_int(keep, 1, "HTTP/1.1 keeps the connection");
	agent_http_answer_free(&ans);

	ok(parse("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", 0,
	    100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE && ans.status == 404 &&
	    ans.body == NULL && keep == 0, "Connection: close, empty body");
	ok(parse("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_DONE && keep == 0, "HTTP/1.0 does not keep the connection");
	agent_http_answer_free(&ans);
	ok(parse("HTTP/1.1 204\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE &&
	    ans.status == 204, "a status line without a reason; 204 has no body");
	ok(parse("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 1\r\n\r\n"
	    "x", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE && ans.status == 201,
	    "an interim 100 is skipped");
	agent_http_answer_free(&ans);
	ok(parse("HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_DONE && strcmp(ans.body, "ok") == 0, "bare LF line ends");
	agent_http_answer_free(&ans);
	ok(parse("HTTP/1.1 200 OK\r\n\r\nuntil close", 1, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_DONE && strcmp(ans.body, "until close") == 0 && keep == 0,
	    "a body delimited by the close");
	agent_http_answer_free(&ans);
	ok(parse("HTTP/1.1 200 OK\r\n\r\nuntil close", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_MORE, "... which waits for the close");

	ok(parse("HTTP/1.1 200 OK\r\nContent-Le", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_MORE, "a partial header: more");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 0, 100, &ans, &used,
	    &keep) == AGENT_HTTP_PARSE_MORE, "a partial body: more");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc", 1, 100, &ans, &used,
	    &keep) == AGENT_HTTP_PARSE_BAD, "a partial body at the close: bad");

	ok(parse("HTTP/2 200\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD,
	    "not HTTP/1.x: bad");
	ok(parse("HTTP/1.1 20 OK\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD &&
	    parse("HTTP/1.1 2000 OK\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD &&
	    parse("HTTP/1.1 099 x\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD,
	    "bad status codes: bad");
	ok(parse("<html>\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD,
	    "no status line: bad");
	ok(parse("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_BAD, "a header line without a colon: bad");
	ok(parse("HTTP/1.1 200 OK\r\n folded: x\r\n\r\n", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_BAD, "a folded header line: bad");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_BAD && parse("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", 0, 100,
	    &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD && parse("HTTP/1.1 200 OK\r\n"
	    "Content-Length: 99999999999999999999999\r\n\r\n", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_BAD, "bad Content-Length values: bad");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 0, 100,
	    &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "two different Content-Length: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 0, 100, &ans,
	    &used, &keep) == AGENT_HTTP_PARSE_BAD, "a coding we do not decode: bad");
	ok(parse("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 0, 100, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_TOO_LARGE && strstr(ans.error, "larger than 100"),
	    "an announced length over the cap: too large before the body");
	ok(parse("HTTP/1.1 200 OK\r\n\r\n0123456789", 0, 5, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_TOO_LARGE, "a close-delimited body over the cap: too large");
}

static void
test_head_cap(void)
{
	struct agent_http_answer ans;
	size_t used, n = AGENT_HTTP_MAX_HEAD + 64;
	int keep;
	char *big = malloc(n + 1);

	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(big + 20, 'a', n - 20);
	big[n] = '\0';
	ok(parse(big, 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD,
	    "a header past the head cap: bad, not waited for");
	free(big);
}

static void
test_chunked(void)
{
	struct agent_http_answer ans;
	size_t used;
	int keep;
	const char *text = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "5\r\nhello\r\n1;ext=1\r\n \r\nA \r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";

	ok(parse(text, 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE, "a chunked answer");
	is_str(ans.body, "hello 0123456789", "chunks joined (extension, hex size, trailer)");
	is_int(ans.len, 16, "decoded length");
	is_int(used, strlen(text), "the trailer's blank line ends it");
	is_int(keep, 1, "kept");
	agent_http_answer_free(&ans);

	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", 0, 100, &ans,
	    &used, &keep) == AGENT_HTTP_PARSE_MORE, "a partial chunk: more");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n", 1, 100,
	    &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "no last chunk at the close: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
	    0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "a chunk size not hex: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n",
	    0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "a negative chunk size: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\nhello\r\n0\r\n\r\n",
	    0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "an empty chunk size: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffffffffffffffffffff\r\nx\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD,
	    "an overflowing chunk size: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhelXX\r\n0\r\n\r\n",
	    0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_BAD, "chunk data longer than said: bad");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "40\r\n", 0, 16, &ans, &used, &keep) == AGENT_HTTP_PARSE_TOO_LARGE,
	    "a chunk over the cap: too large before its data");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "8\r\n12345678\r\n8\r\n12345678\r\n8\r\n", 0, 20, &ans, &used, &keep) ==
	    AGENT_HTTP_PARSE_TOO_LARGE, "chunks adding up over the cap: too large");
	ok(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"
	    "2\r\nok\r\n0\r\n\r\n", 0, 100, &ans, &used, &keep) == AGENT_HTTP_PARSE_DONE &&
	    strcmp(ans.body, "ok") == 0 && keep == 0,
	    "chunked with a Content-Length: read chunked, connection not kept");
	agent_http_answer_free(&ans);
}

/* Every prefix of good answers, and bytes flipped in them, must parse to one of the four
 * results without a fault (ASan build), whatever the eof flag. */
static void
test_truncated_and_garbage(void)
{
	static const char *const good[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\n{\"ok\":true}",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x\r\nefg\r\n"
		"0\r\nT: 1\r\n\r\n",
		"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 500 Oops\r\n\r\nbody until close",
	};
	struct agent_http_answer ans;
	size_t need, used, faults = 0, done_short = 0;
	int keep;
	unsigned seed = 7;

	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		size_t n = strlen(good[g]);
		char *buf = malloc(n + 1);

		for (size_t cut = 0; cut <= n; cut++)
			for (int eof = 0; eof <= 1; eof++) {
				enum agent_http_parse r;

				memcpy(buf, good[g], cut);	/* exactly cut bytes, no NUL after */
				memset(&ans, 0, sizeof(ans));
				r = agent_http_parse_answer(buf, cut, eof, 64, 0, &ans, &need, &used,
				    &keep);
				if (r == AGENT_HTTP_PARSE_DONE && (used > cut || (ans.body &&
				    ans.len > 64)))
					faults++;
				if (r == AGENT_HTTP_PARSE_MORE && need <= cut)
					faults++;
				if (r == AGENT_HTTP_PARSE_DONE && cut < n && !eof && g < 2)
					done_short++;
				agent_http_answer_free(&ans);
			}
		for (int round = 0; round < 4000; round++) {
			memcpy(buf, good[g], n);
			for (int k = 0; k < 1 + round % 4; k++) {
				seed = seed * 1103515245u + 12345u;
				buf[(seed >> 8) % n] = (char)(seed >> 16);
			}
			memset(&ans, 0, sizeof(ans));
			if (agent_http_parse_answer(buf, n, round & 1, 64, 0, &ans, &need, &used, &keep)
			    == AGENT_HTTP_PARSE_DONE && used > n)
				faults++;
			agent_http_answer_free(&ans);
		}
		free(buf);
	}
	is_int(faults, 0, "truncated and garbled answers: no result past the bytes given");
	is_int(done_short, 0, "a framed answer is never done before its last byte");
}

static void
test_header_refusal(void)
{
	struct agent_http_request req;
	struct agent_http_answer ans;

	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	is_int(agent_http_add_header(&req, "Authorization", "Bearer %s", "tok"), 0, "a header");
	is_int(agent_http_add_header(&req, "X-Ok", "a\tb"), 0, "a tab is allowed");
	ok(!req.refused, "not refused yet");
	is_int(agent_http_add_header(&req, "X-Token", "%s", "abc\r\nX-Injected: 1"), -1,
	    "CR/LF in a value: refused");
	ok(req.refused, "the request is marked refused");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "not sent") &&
	    !strstr(ans.error, "Injected"), "... and never sent; the error names no value");
	agent_http_request_clear(&req);

	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	is_int(agent_http_add_header(&req, "X-Token", "%s", "a\nb"), -1, "a bare LF: refused");
	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	is_int(agent_http_add_header(&req, "X-Token", "a%cb", 0), -1, "a NUL: refused");
	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	is_int(agent_http_add_header(&req, "Bad Name", "x"), -1, "a space in a name: refused");
	is_int(agent_http_add_header(&req, "Bad:Name", "x"), -1, "a colon in a name: refused");
	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	for (int i = 0; i < AGENT_HTTP_MAX_HEADERS; i++)
		agent_http_add_header(&req, "X-N", "%d", i);
	is_int(agent_http_add_header(&req, "X-N", "one too many"), -1, "one line too many");
	agent_http_request_clear(&req);
	agent_http_request_init(&req, "GET", "gopher://x/");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "URL"), "a bad URL: not sent");
}

/* A server on the listening socket ls: for each accepted connection, reads requests and
 * answers each with the next canned text; "" closes the connection at once, "sleep" waits
 * 3 s first. Writes what it read to log. */
static pid_t
serve_on(int ls, const char *const *answers, const char *logpath)
{
	pid_t pid;

	if (ls < 0 || listen(ls, 4) != 0)
		return -1;
	if ((pid = fork()) != 0) {
		close(ls);
		return pid;
	}
	FILE *log = fopen(logpath, "w");

	for (const char *const *a = answers; *a; ) {
		int fd = accept(ls, NULL, NULL);
		char buf[8192];
		ssize_t n;

		fprintf(log, "[connection]\n");
		while (*a && (n = read(fd, buf, sizeof(buf))) > 0) {
			fwrite(buf, 1, (size_t)n, log);
			fflush(log);
			if (**a == '\0') {
				a++;
				break;
			}
			if (strcmp(*a, "sleep") == 0) {
				sleep(3);
				a++;
				break;
			}
			if (write(fd, *a, strlen(*a)) < 0)
				break;
			a++;
		}
		close(fd);
	}
	fclose(log);
	_exit(0);
}

static pid_t
serve(const char *path, const char *const *answers, const char *logpath)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	unlink(path);
	if (ls >= 0 && bind(ls, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		close(ls);
		ls = -1;
	}
	return serve_on(ls, answers, logpath);
}

/* The same on 127.0.0.1, at a port the kernel picks (*port). */
static pid_t
serve_tcp(int *port, const char *const *answers, const char *logpath)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int ls = socket(AF_INET, SOCK_STREAM, 0);

	if (ls >= 0 && (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) != 0)) {
		close(ls);
		ls = -1;
	}
	*port = ntohs(sin.sin_port);
	return serve_on(ls, answers, logpath);
}

static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *s = calloc(1, 65536);

	if (f) {
		size_t n = fread(s, 1, 65535, f);

		s[n] = '\0';
		fclose(f);
	}
	return s;
}

static void
test_exchanges(void)
{
	static const char *const answers[] = {
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
		"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"",	/* the kept connection is found closed: the client retries */
		"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
		"sleep",
		NULL,
	};
	char dir[] = "/tmp/agenthttp-XXXXXX", sock[64], logpath[160], *log;
	struct agent_http_request req;
	struct agent_http_answer ans;
	pid_t pid;
	int status;

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(sock, sizeof(sock), "%s/s", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	pid = serve(sock, answers, logpath);
	ok(pid > 0, "server started");

	agent_http_request_init(&req, "GET", "http://localhost/info");
	req.unix_socket = sock;
	ok(agent_http_perform(&req, &ans) == 0 && ans.status == 200 && strcmp(ans.body, "ok") == 0,
	    "GET over a Unix socket");
	agent_http_answer_free(&ans);

	agent_http_request_init(&req, "POST", "http://localhost/containers/x/stop");
	req.unix_socket = sock;
	req.body = "{\"a\":1}";
	req.content_type = "application/json";
	agent_http_add_header(&req, "X-API-Token", "secret");
	ok(agent_http_perform(&req, &ans) == 0 && ans.status == 201 &&
	    strcmp(ans.body, "abc") == 0, "POST with a body on the kept connection, chunked answer");
	agent_http_answer_free(&ans);
	agent_http_request_clear(&req);

	agent_http_request_init(&req, "GET", "http://localhost/again");
	req.unix_socket = sock;
	ok(agent_http_perform(&req, &ans) == 0 && ans.status == 202,
	    "a kept connection closed by the server: sent again on a new one");
	agent_http_answer_free(&ans);

	agent_http_request_init(&req, "GET", "http://localhost/slow");
	req.unix_socket = sock;
	req.timeout_ms = 300;
	ok(agent_http_perform(&req, &ans) == -1 && ans.status == 0 &&
	    strstr(ans.error, "timed out"), "the total timeout ends a silent exchange");
	agent_http_close_all();
	waitpid(pid, &status, 0);

	log = slurp(logpath);
	ok(strstr(log, "[connection]\nGET /info HTTP/1.1\r\nHost: localhost\r\n") != NULL,
	    "request line and Host");
	ok(strstr(log, "GET /info HTTP/1.1\r\nHost: localhost\r\nUser-Agent: pulse-agent\r\n\r\n"
	    "POST /containers/x/stop HTTP/1.1\r\n") != NULL, "the second request on the same connection");
	ok(strstr(log, "Content-Length: 7\r\nContent-Type: application/json\r\nX-API-Token: "
	    "secret\r\n\r\n{\"a\":1}") != NULL, "body with its length and type");
	ok(strstr(log, "[connection]\nGET /again") != NULL, "the retry on a new connection");
	free(log);
	unlink(sock);
	unlink(logpath);
	rmdir(dir);
}

static void
test_connect_failures(void)
{
	struct agent_http_request req;
	struct agent_http_answer ans;

	agent_http_request_init(&req, "GET", "http://localhost/");
	req.unix_socket = "/nonexistent/agenthttp.sock";
	ok(agent_http_perform(&req, &ans) == -1 && ans.status == 0 &&
	    strstr(ans.error, "could not connect"), "a missing socket: no answer, said so");
	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "could not connect"),
	    "a refused port: no answer");
}

static void
test_proxy(void)
{
	static const char *const answers[] = {
		/* closed, so that the one-connection-at-a-time stand-in takes the next */
		"HTTP/1.1 200 OK\r\nContent-Length: 7\r\nConnection: close\r\n\r\nproxied",
		"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
		NULL,
	};
	char logpath[] = "/tmp/agenthttp-proxy-XXXXXX", proxy[64], *log;
	struct agent_http_request req;
	struct agent_http_answer ans;
	int port, status, fd = mkstemp(logpath);
	pid_t pid = serve_tcp(&port, answers, logpath);

	close(fd);
	ok(pid > 0, "proxy stand-in started");
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", port);
	setenv("HTTP_PROXY", proxy, 1);
	setenv("HTTPS_PROXY", proxy, 1);
	setenv("NO_PROXY", "localhost, .internal.example", 1);

	agent_http_request_init(&req, "GET", "http://pulse.example:7655/api/x?a=1");
	ok(agent_http_perform(&req, &ans) == 0 && ans.status == 200 &&
	    strcmp(ans.body, "proxied") == 0, "http:// through HTTP_PROXY");
	agent_http_answer_free(&ans);
	agent_http_request_init(&req, "GET", "https://pulse.example/api/x");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "proxy refused the tunnel") &&
	    strstr(ans.error, "407"), "https:// asks HTTPS_PROXY for a tunnel; a refusal is said");
	agent_http_request_init(&req, "GET", "http://pulse.internal.example:1/");
	ok(agent_http_perform(&req, &ans) == -1 && !strstr(ans.error, "proxy"),
	    "a host under NO_PROXY goes direct");
	agent_http_request_init(&req, "GET", "http://127.0.0.1:1/");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "could not connect"),
	    "the loopback goes direct");
	setenv("HTTP_PROXY", "http://user:pw@127.0.0.1:3128", 1);
	agent_http_request_init(&req, "GET", "http://pulse.example/");
	ok(agent_http_perform(&req, &ans) == -1 && strstr(ans.error, "proxy variable") &&
	    !strstr(ans.error, "pw"), "a proxy with credentials: not sent, and not logged");
	unsetenv("HTTP_PROXY");
	unsetenv("HTTPS_PROXY");
	unsetenv("NO_PROXY");
	agent_http_close_all();
	waitpid(pid, &status, 0);
	log = slurp(logpath);
	ok(strstr(log, "GET http://pulse.example:7655/api/x?a=1 HTTP/1.1\r\nHost: pulse.example:7655"
	    "\r\n") != NULL, "the whole URL as the target, to the proxy");
	ok(strstr(log, "[connection]\nCONNECT pulse.example:443 HTTP/1.1\r\nHost: pulse.example:443"
	    "\r\n\r\n") != NULL, "CONNECT host:port");
	free(log);
	unlink(logpath);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_urls();
	test_escape();
	test_status_and_headers();
	test_head_cap();
	test_chunked();
	test_truncated_and_garbage();
	test_header_refusal();
	test_exchanges();
	test_connect_failures();
	test_proxy();
	return done_testing();
}
