/* notify_email.h: the email channel (alerts-notifications.md §8.1): its configuration, the
 * alert, test and recovery messages as MIME, and sending them over SMTP with libcurl. */
#ifndef PULSE_NOTIFY_EMAIL_H
#define PULSE_NOTIFY_EMAIL_H

#include <json-c/json.h>
#include <stddef.h>

#include "alert.h"
#include "util.h"

#define EMAIL_MAX_RECIPIENTS 32
#define EMAIL_ADDRESS_LEN 320
#define EMAIL_ERR_LEN 512

/* An EmailConfig (§8.1) in plain form. password is the real one (never logged, never in an
 * error); notify_email_config_clear wipes it. */
struct email_config {
	int enabled;
	char provider[64];
	char server[256];
	int port;
	char username[256];
	char password[512];
	char from[EMAIL_ADDRESS_LEN];
	char to[EMAIL_MAX_RECIPIENTS][EMAIL_ADDRESS_LEN];
	size_t to_count;
	int tls;
	int start_tls;
};

/* How a send runs. Zero fields take the defaults: connect 10 s, session 30 s, one attempt.
 * ca_file (may be NULL or empty) is trusted besides the system store. */
struct notify_email_opts {
	long connect_timeout_ms;
	long timeout_ms;
	const char *ca_file;
	int attempts;		/* tries for a transient failure (connect, timeout, SMTP 4xx) */
	long retry_delay_ms;
};

/* A message's subject and its two bodies. */
struct email_content {
	struct strbuf subject, text, html;
};

/* Members of a channel configuration (email, apprise), strictly typed: the string member
 * key of cfg copied into dst (len bytes), the boolean into *dst. Absent or null leaves dst
 * alone; another type, or a string that does not fit, returns -1 with a message in err. */
int notify_cfg_string(struct json_object *cfg, const char *key, char *dst, size_t len,
    char *err, size_t errlen);
int notify_cfg_bool(struct json_object *cfg, const char *key, int *dst, char *err,
    size_t errlen);

/* Reads an EmailConfig JSON object (missing keys take §8.1's defaults: port 587, tls true).
 * port 0 is 587; recipients are trimmed, empty ones dropped. A member of the wrong type, a
 * port out of range, more than EMAIL_MAX_RECIPIENTS recipients, a value that is too long or
 * holds CR or LF is refused: returns -1 with a message in err. The one reader of an
 * EmailConfig: the sender's and the stored configuration's (notify_channels). */
int notify_email_config_parse(const struct json_object *cfg, struct email_config *out,
    char *err, size_t errlen);
/* The configuration as it is stored (every member, the password in clear: the caller seals
 * or masks it); notify_channels stores what this gives. */
struct json_object *notify_email_config_to_json(const struct email_config *c);
/* Wipes the password. */
void notify_email_config_clear(struct email_config *c);
/* The user name AUTH uses: username, or the provider's default when it is empty (SendGrid
 * "apikey", SparkPost "SMTP_Injection", Resend "resend", Postmark the password). */
const char *notify_email_auth_user(const struct email_config *c);

/* The contents of §8.1: the grouped alert mail over alerts[0..n) (n >= 1), the single-alert
 * mail (tests), and the recovery mail. public_url may be NULL; now is the wall clock. The
 * caller releases content with notify_email_content_free. */
void notify_email_grouped_content(const struct alert *alerts, size_t n, double now,
    struct email_content *content);
void notify_email_single_content(const struct alert *a, double now,
    struct email_content *content);
void notify_email_recovery_content(const struct alert *alerts, size_t n,
    const char *public_url, double now, struct email_content *content);
/* The recovery text alone, appended to out (the apprise channel sends it too). */
void notify_email_recovery_text(const struct alert *alerts, size_t n, const char *public_url,
    double now, struct strbuf *out);
void notify_email_content_free(struct email_content *content);

/* Appends s to out with &, <, >, " and ' escaped for HTML. */
void notify_email_html_escape(struct strbuf *out, const char *s);

/* The whole message (headers, then multipart/alternative: text/plain then text/html, UTF-8,
 * base64) for c's from and to, appended to out. The subject loses any control character
 * and is RFC 2047 encoded when not ASCII. delivery_key (may be NULL) becomes an
 * X-Pulse-Delivery header. Returns 0, or -1 with a message in err when an address or the
 * key cannot stand in a header (control characters, '<', '>', ',', white space). */
int notify_email_message(const struct email_config *c, const struct email_content *content,
    double now, const char *delivery_key, struct strbuf *out, char *err, size_t errlen);

/* Sends a prepared message to c's recipients (to, or from when to is empty) over SMTP:
 * implicit TLS when tls or port 465, STARTTLS (required) when start_tls, else plain; AUTH
 * when a user name (see notify_email_auth_user) and a password are set. Returns 0, or -1
 * with a readable message in err that never holds the password. */
int notify_email_smtp(const struct email_config *c, const char *message,
    const struct notify_email_opts *opts, char *err, size_t errlen);

/* What the queue calls for a row: the grouped (or, resolved set, recovery) mail over
 * alerts[0..n) sent with email_config as given (the row's configuration, with its real
 * password; see docs/COMPATIBILITY.md, quirk 14). Returns 0 or -1 with err set. */
int notify_email_send(const struct json_object *email_config, const struct alert *alerts,
    size_t n, int resolved, const char *public_url, const char *delivery_key,
    const struct notify_email_opts *opts, char *err, size_t errlen);

/* The test mail of POST /api/notifications/test for a supplied configuration: the
 * single-alert mail about a, sent with c. Returns 0 or -1 with err set. */
int notify_email_send_test(const struct email_config *c, const struct alert *a,
    const struct notify_email_opts *opts, char *err, size_t errlen);

#endif
