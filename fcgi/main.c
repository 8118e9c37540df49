/* main.c: pulse-fcgi, the threaded FastCGI responder: start-up, accept loop, shutdown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <grp.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <fcgiapp.h>

#include "auth.h"
#include "live_settings.h"
#include "ratelimit.h"
#include "conf.h"
#include "daemon.h"
#include "crypto.h"
#include "http.h"
#include "jsonutil.h"
#include "db.h"
#include "log.h"
#include "peer.h"
#include "prom.h"
#include "request.h"
#include "responder.h"
#include "router.h"
#include "handlers.h"
#include "schema.h"
#include "util.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

static int listen_fd = -1;
static int wake_pipe[2] = {-1, -1};
static atomic_int stopping;	/* set once by the main thread on SIGTERM */
static char *bound_path;	/* the Unix socket we created, removed at exit */
static int own_socket;		/* we bound the listening socket (not inherited) */

/* Serves one request; returns the bytes it took in and gave out. */
static size_t
serve(struct responder *t, FCGX_Request *fcgx)
{
	struct request r;
	const char *uri, *q;
	char path[240];
	double took;

	memset(&r, 0, sizeof(r));
	r.fcgx = fcgx;
	r.arena = t->arena;
	r.thread = t;
	r.db = t->db;
	r.nquery_params = -1;
	r.started = clock_monotonic();
	r.method_name = req_param(&r, "REQUEST_METHOD");
	if (r.method_name == NULL)
		r.method_name = "GET";
	r.method = req_method_parse(r.method_name);
	r.peer_ip = req_param(&r, "REMOTE_ADDR");
	if (r.peer_ip == NULL)
		r.peer_ip = "";
	switch (peer_check(fcgx->ipcFd)) {
	case PEER_WEB_SERVER:
		r.web_server = 1;
		break;
	case PEER_OTHER:
		break;
	case PEER_REFUSED:
		/* Not one of our web servers: nothing it sent is looked at. */
		resp_error(&r, 403, "peer_not_allowed", "FastCGI peer not allowed");
		sb_free(&r.extra_headers);
		return 0;
	}
	r.client_ip = r.peer_ip;
	uri = req_param(&r, "REQUEST_URI");
	if (uri == NULL || *uri == '\0')
		uri = "/";
	q = strchr(uri, '?');
	r.raw_path = q ? arena_strndup(r.arena, uri, (size_t)(q - uri)) : uri;
	r.query = req_param(&r, "QUERY_STRING");
	if (r.query == NULL)
		r.query = q ? q + 1 : "";

	router_handle(&r);
	/* /metrics itself is not counted, as the original's separate listener. */
	if (r.route == NULL || r.route->handler != api_prometheus_metrics)
		prom_http_observe(r.method_name, r.raw_path, r.route != NULL, r.status,
		    clock_monotonic() - r.started);

	if (responder_process.access_log) {
		took = (clock_monotonic() - r.started) * 1000.0;
		/* The path only: a query string may carry a token. */
		log_info("msg=access method=%.16s path=\"%s\" status=%d bytes=%lu duration_ms=%.3f "
		    "client=%.64s%s%s", r.method_name, log_quote(path, sizeof(path), r.raw_path),
		    r.status,
		    (unsigned long)r.bytes_out, took, r.client_ip, r.error_code ? " code=" : "",
		    r.error_code ? r.error_code : "");
	}
	sb_free(&r.extra_headers);
	return r.body_len + r.bytes_out;
}

/* A big answer (a /api/state of thousands of guests is megabytes, its json-c tree several
 * times that) leaves the thread's malloc arena at its high-water mark, mostly free once the
 * request's arena is cleared: glibc keeps it. Give it back after every such request (a
 * fraction of a millisecond against the tens it took to build), so that an idle responder
 * holds what it needs, not what its largest answers needed. */
#define TRIM_AFTER_BYTES (1u << 20)

/* Smaller answers leave free chunks scattered through every thread's arena, and under a
 * steady request mix the arenas creep up (the soak saw +15-40 % in 30 minutes with no leak
 * found by heaptrack: all of it free heap). So at most once a second, whichever thread
 * finishes a request first also trims: malloc_trim(0) gives back every whole free page of
 * every arena. */
