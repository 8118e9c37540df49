/* notify_webhook.h: webhook payloads for alerts (alerts-notifications.md §8.2): the template
 * data of an alert, the built-in service templates, payload selection (custom template,
 * service template, generic JSON), the recovery payload and the Telegram chat_id rules.
 * Nothing here sends: the bodies go to the caller. */
#ifndef PULSE_NOTIFY_WEBHOOK_H
#define PULSE_NOTIFY_WEBHOOK_H

#include <stddef.h>

#include "alert.h"
#include "notify_template.h"
#include "util.h"

#define WEBHOOK_ERR_LEN TPL_ERR_LEN

struct webhook_kv {
	const char *key, *value;
};

/* The parts of a webhook configuration a payload depends on; the struct borrows every
 * string. service and template may be NULL or empty. */
struct webhook {
	const char *name;
	const char *url;
	const char *service;
	const char *template;
	const struct webhook_kv *headers;
	size_t header_count;
	const struct webhook_kv *custom_fields;
	size_t custom_field_count;
};

/* A built-in service template (the GET webhook-templates list, in the original's order). */
struct webhook_service {
	const char *service;
	const char *name;
	const char *url_pattern;
	const char *accept;	/* an Accept header the template asks for, or NULL */
	const char *payload;	/* the template text */
	int plain_text;		/* ntfy: the body is text, not JSON */
};

extern const struct webhook_service webhook_services[];
extern const size_t webhook_service_count;

/* The built-in template of service, or NULL (none, "generic" has one only for tests). */
const struct webhook_service *notify_webhook_service(const char *service);

/* The body of an alert notification for w to send over alerts[0..n) (n >= 1; alerts[0] is
 * the primary). grouped selects the grouped generic JSON (every queued send) over the single
 * one (saved-configuration tests). public_url may be NULL. now is the wall clock.
 * *plain_text is set when the body is text (ntfy), else it is JSON and was checked to parse.
 * Returns 0 with the body appended to out, or -1 with a message in err (bad template,
 * invalid JSON, Telegram URL without a numeric chat_id). */
int notify_webhook_payload(const struct webhook *w, const struct alert *alerts, size_t n,
    int grouped, const char *public_url, double now, struct strbuf *out, int *plain_text,
    char *err, size_t errlen);

/* How many recovery bodies w needs for n resolved alerts: one, or one per alert for
 * PagerDuty (an Events API v2 resolve per dedup_key; see docs/COMPATIBILITY.md). */
size_t notify_webhook_recovery_count(const struct webhook *w, size_t n);

/* The k-th recovery body (k < notify_webhook_recovery_count) for resolved alerts[0..n),
 * appended to out. Always JSON. Returns 0, or -1 with a message in err. */
int notify_webhook_recovery(const struct webhook *w, const struct alert *alerts, size_t n,
    size_t k, const char *public_url, double now, struct strbuf *out, char *err,
    size_t errlen);

/* The Telegram chat id in url's query (chat_id=<digits>, optionally a leading '-'). Returns
 * 0 with the id in chat_id and, when stripped is not NULL, url without that parameter (the
 * request goes there; the id goes in the body) appended to stripped; -1 when missing or not
 * numeric. */
int notify_webhook_telegram_chat_id(const char *url, char *chat_id, size_t len,
    struct strbuf *stripped);

/* The template data of alert a (§8.2 table) as a new tree, freed with tpl_value_free;
 * alerts[0..n) fill .Alerts and .AlertCount. */
struct tpl_value *notify_webhook_data(const struct webhook *w, const struct alert *alerts,
    size_t n, const char *public_url, double now, const char *chat_id);

/* The alert display helpers of §8.1: value and threshold with their unit ("91.5%",
 * "12.3 MB/s", "71.0°C"), and a duration ("45s", "12m", "3h 4m", "2d 5h"). */
void notify_format_value(const char *type, double v, int threshold, char *buf, size_t len);
void notify_format_duration(double seconds, char *buf, size_t len);

#endif
