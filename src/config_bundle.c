/* config_bundle.c: the configuration export bundle: encryption, ExportData from our tables,
 * and its import in one transaction. */
#include "config.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "alert_config.h"
#include "conf.h"
#include "config_bundle.h"
#include "crypto.h"
#include "http.h"
#include "instances.h"
#include "jsonread.h"
#include "jsonutil.h"
#include "jsonwrite.h"
#include "log.h"
#include "notify_channels.h"
#include "oidc.h"
#include "proxmox.h"
#include "settings.h"
#include "sysconfig.h"
#include "timefmt.h"
#include "util.h"

/* --- the cipher ------------------------------------------------------------------------ */

static int
derive_key(const char *passphrase, const unsigned char *salt, unsigned char key[32])
{
	return PKCS5_PBKDF2_HMAC(passphrase, (int)strlen(passphrase), salt, BUNDLE_SALT_LEN,
	    BUNDLE_PBKDF2_ITERATIONS, EVP_sha256(), 32, key) == 1 ? 0 : -1;
}

char *
bundle_encrypt(const char *passphrase, const void *plain, size_t len)
{
	size_t head = BUNDLE_SALT_LEN + BUNDLE_NONCE_LEN, total = head + len + BUNDLE_TAG_LEN;
	unsigned char key[32], *buf = xmalloc(total);
	EVP_CIPHER_CTX *ctx = NULL;
	char *out = NULL;
	int n = 0, fin = 0;

	if (len > INT32_MAX)
		goto done;
	crypto_random(buf, head);
	if (derive_key(passphrase, buf, key) != 0 || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, buf + BUNDLE_SALT_LEN) != 1 ||
	    EVP_EncryptUpdate(ctx, buf + head, &n, plain, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, buf + head + n, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, BUNDLE_TAG_LEN, buf + head + len) != 1)
		goto done;
	out = base64_encode(buf, total, 0, 1);
done:
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(key, sizeof(key));
	secret_free_n(buf, total);
	return out;
}

int
bundle_decrypt(const char *data, const char *passphrase, char **plain, size_t *len, char *err,
    size_t errlen)
{
	size_t head = BUNDLE_SALT_LEN + BUNDLE_NONCE_LEN, n = 0, ctlen, tlen;
	unsigned char key[32], *raw = NULL;
	EVP_CIPHER_CTX *ctx = NULL;
	char *text = NULL, *out = NULL;
	int got = 0, fin = 0, rc = -1;

	*plain = NULL;
	*len = 0;
	/* A file saved with a final newline, or pasted with spaces around it. */
	data = str_trimmed(data, &tlen);
	text = xmalloc(tlen + 1);
	memcpy(text, data, tlen);
	text[tlen] = '\0';
	if (tlen == 0 || base64_decode(text, &raw, &n) != 0) {
		snprintf(err, errlen, "failed to decode import data: illegal base64 data");
		raw = NULL;
		goto done;
	}
	if (n < head) {
		snprintf(err, errlen, "failed to decrypt import data: ciphertext too short");
		goto done;
	}
	if (n < head + BUNDLE_TAG_LEN || n - head - BUNDLE_TAG_LEN > INT32_MAX) {
		snprintf(err, errlen, "failed to decrypt import data: cipher: message authentication "
		    "failed");
		goto done;
	}
	ctlen = n - head - BUNDLE_TAG_LEN;
	out = xmalloc(ctlen + 1);
	if (derive_key(passphrase, raw, key) != 0 || (ctx = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, raw + BUNDLE_SALT_LEN) != 1 ||
	    EVP_DecryptUpdate(ctx, (unsigned char *)out, &got, raw + head, (int)ctlen) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, BUNDLE_TAG_LEN,
	    raw + head + ctlen) != 1 ||
	    EVP_DecryptFinal_ex(ctx, (unsigned char *)out + got, &fin) != 1) {
		snprintf(err, errlen, "failed to decrypt import data: cipher: message authentication "
		    "failed");
		goto done;
	}
	out[ctlen] = '\0';
	*plain = out;
	*len = ctlen;
	out = NULL;
	rc = 0;
done:
	EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(key, sizeof(key));
	if (out != NULL)
		secret_free_n(out, ctlen + 1);
	if (raw != NULL)
		secret_free_n(raw, n);
	free(text);
	return rc;
}

/* --- export ----------------------------------------------------------------------------- */

/* A JSON member name as the original's Go structs spell their untagged fields: the API's
 * camelCase name with its first letter upper-cased ("monitorVMs" -> "MonitorVMs"). */
static void
go_field(const char *json, char *out, size_t len)
{
	snprintf(out, len, "%s", json);
	out[0] = (char)toupper((unsigned char)out[0]);
}

/* A nullable boolean (-1: null). */
static void
write_opt_bool(struct json_object *o, const char *key, int v)
{
	json_object_object_add(o, key, v < 0 ? NULL : json_object_new_boolean(v));
}

/* A stored secret opened into o[key] ("" when none). -1 when it cannot be opened. */
static int
write_secret(struct json_object *o, const char *key, const char *ctx, const char *sealed,
    const char *id, char *err, size_t errlen)
{
	char *plain = NULL;
	size_t len = 0;

	if (sealed == NULL || sealed[0] == '\0') {
		jsonwrite_str(o, key, "");
		return 0;
	}
	if (secrets_open(ctx, sealed, &plain, &len) != 0) {
		snprintf(err, errlen, "the %s of node %s cannot be opened with this server's key",
		    key, id);
		return -1;
	}
	json_object_object_add(o, key, json_object_new_string_len(plain, (int)len));
	secret_free_n(plain, len + 1);
	return 0;
}

/* Our stored cluster members (camelCase, pve_cluster.c) and the original's ClusterEndpoint
 * fields (Go names, no tags). Our own marks (fingerprintSource, unconfirmed) stay here. */
