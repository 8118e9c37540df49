/* test_http.c: header lines that could split a request (L5) are refused before anything is
 * sent, whoever supplied them; which answers may be large (H2); which header names pass. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "http.h"
#include "proxmox.h"
#include "tap.h"

static int completed;

static void
on_done(struct http_request *req, void *arg)
{
	(void)arg;
	completed = req->failure == HTTP_FAIL_HEADER && req->status == 0;
	http_request_free(req);
}

/* A ticket answer as a server would send it, without any network. */
static struct http_request *
ticket_answer(const char *body)
{
	struct http_request *req = http_request_new("https://127.0.0.1:1/api2/json/access/ticket");

	req->status = 200;
	sb_puts(&req->response, body);
	return req;
}

/* proxmox_response_each: the elements counted by a callback. */
static void
count_element(struct json_object *el, void *arg)
{
	(void)el;
	(*(int *)arg)++;
}

static void
test_response_each(void)
{
	char err[256];
	int seen = 0;
	struct http_request *req = ticket_answer("{\"data\":[{\"vmid\":100},{\"vmid\":101},{}]}");

	is_int(proxmox_response_each(req, count_element, &seen, err, sizeof(err)), 3, "each: three elements");
	is_int(seen, 3, "each: each handed over");
	req->status = 401;
	is_int(proxmox_response_each(req, count_element, &seen, err, sizeof(err)), -1, "each: a 401 is refused");
	is_str(err, "HTTP 401 (authentication failed)", "each: in the words of proxmox_response_data");
	http_request_free(req);
	req = ticket_answer("{\"data\":null}");
	is_int(proxmox_response_each(req, count_element, &seen, err, sizeof(err)), -1, "each: no list, refused");
	http_request_free(req);
	req = ticket_answer("<html>");
	is_int(proxmox_response_each(req, count_element, &seen, err, sizeof(err)), -1, "each: HTML refused");
	http_request_free(req);
	req = ticket_answer("{\"data\":[1,2,}");
	seen = 0;
	is_int(proxmox_response_each(req, count_element, &seen, err, sizeof(err)), -1, "each: bad JSON refused");
	ok(strncmp(err, "invalid JSON", 12) == 0, "each: said so (%s)", err);
	http_request_free(req);
}

/* The Unix-socket option (the agent's Docker Engine): a child answers one request on a
 * socket; the URL's host is not looked up. A missing socket is a connect failure. */
