/* api_updates.c: the server's own updates (metrics-reporting.md §6.3-§6.8): the release feed
 * check, status, plan, history, apply (a job of the worker) and the progress as server-sent
 * events. The work is src/updates.c's. */
#include "config.h"

#include "handlers.h"
#include "conf.h"
#include "jsonread.h"
#include "jsonwrite.h"
#include "log.h"
#include "update_version.h"
#include "updates.h"
#include "util.h"

#include <json-c/json.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define URL_MAX 2048
#define STREAM_POLL_MS 250		/* how often a stream looks at the status */
#define STREAM_HEARTBEAT 15.0		/* seconds between heartbeats (nginx reads within 120 s) */
#define STREAM_MAX_SECONDS 300.0	/* a stream ends after this; EventSource reconnects */

/* Streams running in this responder: each holds a thread, so at most half of them. */
static atomic_int streams;

/* The channel query parameter: 0 with *out NULL when absent, -1 after answering 400. */
static int
query_channel(struct request *r, const char **out)
{
	const char *c = req_query(r, "channel");

	*out = NULL;
	if (c == NULL || *c == '\0')
		return 0;
	if (strcmp(c, "stable") != 0 && strcmp(c, "rc") != 0) {
		resp_error(r, 400, "invalid_channel", "Invalid channel: must be stable or rc");
		return -1;
	}
	*out = c;
	return 0;
}

void
api_updates_check(struct request *r)
{
	const char *param;
	struct json_object *info;
	char channel[8], err[512];
	int rc;

	if (query_channel(r, &param) != 0)
		return;
	if (updates_channel(r->db, param, channel) != 0) {
		resp_db_unavailable(r);
		return;
	}
	/* The cache answers only when no channel was asked for (§6.3). */
	rc = updates_check(r->db, channel, param == NULL, &info, err, sizeof(err));
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc > 0) {
		resp_error(r, 502, "update_check_failed", "Failed to check for updates: %s", err);
		return;
	}
	resp_json(r, 200, req_json(r, info));
}

void
api_updates_status(struct request *r)
{
	struct json_object *st = req_json(r, updates_status(r->db));

	if (st == NULL) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, st);
}

void
api_updates_plan(struct request *r)
{
	const char *version = req_query(r, "version"), *param;
	char url[URL_MAX + 1];

	if (query_channel(r, &param) != 0)
		return;
	if (version == NULL || *version == '\0') {
		resp_error(r, 400, "missing_version", "version parameter required");
		return;
	}
	if (!update_version_valid(version) || strlen(version) > 64) {
		resp_error(r, 400, "invalid_version", "version must look like v1.2.3 or 1.2.3-rc.1");
		return;
	}
	if (updates_offered(r->db, 0, version, url, sizeof(url)) < 0) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, req_json(r, updates_plan(update_build_current()->deployment, version,
	    url)));
}

void
api_updates_history(struct request *r)
{
	static const char *const statuses[] = {"in_progress", "success", "failed", "rolled_back",
		"cancelled"};
	const char *status = req_query(r, "status");
	struct json_object *arr;
	int known = 0;

	if (status && *status == '\0')
		status = NULL;
	for (size_t i = 0; status && i < ARRAY_LEN(statuses); i++)
		known |= strcmp(status, statuses[i]) == 0;
	if (status && !known) {
		resp_error(r, 400, "invalid_status", "Invalid status filter");
		return;
	}
	/* limit is accepted and, as in the original, at most 50 entries come back. */
	if ((arr = req_json(r, updates_history(r->db, status))) == NULL) {
		resp_db_unavailable(r);
		return;
	}
	resp_json(r, 200, arr);
}

void
api_updates_history_entry(struct request *r)
{
	const char *id = req_query(r, "id");
	struct json_object *entry;
	int rc;

	if (id == NULL || *id == '\0') {
		resp_error(r, 400, "missing_id", "event ID required");
		return;
	}
	if (strlen(id) > 128) {
		resp_error(r, 404, "not_found", "Entry not found");
		return;
	}
	rc = updates_history_entry(r->db, id, &entry);
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc == 0) {
		resp_error(r, 404, "not_found", "Entry not found");
		return;
	}
	resp_json(r, 200, req_json(r, entry));
}