static const char *const endpoint_fields[][2] = {
	{"nodeId", "NodeID"}, {"nodeName", "NodeName"}, {"host", "Host"}, {"guestURL", "GuestURL"},
	{"ip", "IP"}, {"ipOverride", "IPOverride"}, {"fingerprint", "Fingerprint"},
};

/* The stored members as the original's ClusterEndpoint list (a new array), or NULL (none). */
static struct json_object *
export_endpoints(struct json_object *eps)
{
	struct json_object *out;

	if (eps == NULL || !json_object_is_type(eps, json_type_array) ||
	    json_object_array_length(eps) == 0)
		return NULL;
	out = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(eps); i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);
		struct json_object *o = json_object_new_object();
		const char *seen = jsonread_string(e, "lastSeen", "");

		for (size_t k = 0; k < ARRAY_LEN(endpoint_fields); k++)
			jsonwrite_str(o, endpoint_fields[k][1],
			    jsonread_string(e, endpoint_fields[k][0], ""));
		jsonwrite_bool(o, "Online", jsonread_int(e, "online", 0) != 0);
		jsonwrite_str(o, "LastSeen", *seen ? seen : TIMEFMT_ZERO);
		json_object_object_add(o, "PulseReachable", NULL);
		json_object_object_add(o, "LastPulseCheck", NULL);
		jsonwrite_str(o, "PulseError", "");
		jsonwrite_str(o, "TemperatureProxyControlToken", "");
		json_object_array_add(out, o);
	}
	return out;
}

/* One instance as the original's PVEInstance, PBSInstance or PMGInstance. */
static struct json_object *
export_instance(const struct instance_cfg *c, char *err, size_t errlen)
{
	struct json_object *o = json_object_new_object(), *eps = NULL;
	unsigned type = instance_type_bit(c->type);
	char key[64];

	jsonwrite_str(o, "Name", c->name);
	jsonwrite_str(o, "Host", c->host);
	if (type == INSTANCE_TYPE_PVE)
		jsonwrite_str(o, "GuestURL", c->guest_url);
	jsonwrite_str(o, "User", c->username);
	if (write_secret(o, "Password", SECRET_CTX_PASSWORD, c->password_enc, c->id, err,
	    errlen) != 0)
		goto fail;
	jsonwrite_str(o, "TokenName", c->token_name);
	if (write_secret(o, "TokenValue", SECRET_CTX_TOKEN, c->token_value_enc, c->id, err,
	    errlen) != 0)
		goto fail;
	jsonwrite_str(o, "Fingerprint", c->fingerprint);
	jsonwrite_bool(o, "VerifySSL", c->verify_ssl);
	for (int i = 0; i < INSTANCE_NFLAGS; i++) {
		if (!(instance_flags[i].types & type))
			continue;
		go_field(instance_flags[i].json, key, sizeof(key));
		jsonwrite_bool(o, key, instance_flag_get(c, i));
	}
	if (type == INSTANCE_TYPE_PVE) {
		write_opt_bool(o, "MonitorPhysicalDisks", c->monitor_physical_disks);
		jsonwrite_int(o, "PhysicalDiskPollingMinutes", c->physical_disk_polling_minutes);
	}
	write_opt_bool(o, "TemperatureMonitoringEnabled", c->temperature_monitoring);
	jsonwrite_int(o, "SSHPort", 0);
	if (type == INSTANCE_TYPE_PVE) {
		jsonwrite_str(o, "TemperatureProxyURL", "");
		jsonwrite_str(o, "TemperatureProxyToken", "");
		jsonwrite_str(o, "TemperatureProxyControlToken", "");
		jsonwrite_bool(o, "IsCluster", c->is_cluster);
		jsonwrite_str(o, "ClusterName", c->cluster_name);
		if (c->cluster_endpoints != NULL)
			eps = json_tokener_parse(c->cluster_endpoints);
		json_object_object_add(o, "ClusterEndpoints", export_endpoints(eps));
		json_object_put(eps);
	}
	if (type != INSTANCE_TYPE_PMG)
		jsonwrite_str(o, "Source", "");
	return o;
fail:
	json_object_put(o);
	return NULL;
}

static int
export_nodes(struct db *db, struct json_object *doc, char *err, size_t errlen)
{
	struct json_object *nodes = json_object_new_object(), *pve = json_object_new_array(),
	    *pbs = json_object_new_array(), *pmg = json_object_new_array(), *o;
	struct instance_cfg *list = NULL;
	int n = instances_load(db, &list), rc = -1;

	json_object_object_add(nodes, "pveInstances", pve);
	json_object_object_add(nodes, "pbsInstances", pbs);
	json_object_object_add(nodes, "pmgInstances", pmg);
	json_object_object_add(doc, "nodes", nodes);
	if (n < 0) {
		snprintf(err, errlen, "the nodes could not be read");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		unsigned type = instance_type_bit(list[i].type);

		if ((o = export_instance(&list[i], err, errlen)) == NULL)
			goto done;
		json_object_array_add(type == INSTANCE_TYPE_PBS ? pbs : type == INSTANCE_TYPE_PMG ?
		    pmg : pve, o);
	}
	rc = 0;
done:
	for (int i = 0; i < n; i++)
		instance_cfg_clear(&list[i]);
	free(list);
	return rc;
}

static int
export_alerts(struct db *db, struct json_object *doc, char *err, size_t errlen)
{
	struct alert_config cfg;

	if (alert_config_load(db, (double)time(NULL), &cfg) != 0) {
		snprintf(err, errlen, "the alert configuration could not be read");
		return -1;
	}
	json_object_object_add(doc, "alerts", alert_config_to_json(&cfg));
	alert_config_free(&cfg);
	return 0;
}

static const struct db_stmt stmt_export_settings = {
	"bundle_export_settings",
	"SELECT key, value::text FROM pulse.system_settings ORDER BY key", 0,
};