static void
test_unix_socket(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct http_request *req;
	char path[64];
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	snprintf(path, sizeof(path), "/tmp/test_http_%ld.sock", (long)getpid());
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 1) != 0) {
		ok(0, "unix socket: listen %s", path);
		return;
	}
	pid = fork();
	if (pid == 0) {
		static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		    "Content-Length: 11\r\nConnection: close\r\n\r\n{\"ID\":\"x1\"}";
		char buf[2048];
		int c = accept(fd, NULL, NULL);
		ssize_t n = c >= 0 ? read(c, buf, sizeof(buf) - 1) : -1;

		buf[n > 0 ? n : 0] = '\0';
		if (c >= 0 && strncmp(buf, "GET /info HTTP/1.1\r\n", 20) == 0 &&
		    write(c, answer, sizeof(answer) - 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(fd);
	req = http_request_new("http://no-such-host.invalid/info");
	req->unix_socket = strdup(path);
	req->timeout_ms = 5000;
	is_int(http_perform(req), 0, "unix socket: an answer");
	is_int(req->status, 200, "unix socket: its status");
	is_str(req->response.data ? req->response.data : "", "{\"ID\":\"x1\"}",
	    "unix socket: its body");
	http_request_free(req);
	waitpid(pid, NULL, 0);
	unlink(path);

	req = http_request_new("http://localhost/info");
	req->unix_socket = strdup(path);
	req->timeout_ms = 2000;
	is_int(http_perform(req), -1, "unix socket: a missing socket fails");
	is_int(req->failure, HTTP_FAIL_CONNECT, "unix socket: as a connect failure");
	http_request_free(req);
}

int
main(void)
{
	struct http_request *req;
	struct http_multi *m;
	struct proxmox_conn c;
	char err[256];

	http_global_init();

	req = http_request_new("http://127.0.0.1:1/");
	is_int(http_request_add_header(req, "X-Fine: %s", "a\tb"), 0, "L5: a value with a tab is added");
	is_int(http_request_add_header(req, "Authorization: %s", "x\r\nX-Injected: 1"), -1,
	    "L5: a value with CR/LF is refused");
	is_int(req->nheaders, 1, "L5: the refused line is not kept");
	is_int(req->failure, HTTP_FAIL_HEADER, "L5: the request is marked failed");
	ok(strstr(req->error, "X-Injected") == NULL && strstr(req->error, "control character") != NULL,
	    "L5: the message names the problem, not the value: %s", req->error);
	is_int(http_perform(req), -1, "L5: http_perform refuses to send it");
	is_int(req->status, 0, "L5: no answer, nothing was sent");
	is_int(req->failure, HTTP_FAIL_HEADER, "L5: the failure survives the attempt");
	http_request_free(req);

	req = http_request_new("http://127.0.0.1:1/");
	is_int(http_request_add_header(req, "Cookie: a=%c; b", '\0'), -1, "L5: a NUL from %%c is refused");
	http_request_free(req);
	req = http_request_new("http://127.0.0.1:1/");
	is_int(http_request_add_header(req, "X: %s", "a\nb"), -1, "L5: a bare LF is refused");
	http_request_free(req);
	req = http_request_new("http://127.0.0.1:1/");
	is_int(http_request_add_header(req, "X: %s", "a\x7f"), -1, "L5: DEL is refused");
	http_request_free(req);

	/* Through the multi interface the failure arrives as any other would. */
	m = http_multi_new(4, 4);
	req = http_request_new("http://127.0.0.1:1/");
	http_request_add_header(req, "X: %s", "a\r\nb");
	req->done = on_done;
	http_multi_add(m, req);
	is_int(http_multi_running(m), 1, "L5: a refused request counts as running until completed");
	while (http_multi_run(m, NULL, NULL, 0, 10) > 0)
		;
	ok(completed, "L5: its completion callback ran with HTTP_FAIL_HEADER and no answer");
	http_multi_free(m);

	/* Credentials that cannot be header values leave proxmox_request's request unsendable. */
	memset(&c, 0, sizeof(c));
	snprintf(c.base, sizeof(c.base), "https://127.0.0.1:1/api2/json");
	snprintf(c.token_id, sizeof(c.token_id), "root@pam!t");
	c.token_secret = strdup("s\r\nX-Injected: 1");
	req = proxmox_request(&c, "/nodes");
	is_int(req->failure, HTTP_FAIL_HEADER, "L5: a token secret with CR/LF: request refused");
	is_int(req->nheaders, 0, "L5: and no Authorization line kept");
	http_request_free(req);
	proxmox_conn_clear(&c);

	/* Login answers whose ticket or CSRF token could split a header are refused. */
	memset(&c, 0, sizeof(c));
	req = ticket_answer("{\"data\":{\"ticket\":\"PVE:root@pam:1::x\\r\\nX-Injected: 1\","
	    "\"CSRFPreventionToken\":\"c\"}}");
	is_int(proxmox_ticket_accept(&c, req, err, sizeof(err)), -1, "L5: a ticket with CR/LF is refused");
	ok(c.ticket == NULL, "L5: and not kept");
	http_request_free(req);
	req = ticket_answer("{\"data\":{\"ticket\":\"PVE:root@pam:1::x\",\"CSRFPreventionToken\":\"c\\nX: 1\"}}");
	is_int(proxmox_ticket_accept(&c, req, err, sizeof(err)), -1, "L5: a CSRF token with LF is refused");
	http_request_free(req);
	req = ticket_answer("{\"data\":{\"ticket\":\"PVE:root@pam:1::x; other=1\",\"CSRFPreventionToken\":\"c\"}}");
	is_int(proxmox_ticket_accept(&c, req, err, sizeof(err)), -1, "L5: a ticket that would add a cookie is refused");
	http_request_free(req);
	req = ticket_answer("{\"data\":{\"ticket\":\"PVE:root@pam:65000000::aGVsbG8+/w==\","
	    "\"CSRFPreventionToken\":\"65000000:aGVsbG8+/w\"}}");
	is_int(proxmox_ticket_accept(&c, req, err, sizeof(err)), 0, "a ticket as PVE writes it is accepted");
	is_str(c.ticket, "PVE:root@pam:65000000::aGVsbG8+/w==", "and kept");
	http_request_free(req);
	proxmox_conn_clear(&c);

	/* H2: the answers that grow with the estate, and the small ones. */
	ok(proxmox_path_is_large("/cluster/resources?type=vm"), "H2: /cluster/resources is large");
	ok(proxmox_path_is_large("/nodes/n1/storage/local/content?content=backup"), "H2: storage content is large");
	ok(proxmox_path_is_large("/nodes/n1/tasks?typefilter=vzdump&limit=500"), "H2: a task list is large");
	ok(proxmox_path_is_large("/nodes/n1/qemu"), "H2: a node's guest list is large");
	ok(proxmox_path_is_large("/admin/datastore/s/snapshots?backup-type=vm&backup-id=1"),
	    "H2: a PBS snapshot list is large");
	ok(!proxmox_path_is_large("/nodes"), "H2: /nodes is small");
	ok(!proxmox_path_is_large("/nodes/n1/qemu/100/status/current"), "H2: a guest's status is small");
	ok(!proxmox_path_is_large("/cluster/status"), "H2: /cluster/status is small");
	ok(!proxmox_path_is_large("/version"), "H2: /version is small");
	memset(&c, 0, sizeof(c));
	snprintf(c.base, sizeof(c.base), "https://127.0.0.1:1/api2/json");
	req = proxmox_request(&c, "/nodes");
	ok(req->max_response == HTTP_MAX_RESPONSE, "H2: a small answer is capped at %zu bytes", req->max_response);
	http_request_free(req);
	req = proxmox_request(&c, "/cluster/resources");
	ok(req->max_response == HTTP_MAX_RESPONSE_LARGE, "H2: a large one at %zu bytes", req->max_response);
	http_request_free(req);

	/* Header names: RFC 9110 tokens only, so a name cannot split or fold a request. */
	ok(http_header_name_ok("X-Api-Key"), "a header name: X-Api-Key");
	ok(http_header_name_ok("x_custom.v2!#$%&'*+-^`|~"), "every token character is allowed");
	ok(!http_header_name_ok(""), "an empty name is refused");
	ok(!http_header_name_ok("X Api"), "a space is refused");
	ok(!http_header_name_ok("X-Api:"), "a colon is refused");
	ok(!http_header_name_ok("X-Api\r\nHost"), "CR LF is refused");
	ok(!http_header_name_ok("X-\xc3\xa9"), "a non-ASCII byte is refused");
	ok(!http_header_name_ok("X(1)"), "a separator is refused");
	ok(http_header_value_ok("a b\tc"), "a value may hold spaces and tabs");
	ok(!http_header_value_ok("a\nb"), "a value may not hold LF");
	test_response_each();
	test_unix_socket();
	return done_testing();
}
