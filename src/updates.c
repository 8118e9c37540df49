/* updates.c: the release feed check and its cache, the update status, plans, the update jobs
 * a worker runs and their history (metrics-reporting.md §6). */
#include "config.h"

#include "updates.h"
#include "conf.h"
#include "crypto.h"
#include "http.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "settings.h"
#include "timefmt.h"
#include "update_feed.h"
#include "update_version.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HISTORY_LIMIT 50
#define CHECKSUM_MAX_BYTES (1024 * 1024)
#define ERROR_MAX 500

/* --- statements ------------------------------------------------------------------------ */

static const struct db_stmt stmt_cache_read = {
	"updates_cache_read",
	"SELECT result::text FROM pulse.update_checks WHERE channel = $1 "
	"AND ($2::int IS NULL OR checked_at > now() - make_interval(secs => $2::int))", 2,
};
static const struct db_stmt stmt_cache_write = {
	"updates_cache_write",
	"INSERT INTO pulse.update_checks (channel, checked_at, result) VALUES ($1, now(), $2) "
	"ON CONFLICT (channel) DO UPDATE SET checked_at = now(), result = EXCLUDED.result", 2,
};
/* The channel is the updateChannel setting when valid, else $1 (the build's). */
static const struct db_stmt stmt_cached_latest = {
	"updates_cached_latest",
	"SELECT coalesce((c.result->>'available')::boolean, false), "
	"coalesce(c.result->>'latestVersion', '') FROM pulse.update_checks c "
	"WHERE c.channel = coalesce((SELECT s.value#>>'{}' FROM pulse.system_settings s "
	"WHERE s.key = 'updateChannel' AND s.value#>>'{}' IN ('stable', 'rc')), $1)", 1,
};
static const struct db_stmt stmt_check_age = {
	"updates_check_age",
	"SELECT extract(epoch FROM now() - checked_at) FROM pulse.update_checks WHERE channel = $1",
	1,
};
/* A check's stage; an update in progress owns the status, so a check leaves it alone. */
static const struct db_stmt stmt_status_check = {
	"updates_status_check",
	"UPDATE pulse.update_status SET status = $1, progress = $2::int, message = $3, error = $4, "
	"updated_at = clock_timestamp() WHERE NOT EXISTS (SELECT 1 FROM pulse.update_jobs "
	"WHERE status = 'in_progress')", 4,
};
static const struct db_stmt stmt_status_set = {
	"updates_status_set",
	"UPDATE pulse.update_status SET status = $1, progress = $2::int, message = $3, error = $4, "
	"updated_at = clock_timestamp()", 4,
};
static const struct db_stmt stmt_status_read = {
	"updates_status_read",
	"SELECT status, progress, message, error, extract(epoch FROM updated_at) "
	"FROM pulse.update_status WHERE id = 1", 0,
};
static const struct db_stmt stmt_offered = {
	"updates_offered",
	"SELECT result->>'latestVersion', channel FROM pulse.update_checks "
	"WHERE $1 <> '' AND result->>'downloadUrl' = $1 ORDER BY checked_at DESC LIMIT 1", 1,
};
static const struct db_stmt stmt_offered_url = {
	"updates_offered_url",
	"SELECT result->>'downloadUrl' FROM pulse.update_checks "
	"WHERE result->>'latestVersion' = $1 AND result->>'downloadUrl' <> '' "
	"ORDER BY checked_at DESC LIMIT 1", 1,
};
static const struct db_stmt stmt_enqueue = {
	"updates_enqueue",
	"WITH j AS (INSERT INTO pulse.update_jobs (event_id, channel, version_from, version_to, "
	"deployment_type, initiated_by, initiated_via, download_url) "
	"VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING event_id), "
	"s AS (UPDATE pulse.update_status SET status = 'queued', progress = 0, "
	"message = 'Update queued', error = NULL, updated_at = clock_timestamp() "
	"WHERE EXISTS (SELECT 1 FROM j) RETURNING 1) "
	"SELECT event_id, pg_notify('pulse_jobs', 'update_apply') FROM j", 8,
};
#define HISTORY_COLUMNS \
	"event_id, extract(epoch FROM created_at), action, channel, version_from, version_to, " \
	"deployment_type, initiated_by, initiated_via, status, duration_ms, " \
	"coalesce(download_bytes, 0), coalesce(log_path, ''), coalesce(error_message, ''), " \
	"coalesce(error_code, '')"