static const struct db_stmt stmt_export_tokens = {
	"bundle_export_tokens",
	"SELECT id, name, hash, prefix, suffix, "
	"to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
	"to_char(last_used_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), "
	"array_to_json(scopes)::text "
	"FROM pulse.api_tokens ORDER BY created_at DESC, id", 0,
};

/* The original's SystemSettings: what pulse.conf says here for the keys it has a setting for
 * (polling intervals, temperatures), the original's defaults for the fields it always
 * writes, then the keys kept in pulse.system_settings. An import into the original so keeps
 * its defaults (a missing temperatureMonitoringEnabled would turn temperatures off there). */
static int
export_system(struct db *db, struct json_object *doc, char *err, size_t errlen)
{
	struct json_object *sys = json_object_new_object();
	PGresult *res;

	json_object_object_add(doc, "system", sys);
	jsonwrite_int(sys, "pvePollingInterval", conf_int("pve_polling_interval"));
	jsonwrite_int(sys, "pbsPollingInterval", conf_int("pbs_polling_interval"));
	jsonwrite_int(sys, "pmgPollingInterval", conf_int("pmg_polling_interval"));
	jsonwrite_bool(sys, "autoUpdateEnabled", 0);
	jsonwrite_bool(sys, "discoveryEnabled", 0);
	jsonwrite_str(sys, "discoverySubnet", "auto");
	jsonwrite_bool(sys, "fullWidthMode", 0);
	jsonwrite_bool(sys, "allowEmbedding", 0);
	jsonwrite_bool(sys, "temperatureMonitoringEnabled",
	    conf_bool("temperature_monitoring_enabled"));
	jsonwrite_int(sys, "dnsCacheTimeout", 300);
	jsonwrite_bool(sys, "hideLocalLogin", 0);
	jsonwrite_bool(sys, "disableDockerUpdateActions", 0);
	res = db_exec_stmt(db, &stmt_export_settings, NULL);
	if (res == NULL) {
		snprintf(err, errlen, "the system settings could not be read");
		return -1;
	}
	for (int i = 0; i < PQntuples(res); i++)
		json_object_object_add(sys, PQgetvalue(res, i, 0),
		    json_tokener_parse(PQgetvalue(res, i, 1)));
	PQclear(res);
	return 0;
}

/* "2026-01-09T21:25:38.120000" (UTC, from to_char) as Go's RFC3339Nano writes it: the
 * fraction without trailing zeros (none at all when zero), then Z. */
static const char *
go_time(const char *pg, char *out, size_t len)
{
	size_t n;

	snprintf(out, len > 2 ? len - 1 : len, "%s", pg);
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0' && strchr(out, '.') != NULL)
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
	out[n] = 'Z';
	out[n + 1] = '\0';
	return out;
}

/* The tokens as the original's APITokenRecord (hashes included), newest first; left out
 * when there are none (omitempty). */
static int
export_tokens(struct db *db, struct json_object *doc, char *err, size_t errlen)
{
	PGresult *res = db_exec_stmt(db, &stmt_export_tokens, NULL);
	struct json_object *arr, *o;
	char t[64];

	if (res == NULL) {
		snprintf(err, errlen, "the API tokens could not be read");
		return -1;
	}
	if (PQntuples(res) > 0) {
		arr = json_object_new_array();
		for (int i = 0; i < PQntuples(res); i++) {
			o = json_object_new_object();
			jsonwrite_str(o, "id", PQgetvalue(res, i, 0));
			jsonwrite_str(o, "name", PQgetvalue(res, i, 1));
			jsonwrite_str(o, "hash", PQgetvalue(res, i, 2));
			jsonwrite_opt_str(o, "prefix", PQgetvalue(res, i, 3));
			jsonwrite_opt_str(o, "suffix", PQgetvalue(res, i, 4));
			jsonwrite_str(o, "createdAt", go_time(PQgetvalue(res, i, 5), t, sizeof(t)));
			if (!PQgetisnull(res, i, 6))
				jsonwrite_str(o, "lastUsedAt", go_time(PQgetvalue(res, i, 6), t,
				    sizeof(t)));
			json_object_object_add(o, "scopes", json_tokener_parse(PQgetvalue(res, i, 7)));
			json_object_array_add(arr, o);
		}
		json_object_object_add(doc, "apiTokens", arr);
	}
	PQclear(res);
	return 0;
}

/* The OIDC settings with the client secret in clear; left out when none are stored (as the
 * original, whose oidc is omitempty). */
static int
export_oidc(struct db *db, struct json_object *doc, char *err, size_t errlen)
{
	struct json_object *o;
	int rc = oidc_config_export(db, &o, err, errlen);

	if (rc > 0)
		json_object_object_add(doc, "oidc", o);
	return rc < 0 ? -1 : 0;
}

int
config_export(struct db *db, struct json_object **out, char *err, size_t errlen)
{
	struct json_object *doc = json_object_new_object(), *v = NULL;
	char t[64];
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	*out = NULL;
	jsonwrite_str(doc, "version", BUNDLE_VERSION);
	jsonwrite_str(doc, "exportedAt", timefmt_rfc3339_nano((double)now.tv_sec +
	    (double)now.tv_nsec / 1e9, t, sizeof(t)));
	/* Read in one snapshot, so a bundle never mixes two configurations. */
	if (db_begin(db) != 0 || db_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
	    "READ ONLY") != 0) {
		snprintf(err, errlen, "the database is unavailable");
		goto fail;
	}
	if (export_nodes(db, doc, err, errlen) != 0 || export_alerts(db, doc, err, errlen) != 0)
		goto fail;
	if (notify_email_load(db, &v) != 0)
		goto channels;
	json_object_object_add(doc, "email", v);
	if (notify_webhooks_list(db, &v) != 0)
		goto channels;
	json_object_object_add(doc, "webhooks", v);
	if (notify_apprise_load(db, &v) != 0)
		goto channels;
	json_object_object_add(doc, "apprise", v);
	if (export_system(db, doc, err, errlen) != 0 || export_oidc(db, doc, err, errlen) != 0 ||
	    export_tokens(db, doc, err, errlen) != 0)
		goto fail;
	db_rollback(db);	/* read only: nothing to keep */
	*out = doc;
	return 0;
