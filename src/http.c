/* http.c: libcurl easy and multi handles behind http.h. */
#include "config.h"

#include "http.h"
#include "crypto.h"
#include "log.h"

#include <ctype.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ssl_ex_index = -1;

void
http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ssl_ex_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

struct http_request *
http_request_new(const char *url)
{
	struct http_request *req = xcalloc(1, sizeof(*req));

	req->url = xstrdup(url);
	req->method = "GET";
	req->max_response = HTTP_MAX_RESPONSE;
	req->timeout_ms = 30000;
	req->connect_timeout_ms = 10000;
	req->tls = HTTP_TLS_VERIFY;
	return req;
}

int
http_header_value_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
			return 0;
	return 1;
}

int
http_header_name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", *p) != NULL))
			return 0;
	return 1;
}

/* Marks req as never to be sent; the message names no value. */
static void
refuse(struct http_request *req, const char *why)
{
	req->refused = 1;
	req->failure = HTTP_FAIL_HEADER;
	snprintf(req->error, sizeof(req->error), "request not sent: %s", why);
}

int
http_request_add_header(struct http_request *req, const char *fmt, ...)
{
	struct strbuf sb = {0};
	va_list ap;

	if (req->nheaders == (int)ARRAY_LEN(req->headers)) {
		refuse(req, "too many header lines");
		return -1;
	}
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	/* A NUL inside (from %c) would hide what follows it from the check below. */
	if (sb.data == NULL || memchr(sb.data, '\0', sb.len) != NULL || !http_header_value_ok(sb.data)) {
		if (sb.data)
			explicit_bzero(sb.data, sb.len);
		sb_free(&sb);
		refuse(req, "a header value holds a control character");
		return -1;
	}
	req->headers[req->nheaders++] = sb.data;
	return 0;
}

void
http_request_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->easy)
		curl_easy_cleanup(req->easy);
	curl_slist_free_all(req->header_list);
	curl_slist_free_all(req->resolve_list);
	free(req->url);
	free(req->resolve);
	free(req->ca_file);
	free(req->unix_socket);
	free(req->location);
	if (req->body) {
		explicit_bzero(req->body, strlen(req->body));
		free(req->body);
	}
	for (int i = 0; i < req->nheaders; i++) {
		/* Headers may carry a token or a ticket. */
		explicit_bzero(req->headers[i], strlen(req->headers[i]));
		free(req->headers[i]);
	}
	sb_free(&req->response);
	free(req);
}

static size_t
on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct http_request *req = userdata;
	size_t n = size * nmemb;

	if (n > req->max_response || req->response.len > req->max_response - n) {
		req->failure = HTTP_FAIL_TOO_LARGE;
		return 0;	/* aborts the transfer */
	}
	sb_append(&req->response, ptr, n);
	return n;
}

/* OpenSSL verification callback: records the leaf certificate's SHA-256 and, in pin mode,
 * accepts the chain exactly when the leaf matches. */
static int
verify_cb(int preverify, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct http_request *req = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ssl_ex_index) : NULL;
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (req == NULL)
		return preverify;
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return req->tls == HTTP_TLS_VERIFY ? preverify : 1;
	cert = X509_STORE_CTX_get_current_cert(store);
	if (cert && X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == 32)
		hex_encode(md, 32, req->peer_fingerprint);
	switch (req->tls) {
	case HTTP_TLS_VERIFY:
		return preverify;
	case HTTP_TLS_PIN:
		if (strcmp(req->peer_fingerprint, req->pin) == 0)
			return 1;
		req->failure = HTTP_FAIL_PIN;
		return 0;
	case HTTP_TLS_INSECURE:
		return 1;
	}
	return 0;
}

static CURLcode
ssl_ctx_cb(CURL *curl, void *sslctx, void *userdata)
{
	(void)curl;
	SSL_CTX_set_ex_data(sslctx, ssl_ex_index, userdata);
	SSL_CTX_set_verify(sslctx, SSL_VERIFY_PEER, verify_cb);
	return CURLE_OK;
}

static void
setup_easy(struct http_request *req)
{
	CURL *e = curl_easy_init();
	struct curl_slist *list = NULL;

	if (e == NULL) {
		log_error("msg=\"curl_easy_init failed\"");
		abort();
	}
	req->easy = e;
	sb_reset(&req->response);
	free(req->location);
	req->location = NULL;
	req->status = 0;
	req->failure = HTTP_OK;
	req->error[0] = '\0';
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, req);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	/* An announced length over the cap is refused before any of the body is read. */
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_response);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "pulse/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (req->share)
		curl_easy_setopt(e, CURLOPT_SHARE, req->share);
	if (req->resolve && req->resolve[0]) {
		curl_slist_free_all(req->resolve_list);
		req->resolve_list = curl_slist_append(NULL, req->resolve);
		curl_easy_setopt(e, CURLOPT_RESOLVE, req->resolve_list);
	}
	if (req->unix_socket)
		curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, req->unix_socket);
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, req);
	if (req->tls != HTTP_TLS_VERIFY) {
		/* The callback decides; curl must not re-check the chain or the host name. */
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (strcmp(req->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, req->method);
	if (req->body) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
	}
	if (req->content_type) {
		char h[128];
		snprintf(h, sizeof(h), "Content-Type: %s", req->content_type);
		list = curl_slist_append(list, h);
	}
	list = curl_slist_append(list, "Accept: application/json");
	list = curl_slist_append(list, "Expect:");
	for (int i = 0; i < req->nheaders; i++)
		list = curl_slist_append(list, req->headers[i]);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, list);
	req->header_list = list;
}