static const struct db_stmt stmt_history = {
	"updates_history",
	"SELECT " HISTORY_COLUMNS " FROM pulse.update_jobs WHERE $1::text IS NULL OR status = $1 "
	"ORDER BY created_at DESC, event_id DESC LIMIT 50", 1,
};
static const struct db_stmt stmt_history_entry = {
	"updates_history_entry",
	"SELECT " HISTORY_COLUMNS " FROM pulse.update_jobs WHERE event_id = $1", 1,
};
/* A job whose worker went away: failed after every timeout it could have used has passed. */
static const struct db_stmt stmt_abandon = {
	"updates_abandon",
	"UPDATE pulse.update_jobs SET status = 'failed', finished_at = now(), "
	"error_message = 'The worker running the update stopped before it finished', "
	"error_code = 'abandoned', duration_ms = (extract(epoch FROM now() - created_at) * 1000)::bigint "
	"WHERE status = 'in_progress' AND claimed_by IS NOT NULL "
	"AND started_at < now() - make_interval(secs => $1::int)", 1,
};
static const struct db_stmt stmt_claim = {
	"updates_claim",
	"UPDATE pulse.update_jobs SET claimed_by = $1, started_at = now() WHERE event_id = "
	"(SELECT event_id FROM pulse.update_jobs WHERE status = 'in_progress' AND claimed_by IS NULL "
	"ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED) "
	"RETURNING event_id, download_url, version_to", 1,
};
static const struct db_stmt stmt_job_note = {
	"updates_job_note",
	"UPDATE pulse.update_jobs SET download_bytes = coalesce($2::bigint, download_bytes), "
	"log_path = coalesce($3, log_path) WHERE event_id = $1", 3,
};
static const struct db_stmt stmt_job_end = {
	"updates_job_end",
	"UPDATE pulse.update_jobs SET status = $2, finished_at = now(), error_message = $3, "
	"error_code = $4, duration_ms = (extract(epoch FROM now() - created_at) * 1000)::bigint "
	"WHERE event_id = $1", 4,
};

/* --- the check -------------------------------------------------------------------------- */

int
updates_channel(struct db *db, const char *param, char out[8])
{
	char set[16];

	if (param && (strcmp(param, "stable") == 0 || strcmp(param, "rc") == 0)) {
		snprintf(out, 8, "%s", param);
		return 0;
	}
	if (settings_get_string(db, "updateChannel", set, sizeof(set)) != 0)
		return -1;
	if (strcmp(set, "stable") == 0 || strcmp(set, "rc") == 0)
		snprintf(out, 8, "%s", strcmp(set, "rc") == 0 ? "rc" : "stable");
	else
		snprintf(out, 8, "%s", update_build_current()->channel);
	return 0;
}

static int
status_write(struct db *db, const struct db_stmt *stmt, const char *status, int progress,
    const char *message, const char *error)
{
	char prog[16];
	const char *params[4] = {status, prog, message, error};

	snprintf(prog, sizeof(prog), "%d", progress);
	return db_exec_stmt_ok(db, stmt, params);
}

/* The UpdateInfo answer. */
static struct json_object *
info_new(int available, const char *latest, const char *notes, double date,
    const char *download_url, int prerelease, const char *warning)
{
	struct json_object *o = json_object_new_object();
	char t[TIMEFMT_LEN];

	jsonwrite_bool(o, "available", available);
	jsonwrite_str(o, "currentVersion", update_build_current()->version);
	jsonwrite_str(o, "latestVersion", latest);
	jsonwrite_str(o, "releaseNotes", notes ? notes : "");
	jsonwrite_str(o, "releaseDate", date > 0 ? timefmt_rfc3339_nano(date, t, sizeof(t)) :
	    TIMEFMT_ZERO);
	jsonwrite_str(o, "downloadUrl", download_url ? download_url : "");
	jsonwrite_bool(o, "isPrerelease", prerelease);
	jsonwrite_opt_str(o, "warning", warning);
	return o;
}

/* The cached answer for channel (any age when max_age is 0): 1 with *out, 0, -1. */
static int
cache_read(struct db *db, const char *channel, int max_age, struct json_object **out)
{
	char age[16], err[64];
	const char *params[2] = {channel, max_age > 0 ? age : NULL};
	PGresult *res;

	snprintf(age, sizeof(age), "%d", max_age);
	if ((res = db_exec_stmt(db, &stmt_cache_read, params)) == NULL)
		return -1;
	*out = NULL;
	if (PQntuples(res) == 1)
		*out = jsonutil_parse(PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), err,
		    sizeof(err));
	PQclear(res);
	return *out != NULL;
}

/* Fetches url into req (the caller frees it): 0 when an answer came, -1 with err. */
static struct http_request *
feed_fetch(const char *url, const char *accept)
{
	struct http_request *req = http_request_new(url);

	(void)http_request_add_header(req, "Accept: %s", accept);
	(void)http_request_add_header(req, "User-Agent: Pulse-Update-Checker/%s", PACKAGE_VERSION);
	req->timeout_ms = conf_int("update_timeout") * 1000;
	req->connect_timeout_ms = req->timeout_ms;
	req->max_response = (size_t)conf_int("update_feed_max_bytes");
	(void)http_perform(req);
	return req;
}