channels:
	snprintf(err, errlen, "the notification channels could not be read");
fail:
	db_rollback(db);
	json_object_put(doc);
	return -1;
}

/* --- import ----------------------------------------------------------------------------- */

/* Go's decoder matches a member name in any case: the exact name first, then any other
 * spelling. NULL when absent or null. */
static struct json_object *
member(struct json_object *obj, const char *key)
{
	struct json_object *v = NULL;

	if (obj == NULL || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (json_object_object_get_ex(obj, key, &v))
		return v;
	json_object_object_foreach(obj, k, val) {
		if (strcasecmp(k, key) == 0)
			return val;
	}
	return NULL;
}

/* What the import is reading, for its messages ("nodes.pveInstances[2].Host"). */
struct reader {
	char where[96];
	char *err;
	size_t errlen;
};

static int
wrong(struct reader *rd, const char *key, const char *what)
{
	snprintf(rd->err, rd->errlen, "failed to unmarshal import data: %s%s%s must be %s",
	    rd->where, rd->where[0] && key[0] ? "." : "", key, what);
	return -1;
}

/* A member of a given JSON type, or NULL when absent or null; -1 (err set) for another
 * type. */
static int
typed(struct reader *rd, struct json_object *obj, const char *key, enum json_type type,
    const char *what, struct json_object **out)
{
	*out = member(obj, key);
	if (*out == NULL)
		return 0;
	if (json_object_is_type(*out, type))
		return 1;
	/* Go reads an integer-valued number into an int field, and a number into a float. */
	if (type == json_type_int && json_object_is_type(*out, json_type_double))
		return 1;
	return wrong(rd, key, what);
}

static int
get_str(struct reader *rd, struct json_object *obj, const char *key, size_t max,
    const char **out)
{
	struct json_object *v;
	int rc = typed(rd, obj, key, json_type_string, "a string", &v);

	*out = "";
	if (rc <= 0)
		return rc;
	if (strlen(json_object_get_string(v)) != (size_t)json_object_get_string_len(v))
		return wrong(rd, key, "a string without NUL");
	if ((size_t)json_object_get_string_len(v) > max) {
		char what[48];

		snprintf(what, sizeof(what), "a string of at most %zu bytes", max);
		return wrong(rd, key, what);
	}
	*out = json_object_get_string(v);
	return 1;
}

/* A boolean; absent or null is false (Go's zero value), or -1 when nullable is set. */
static int
get_bool(struct reader *rd, struct json_object *obj, const char *key, int nullable, int *out)
{
	struct json_object *v;
	int rc = typed(rd, obj, key, json_type_boolean, "a boolean", &v);

	*out = nullable ? -1 : 0;
	if (rc > 0)
		*out = json_object_get_boolean(v);
	return rc < 0 ? -1 : 0;
}

static int
get_int(struct reader *rd, struct json_object *obj, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	struct json_object *v;
	int rc = typed(rd, obj, key, json_type_int, "an integer", &v);
	double d;

	*out = 0;
	if (rc <= 0)
		return rc;
	d = json_object_get_double(v);
	if (d != (double)(int64_t)d || d < (double)min || d > (double)max)
		return wrong(rd, key, "an integer in range");
	*out = (int64_t)d;
	return 0;
}

/* The original's ClusterEndpoint list into our stored form (c->cluster_endpoints). The
 * members' pins are not marked as the primary's: a pinned instance contacts them once
 * refresh-cluster has asked the primary again (worker/endpoints.c, M4). */
static int
import_endpoints(struct reader *rd, struct json_object *eps, struct instance_cfg *c)
{
	struct json_object *out;
	char where[sizeof(rd->where)];
	size_t n = json_object_array_length(eps);
	int rc = -1;

	if (n > 64)
		return wrong(rd, "ClusterEndpoints", "a list of at most 64 members");
	snprintf(where, sizeof(where), "%s", rd->where);
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(eps, i);
		struct json_object *o = json_object_new_object();
		const char *v;
		int online;

		json_object_array_add(out, o);
		/* A long path is cut, which only shortens the message. */
		if (snprintf(rd->where, sizeof(rd->where), "%s.ClusterEndpoints[%zu]", where, i) < 0)
			goto done;
		if (!json_object_is_type(e, json_type_object)) {
			(void)wrong(rd, "", "an object");
			goto done;
		}
		for (size_t k = 0; k < ARRAY_LEN(endpoint_fields); k++) {
			if (get_str(rd, e, endpoint_fields[k][1], 255, &v) < 0)
				goto done;
			jsonwrite_str(o, endpoint_fields[k][0], v);
		}
		if (get_bool(rd, e, "Online", 0, &online) < 0 ||
		    get_str(rd, e, "LastSeen", 64, &v) < 0)
			goto done;
		jsonwrite_int(o, "online", online);
		if (*v && strcmp(v, TIMEFMT_ZERO) != 0)
			jsonwrite_str(o, "lastSeen", v);
	}
	c->cluster_endpoints = xstrdup(json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
	rc = 0;
done:
	snprintf(rd->where, sizeof(rd->where), "%s", where);
	json_object_put(out);
	return rc;
}

/* A bundle node read into c (secrets sealed), as the node API checks one. */
static int
read_instance(struct reader *rd, struct json_object *n, const char *type, struct instance_cfg *c)
{
	const char *name, *host, *guest, *user, *password, *token_name, *token_value, *fp, *cluster;
	unsigned bit = instance_type_bit(type);
	struct json_object *eps;
	char why[160], key[64];
	int64_t minutes;
	int v;

	memset(c, 0, sizeof(*c));
	snprintf(c->type, sizeof(c->type), "%s", type);
	if (!json_object_is_type(n, json_type_object))
		return wrong(rd, "", "an object");
	/* Bounds: what struct instance_cfg holds (the node API refuses longer values too). */
	if (get_str(rd, n, "Name", sizeof(c->name) - 1, &name) < 0 ||
	    get_str(rd, n, "Host", 255, &host) < 0 ||
	    get_str(rd, n, "GuestURL", 255, &guest) < 0 ||
	    get_str(rd, n, "User", 120, &user) < 0 ||
	    get_str(rd, n, "Password", 1024, &password) < 0 ||
	    get_str(rd, n, "TokenName", 255, &token_name) < 0 ||
	    get_str(rd, n, "TokenValue", 1024, &token_value) < 0 ||
	    get_str(rd, n, "Fingerprint", 128, &fp) < 0 ||
	    get_bool(rd, n, "VerifySSL", 0, &c->verify_ssl) < 0 ||
	    get_bool(rd, n, "MonitorPhysicalDisks", 1, &c->monitor_physical_disks) < 0 ||
	    get_int(rd, n, "PhysicalDiskPollingMinutes", 0, 1440, &minutes) < 0 ||
	    get_bool(rd, n, "TemperatureMonitoringEnabled", 1, &c->temperature_monitoring) < 0 ||
	    get_bool(rd, n, "IsCluster", 0, &c->is_cluster) < 0 ||
	    get_str(rd, n, "ClusterName", 127, &cluster) < 0 ||
	    typed(rd, n, "ClusterEndpoints", json_type_array, "an array", &eps) < 0)
		return -1;
	/* What travels in a header or a login form to the server (the node API's L5 rule). */
	if (!http_header_value_ok(host) || !http_header_value_ok(user) ||
	    !http_header_value_ok(password) || !http_header_value_ok(token_name) ||
	    !http_header_value_ok(token_value) || !http_header_value_ok(fp)) {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: a host, user, "
		    "credential or fingerprint holds control characters (CR, LF ...)", rd->where);
		return -1;
	}
	snprintf(c->cluster_name, sizeof(c->cluster_name), "%s", cluster);
	for (int i = 0; i < INSTANCE_NFLAGS; i++) {
		if (!(instance_flags[i].types & bit))
			continue;
		go_field(instance_flags[i].json, key, sizeof(key));
		if (get_bool(rd, n, key, 0, &v) < 0)
			return -1;
		instance_flag_set(c, i, v);
	}
	c->physical_disk_polling_minutes = (int)minutes;
	if (name[0] == '\0') {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: Name is required",
		    rd->where);
		return -1;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	if (proxmox_normalize_host(host, instance_product(type), c->host, sizeof(c->host), why,
	    sizeof(why)) != 0) {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: %s", rd->where,
		    host[0] ? why : "Host is required");
		return -1;
	}
	if (guest[0] && strncasecmp(guest, "http://", 7) != 0 &&
	    strncasecmp(guest, "https://", 8) != 0) {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: GuestURL must start "
		    "with http:// or https://", rd->where);
		return -1;
	}
	snprintf(c->guest_url, sizeof(c->guest_url), "%s", guest);
	if (fp[0] && http_normalize_fingerprint(fp, c->fingerprint) != 0) {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: Invalid fingerprint",
		    rd->where);
		return -1;
	}
	if (token_name[0] && (strchr(token_name, '@') == NULL || strchr(token_name, '!') == NULL)) {
		snprintf(rd->err, rd->errlen, "failed to import nodes config: %s: TokenName must be "
		    "the full token id: user@realm!tokenid", rd->where);
		return -1;
	}
	/* user@realm: the realm the node API adds when none is given. */
	if (user[0] && strchr(user, '@') == NULL)
		snprintf(c->username, sizeof(c->username), "%s@%s", user,
		    bit == INSTANCE_TYPE_PBS ? "pbs" : bit == INSTANCE_TYPE_PMG ? "pmg" : "pam");
	else
		snprintf(c->username, sizeof(c->username), "%s", user);
	snprintf(c->token_name, sizeof(c->token_name), "%s", token_name);
	if (password[0])
		c->password_enc = secrets_seal(SECRET_CTX_PASSWORD, password, strlen(password));
	if (token_value[0])
		c->token_value_enc = secrets_seal(SECRET_CTX_TOKEN, token_value, strlen(token_value));
	if (eps != NULL && import_endpoints(rd, eps, c) != 0)
		return -1;
	return 0;
}

