/* notify_channels.h: where notifications go (alerts-notifications.md §8): the email, apprise
 * and webhook configurations in the original's JSON field names, their checks and
 * normalisation, the forms the API shows (secrets masked), and their storage in
 * pulse.notification_channels, sealed with the secrets envelope.
 *
 * A configuration is a json-c object in the original's field names. Every function that
 * returns one gives a new reference to the caller, who puts it. */
#ifndef PULSE_NOTIFY_CHANNELS_H
#define PULSE_NOTIFY_CHANNELS_H

#include <json-c/json.h>
#include <stddef.h>

#include "db.h"

/* Bounds on what one configuration may hold; more is refused (400), never cut. */
#define NOTIFY_MAX_WEBHOOKS 50
#define NOTIFY_MAX_HEADERS 50	/* per webhook */
#define NOTIFY_MAX_CUSTOM_FIELDS 50	/* per webhook */
#define NOTIFY_MAX_RECIPIENTS 100	/* email "to", apprise "targets" */
#define NOTIFY_NAME_MAX 200	/* webhook name and id (bytes) */
#define NOTIFY_URL_MAX 2048	/* webhook URL, apprise server URL (bytes) */
#define NOTIFY_TEMPLATE_MAX (32 * 1024)	/* a webhook's custom template (bytes) */
#define NOTIFY_TEXT_MAX 1024	/* any other string: hosts, names, header values, targets */

/* What the API shows instead of a stored secret; sent back, it keeps the stored value. */
#define NOTIFY_REDACTED "***REDACTED***"

/* What an update returned; the handlers branch on it. */
enum notify_result {
	NOTIFY_DB_ERROR = -1,	/* the database failed: nothing written */
	NOTIFY_OK = 0,
	NOTIFY_BAD_INPUT = 1,	/* the message says what (no secret in it) */
	NOTIFY_NOT_FOUND = 2,	/* no webhook of that id */
};

/* --- pure parts: checks, normalisation, the forms the API shows ----------------------- */

/* The email configuration of a fresh install: disabled, port 587, implicit TLS, to []. */
struct json_object *notify_email_defaults(void);
/* The email configuration body (an EmailConfig) over stored (NULL: the defaults): every
 * field checked for its type; an empty or absent password keeps the stored one. Returns
 * the new configuration, or NULL with a message in err. */
struct json_object *notify_email_from_json(struct json_object *body, struct json_object *stored,
    char *err, size_t errlen);
/* The email configuration as GET shows it: the password always "". */
struct json_object *notify_email_public(struct json_object *cfg);

/* The apprise configuration of a fresh install (normalised: cli, no targets, disabled). */
struct json_object *notify_apprise_defaults(void);
/* The apprise configuration body over stored (NULL: none), normalised as §8.4 says: mode
 * cli unless "http" (any case), targets trimmed and de-duplicated ignoring case, cliPath
 * "apprise" when empty, timeoutSeconds <= 0 -> 15 then clamped to [5, 120], serverUrl
 * trimmed without a trailing '/', apiKeyHeader "X-API-KEY" when empty, enabled false
 * without targets (cli) or a server URL (http). An apiKey sent as NOTIFY_REDACTED keeps the
 * stored one. Returns the new configuration, or NULL with a message in err. */
struct json_object *notify_apprise_from_json(struct json_object *body, struct json_object *stored,
    char *err, size_t errlen);
/* The apprise configuration as the API shows it: apiKey NOTIFY_REDACTED when set. */
struct json_object *notify_apprise_public(struct json_object *cfg);

/* The rules of a webhook URL: http or https, a host, no user information, no white space,
 * at most NOTIFY_URL_MAX bytes, then the address rules of §8.3 (urlguard_check: the name
 * must resolve; private, loopback and link-local addresses only inside allowlist, a
 * comma-separated CIDR list that may be NULL). Returns 1 when allowed, or 0 with the
 * reason in err. */
int webhook_url_allowed(const char *url, const char *allowlist, char *err, size_t errlen);

