/* conf.h: settings from a key = value file, each overridable by a PULSE_<KEY> variable. */
#ifndef PULSE_CONF_H
#define PULSE_CONF_H

#include <stdint.h>

enum conf_type {
	CFG_STRING,
	CFG_INT,	/* integer within [min, max] */
	CFG_SIZE,	/* bytes, with optional k/M/G suffix */
	CFG_BOOL,
	CFG_MODE,	/* octal file mode */
	CFG_LEVEL,	/* a log level name */
};

struct conf_key {
	const char *name;
	enum conf_type type;
	const char *default_value;
	int64_t min, max;
	int secret;		/* never printed by --print-config */
	const char *help;
};

/* The table of every key the programs know, in documentation order. */
extern const struct conf_key conf_keys[];
extern const int conf_key_count;

/* Loads defaults, then the file (if path is not NULL), then the environment. A missing file
 * is an error only when required is set. On error returns -1 with a message (never holding a
 * secret) in err. May be called once at start-up, before threads exist. */
int conf_load(const char *path, int required, char *err, int errlen);

/* Resets every key to its default (for tests). */
void conf_reset(void);

/* Sets one key from a string after validating it; returns -1 with a message in err. */
int conf_set(const char *key, const char *value, char *err, int errlen);

/* Typed reads. The key must be in the table; asking for an unknown key aborts (a bug). */
const char *conf_str(const char *key);
int64_t conf_int(const char *key);
int conf_bool(const char *key);

/* Writes "key = value" for every key to stdout, secrets masked. */
void conf_print(void);

/* The environment variable that overrides key, e.g. PULSE_DATABASE_URL. */
void conf_env_name(const char *key, char *out, int outlen);

#endif