static const struct db_stmt stmt_instances_existing = {
	"bundle_instances_existing", "SELECT id, type, host FROM pulse.instances", 0,
};
static const struct db_stmt stmt_instances_drop = {
	"bundle_instances_drop",
	"DELETE FROM pulse.instances WHERE NOT (id = ANY ($1::text[]))", 1,
};

/* Every column but the id and its number (an UPDATE keeps them). */
#define ALL_FIELDS ((INSTANCE_BIT(INSTANCE_F_COUNT) - 1) & ~INSTANCE_BIT(INSTANCE_F_ID) & \
	~INSTANCE_BIT(INSTANCE_F_NUMBER))

/* Replaces the instances with the bundle's: one of the same type and host keeps its id
 * (and so its history), the others are new, the rest go. 0, 1 (bad input) or -1. */
static int
import_nodes(struct db *db, struct json_object *nodes, struct config_import_counts *counts,
    char *err, size_t errlen)
{
	static const char *const lists[3] = {"pveInstances", "pbsInstances", "pmgInstances"};
	static const char *const types[3] = {"pve", "pbs", "pmg"};
	struct reader rd = {.err = err, .errlen = errlen};
	struct json_object *arr[3];
	struct instance_cfg *cfgs = NULL;
	struct strbuf kept = {0};
	PGresult *res = NULL;
	int total = 0, k = 0, existing, rc = 1;

	snprintf(rd.where, sizeof(rd.where), "nodes");
	if (nodes != NULL && !json_object_is_type(nodes, json_type_object)) {
		(void)wrong(&rd, "", "an object");
		return 1;
	}
	for (int t = 0; t < 3; t++) {
		if (typed(&rd, nodes, lists[t], json_type_array, "an array", &arr[t]) < 0)
			return 1;
		total += arr[t] ? (int)json_object_array_length(arr[t]) : 0;
	}
	if ((res = db_exec_stmt(db, &stmt_instances_existing, NULL)) == NULL)
		return -1;
	existing = PQntuples(res);
	if (total == 0 && existing > 0) {
		snprintf(err, errlen, "failed to import nodes config: refusing to save empty nodes "
		    "config when %d nodes exist", existing);
		PQclear(res);
		return 1;
	}
	if (total > 1000) {
		snprintf(err, errlen, "failed to import nodes config: more than 1000 nodes");
		PQclear(res);
		return 1;
	}
	cfgs = xcalloc((size_t)(total ? total : 1), sizeof(*cfgs));
	sb_puts(&kept, "{");
	for (int t = 0; t < 3; t++) {
		int n = arr[t] ? (int)json_object_array_length(arr[t]) : 0;

		for (int i = 0; i < n; i++, k++) {
			snprintf(rd.where, sizeof(rd.where), "nodes.%s[%d]", lists[t], i);
			if (read_instance(&rd, json_object_array_get_idx(arr[t], (size_t)i), types[t],
			    &cfgs[k]) != 0)
				goto done;
			for (int j = 0; j < k; j++) {
				if (strcmp(cfgs[j].type, cfgs[k].type) == 0 &&
				    strcmp(cfgs[j].host, cfgs[k].host) == 0) {
					snprintf(err, errlen, "failed to import nodes config: %s: A node "
					    "with this host URL already exists", rd.where);
					goto done;
				}
			}
			for (int row = 0; row < existing; row++) {
				if (strcmp(PQgetvalue(res, row, 1), cfgs[k].type) == 0 &&
				    strcmp(PQgetvalue(res, row, 2), cfgs[k].host) == 0) {
					snprintf(cfgs[k].id, sizeof(cfgs[k].id), "%s",
					    PQgetvalue(res, row, 0));
					sb_printf(&kept, "%s%s", kept.len > 1 ? "," : "", cfgs[k].id);
				}
			}
		}
	}
	sb_puts(&kept, "}");
	rc = -1;
	{
		const char *params[1] = {kept.data};

		if (db_exec_stmt_ok(db, &stmt_instances_drop, params) != 0)
			goto done;
	}
	for (int i = 0; i < total; i++) {
		struct instance_sql sql = {0};
		PGresult *r2;
		uint64_t present = ALL_FIELDS;

		if (cfgs[i].id[0] == '\0') {
			r2 = db_exec_params(db, "SELECT nextval('pulse.instance_number')", 0, NULL);
			if (r2 == NULL)
				goto done;
			cfgs[i].number = (int)strtol(PQgetvalue(r2, 0, 0), NULL, 10);
			PQclear(r2);
			snprintf(cfgs[i].id, sizeof(cfgs[i].id), "%s-%d", cfgs[i].type, cfgs[i].number);
			instances_insert_sql(&cfgs[i], present | INSTANCE_BIT(INSTANCE_F_ID) |
			    INSTANCE_BIT(INSTANCE_F_NUMBER), &sql);
		} else {
			instances_update_sql(&cfgs[i], present & ~INSTANCE_BIT(INSTANCE_F_TYPE), &sql);
			counts->replaced_nodes++;
		}
		r2 = db_exec_params(db, sql.text, sql.nparams, sql.params);
		instance_sql_clear(&sql);
		if (r2 == NULL)
			goto done;
		PQclear(r2);
		if (strcmp(cfgs[i].type, "pbs") == 0)
			counts->pbs++;
		else if (strcmp(cfgs[i].type, "pmg") == 0)
			counts->pmg++;
		else
			counts->pve++;
	}
	rc = 0;
done:
	PQclear(res);
	for (int i = 0; i < total; i++)
		instance_cfg_clear(&cfgs[i]);
	free(cfgs);
	sb_free(&kept);
	return rc;
}

