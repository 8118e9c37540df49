/* notify_template.h: a small, bounded interpreter of the Go text/template subset that webhook
 * payload templates use (alerts-notifications.md §8.2), and the data it reads.
 *
 * Supported: text; {{.Field}}, {{.Map.key}}, {{.}}, {{$}} and {{$.Field}} (the root); string
 * ("..." and `...`), number and true/false literals; {{if}} / {{else if}} / {{else}} / {{end}};
 * {{range .List}} ... {{else}} ... {{end}} (dot is the item); pipes {{.X | upper}};
 * parenthesised sub-pipelines; the trim markers {{- and -}}; Go's comment actions;
 * functions eq, ne, and, or, not, len, title, upper, lower, printf (%s %d %v %f %.Nf %%),
 * urlquery/urlencode, urlpath/pathescape. Variables ($x :=), with, define and template are not.
 *
 * A template is parsed once (notify_template_parse) and run against data (notify_template_run).
 * Every failure (syntax, unknown function, unknown field, nesting, size, output, steps) is a
 * message in err, never a crash. */
#ifndef PULSE_NOTIFY_TEMPLATE_H
#define PULSE_NOTIFY_TEMPLATE_H

#include <stddef.h>

#include "util.h"

#define TPL_MAX_SIZE (64 * 1024)	/* bytes of template text */
#define TPL_MAX_DEPTH 32		/* nesting of if/range and of parentheses */
#define TPL_MAX_OUTPUT (256 * 1024)	/* bytes one run may write */
#define TPL_MAX_STEPS 200000		/* nodes and commands one run may evaluate */
#define TPL_MAX_VALUES (1024 * 1024)	/* bytes of strings functions make in one action */
#define TPL_ERR_LEN 160

/* The data a template reads: a tree of values. A map holds named members, a list items. */
enum tpl_type { TPL_NIL, TPL_STRING, TPL_NUMBER, TPL_BOOL, TPL_MAP, TPL_LIST };

struct tpl_value {
	enum tpl_type type;
	char *name;		/* the member's name in its map; NULL in a list */
	char *str;		/* TPL_STRING */
	double num;		/* TPL_NUMBER */
	int boolean;		/* TPL_BOOL */
	struct tpl_value **kids;	/* TPL_MAP members or TPL_LIST items, in order */
	size_t n, cap;
};

/* A new empty map (the root of the data); released with tpl_value_free. */
struct tpl_value *tpl_map_new(void);
/* Add a member to map m (copying name and s; NULL s is ""); the child ones return the new
 * map or list, owned by m. */
void tpl_map_str(struct tpl_value *m, const char *name, const char *s);
void tpl_map_num(struct tpl_value *m, const char *name, double v);
void tpl_map_bool(struct tpl_value *m, const char *name, int v);
struct tpl_value *tpl_map_map(struct tpl_value *m, const char *name);
struct tpl_value *tpl_map_list(struct tpl_value *m, const char *name);
/* Appends a new empty map item to list l and returns it (owned by l). */
struct tpl_value *tpl_list_map(struct tpl_value *l);
/* The member of map m called name, or NULL. */
const struct tpl_value *tpl_map_get(const struct tpl_value *m, const char *name);
/* Frees v and everything under it (NULL is fine). */
void tpl_value_free(struct tpl_value *v);

/* Options of a run. */
enum {
	/* Escape what every action writes as the inside of a JSON string, so a value with quotes,
	 * backslashes or newlines cannot break a JSON template (the original does not: QUIRK). */
	TPL_ESCAPE_JSON = 1
};

struct notify_template;

/* Parses text. Returns the template (free it with notify_template_free) or NULL with a message
 * in err (TPL_ERR_LEN bytes). */
struct notify_template *notify_template_parse(const char *text, char *err, size_t errlen);
void notify_template_free(struct notify_template *t);

/* Runs t over data (a map) and appends what it writes to out. Returns 0, or -1 with a message
 * in err; out then holds a part of the output, which the caller must not use. */
int notify_template_run(const struct notify_template *t, const struct tpl_value *data,
    int flags, struct strbuf *out, char *err, size_t errlen);

/* Parse and run in one call. */
int notify_template_render(const char *text, const struct tpl_value *data, int flags,
    struct strbuf *out, char *err, size_t errlen);

#endif