/* Why a fetch failed, in words that name no credential. */
static void
fetch_error(const struct http_request *req, const char *what, char *err, size_t errlen)
{
	if (req->failure == HTTP_FAIL_TIMEOUT)
		snprintf(err, errlen, "%s did not answer within %ld s", what,
		    (long)conf_int("update_timeout"));
	else if (req->failure == HTTP_FAIL_TOO_LARGE)
		snprintf(err, errlen, "%s answer is larger than %ld bytes", what,
		    (long)req->max_response);
	else if (req->failure != HTTP_OK)
		snprintf(err, errlen, "%s unreachable: %s", what, req->error);
	else
		snprintf(err, errlen, "%s answered HTTP %ld", what, req->status);
}

/* Parses a feed body: Atom when it starts with '<', else GitHub's JSON. */
static int
feed_parse(const struct strbuf *body, const char *channel, struct update_release *rel,
    char *err, size_t errlen)
{
	size_t i = 0;

	while (i < body->len && isspace((unsigned char)body->data[i]))
		i++;
	if (i < body->len && body->data[i] == '<')
		return update_feed_parse_atom(body->data, body->len, channel, rel, err, errlen);
	return update_feed_parse_json(body->data ? body->data : "", body->len, channel,
	    update_build_current()->deployment, rel, err, errlen);
}

static int
check_failed(struct db *db, const char *reason, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", reason);
	log_warn("msg=\"update check failed\" reason=\"%s\"", reason);
	return status_write(db, &stmt_status_check, "error", 0, "Failed to check for updates",
	    reason) == 0 ? 1 : -1;
}