static int
import_alerts(struct db *db, struct json_object *alerts, char *err, size_t errlen)
{
	struct json_object *empty = NULL;
	struct alert_config cfg;
	char why[256];
	int rc;

	if (alerts == NULL)
		alerts = empty = json_object_new_object();
	if (!json_object_is_type(alerts, json_type_object)) {
		snprintf(err, errlen, "failed to unmarshal import data: alerts must be an object");
		return 1;
	}
	rc = alert_config_from_json(alerts, NULL, &cfg, why, sizeof(why));
	json_object_put(empty);
	if (rc != 0) {
		snprintf(err, errlen, "failed to import alert config: %s", why);
		return 1;
	}
	alert_config_normalize(&cfg, (double)time(NULL));
	rc = alert_config_save(db, &cfg);
	alert_config_free(&cfg);
	return rc;
}

/* The keys of system we keep (the others have no counterpart here: docs/COMPATIBILITY.md),
 * replacing what is stored. Returns 0, 1 or -1; *allowlist is the imported webhook
 * allowlist (in buf). */
static int
import_system(struct db *db, struct json_object *sys, struct config_import_counts *counts,
    char *buf, size_t buflen, char *err, size_t errlen)
{
	struct reader rd = {.where = "system", .err = err, .errlen = errlen};
	const char *cidrs, *url;
	char why[256];
	int rc;

	buf[0] = '\0';
	if (sys != NULL && !json_object_is_type(sys, json_type_object)) {
		(void)wrong(&rd, "", "an object");
		return 1;
	}
	if (get_str(&rd, sys, SETTINGS_WEBHOOK_CIDRS, 8192, &cidrs) < 0 ||
	    get_str(&rd, sys, SETTINGS_PUBLIC_URL, 2048, &url) < 0)
		return 1;
	/* Announced at commit, as settings.c announces its writes. */
	if (db_exec(db, "DELETE FROM pulse.system_settings") != 0 ||
	    db_exec(db, "SELECT pg_notify('" SYSCONFIG_CHANNEL "', '')") != 0)
		return -1;
	rc = settings_apply(db, cidrs, url, why, sizeof(why));
	if (rc > 0)
		snprintf(err, errlen, "failed to import system settings: %s", why);
	if (rc != 0)
		return rc;
	counts->system_settings = (cidrs[0] != '\0') + (url[0] != '\0');
	/* The list as stored (trimmed, re-joined), for the webhooks' address checks. */
	if (cidrs[0] && settings_check_cidrs(cidrs, buf, buflen, why, sizeof(why)) != 0)
		buf[0] = '\0';
	return 0;
}