/* Records the outcome of a finished transfer. */
static void
finish(struct http_request *req, CURLcode rc)
{
	double t = 0;

	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &req->status);
	curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME, &t);
	if (rc == CURLE_OK && req->status >= 300 && req->status < 400) {
		char *loc = NULL;
		if (curl_easy_getinfo(req->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK && loc)
			req->location = xstrdup(loc);
	}
	req->elapsed = t;
	/* The header list (it may hold a token) is not needed once the transfer is over. */
	curl_slist_free_all(req->header_list);
	req->header_list = NULL;
	if (rc == CURLE_OK)
		return;
	if (req->failure == HTTP_FAIL_PIN) {
		snprintf(req->error, sizeof(req->error),
		    "TLS certificate fingerprint %s does not match the configured one", req->peer_fingerprint);
		return;
	}
	if (req->failure == HTTP_FAIL_TOO_LARGE || rc == CURLE_FILESIZE_EXCEEDED) {
		req->failure = HTTP_FAIL_TOO_LARGE;
		snprintf(req->error, sizeof(req->error), "response larger than %zu bytes",
		    req->max_response);
		return;
	}
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		req->failure = HTTP_FAIL_TIMEOUT;
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
		req->failure = HTTP_FAIL_CONNECT;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		req->failure = HTTP_FAIL_TLS;
		break;
	default:
		req->failure = HTTP_FAIL_OTHER;
		break;
	}
	snprintf(req->error, sizeof(req->error), "%s", curl_easy_strerror(rc));
}

int
http_perform(struct http_request *req)
{
	CURLcode rc;

	if (req->refused)
		return -1;
	setup_easy(req);
	rc = curl_easy_perform(req->easy);
	finish(req, rc);
	return rc == CURLE_OK ? 0 : -1;
}

/* --- multi ---------------------------------------------------------------------------- */

struct http_multi {
	CURLM *multi;
	int running;
	struct http_request *refused;	/* to complete at the next run, never sent */
};

struct http_multi *
http_multi_new(int max_per_host, int max_total)
{
	struct http_multi *m = xcalloc(1, sizeof(*m));

	m->multi = curl_multi_init();
	curl_multi_setopt(m->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)max_per_host);
	curl_multi_setopt(m->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)max_total);
	curl_multi_setopt(m->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	return m;
}

void
http_multi_free(struct http_multi *m)
{
	if (m == NULL)
		return;
	curl_multi_cleanup(m->multi);
	free(m);
}

void
http_multi_add(struct http_multi *m, struct http_request *req)
{
	if (req->refused) {
		req->next_refused = m->refused;
		m->refused = req;
		m->running++;
		return;
	}
	setup_easy(req);
	curl_multi_add_handle(m->multi, req->easy);
	m->running++;
}

void
http_multi_remove(struct http_multi *m, struct http_request *req)
{
	for (struct http_request **p = &m->refused; *p; p = &(*p)->next_refused) {
		if (*p == req) {
			*p = req->next_refused;
			m->running--;
			return;
		}
	}
	if (req->easy && curl_multi_remove_handle(m->multi, req->easy) == CURLM_OK)
		m->running--;
}

int
http_multi_running(const struct http_multi *m)
{
	return m->running;
}

int
http_multi_run(struct http_multi *m, const int *extra_fds, int *readable, int nextra,
    int timeout_ms)
{
	struct curl_waitfd waits[8];
	CURLMsg *msg;
	int left, still = 0;

	/* Requests refused before sending complete first, without waiting. */
	while (m->refused) {
		struct http_request *req = m->refused;

		m->refused = req->next_refused;
		m->running--;
		if (req->done)
			req->done(req, req->arg);
		else
			http_request_free(req);
		timeout_ms = 0;
	}
	if (nextra > (int)ARRAY_LEN(waits))
		nextra = (int)ARRAY_LEN(waits);
	for (int i = 0; i < nextra; i++) {
		waits[i].fd = extra_fds[i];
		waits[i].events = CURL_WAIT_POLLIN;
		waits[i].revents = 0;
	}
	curl_multi_poll(m->multi, waits, (unsigned)nextra, timeout_ms, NULL);
	for (int i = 0; i < nextra; i++)
		readable[i] = extra_fds[i] >= 0 && (waits[i].revents & (CURL_WAIT_POLLIN | CURL_WAIT_POLLPRI));
	curl_multi_perform(m->multi, &still);
	while ((msg = curl_multi_info_read(m->multi, &left)) != NULL) {
		struct http_request *req = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		curl_multi_remove_handle(m->multi, msg->easy_handle);
		m->running--;
		finish(req, msg->data.result);
		if (req->done)
			req->done(req, req->arg);
		else
			http_request_free(req);
	}
	return m->running;
}

void *
http_share_new(void)
{
	CURLSH *sh = curl_share_init();

	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_CONNECT);
	curl_share_setopt(sh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
	return sh;
}

void
http_share_free(void *share)
{
	if (share)
		curl_share_cleanup(share);
}

char *
http_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb = {0};

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			sb_append(&sb, p, 1);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			sb_append(&sb, e, 3);
		}
	}
	return sb.data ? sb.data : xstrdup("");
}

int
http_normalize_fingerprint(const char *in, char out[65])
{
	int n = 0;

	for (const char *p = in; *p; p++) {
		if (*p == ':' || *p == ' ')
			continue;
		if (!isxdigit((unsigned char)*p) || n == 64)
			return -1;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = '\0';
	return n == 64 ? 0 : -1;
}