void
api_updates_apply(struct request *r)
{
	const struct update_build *b = update_build_current();
	struct json_object *body = req_body_object(r, 0), *plan;
	const char *url = NULL;
	char id[64], err[256], version[128];
	int rc;

	if (body == NULL || req_body_string(r, body, "downloadUrl", 0, URL_MAX, &url) < 0)
		return;
	if (url == NULL || *url == '\0') {
		resp_error(r, 400, "invalid_field", "Download URL is required");
		return;
	}
	/* Where no safe automatic update exists, the steps to follow instead (§6.8). */
	if (!update_auto_supported(b->deployment)) {
		if ((rc = updates_offered(r->db, 1, url, version, sizeof(version))) < 0) {
			resp_db_unavailable(r);
			return;
		}
		plan = req_json(r, updates_plan(b->deployment, rc ? version : "<version>",
		    rc ? url : NULL));
		jsonwrite_str(plan, "deploymentType", b->deployment);
		resp_error_with(r, 409, "manual_update_required", strcmp(b->deployment, "source") == 0 ||
		    strcmp(b->deployment, "docker") == 0 || strcmp(b->deployment, "container") == 0 ?
		    "Automatic updates are not available for this deployment type: follow the "
		    "instructions" : "No update_install_command is configured: follow the "
		    "instructions", plan);
		return;
	}
	rc = updates_enqueue(r->db, url, "user", r->auth.method == AUTH_METHOD_TOKEN ? "api" : "ui", id,
	    sizeof(id), err, sizeof(err));
	if (rc < 0) {
		resp_db_unavailable(r);
		return;
	}
	if (rc > 0) {
		resp_error(r, rc == 2 ? 409 : 400, rc == 2 ? "update_in_progress" : "invalid_url",
		    "%s", err);
		return;
	}
	log_info("msg=\"update queued\" id=%s", id);
	{
		struct json_object *o = resp_object(r);
		jsonwrite_str(o, "status", "started");
		jsonwrite_str(o, "message", "Update process started");
		jsonwrite_str(o, "id", id);
		resp_json(r, 200, o);
	}
}

static int
terminal(const char *status)
{
	return strcmp(status, "completed") == 0 || strcmp(status, "error") == 0;
}

static int
in_flight(const char *status)
{
	static const char *const stages[] = {"queued", "downloading", "verifying", "applying"};

	for (size_t i = 0; i < ARRAY_LEN(stages); i++)
		if (strcmp(status, stages[i]) == 0)
			return 1;
	return 0;
}

/* One event: "data: <json>\n\n", flushed. Returns 0, or -1 once the client is gone. */
static int
send_event(struct request *r, const char *text)
{
	return resp_stream_write(r, "data: ", 6) != 0 || resp_stream_write(r, text, strlen(text)) ||
	    resp_stream_write(r, "\n\n", 2) || resp_stream_flush(r) ? -1 : 0;
}

void
api_updates_stream(struct request *r)
{
	double start = clock_monotonic(), last_beat = start;
	int max = (int)conf_int("threads") / 2, seen_flight = 0;
	char *last = NULL;

	if (max < 1)
		max = 1;
	if (atomic_fetch_add(&streams, 1) >= max) {
		atomic_fetch_sub(&streams, 1);
		resp_header(r, "Retry-After", "10");
		resp_error(r, 503, "too_many_streams", "Too many update streams: poll "
		    "/api/updates/status instead");
		return;
	}
	resp_header(r, "Cache-Control", "no-cache");
	resp_header(r, "X-Accel-Buffering", "no");
	resp_stream_begin(r, 200, "text/event-stream");
	if (r->method == REQ_METHOD_HEAD)
		goto out;
	if (resp_stream_write(r, ": connected\n\n", 13) != 0 || resp_stream_flush(r) != 0)
		goto out;
	while (clock_monotonic() - start < STREAM_MAX_SECONDS) {
		struct json_object *st = updates_status(r->db);
		const char *text, *status;
		struct timespec tick = {0, STREAM_POLL_MS * 1000000L};

		if (st != NULL) {
			text = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN);
			status = jsonread_string(st, "status", "");
			if (last == NULL || strcmp(last, text) != 0) {
				int done = seen_flight && terminal(status);
				free(last);
				last = xstrdup(text);
				seen_flight |= in_flight(status);
				if (send_event(r, text) != 0) {
					json_object_put(st);
					break;
				}
				last_beat = clock_monotonic();
				/* The update this stream followed is over: the client reloads. */
				if (done) {
					json_object_put(st);
					break;
				}
			}
			json_object_put(st);
		}
		if (clock_monotonic() - last_beat >= STREAM_HEARTBEAT) {
			if (resp_stream_write(r, ": heartbeat\n\n", 13) != 0 || resp_stream_flush(r) != 0)
				break;
			last_beat = clock_monotonic();
		}
		nanosleep(&tick, NULL);
	}
out:
	free(last);
	atomic_fetch_sub(&streams, 1);
}