/* The scopes a token may hold (sql/0008: the table refuses others). */
static const char *const known_scopes[] = {
	"*", "monitoring:read", "monitoring:write", "settings:read", "settings:write",
	"host-agent:report", "host-agent:manage", "docker:report", "docker:manage",
	"kubernetes:report", "kubernetes:manage",
};

static const struct db_stmt stmt_token_insert = {
	"bundle_token_insert",
	"INSERT INTO pulse.api_tokens (id, name, hash, prefix, suffix, scopes, created_at, "
	"last_used_at) VALUES ($1::uuid, $2, $3, $4, $5, $6::text[], "
	"coalesce($7::timestamptz, now()), $8::timestamptz)", 8,
};

/* A string as an element of a PostgreSQL array literal (quoted, escaped). */
static void
array_element(struct strbuf *sb, const char *s)
{
	sb_puts(sb, sb->len > 1 ? ",\"" : "\"");
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_puts(sb, "\\");
		sb_append(sb, s, 1);
	}
	sb_puts(sb, "\"");
}

static int
read_token(struct reader *rd, struct json_object *t, const char **params, struct strbuf *scopes,
    char *hash, char *created, char *used, char *uuid)
{
	const char *id, *name, *h, *prefix, *suffix, *ca, *lu;
	struct json_object *list;
	double when;
	size_t i;

	if (!json_object_is_type(t, json_type_object))
		return wrong(rd, "", "an object");
	if (get_str(rd, t, "id", 64, &id) < 0 || get_str(rd, t, "name", 256, &name) < 0 ||
	    get_str(rd, t, "hash", 64, &h) < 0 || get_str(rd, t, "prefix", 64, &prefix) < 0 ||
	    get_str(rd, t, "suffix", 64, &suffix) < 0 ||
	    get_str(rd, t, "createdAt", 64, &ca) < 0 || get_str(rd, t, "lastUsedAt", 64, &lu) < 0 ||
	    typed(rd, t, "scopes", json_type_array, "an array", &list) < 0)
		return -1;
	/* A stored value is a hash when it is 64 hex digits, in either case (§2.3). */
	if (strlen(h) != 64 || strspn(h, "0123456789abcdefABCDEF") != 64) {
		snprintf(rd->err, rd->errlen, "failed to import api tokens: %s: hash must be 64 hex "
		    "digits (SHA3-256)", rd->where);
		return -1;
	}
	for (i = 0; i < 64; i++)
		hash[i] = (char)tolower((unsigned char)h[i]);
	hash[64] = '\0';
	if (id[0] == '\0') {
		crypto_uuid4(uuid);
		id = uuid;
	} else if (strlen(id) != 36 || strspn(id, "0123456789abcdefABCDEF-") != 36) {
		snprintf(rd->err, rd->errlen, "failed to import api tokens: %s: id must be a UUID",
		    rd->where);
		return -1;
	}
	/* Checked here, then given to PostgreSQL as written (it keeps microseconds). */
	if (ca[0] && timefmt_parse_rfc3339(ca, &when) != 0)
		return wrong(rd, "createdAt", "an RFC 3339 time");
	if (lu[0] && timefmt_parse_rfc3339(lu, &when) != 0)
		return wrong(rd, "lastUsedAt", "an RFC 3339 time");
	snprintf(created, 64, "%s", ca);
	/* Go's zero time: never used. */
	snprintf(used, 64, "%s", lu[0] && when != 0 ? lu : "");
	sb_reset(scopes);
	sb_puts(scopes, "{");
	for (int j = 0; list != NULL && j < (int)json_object_array_length(list); j++) {
		struct json_object *s = json_object_array_get_idx(list, (size_t)j);

		if (!json_object_is_type(s, json_type_string))
			return wrong(rd, "scopes", "an array of strings");
		for (i = 0; i < ARRAY_LEN(known_scopes) &&
		    strcmp(known_scopes[i], json_object_get_string(s)) != 0; i++)
			;
		if (i == ARRAY_LEN(known_scopes)) {
			snprintf(rd->err, rd->errlen, "failed to import api tokens: %s: unknown scope "
			    "\"%.64s\"", rd->where, json_object_get_string(s));
			return -1;
		}
		array_element(scopes, json_object_get_string(s));
	}
	sb_puts(scopes, "}");
	params[0] = id;
	params[1] = name[0] ? name : "API token";
	params[2] = hash;
	params[3] = prefix;
	params[4] = suffix;
	params[5] = scopes->data;
	params[6] = created[0] ? created : NULL;
	params[7] = used[0] ? used : NULL;
	return 0;
}