#define TRIM_EVERY_MS 1000
static atomic_llong last_trim_ms;

static void
trim_heap(size_t moved)
{
	long long now = (long long)(clock_monotonic() * 1000.0);
	long long last = atomic_load(&last_trim_ms);

	if (moved < TRIM_AFTER_BYTES &&
	    (now - last < TRIM_EVERY_MS ||
	    !atomic_compare_exchange_strong(&last_trim_ms, &last, now)))
		return;
	if (moved >= TRIM_AFTER_BYTES)
		atomic_store(&last_trim_ms, now);
	malloc_trim(0);
}

static void *
thread_main(void *arg)
{
	struct responder *t = arg;
	FCGX_Request fcgx;
	double backoff = 0.05;

	if (FCGX_InitRequest(&fcgx, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_error("msg=\"cannot initialise a FastCGI request\" thread=%d", t->index);
		return NULL;
	}
	(void)db_listen(t->db, "pulse_auth");
	(void)db_listen(t->db, SYSCONFIG_CHANNEL);
	(void)responder_ready(t);
	for (;;) {
		int rc;

		if (!own_socket) {
			/* An inherited socket may be shared with other processes (spawn-fcgi) or
			 * kept by systemd: it must not be shut down, so wait in poll() where the
			 * stop request can reach us, and accept without blocking. After a stop
			 * request, keep accepting until the backlog is empty. */
			struct pollfd pfd[2] = {{listen_fd, POLLIN, 0}, {wake_pipe[0], POLLIN, 0}};

			if (!stopping) {
				rc = poll(pfd, 2, -1);
				if (rc < 0) {
					if (errno != EINTR)
						log_error("msg=\"poll failed\" error=\"%s\"", strerror(errno));
					continue;
				}
				if (!(pfd[0].revents & POLLIN) && !stopping)
					continue;
			}
		}
		/* On our own socket, accept() blocks and the kernel wakes one thread per
		 * connection; a stop shuts the socket down, which lets accept() drain the
		 * backlog and then fail. */
		rc = FCGX_Accept_r(&fcgx);
		if (rc < 0) {
			if (stopping)
				break;
			if (rc == -EAGAIN || rc == -EWOULDBLOCK || rc == -EINTR)
				continue;
			/* Out of descriptors or a transient error: back off, do not spin. */
			log_error("msg=\"accept failed\" error=\"%s\" backoff_s=%.2f",
			    strerror(-rc), backoff);
			struct timespec ts = {(time_t)backoff,
			    (long)((backoff - (double)(time_t)backoff) * 1e9)};
			nanosleep(&ts, NULL);
			if (backoff < 2.0)
				backoff *= 2;
			continue;
		}
		backoff = 0.05;
		size_t moved = serve(t, &fcgx);
		FCGX_Finish_r(&fcgx);
		arena_clear(t->arena);
		trim_heap(moved);
		/* After the answer has gone: the next request waits at most for this. */
		if (t->schema_checked)
			(void)prom_flush_due(t->db);
	}
	FCGX_Free(&fcgx, 1);
	return NULL;
}

/* The publisher of this responder's Prometheus counters when its threads do not: the request
 * threads publish after a request once the interval has passed, so a busy responder never
 * needs this; an idle one still has its last counts to give and must show it is alive. It
 * connects only then (and at the end), so that it holds no PostgreSQL session of its own. */
static pthread_t prom_thread;
static pthread_mutex_t prom_stop_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t prom_stop_cond = PTHREAD_COND_INITIALIZER;
static int prom_stopping;	/* under prom_stop_lock */

static void
prom_publish_now(void)
{
	struct db *db = db_new(conf_str("database_url"), "pulse-fcgi-prom", 5.0);

	/* Short: it may run at shutdown, which must not wait for an unreachable database. */
	db_set_timeouts(db, 2, 5000);
	if (db_ensure(db, 1) == 0 && db_schema_version(db) == PULSE_SCHEMA_VERSION)
		(void)prom_flush(db);
	db_free(db);
}

static void *
prom_thread_main(void *arg)
{
	int interval = prom_interval();

	(void)arg;
	pthread_mutex_lock(&prom_stop_lock);
	while (!prom_stopping) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += interval;
		(void)pthread_cond_timedwait(&prom_stop_cond, &prom_stop_lock, &ts);
		if (prom_stopping || prom_since_flush() < interval)
			continue;
		pthread_mutex_unlock(&prom_stop_lock);
		prom_publish_now();
		pthread_mutex_lock(&prom_stop_lock);
	}
	pthread_mutex_unlock(&prom_stop_lock);
	return NULL;
}