/* A webhook body (a WebhookConfig) over stored (NULL for a new one): types and bounds
 * checked, method upper-cased (default POST), id kept from stored (or taken from the body
 * for a new one; may stay ""). headers or customFields holding a value NOTIFY_REDACTED keep
 * the stored map wholesale. Returns the new configuration, or NULL with a message in err. */
struct json_object *notify_webhook_from_json(struct json_object *body, struct json_object *stored,
    const char *allowlist, char *err, size_t errlen);
/* A webhook as the list shows it: id, name, url, method, enabled, service, then headers and
 * customFields (values NOTIFY_REDACTED) and template, each only when not empty. */
struct json_object *notify_webhook_public(struct json_object *cfg);

/* The URL of a delivery as history shows it: the path segment after "/bot" and the values
 * of the query parameters token, apikey, api_key, key, secret and password replaced by
 * "REDACTED". Returns a new string the caller frees. */
char *notify_redact_url(const char *url);

/* --- storage (pulse.notification_channels) ------------------------------------------ */

/* The stored email or apprise configuration; the defaults when there is none (or it cannot
 * be opened, which is logged). Returns 0 with *out set, or -1 (database). */
int notify_email_load(struct db *db, struct json_object **out);
int notify_apprise_load(struct db *db, struct json_object **out);
/* Reads body over the stored configuration and saves it, in one transaction. *out is the
 * saved configuration (the caller puts it). err holds the message of NOTIFY_BAD_INPUT. */
enum notify_result notify_email_update(struct db *db, struct json_object *body,
    struct json_object **out, char *err, size_t errlen);
enum notify_result notify_apprise_update(struct db *db, struct json_object *body,
    struct json_object **out, char *err, size_t errlen);

/* Every webhook, in the order they were created: a new array. Returns 0 or -1. */
int notify_webhooks_list(struct db *db, struct json_object **out);
/* One webhook: NOTIFY_OK with *out, NOTIFY_NOT_FOUND or NOTIFY_DB_ERROR. */
enum notify_result notify_webhook_get(struct db *db, const char *id, struct json_object **out);
/* Creates a webhook from body (id "webhook-<uuid4>" when the body has none); at most
 * NOTIFY_MAX_WEBHOOKS. allowlist is passed to webhook_url_allowed. */
enum notify_result notify_webhook_create(struct db *db, struct json_object *body,
    const char *allowlist, struct json_object **out, char *err, size_t errlen);
/* Replaces webhook id with body over it (the id stays). */
enum notify_result notify_webhook_update(struct db *db, const char *id, struct json_object *body,
    const char *allowlist, struct json_object **out, char *err, size_t errlen);
enum notify_result notify_webhook_delete(struct db *db, const char *id);

/* Replaces every channel inside the caller's transaction (configuration import): email and
 * apprise read from email and apprise (NULL: the fresh install's), every webhook of the array
 * webhooks (NULL: none) read as a new one (webhook_url_allowed with allowlist; an id kept, or
 * "webhook-<uuid4>"), at most NOTIFY_MAX_WEBHOOKS and no id twice. Nothing is committed or
 * rolled back here. Returns NOTIFY_OK, NOTIFY_BAD_INPUT (err says which entry and why) or
 * NOTIFY_DB_ERROR. */
enum notify_result notify_channels_replace(struct db *db, struct json_object *email,
    struct json_object *apprise, struct json_object *webhooks, const char *allowlist,
    char *err, size_t errlen);

/* The enabled channels with their configurations opened: a new array of
 * {"kind": "email"|"apprise"|"webhook", "id": ..., "name": ..., "config": {...}}, email and
 * apprise first, webhooks in creation order; the dispatcher enqueues one row per element.
 * A configuration that cannot be opened is left out (and logged). Returns 0 or -1. */
int notify_channels_enabled(struct db *db, struct json_object **out);

/* Counts for the health answer: whether email is enabled and has a server, webhooks in all
 * and enabled. Returns 0 or -1. */
int notify_channels_counts(struct db *db, int *email_enabled, int *email_configured,
    int *webhooks_total, int *webhooks_enabled);

#endif