int
updates_check(struct db *db, const char *channel, int use_cache, struct json_object **out,
    char *err, size_t errlen)
{
	const struct update_build *b = update_build_current();
	const char *feed = conf_str("update_feed_url"), *atom = conf_str("update_atom_url");
	struct update_release rel = {0};
	struct http_request *req;
	char reason[512], msg[128];
	const char *params[2];
	int rc, found;

	*out = NULL;
	if (use_cache && (rc = cache_read(db, channel, UPDATES_CACHE_SECONDS, out)) != 0)
		return rc < 0 ? -1 : 0;
	/* A source tree is updated with git, not from a release (§6.3). */
	if (strcmp(b->deployment, "source") == 0) {
		*out = info_new(0, b->version, "", 0, "", update_version_prerelease(b->version), NULL);
		return 0;
	}
	if (feed[0] == '\0') {
		*out = info_new(0, b->version, "", 0, "", update_version_prerelease(b->version),
		    "No release feed is configured (update_feed_url)");
		return 0;
	}
	if (status_write(db, &stmt_status_check, "checking", 0, "Checking for updates...",
	    NULL) != 0)
		return -1;
	req = feed_fetch(feed, "application/vnd.github.v3+json, application/atom+xml;q=0.9");
	if (req->failure == HTTP_OK && (req->status == 403 || req->status == 429)) {
		/* Rate limited (§6.3): the Atom feed, then what was cached, then a warning. */
		http_request_free(req);
		req = atom[0] ? feed_fetch(atom, "application/atom+xml") : NULL;
		if (req == NULL || req->failure != HTTP_OK || req->status != 200 ||
		    update_feed_parse_atom(req->response.data ? req->response.data : "",
		    req->response.len, channel, &rel, reason, sizeof(reason)) < 0) {
			http_request_free(req);
			update_release_clear(&rel);
			if (use_cache && (rc = cache_read(db, channel, 0, out)) != 0)
				return rc < 0 ? -1 : 0;
			*out = info_new(0, b->version, "", 0, "", update_version_prerelease(b->version),
			    "Update check temporarily unavailable because the release feed's rate "
			    "limit was reached. Try again in a few minutes.");
			return status_write(db, &stmt_status_check, "idle", 100,
			    "Update check rate limited", NULL) == 0 ? 0 : -1;
		}
		found = 1;
	} else if (req->failure != HTTP_OK || req->status != 200) {
		fetch_error(req, "release feed", reason, sizeof(reason));
		http_request_free(req);
		return check_failed(db, reason, err, errlen);
	} else if ((found = feed_parse(&req->response, channel, &rel, reason,
	    sizeof(reason))) < 0) {
		http_request_free(req);
		update_release_clear(&rel);
		return check_failed(db, reason, err, errlen);
	}
	http_request_free(req);
	if (found)
		*out = info_new(update_version_compare(rel.tag, b->version) > 0, rel.tag, rel.notes,
		    rel.date, rel.download_url, rel.prerelease, NULL);
	else
		*out = info_new(0, b->version, "", 0, "", update_version_prerelease(b->version), NULL);
	update_release_clear(&rel);
	params[0] = channel;
	params[1] = json_object_to_json_string_ext(*out, JSON_C_TO_STRING_PLAIN);
	if (db_exec_stmt_ok(db, &stmt_cache_write, params) != 0) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	if (jsonread_bool(*out, "available", 0))
		snprintf(msg, sizeof(msg), "Update available: %s",
		    jsonread_string(*out, "latestVersion", ""));
	else
		snprintf(msg, sizeof(msg), "No updates available");
	if (status_write(db, &stmt_status_check, jsonread_bool(*out, "available", 0) ?
	    "available" : "idle", 100, msg, NULL) != 0) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

int
updates_cached(struct db *db, int *available, char *latest, size_t len)
{
	const char *params[1] = {update_build_current()->channel};
	PGresult *res = db_exec_stmt(db, &stmt_cached_latest, params);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	*available = found && PQgetvalue(res, 0, 0)[0] == 't';
	snprintf(latest, len, "%s", found ? PQgetvalue(res, 0, 1) : "");
	PQclear(res);
	return found;
}

/* --- status ------------------------------------------------------------------------------ */

struct json_object *
updates_status(struct db *db)
{
	PGresult *res = db_exec_stmt(db, &stmt_status_read, NULL);
	struct json_object *o;
	char t[TIMEFMT_LEN];

	if (res == NULL)
		return NULL;
	o = json_object_new_object();
	if (PQntuples(res) == 1) {
		jsonwrite_str(o, "status", PQgetvalue(res, 0, 0));
		jsonwrite_int(o, "progress", db_value_int32(res, 0, 1));
		jsonwrite_str(o, "message", PQgetvalue(res, 0, 2));
		if (!PQgetisnull(res, 0, 3))
			jsonwrite_str(o, "error", PQgetvalue(res, 0, 3));
		jsonwrite_str(o, "updatedAt", timefmt_rfc3339_nano(db_value_double(res, 0, 4), t,
		    sizeof(t)));
	} else {
		jsonwrite_str(o, "status", "idle");
		jsonwrite_int(o, "progress", 0);
		jsonwrite_str(o, "message", "");
		jsonwrite_str(o, "updatedAt", timefmt_rfc3339_nano(clock_wall(), t, sizeof(t)));
	}
	PQclear(res);
	return o;
}

/* --- plans -------------------------------------------------------------------------------- */

static void
add_lines(struct json_object *o, const char *key, const char *const *lines, size_t n,
    const char *version)
{
	struct json_object *arr = json_object_new_array();

	/* Each line may name the version once, where it says %s. */
	for (size_t i = 0; i < n; i++) {
		const char *at = strstr(lines[i], "%s");
		char *line = at ? xasprintf("%.*s%s%s", (int)(at - lines[i]), lines[i], version,
		    at + 2) : xstrdup(lines[i]);
		json_object_array_add(arr, json_object_new_string(line));
		free(line);
	}
	json_object_object_add(o, key, arr);
}

struct json_object *
updates_plan(const char *deployment, const char *version, const char *download_url)
{
	static const char *const automatic[] = {
		"The worker downloads %s and verifies its SHA-256 checksum against the release's "
		"checksum file",
		"It runs update_install_command with the verified file",
		"The install command restarts pulse-fcgi and pulse-worker",
	};
	static const char *const deb[] = {
		"Download pulse_%s_<arch>.deb from the release and its SHA256SUMS",
		"sha256sum --ignore-missing -c SHA256SUMS",
		"sudo apt install ./pulse_<version>_<arch>.deb",
		"The package runs the migrations and restarts pulse-fcgi and pulse-worker",
	};
	static const char *const installed[] = {
		"Download the %s release and its SHA256SUMS, and check it: "
		"sha256sum --ignore-missing -c SHA256SUMS",
		"sudo systemctl stop pulse-worker pulse-fcgi",
		"Install the release's files over the old ones (./configure && make && sudo make "
		"install for a source release)",
		"sudo -u pulse pulse-worker --migrate",
		"sudo systemctl start pulse-fcgi pulse-worker",
	};
	static const char *const source[] = {
		"git fetch --tags && git checkout %s",
		"autoreconf -fi && ./configure && make",
		"sudo make install (or run from the build tree as before)",
		"pulse-worker --migrate",
		"Restart pulse-fcgi and pulse-worker",
	};
	static const char *const docker[] = {
		"docker pull <your registry>/pulse:%s",
		"docker stop pulse",
		"docker run -d --name pulse <your registry>/pulse:<version> (same volumes and "
		"settings as before)",
	};
	static const char *const container[] = {
		"Update the container from its image or template to %s, as it was created",
		"Or update inside it as for its install method, then restart the container",
	};
	static const char *const prerequisites[] = {
		"Root (sudo) for the install step", "Internet access to the release feed",
		"At least 100 MB of free disk space",
	};
	struct json_object *o = json_object_new_object();
	int auto_ok = update_auto_supported(deployment);
	const char *v = version[0] == 'v' ? version + 1 : version;

	jsonwrite_bool(o, "canAutoUpdate", auto_ok);
	if (auto_ok)
		add_lines(o, "instructions", automatic, ARRAY_LEN(automatic), version);
	else if (strcmp(deployment, "deb") == 0)
		add_lines(o, "instructions", deb, ARRAY_LEN(deb), v);
	else if (strcmp(deployment, "source") == 0)
		add_lines(o, "instructions", source, ARRAY_LEN(source), version);
	else if (strcmp(deployment, "docker") == 0)
		add_lines(o, "instructions", docker, ARRAY_LEN(docker), v);
	else if (strcmp(deployment, "container") == 0)
		add_lines(o, "instructions", container, ARRAY_LEN(container), version);
	else
		add_lines(o, "instructions", installed, ARRAY_LEN(installed), version);
	if (strcmp(deployment, "docker") != 0 && strcmp(deployment, "container") != 0) {
		add_lines(o, "prerequisites", prerequisites, ARRAY_LEN(prerequisites), version);
		jsonwrite_str(o, "estimatedTime", "2-5 minutes");
		jsonwrite_bool(o, "requiresRoot", 1);
	} else {
		jsonwrite_str(o, "estimatedTime", "1-2 minutes");
		jsonwrite_bool(o, "requiresRoot", 0);
	}
	jsonwrite_bool(o, "rollbackSupport", 0);
	jsonwrite_opt_str(o, "downloadUrl", download_url);
	return o;
}

/* --- jobs and history --------------------------------------------------------------------- */

int
updates_offered(struct db *db, int key_is_url, const char *key, char *out, size_t len)
{
	const char *params[1] = {key};
	PGresult *res = db_exec_stmt(db, key_is_url ? &stmt_offered : &stmt_offered_url, params);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	snprintf(out, len, "%s", found ? PQgetvalue(res, 0, 0) : "");
	PQclear(res);
	return found;
}

int
updates_enqueue(struct db *db, const char *download_url, const char *initiated_by,
    const char *initiated_via, char *id, size_t idlen, char *err, size_t errlen)
{
	const struct update_build *b = update_build_current();
	const char *p1[1] = {download_url}, *params[8];
	char event_id[64], *rnd, version_to[128], channel[8];
	struct timespec ts;
	struct tm tm;
	PGresult *res;
	int n;

	if ((res = db_exec_stmt(db, &stmt_offered, p1)) == NULL)
		return -1;
	n = PQntuples(res);
	if (n == 1) {
		snprintf(version_to, sizeof(version_to), "%s", PQgetvalue(res, 0, 0));
		snprintf(channel, sizeof(channel), "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	if (n != 1) {
		snprintf(err, errlen, "Download URL is not one the release feed offered: check for "
		    "updates first");
		return 1;
	}
	/* The original's job id (YYYYMMDD-HHMMSS.mmm), unique with a random suffix. */
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	rnd = crypto_random_hex(4);
	snprintf(event_id, sizeof(event_id), "%04d%02d%02d-%02d%02d%02d.%03ld-%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, rnd);
	free(rnd);
	params[0] = event_id;
	params[1] = channel;
	params[2] = b->version;
	params[3] = version_to;
	params[4] = b->deployment;
	params[5] = initiated_by;
	params[6] = initiated_via;
	params[7] = download_url;
	if ((res = db_exec_stmt(db, &stmt_enqueue, params)) == NULL)
		return -1;
	n = PQntuples(res);
	PQclear(res);
	if (n != 1) {
		snprintf(err, errlen, "An update is already in progress");
		return 2;
	}
	snprintf(id, idlen, "%s", event_id);
	return 0;
}

static struct json_object *
history_row(PGresult *res, int row)
{
	struct json_object *o = json_object_new_object(), *e;
	char t[TIMEFMT_LEN];
	const char *v;

	jsonwrite_str(o, "event_id", PQgetvalue(res, row, 0));
	jsonwrite_str(o, "timestamp", timefmt_rfc3339_nano(db_value_double(res, row, 1), t,
	    sizeof(t)));
	jsonwrite_str(o, "action", PQgetvalue(res, row, 2));
	jsonwrite_str(o, "channel", PQgetvalue(res, row, 3));
	jsonwrite_str(o, "version_from", PQgetvalue(res, row, 4));
	jsonwrite_str(o, "version_to", PQgetvalue(res, row, 5));
	jsonwrite_str(o, "deployment_type", PQgetvalue(res, row, 6));
	jsonwrite_str(o, "initiated_by", PQgetvalue(res, row, 7));
	jsonwrite_str(o, "initiated_via", PQgetvalue(res, row, 8));
	jsonwrite_str(o, "status", PQgetvalue(res, row, 9));
	jsonwrite_int(o, "duration_ms", strtoll(PQgetvalue(res, row, 10), NULL, 10));
	jsonwrite_opt_int(o, "download_bytes", strtoll(PQgetvalue(res, row, 11), NULL, 10));
	jsonwrite_opt_str(o, "log_path", PQgetvalue(res, row, 12));
	if (*(v = PQgetvalue(res, row, 13))) {
		e = json_object_new_object();
		jsonwrite_str(e, "message", v);
		jsonwrite_opt_str(e, "code", PQgetvalue(res, row, 14));
		json_object_object_add(o, "error", e);
	}
	return o;
}

struct json_object *
updates_history(struct db *db, const char *status)
{
	const char *params[1] = {status};
	PGresult *res = db_exec_stmt(db, &stmt_history, params);
	struct json_object *arr;

	if (res == NULL)
		return NULL;
	arr = json_object_new_array();
	for (int i = 0; i < PQntuples(res) && i < HISTORY_LIMIT; i++)
		json_object_array_add(arr, history_row(res, i));
	PQclear(res);
	return arr;
}

int
updates_history_entry(struct db *db, const char *id, struct json_object **out)
{
	const char *params[1] = {id};
	PGresult *res = db_exec_stmt(db, &stmt_history_entry, params);
	int found;

	if (res == NULL)
		return -1;
	found = PQntuples(res) == 1;
	*out = found ? history_row(res, 0) : NULL;
	PQclear(res);
	return found;
}

/* --- the worker's side ------------------------------------------------------------------ */

struct job_run {
	struct db *db;
	const char *id;
	const char *url;
	const char *version;
	char name[256];		/* the file name in the URL */
	char dir[1024];		/* data_dir/updates */
	char path[1400];	/* the downloaded file */
	char log[1400];		/* the install command's output */
};

static void
stage_delay(void)
{
	int64_t ms = conf_int("update_stage_delay_ms");
	struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

	if (ms > 0)
		nanosleep(&ts, NULL);
}

static int
stage(struct job_run *j, const char *status, int progress, const char *message)
{
	log_info("msg=\"update stage\" id=%s stage=%s", j->id, status);
	return status_write(j->db, &stmt_status_set, status, progress, message, NULL);
}

/* Ends the job: success, or failed with message and code. Returns 0 or -1 (database). */
static int
job_end(struct job_run *j, const char *message, const char *code, int progress)
{
	const char *params[4] = {j->id, message ? "failed" : "success", message, code};
	char cut[ERROR_MAX + 4];

	if (message) {
		log_warn("msg=\"update failed\" id=%s code=%s", j->id, code);
		snprintf(cut, sizeof(cut), "%.*s%s", ERROR_MAX, message,
		    strlen(message) > ERROR_MAX ? "..." : "");
		params[2] = cut;
		if (status_write(j->db, &stmt_status_set, "error", progress, "Update failed",
		    cut) != 0)
			return -1;
	} else if (status_write(j->db, &stmt_status_set, "completed", 100, "Update completed",
	    NULL) != 0) {
		return -1;
	}
	return db_exec_stmt_ok(j->db, &stmt_job_end, params);
}

/* The last path segment of url without query or fragment, kept to [A-Za-z0-9._+-]. */
static void
url_file_name(const char *url, char *out, size_t len)
{
	const char *end = url + strcspn(url, "?#"), *start = end;
	size_t o = 0;

	while (start > url && start[-1] != '/')
		start--;
	for (const char *p = start; p < end && o + 1 < len; p++)
		if (isalnum((unsigned char)*p) || strchr("._+-", *p))
			out[o++] = *p;
	out[o] = '\0';
	if (o == 0 || out[0] == '.')
		snprintf(out, len, "update.bin");
}

/* The SHA-256 the release's checksum file gives for name: 1 with hex set, 0 when no checksum
 * file names it, -1 with err for a failed fetch of every candidate. */
static int
release_checksum(const char *url, const char *name, char hex[65])
{
	static const char *const files[] = {"SHA256SUMS", "checksums.txt", "SHA256SUMS.txt"};
	size_t dirlen = (size_t)(strrchr(url, '/') - url) + 1;

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *sums = xasprintf("%.*s%s", (int)dirlen, url, files[i]);
		struct http_request *req = http_request_new(sums);
		int found = 0;

		free(sums);
		req->timeout_ms = conf_int("update_timeout") * 1000;
		req->connect_timeout_ms = req->timeout_ms;
		req->max_response = CHECKSUM_MAX_BYTES;
		if (http_perform(req) == 0 && req->status == 200 && req->response.len > 0) {
			char *text = xstrndup(req->response.data, req->response.len), *save = NULL;
			for (char *line = strtok_r(text, "\n", &save); line && !found;
			    line = strtok_r(NULL, "\n", &save)) {
				size_t h = strspn(line, "0123456789abcdefABCDEF");
				const char *f = line + h;
				if (h != 64 || *f != ' ')
					continue;
				f++;
				if (*f == ' ' || *f == '*')
					f++;
				f += strspn(f, " ");
				if (strcspn(f, "\r") == strlen(name) && strncmp(f, name, strlen(name)) == 0) {
					for (int k = 0; k < 64; k++)
						hex[k] = (char)tolower((unsigned char)line[k]);
					hex[64] = '\0';
					found = 1;
				}
			}
			free(text);
		}
		http_request_free(req);
		if (found)
			return 1;
	}
	return 0;
}

/* Runs update_install_command with the file as $1, its output to j->log, killed after
 * update_install_timeout. Returns the exit status, or -1 with reason. */
static int
run_install(struct job_run *j, char *reason, size_t len)
{
	double deadline = clock_monotonic() + (double)conf_int("update_install_timeout");
	int status = 0, fd;
	pid_t pid, done;

	fd = open(j->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(reason, len, "cannot write the install log: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		close(fd);
		snprintf(reason, len, "cannot start the install command: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		sigset_t none;
		int nul = open("/dev/null", O_RDONLY);

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setpgid(0, 0);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		closefrom(3);
		setenv("PULSE_UPDATE_FILE", j->path, 1);
		setenv("PULSE_UPDATE_VERSION", j->version, 1);
		execl("/bin/sh", "sh", "-c", conf_str("update_install_command"), "pulse-update",
		    j->path, (char *)NULL);
		_exit(127);
	}
	close(fd);
	for (;;) {
		struct timespec tick = {0, 100 * 1000000L};

		done = waitpid(pid, &status, WNOHANG);
		if (done == pid || (done < 0 && errno != EINTR))
			break;
		if (clock_monotonic() > deadline) {
			kill(-pid, SIGKILL);
			(void)waitpid(pid, &status, 0);
			snprintf(reason, len, "update_install_command did not finish within %ld s",
			    (long)conf_int("update_install_timeout"));
			return -1;
		}
		nanosleep(&tick, NULL);
	}
	if (done != pid) {
		snprintf(reason, len, "lost the install command: %s", strerror(errno));
		return -1;
	}
	if (WIFSIGNALED(status)) {
		snprintf(reason, len, "update_install_command was killed by signal %d",
		    WTERMSIG(status));
		return -1;
	}
	return WEXITSTATUS(status);
}

/* Download, check, install: the job's stages (§6.4). Returns 0 or -1 (database). */
static int
job_run(struct job_run *j)
{
	struct http_request *req;
	char reason[600], sum[65], want[65], bytes[32];
	const char *note[3] = {j->id, NULL, NULL};
	int fd, rc;

	url_file_name(j->url, j->name, sizeof(j->name));
	snprintf(j->dir, sizeof(j->dir), "%s/updates", conf_str("data_dir"));
	snprintf(j->path, sizeof(j->path), "%s/%s", j->dir, j->name);
	snprintf(j->log, sizeof(j->log), "%s/%s.log", j->dir, j->id);
	if (mkdir(j->dir, 0700) != 0 && errno != EEXIST)
		return job_end(j, "Cannot create the update folder", "update_failed", 10);

	if (stage(j, "downloading", 10, "Downloading update...") != 0)
		return -1;
	req = http_request_new(j->url);
	(void)http_request_add_header(req, "User-Agent: Pulse-Updater/%s", PACKAGE_VERSION);
	req->timeout_ms = conf_int("update_download_timeout") * 1000;
	req->connect_timeout_ms = conf_int("update_timeout") * 1000;
	req->max_response = (size_t)conf_int("update_download_max_bytes");
	if (http_perform(req) != 0 || req->status != 200) {
		fetch_error(req, "update download", reason, sizeof(reason));
		http_request_free(req);
		return job_end(j, reason, "download_failed", 20);
	}
	snprintf(bytes, sizeof(bytes), "%lu", (unsigned long)req->response.len);
	note[1] = bytes;
	if (db_exec_stmt_ok(j->db, &stmt_job_note, note) != 0) {
		http_request_free(req);
		return -1;
	}
	stage_delay();

	if (stage(j, "verifying", 30, "Verifying download...") != 0) {
		http_request_free(req);
		return -1;
	}
	crypto_sha256_hex(req->response.data ? req->response.data : "", req->response.len, sum);
	if (release_checksum(j->url, j->name, want) != 1) {
		http_request_free(req);
		return job_end(j, "No checksum file next to the download names it", "checksum_missing",
		    30);
	}
	if (strcmp(sum, want) != 0) {
		http_request_free(req);
		snprintf(reason, sizeof(reason), "Checksum mismatch for %s: refused", j->name);
		return job_end(j, reason, "checksum_mismatch", 30);
	}
	fd = open(j->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	rc = fd >= 0 && write(fd, req->response.data ? req->response.data : "",
	    req->response.len) == (ssize_t)req->response.len ? 0 : -1;
	if (fd >= 0 && close(fd) != 0)
		rc = -1;
	http_request_free(req);
	if (rc != 0) {
		unlink(j->path);
		return job_end(j, "Cannot write the downloaded file", "update_failed", 30);
	}
	stage_delay();

	if (stage(j, "applying", 80, "Applying update...") != 0) {
		unlink(j->path);
		return -1;
	}
	note[1] = NULL;
	note[2] = j->log;
	if (db_exec_stmt_ok(j->db, &stmt_job_note, note) != 0) {
		unlink(j->path);
		return -1;
	}
	rc = run_install(j, reason, sizeof(reason));
	unlink(j->path);
	if (rc > 0)
		snprintf(reason, sizeof(reason), "update_install_command failed with exit status %d",
		    rc);
	if (rc != 0)
		return job_end(j, reason, "install_failed", 80);
	stage_delay();
	return job_end(j, NULL, NULL, 100);
}

static const struct db_stmt stmt_waiting = {
	"updates_waiting",
	"SELECT count(*) FROM pulse.update_jobs WHERE status = 'in_progress' AND claimed_by IS NULL",
	0,
};

int
updates_waiting(struct db *db)
{
	char limit[32];
	const char *p_abandon[1] = {limit};
	PGresult *res;
	int n;

	/* Every timeout the job could have used, and a margin. */
	snprintf(limit, sizeof(limit), "%ld", (long)(conf_int("update_download_timeout") +
	    4 * conf_int("update_timeout") + conf_int("update_install_timeout") +
	    conf_int("update_stage_delay_ms") * 4 / 1000 + 600));
	if (db_exec_stmt_ok(db, &stmt_abandon, p_abandon) != 0)
		return -1;
	if ((res = db_exec_stmt(db, &stmt_waiting, NULL)) == NULL)
		return -1;
	n = db_value_int32(res, 0, 0);
	PQclear(res);
	return n > 0;
}

int
updates_run_pending(struct db *db, const char *worker_id)
{
	const char *p_claim[1] = {worker_id};
	struct job_run j = {.db = db};
	PGresult *res;
	int rc;

	if ((res = db_exec_stmt(db, &stmt_claim, p_claim)) == NULL)
		return -1;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return 0;
	}
	j.id = PQgetvalue(res, 0, 0);
	j.url = PQgetvalue(res, 0, 1);
	j.version = PQgetvalue(res, 0, 2);
	log_info("msg=\"update started\" id=%s version=%s", j.id, j.version);
	rc = job_run(&j);
	PQclear(res);
	return rc < 0 ? -1 : 1;
}

int
updates_background_check(struct db *db)
{
	struct json_object *on = NULL, *hours = NULL, *info = NULL;
	const char *params[1];
	char channel[8], err[512];
	double interval = 3600;
	int64_t h;
	PGresult *res;
	int enabled, rc, due;

	if (settings_get(db, "autoUpdateEnabled", &on) < 0)
		return -1;
	enabled = on && json_object_is_type(on, json_type_boolean) && json_object_get_boolean(on);
	json_object_put(on);
	if (!enabled)
		return 0;
	if (settings_get(db, "autoUpdateCheckInterval", &hours) < 0)
		return -1;
	if (hours && jsonread_value_int(hours, &h) && h >= 1 && h <= 168)
		interval = (double)h * 3600;
	json_object_put(hours);
	if (updates_channel(db, NULL, channel) != 0)
		return -1;
	params[0] = channel;
	if ((res = db_exec_stmt(db, &stmt_check_age, params)) == NULL)
		return -1;
	due = PQntuples(res) == 0 || db_value_double(res, 0, 0) >= interval;
	PQclear(res);
	if (!due)
		return 0;
	rc = updates_check(db, channel, 0, &info, err, sizeof(err));
	if (rc == 0 && jsonread_bool(info, "available", 0))
		log_info("msg=\"update available\" channel=%s version=%s", channel,
		    jsonread_string(info, "latestVersion", ""));
	json_object_put(info);
	return rc == -1 ? -1 : 0;
}