/* Binds a Unix socket at path (replacing a stale one) or a TCP "host:port". */
static int
open_listener(const char *spec)
{
	int fd;

	if (spec[0] == '/') {
		struct sockaddr_un sa;
		struct stat st;

		if (strlen(spec) >= sizeof(sa.sun_path))
			log_fatal("msg=\"socket path too long\" path=%s", spec);
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		memcpy(sa.sun_path, spec, strlen(spec));
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			log_fatal("msg=\"socket() failed\" error=\"%s\"", strerror(errno));
		if (lstat(spec, &st) == 0) {
			if (!S_ISSOCK(st.st_mode))
				log_fatal("msg=\"listen path exists and is not a socket\" path=%s", spec);
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				log_fatal("msg=\"socket in use by a running responder\" path=%s", spec);
			close(fd);
			if (unlink(spec) != 0)
				log_fatal("msg=\"cannot remove stale socket\" path=%s error=\"%s\"", spec,
				    strerror(errno));
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				log_fatal("msg=\"socket() failed\" error=\"%s\"", strerror(errno));
		}
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
			log_fatal("msg=\"bind failed\" path=%s error=\"%s\"", spec, strerror(errno));
		bound_path = xstrdup(spec);
		if (chmod(spec, (mode_t)conf_int("socket_mode")) != 0)
			log_fatal("msg=\"chmod of socket failed\" path=%s error=\"%s\"", spec,
			    strerror(errno));
		if (*conf_str("socket_group")) {
			struct group *gr = getgrnam(conf_str("socket_group"));
			if (gr == NULL)
				log_fatal("msg=\"unknown socket group\" group=%s", conf_str("socket_group"));
			if (chown(spec, (uid_t)-1, gr->gr_gid) != 0)
				log_fatal("msg=\"chown of socket failed\" path=%s error=\"%s\"", spec,
				    strerror(errno));
		}
	} else {
		struct addrinfo hints, *ai = NULL;
		char host[256];
		const char *colon = strrchr(spec, ':');
		int one = 1, rc;

		if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
			log_fatal("msg=\"listen must be a socket path or host:port\" listen=%s", spec);
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_PASSIVE;
		rc = getaddrinfo(host[0] ? host : NULL, colon + 1, &hints, &ai);
		if (rc != 0)
			log_fatal("msg=\"cannot resolve listen address\" listen=%s error=\"%s\"", spec,
			    gai_strerror(rc));
		fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			log_fatal("msg=\"socket() failed\" error=\"%s\"", strerror(errno));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0)
			log_fatal("msg=\"bind failed\" listen=%s error=\"%s\"", spec, strerror(errno));
		freeaddrinfo(ai);
	}
	if (listen(fd, 1024) != 0)
		log_fatal("msg=\"listen failed\" error=\"%s\"", strerror(errno));
	return fd;
}

/* The socket handed over by systemd (LISTEN_FDS) or spawn-fcgi (descriptor 0). */
static int
inherited_listener(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	int64_t n, p;
	int accepting = 0;
	socklen_t len = sizeof(accepting);
	int fd = 0;

	if (pid && fds && parse_int64(pid, 1, INT32_MAX, &p) == 0 && p == getpid() &&
	    parse_int64(fds, 1, 64, &n) == 0)
		fd = 3;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting)
		log_fatal("msg=\"no listen setting and no inherited listening socket\" fd=%d", fd);
	return fd;
}