/* Replaces the API tokens wholesale (hashes kept, so they keep working). */
static int
import_tokens(struct db *db, struct json_object *tokens, struct config_import_counts *counts,
    char *err, size_t errlen)
{
	struct reader rd = {.where = "apiTokens", .err = err, .errlen = errlen};
	struct strbuf scopes = {0};
	char hash[65], created[64], used[64], uuid[37];
	const char *params[8];
	int n, rc = 1;

	if (tokens != NULL && !json_object_is_type(tokens, json_type_array)) {
		(void)wrong(&rd, "", "an array");
		return 1;
	}
	n = tokens ? (int)json_object_array_length(tokens) : 0;
	if (n > 1000) {
		snprintf(err, errlen, "failed to import api tokens: more than 1000 tokens");
		return 1;
	}
	if (db_exec(db, "DELETE FROM pulse.api_tokens") != 0)
		return -1;
	for (int i = 0; i < n; i++) {
		snprintf(rd.where, sizeof(rd.where), "apiTokens[%d]", i);
		if (read_token(&rd, json_object_array_get_idx(tokens, (size_t)i), params, &scopes,
		    hash, created, used, uuid) != 0)
			goto done;
		if (db_exec_stmt_ok(db, &stmt_token_insert, params) != 0) {
			/* The same id or hash twice: the bundle's fault, not the database's. */
			if (strcmp(db_sqlstate(db), "23505") == 0)
				snprintf(err, errlen, "failed to import api tokens: %s: the same id or "
				    "hash twice", rd.where);
			else
				rc = -1;
			goto done;
		}
		counts->api_tokens++;
	}
	rc = 0;
done:
	sb_free(&scopes);
	return rc;
}

enum config_import_result
config_import(struct db *db, struct json_object *doc, struct config_import_counts *counts,
    char *err, size_t errlen)
{
	struct reader rd = {.where = "", .err = err, .errlen = errlen};
	struct json_object *email, *apprise, *webhooks, *tokens, *oidc;
	const char *version;
	char allowlist[4096], url[2048], reason[256];
	enum notify_result nr;
	int rc;

	memset(counts, 0, sizeof(*counts));
	counts->api_tokens = -1;
	err[0] = '\0';
	if (!json_object_is_type(doc, json_type_object)) {
		snprintf(err, errlen, "failed to unmarshal import data: the bundle must be a JSON "
		    "object");
		return CONFIG_IMPORT_BAD_INPUT;
	}
	if (get_str(&rd, doc, "version", 32, &version) < 0 ||
	    typed(&rd, doc, "email", json_type_object, "an object", &email) < 0 ||
	    typed(&rd, doc, "apprise", json_type_object, "an object", &apprise) < 0 ||
	    typed(&rd, doc, "webhooks", json_type_array, "an array", &webhooks) < 0 ||
	    typed(&rd, doc, "apiTokens", json_type_array, "an array", &tokens) < 0 ||
	    typed(&rd, doc, "oidc", json_type_object, "an object", &oidc) < 0)
		return CONFIG_IMPORT_BAD_INPUT;
	if (strcmp(version, "4.1") != 0 && strcmp(version, "") != 0 &&
	    strcmp(version, "4.0") != 0)
		log_warn("msg=\"configuration bundle of an unknown version, imported as far as it "
		    "goes\" version=\"%.32s\"", version);
	if (db_begin(db) != 0)
		return CONFIG_IMPORT_DB_ERROR;
	/* Writers of these tables one at a time, as their own APIs do. */
	if (db_exec(db, "LOCK TABLE pulse.instances, pulse.alert_config, "
	    "pulse.notification_channels, pulse.system_settings, pulse.api_tokens, "
	    "pulse.oidc_config "
	    "IN SHARE ROW EXCLUSIVE MODE") != 0) {
		rc = -1;
		goto done;
	}
	if ((rc = import_nodes(db, member(doc, "nodes"), counts, err, errlen)) != 0 ||
	    (rc = import_alerts(db, member(doc, "alerts"), err, errlen)) != 0 ||
	    (rc = import_system(db, member(doc, "system"), counts, allowlist, sizeof(allowlist),
	    err, errlen)) != 0)
		goto done;
	nr = notify_channels_replace(db, email, apprise, webhooks, allowlist[0] ? allowlist : NULL,
	    err, errlen);
	if (nr != NOTIFY_OK) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "failed to import notification channels: %s", why);
		rc = nr == NOTIFY_BAD_INPUT ? 1 : -1;
		goto done;
	}
	counts->webhooks = webhooks ? (int)json_object_array_length(webhooks) : 0;
	/* Tokens only from a 4.1 bundle: a missing list then means none (as the original). */
	if (strcmp(version, "4.1") == 0) {
		counts->api_tokens = 0;
		if ((rc = import_tokens(db, tokens, counts, err, errlen)) != 0)
			goto done;
	}
	/* OIDC: the bundle's settings, or none (the original deletes oidc.enc); a default
	 * redirect URL from the public URL as now imported. */
	if (conf_str("public_url")[0])
		snprintf(url, sizeof(url), "%s", conf_str("public_url"));
	else if (settings_get_string(db, SETTINGS_PUBLIC_URL, url, sizeof(url)) != 0) {
		rc = -1;
		goto done;
	}
	rc = oidc_config_import(db, oidc, url, reason, sizeof(reason));
	if (rc > 0)
		snprintf(err, errlen, "failed to import oidc configuration: %s", reason);
	if (rc != 0)
		goto done;
	counts->oidc = oidc != NULL;
	rc = db_commit(db) == 0 ? 0 : -1;
done:
	if (rc != 0) {
		db_rollback(db);
		if (rc < 0)
			snprintf(err, errlen, "the database failed");
	}
	return rc == 0 ? CONFIG_IMPORT_OK : rc > 0 ? CONFIG_IMPORT_BAD_INPUT :
	    CONFIG_IMPORT_DB_ERROR;
}