/* Prints the route table as JSON, one route per line, for tests and documentation. */
static int
list_routes(void)
{
	char err[256];

	if (router_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	responder_process.body_limit = conf_int("body_limit");
	for (size_t i = 0; i < route_count; i++) {
		const struct route *rt = &route_table[i];
		struct json_object *o = json_object_new_object(), *m = json_object_new_array();
		static const struct { unsigned bit; const char *name; } names[] = {
			{REQ_METHOD_GET, "GET"}, {REQ_METHOD_POST, "POST"}, {REQ_METHOD_PUT, "PUT"},
			{REQ_METHOD_PATCH, "PATCH"}, {REQ_METHOD_DELETE, "DELETE"},
		};

		for (size_t j = 0; j < ARRAY_LEN(names); j++)
			if (rt->methods & names[j].bit)
				json_object_array_add(m, json_object_new_string(names[j].name));
		json_object_object_add(o, "methods", m);
		json_object_object_add(o, "pattern", json_object_new_string(rt->pattern));
		json_object_object_add(o, "public", json_object_new_boolean(rt->flags & ROUTE_PUBLIC));
		json_object_object_add(o, "admin", json_object_new_boolean(rt->flags & ROUTE_ADMIN));
		json_object_object_add(o, "csrf", json_object_new_boolean(!(rt->flags & ROUTE_NO_CSRF)));
		json_object_object_add(o, "scope", rt->scope ? json_object_new_string(rt->scope) : NULL);
		json_object_object_add(o, "rate", json_object_new_string(rate_class_name(rt->rate)));
		json_object_object_add(o, "bodyLimit", json_object_new_int64(route_body_limit(rt)));
		json_object_object_add(o, "feature",
		    rt->feature ? json_object_new_string(rt->feature) : NULL);
		printf("%s\n", jsonutil_to_string(o, NULL));
		json_object_put(o);
	}
	return 0;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pulse-fcgi [-c config] [-s socket] [-t threads] [--print-config] [--version]\n"
	    "  -c, --config FILE   settings file (default %s/pulse/pulse.conf, or $PULSE_CONFIG)\n"
	    "  -s, --socket PATH   Unix socket or host:port to listen on (setting: listen)\n"
	    "  -t, --threads N     threads, one database connection each (setting: threads)\n"
	    "      --print-config  print the effective settings (secrets masked) and exit\n"
	    "      --list-routes   print the route table as JSON lines and exit\n"
	    "  -V, --version       print the version and exit\n", SYSCONFDIR);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"threads", required_argument, NULL, 't'},
		{"print-config", no_argument, NULL, 'P'},
		{"list-routes", no_argument, NULL, 'L'},
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = getenv("PULSE_CONFIG"), *socket_opt = NULL, *threads_opt = NULL;
	char err[512];
	int print_config = 0, ch, nthreads;
	struct responder *threads;
	sigset_t sigs;

	while ((ch = getopt_long(argc, argv, "c:s:t:Vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': config_path = optarg; break;
		case 's': socket_opt = optarg; break;
		case 't': threads_opt = optarg; break;
		case 'P': print_config = 1; break;
		case 'L': return list_routes();
		case 'V': printf("pulse-fcgi %s\n", PACKAGE_VERSION); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	/* Large blocks (a /api/state body, a list answer of megabytes, a big query result) get
	 * pages of their own, given back when freed. Left to itself glibc raises this threshold
	 * to the largest block freed, and every thread's arena then keeps its largest answer's
	 * pages (as the worker, worker/main.c). */
	mallopt(M_MMAP_THRESHOLD, 256 * 1024);
	/* Each thread would get an arena of its own, each filling up to what its largest
	 * requests needed: a responder reached its plateau only after a quarter of an hour of
	 * the soak. Two arenas for the threads: the same throughput on `make bench` (requests
	 * spend their time waiting on PostgreSQL, not in malloc), half the arenas to fill. */
	mallopt(M_ARENA_MAX, 2);
	log_init("pulse-fcgi", LOGL_INFO);
	daemon_load_settings(config_path);
	if (socket_opt && conf_set("listen", socket_opt, err, sizeof(err)) != 0)
		log_fatal("msg=\"bad --socket\" error=\"%s\"", err);
	if (threads_opt && conf_set("threads", threads_opt, err, sizeof(err)) != 0)
		log_fatal("msg=\"bad --threads\" error=\"%s\"", err);
	if (print_config) {
		conf_print();
		return 0;
	}
	daemon_start_logging();
	if (auth_init(err, sizeof(err)) != 0)
		log_fatal("msg=\"configuration error\" error=\"%s\"", err);
	if (secrets_init(conf_str("data_dir"), 1, err, sizeof(err)) != 0)
		log_fatal("msg=\"secrets key unavailable\" error=\"%s\"", err);
	if (router_init(err, sizeof(err)) != 0)
		log_fatal("msg=\"route table error\" error=\"%s\"", err);

	responder_process.started_monotonic = clock_monotonic();
	responder_process.body_limit = conf_int("body_limit");
	responder_process.access_log = conf_bool("access_log");
	responder_process.expected_schema = PULSE_SCHEMA_VERSION;
	prom_init("pulse-fcgi", (int)conf_int("prometheus_interval"));
	nthreads = (int)conf_int("threads");

	http_global_init();
	if (FCGX_Init() != 0)
		log_fatal("msg=\"FCGX_Init failed\"");
	own_socket = *conf_str("listen") != '\0';
	listen_fd = own_socket ? open_listener(conf_str("listen")) : inherited_listener();
	if (!own_socket && fcntl(listen_fd, F_SETFL, fcntl(listen_fd, F_GETFL) | O_NONBLOCK) != 0)
		log_fatal("msg=\"cannot make the listening socket non-blocking\"");
	if (peer_init(listen_fd, err, sizeof(err)) != 0) {
		if (bound_path)
			unlink(bound_path);
		log_fatal("msg=\"configuration error\" error=\"%s\"", err);
	}
	if (pipe2(wake_pipe, O_CLOEXEC) != 0)
		log_fatal("msg=\"pipe failed\" error=\"%s\"", strerror(errno));

	/* Signals go to this thread only; the workers never see them. */
	daemon_stop_signals(&sigs);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	threads = xcalloc((size_t)nthreads, sizeof(*threads));
	for (int i = 0; i < nthreads; i++) {
		struct responder *t = &threads[i];
		t->index = i;
		t->arena = arena_new();
		t->auth_cache = auth_cache_new();
		t->lockout_cache = lockout_cache_new();
		t->db = db_new(conf_str("database_url"), "pulse-fcgi", 5.0);
		db_set_timeouts(t->db, (int)conf_int("db_connect_timeout"),
		    (int)conf_int("db_statement_timeout"));
		db_set_on_connect(t->db, responder_forget_schema, t);
		if (pthread_create(&t->thread, NULL, thread_main, t) != 0)
			log_fatal("msg=\"cannot start thread\" index=%d", i);
	}
	if (prom_enabled() && pthread_create(&prom_thread, NULL, prom_thread_main, NULL) != 0)
		log_fatal("msg=\"cannot start the prometheus publisher thread\"");
	log_info("msg=\"responder started\" version=%s threads=%d listen=\"%s\" schema=%d",
	    PACKAGE_VERSION, nthreads, *conf_str("listen") ? conf_str("listen") : "(inherited)",
	    PULSE_SCHEMA_VERSION);

	for (;;) {
		int sig = 0;

		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			if (log_open_file(conf_str("log_file")) != 0)
				log_error("msg=\"cannot reopen log file\"");
			log_info("msg=\"log file reopened\"");
			continue;
		}
		break;
	}
	log_info("msg=\"stopping: finishing requests in flight\"");
	/* No new connections reach a socket path that is gone; the web server moves on to the
	 * other responders while these threads answer what they hold. */
	if (bound_path)
		unlink(bound_path);
	stopping = 1;
	if (own_socket)
		shutdown(listen_fd, SHUT_RDWR);
	else
		(void)!write(wake_pipe[1], "x", 1);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(threads[i].thread, NULL);
		db_free(threads[i].db);
		auth_cache_free(threads[i].auth_cache);
		lockout_cache_free(threads[i].lockout_cache);
		arena_free(threads[i].arena);
	}
	free(threads);
	/* What the last requests counted, given before the process goes. */
	if (prom_enabled()) {
		pthread_mutex_lock(&prom_stop_lock);
		prom_stopping = 1;
		pthread_cond_signal(&prom_stop_cond);
		pthread_mutex_unlock(&prom_stop_lock);
		pthread_join(prom_thread, NULL);
		prom_publish_now();
	}
	close(listen_fd);
	free(bound_path);
	log_info("msg=\"responder stopped\"");
	return 0;
}
