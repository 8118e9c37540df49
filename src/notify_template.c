/* notify_template.c: the bounded Go text/template subset of webhook payloads: the data tree,
 * the parser (text and actions into a node tree) and the interpreter. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "notify_template.h"
#include "util.h"

/* ---- the data tree ------------------------------------------------------------------- */

static struct tpl_value *
value_add(struct tpl_value *parent, const char *name, enum tpl_type type)
{
	struct tpl_value *v = xcalloc(1, sizeof(*v));

	v->type = type;
	v->name = name ? xstrdup(name) : NULL;
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 8;
		parent->kids = xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
	}
	parent->kids[parent->n++] = v;
	return v;
}

struct tpl_value *
tpl_map_new(void)
{
	struct tpl_value *v = xcalloc(1, sizeof(*v));

	v->type = TPL_MAP;
	return v;
}

void
tpl_map_str(struct tpl_value *m, const char *name, const char *s)
{
	value_add(m, name, TPL_STRING)->str = xstrdup(s ? s : "");
}

void
tpl_map_num(struct tpl_value *m, const char *name, double v)
{
	value_add(m, name, TPL_NUMBER)->num = v;
}

void
tpl_map_bool(struct tpl_value *m, const char *name, int v)
{
	value_add(m, name, TPL_BOOL)->boolean = v != 0;
}

struct tpl_value *
tpl_map_map(struct tpl_value *m, const char *name)
{
	return value_add(m, name, TPL_MAP);
}

struct tpl_value *
tpl_map_list(struct tpl_value *m, const char *name)
{
	return value_add(m, name, TPL_LIST);
}

struct tpl_value *
tpl_list_map(struct tpl_value *l)
{
	return value_add(l, NULL, TPL_MAP);
}

const struct tpl_value *
tpl_map_get(const struct tpl_value *m, const char *name)
{
	if (m == NULL || m->type != TPL_MAP)
		return NULL;
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->kids[i]->name, name) == 0)
			return m->kids[i];
	return NULL;
}

void
tpl_value_free(struct tpl_value *v)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < v->n; i++)
		tpl_value_free(v->kids[i]);
	free(v->kids);
	free(v->name);
	free(v->str);
	free(v);
}

/* ---- errors -------------------------------------------------------------------------- */

/* The first error of a parse or a run; later ones are dropped. */
struct tpl_error {
	char *msg;
	size_t len;
	int failed;
};

static void tpl_error_set(struct tpl_error *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tpl_error_set(struct tpl_error *e, const char *fmt, ...)
{
	va_list ap;

	if (e->failed)
		return;
	e->failed = 1;
	va_start(ap, fmt);
	vsnprintf(e->msg, e->len, fmt, ap);
	va_end(ap);
}

/* ---- the node tree ------------------------------------------------------------------- */

enum arg_kind { ARG_FIELD, ARG_ROOT, ARG_STRING, ARG_NUMBER, ARG_BOOL, ARG_FUNC, ARG_PIPE };

struct pipe;

struct arg {
	enum arg_kind kind;
	char *s;		/* field path after the dot ("" for dot itself), string, function */
	double num;
	struct pipe *pipe;	/* ARG_PIPE */
	struct arg *next;
};

struct cmd {
	struct arg *args;
	struct cmd *next;
};

struct pipe {
	struct cmd *cmds;
};

enum node_kind { NODE_TEXT, NODE_ACTION, NODE_IF, NODE_RANGE };

struct node {
	enum node_kind kind;
	const char *text;	/* NODE_TEXT: a span of the template's copy */
	size_t len;
	struct pipe *pipe;
	struct node *body, *alt;	/* if/range: the branch and the else branch */
	struct node *next;
};

struct notify_template {
	struct arena *arena;
	char *src;
	struct node *root;
};

/* ---- the parser ---------------------------------------------------------------------- */

enum tok_kind { TOK_FIELD, TOK_ROOT, TOK_STRING, TOK_NUMBER, TOK_IDENT, TOK_BAR, TOK_LPAREN,
	TOK_RPAREN, TOK_END };

#define TPL_MAX_TOKENS 128

struct token {
	enum tok_kind kind;
	char *s;
	double num;
};

struct parser {
	struct arena *a;
	char *src;
	size_t len, pos;
	int trim_next;		/* the last action ended with -}} */
	struct tpl_error e;
	/* the action being parsed */
	struct token tok[TPL_MAX_TOKENS];
	int ntok, at;
	size_t action_start;
};

/* How a list of nodes ended. */
enum list_end { END_EOF, END_END, END_ELSE, END_ELSE_IF, END_ERROR };

#define fail(p, ...) tpl_error_set(&(p)->e, __VA_ARGS__)

static int
line_of(const struct parser *p, size_t pos)
{
	int line = 1;

	for (size_t i = 0; i < pos && i < p->len; i++)
		if (p->src[i] == '\n')
			line++;
	return line;
}

static int
is_ident_char(int c)
{
	return isalnum(c) || c == '_';
}

/* Reads a quoted string literal at s[*i] into the arena; Go's escapes \n \t \r \\ \" \'. */
static char *
lex_string(struct parser *p, const char *s, size_t end, size_t *i)
{
	char quote = s[*i];
	struct strbuf sb = {0};
	char *out;

	for ((*i)++; *i < end && s[*i] != quote; (*i)++) {
		char c = s[*i];

		if (quote == '"' && c == '\\') {
			if (++*i >= end)
				break;
			switch (s[*i]) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '\\': case '"': case '\'': c = s[*i]; break;
			default:
				fail(p, "line %d: unknown escape in string", line_of(p, *i));
				sb_free(&sb);
				return NULL;
			}
		} else if (quote == '"' && c == '\n') {
			break;
		}
		sb_append(&sb, &c, 1);
	}
	if (*i >= end || s[*i] != quote) {
		fail(p, "line %d: unterminated string", line_of(p, *i));
		sb_free(&sb);
		return NULL;
	}
	(*i)++;
	out = arena_strndup(p->a, sb.data ? sb.data : "", sb.len);
	sb_free(&sb);
	return out;
}

/* Splits the action text src[from, end) into p->tok. */
static int
lex_action(struct parser *p, size_t from, size_t end)
{
	const char *s = p->src;
	size_t i = from;

	p->ntok = 0;
	p->at = 0;
	while (i < end) {
		struct token *t;
		char c = s[i];

		if (isspace((unsigned char)c)) {
			i++;
			continue;
		}
		if (p->ntok == TPL_MAX_TOKENS - 1) {
			fail(p, "line %d: action too long", line_of(p, i));
			return -1;
		}
		t = &p->tok[p->ntok++];
		memset(t, 0, sizeof(*t));
		if (c == '|' || c == '(' || c == ')') {
			t->kind = c == '|' ? TOK_BAR : c == '(' ? TOK_LPAREN : TOK_RPAREN;
			i++;
		} else if (c == '"' || c == '`') {
			t->kind = TOK_STRING;
			if ((t->s = lex_string(p, s, end, &i)) == NULL)
				return -1;
		} else if (c == '.' || c == '$') {
			size_t start = i;

			t->kind = c == '.' ? TOK_FIELD : TOK_ROOT;
			if (c == '$') {
				i++;
				if (i < end && s[i] != '.' && !isspace((unsigned char)s[i]) &&
				    s[i] != ')' && s[i] != '|') {
					fail(p, "line %d: variables are not supported", line_of(p, i));
					return -1;
				}
			}
			while (i < end && (s[i] == '.' || is_ident_char((unsigned char)s[i])))
				i++;
			/* The path after the leading dot; "" for dot itself. */
			start += c == '$' ? 1 : 0;
			if (i > start && s[start] == '.')
				start++;
			t->s = arena_strndup(p->a, s + start, i - start);
			if (strstr(t->s, "..") != NULL ||
			    (t->s[0] != '\0' && t->s[strlen(t->s) - 1] == '.')) {
				fail(p, "line %d: bad field name", line_of(p, i));
				return -1;
			}
		} else if (isdigit((unsigned char)c) || ((c == '-' || c == '+') && i + 1 < end &&
		    isdigit((unsigned char)s[i + 1]))) {
			char *stop;
			char buf[64];
			size_t n = 0;

			while (i < end && n < sizeof(buf) - 1 && (isalnum((unsigned char)s[i]) ||
			    s[i] == '.' || s[i] == '-' || s[i] == '+'))
				buf[n++] = s[i++];
			buf[n] = '\0';
			t->kind = TOK_NUMBER;
			t->num = strtod(buf, &stop);
			if (*stop != '\0' || !isfinite(t->num)) {
				fail(p, "line %d: bad number %s", line_of(p, i), buf);
				return -1;
			}
		} else if (isalpha((unsigned char)c) || c == '_') {
			size_t start = i;

			while (i < end && is_ident_char((unsigned char)s[i]))
				i++;
			t->kind = TOK_IDENT;
			t->s = arena_strndup(p->a, s + start, i - start);
		} else {
			fail(p, "line %d: unexpected '%c' in action", line_of(p, i),
			    isprint((unsigned char)c) ? c : '?');
			return -1;
		}
	}
	p->tok[p->ntok].kind = TOK_END;
	return 0;
}

static const char *const functions[] = {
	"eq", "ne", "and", "or", "not", "len", "title", "upper", "lower", "printf",
	"urlquery", "urlencode", "urlpath", "pathescape"
};

static int
is_function(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(functions); i++)
		if (strcmp(functions[i], name) == 0)
			return 1;
	return 0;
}

static struct pipe *parse_pipe(struct parser *p, int depth);

static struct arg *
parse_operand(struct parser *p, int depth)
{
	struct token *t = &p->tok[p->at];
	struct arg *a;

	if (t->kind == TOK_END || t->kind == TOK_BAR || t->kind == TOK_RPAREN)
		return NULL;
	a = arena_zalloc(p->a, sizeof(*a));
	p->at++;
	switch (t->kind) {
	case TOK_FIELD: a->kind = ARG_FIELD; a->s = t->s; break;
	case TOK_ROOT: a->kind = ARG_ROOT; a->s = t->s; break;
	case TOK_STRING: a->kind = ARG_STRING; a->s = t->s; break;
	case TOK_NUMBER: a->kind = ARG_NUMBER; a->num = t->num; break;
	case TOK_IDENT:
		if (strcmp(t->s, "true") == 0 || strcmp(t->s, "false") == 0) {
			a->kind = ARG_BOOL;
			a->num = t->s[0] == 't';
		} else if (strcmp(t->s, "nil") == 0) {
			fail(p, "nil is not a command");
			return NULL;
		} else if (is_function(t->s)) {
			a->kind = ARG_FUNC;
			a->s = t->s;
		} else {
			fail(p, "line %d: function \"%s\" not defined",
			    line_of(p, p->action_start), t->s);
			return NULL;
		}
		break;
	case TOK_LPAREN:
		if (depth >= TPL_MAX_DEPTH) {
			fail(p, "line %d: nesting too deep", line_of(p, p->action_start));
			return NULL;
		}
		a->kind = ARG_PIPE;
		if ((a->pipe = parse_pipe(p, depth + 1)) == NULL)
			return NULL;
		if (p->tok[p->at].kind != TOK_RPAREN) {
			fail(p, "line %d: unclosed left paren", line_of(p, p->action_start));
			return NULL;
		}
		p->at++;
		break;
	default:
		fail(p, "line %d: unexpected token", line_of(p, p->action_start));
		return NULL;
	}
	return a;
}

/* pipeline := command ('|' command)*; command := operand+ */
static struct pipe *
parse_pipe(struct parser *p, int depth)
{
	struct pipe *pp = arena_zalloc(p->a, sizeof(*pp));
	struct cmd **cmd_tail = &pp->cmds;

	for (;;) {
		struct cmd *c = arena_zalloc(p->a, sizeof(*c));
		struct arg **arg_tail = &c->args;
		struct arg *a;

		while ((a = parse_operand(p, depth)) != NULL) {
			*arg_tail = a;
			arg_tail = &a->next;
		}
		if (p->e.failed)
			return NULL;
		if (c->args == NULL) {
			fail(p, "line %d: missing value for command", line_of(p, p->action_start));
			return NULL;
		}
		if (pp->cmds != NULL && c->args->kind != ARG_FUNC) {
			fail(p, "line %d: non-function in pipeline", line_of(p, p->action_start));
			return NULL;
		}
		if (c->args->kind != ARG_FUNC && c->args->next != NULL) {
			fail(p, "line %d: can't give argument to non-function",
			    line_of(p, p->action_start));
			return NULL;
		}
		*cmd_tail = c;
		cmd_tail = &c->next;
		if (p->tok[p->at].kind != TOK_BAR)
			return pp;
		p->at++;
	}
}

/* A whole action's pipeline: nothing may follow it. */
static struct pipe *
parse_action_pipe(struct parser *p)
{
	struct pipe *pp = parse_pipe(p, 0);

	if (pp != NULL && p->tok[p->at].kind != TOK_END) {
		fail(p, "line %d: unexpected %s in action", line_of(p, p->action_start),
		    p->tok[p->at].kind == TOK_RPAREN ? "right paren" : "token");
		return NULL;
	}
	return pp;
}

/* Finds the "}}" closing the action opened at p->pos (just past "{{"), skipping strings.
 * Returns its index or (size_t)-1. */
static size_t
find_close(const struct parser *p, size_t from)
{
	for (size_t i = from; i + 1 < p->len; i++) {
		char c = p->src[i];

		if (c == '"' || c == '`') {
			for (i++; i < p->len && p->src[i] != c; i++)
				if (c == '"' && p->src[i] == '\\')
					i++;
			if (i >= p->len)
				return (size_t)-1;
		} else if (c == '}' && p->src[i + 1] == '}') {
			return i;
		}
	}
	return (size_t)-1;
}

static struct node *
new_node(struct parser *p, enum node_kind kind)
{
	struct node *n = arena_zalloc(p->a, sizeof(*n));

	n->kind = kind;
	return n;
}

static enum list_end parse_list(struct parser *p, int depth, struct node **head,
    struct pipe **else_if);

/* The body and else branches of an if or range whose pipeline was just read. */
static int
parse_branches(struct parser *p, int depth, struct node *n, const char *what)
{
	struct pipe *cond = NULL;
	enum list_end e = parse_list(p, depth + 1, &n->body, &cond);

	if (e == END_ELSE) {
		e = parse_list(p, depth + 1, &n->alt, &cond);
		if (e == END_ELSE || e == END_ELSE_IF) {
			fail(p, "line %d: {{else}} after {{else}} in %s", line_of(p, p->pos), what);
			return -1;
		}
	} else if (e == END_ELSE_IF) {
		if (n->kind != NODE_IF) {
			fail(p, "line %d: {{else if}} in range", line_of(p, p->pos));
			return -1;
		}
		/* {{else if c}} ... is {{else}}{{if c}} ... {{end}}{{end}}: one {{end}} for both. */
		n->alt = new_node(p, NODE_IF);
		n->alt->pipe = cond;
		return parse_branches(p, depth, n->alt, what);
	}
	if (e == END_ERROR)
		return -1;
	if (e != END_END) {
		fail(p, "unexpected EOF: {{%s}} without {{end}}", what);
		return -1;
	}
	return 0;
}

/* Parses nodes into *head until {{end}}, {{else}}, {{else if}} (its pipeline in *else_if) or
 * the end of the text. */
static enum list_end
parse_list(struct parser *p, int depth, struct node **head, struct pipe **else_if)
{
	struct node **tail = head;

	if (depth > TPL_MAX_DEPTH) {
		fail(p, "line %d: nesting too deep", line_of(p, p->pos));
		return END_ERROR;
	}
	while (p->pos < p->len) {
		char *open = strstr(p->src + p->pos, "{{");
		size_t text_end = open ? (size_t)(open - p->src) : p->len;
		size_t text_start = p->pos, inner, close, inner_end;
		int trim_left, trim_right;
		struct node *n;
		const char *kw;

		trim_left = open && open[2] == '-' && isspace((unsigned char)open[3]);
		if (p->trim_next)
			while (text_start < text_end && isspace((unsigned char)p->src[text_start]))
				text_start++;
		p->trim_next = 0;
		if (trim_left)
			while (text_end > text_start && isspace((unsigned char)p->src[text_end - 1]))
				text_end--;
		if (text_end > text_start) {
			n = new_node(p, NODE_TEXT);
			n->text = p->src + text_start;
			n->len = text_end - text_start;
			*tail = n;
			tail = &n->next;
		}
		if (open == NULL) {
			p->pos = p->len;
			break;
		}
		p->action_start = (size_t)(open - p->src);
		inner = p->action_start + 2 + (trim_left ? 2 : 0);
		if (strncmp(p->src + inner, "/*", 2) == 0) {
			char *end = strstr(p->src + inner + 2, "*/");

			if (end == NULL) {
				fail(p, "line %d: unclosed comment", line_of(p, inner));
				return END_ERROR;
			}
			close = (size_t)(end - p->src) + 2;
			while (close < p->len && isspace((unsigned char)p->src[close]))
				close++;
			if (close < p->len && p->src[close] == '-' && p->src[close + 1] == '}')
				close++;
			if (strncmp(p->src + close, "}}", 2) != 0) {
				fail(p, "line %d: comment ends before closing delimiter",
				    line_of(p, inner));
				return END_ERROR;
			}
			p->trim_next = p->src[close - 1] == '-';
			p->pos = close + 2;
			continue;
		}
		close = find_close(p, inner);
		if (close == (size_t)-1) {
			fail(p, "line %d: unclosed action", line_of(p, p->action_start));
			return END_ERROR;
		}
		trim_right = close >= inner + 2 && p->src[close - 1] == '-' &&
		    isspace((unsigned char)p->src[close - 2]);
		inner_end = trim_right ? close - 1 : close;
		p->pos = close + 2;
		p->trim_next = trim_right;
		if (lex_action(p, inner, inner_end) < 0)
			return END_ERROR;
		if (p->ntok == 0) {
			fail(p, "line %d: missing value for command", line_of(p, p->action_start));
			return END_ERROR;
		}
		kw = p->tok[0].kind == TOK_IDENT ? p->tok[0].s : "";
		if (strcmp(kw, "end") == 0 || strcmp(kw, "else") == 0) {
			p->at = 1;
			if (strcmp(kw, "else") == 0 && p->tok[1].kind == TOK_IDENT &&
			    strcmp(p->tok[1].s, "if") == 0) {
				p->at = 2;
				if ((*else_if = parse_action_pipe(p)) == NULL)
					return END_ERROR;
				return END_ELSE_IF;
			}
			if (p->tok[1].kind != TOK_END) {
				fail(p, "line %d: unexpected token after {{%s}}",
				    line_of(p, p->action_start), kw);
				return END_ERROR;
			}
			return kw[1] == 'n' ? END_END : END_ELSE;
		}
		if (strcmp(kw, "if") == 0 || strcmp(kw, "range") == 0) {
			n = new_node(p, kw[0] == 'i' ? NODE_IF : NODE_RANGE);
			p->at = 1;
			if ((n->pipe = parse_action_pipe(p)) == NULL)
				return END_ERROR;
			if (parse_branches(p, depth, n, kw) < 0)
				return END_ERROR;
		} else if (strcmp(kw, "with") == 0 || strcmp(kw, "define") == 0 ||
		    strcmp(kw, "template") == 0 || strcmp(kw, "block") == 0 ||
		    strcmp(kw, "break") == 0 || strcmp(kw, "continue") == 0) {
			fail(p, "line %d: {{%s}} is not supported", line_of(p, p->action_start), kw);
			return END_ERROR;
		} else {
			n = new_node(p, NODE_ACTION);
			p->at = 0;
			if ((n->pipe = parse_action_pipe(p)) == NULL)
				return END_ERROR;
		}
		*tail = n;
		tail = &n->next;
	}
	return p->e.failed ? END_ERROR : END_EOF;
}

struct notify_template *
notify_template_parse(const char *text, char *err, size_t errlen)
{
	struct notify_template *t;
	struct parser p = {0};
	struct pipe *unused = NULL;
	enum list_end e;
	size_t len = strlen(text);

	if (len > TPL_MAX_SIZE) {
		snprintf(err, errlen, "template is larger than %d bytes", TPL_MAX_SIZE);
		return NULL;
	}
	t = xcalloc(1, sizeof(*t));
	t->arena = arena_new();
	t->src = arena_strndup(t->arena, text, len);
	p.a = t->arena;
	p.src = t->src;
	p.len = len;
	p.e.msg = err;
	p.e.len = errlen;
	e = parse_list(&p, 0, &t->root, &unused);
	if (e == END_END)
		fail(&p, "line %d: unexpected {{end}}", line_of(&p, p.action_start));
	else if (e == END_ELSE || e == END_ELSE_IF)
		fail(&p, "line %d: unexpected {{else}}", line_of(&p, p.action_start));
	if (p.e.failed) {
		notify_template_free(t);
		return NULL;
	}
	return t;
}

void
notify_template_free(struct notify_template *t)
{
	if (t == NULL)
		return;
	arena_free(t->arena);
	free(t);
}

/* ---- the interpreter ----------------------------------------------------------------- */

/* A value during a run: data from the tree, or a string or number made by a function. */
struct val {
	enum tpl_type type;
	const char *str;
	double num;
	int boolean;
	const struct tpl_value *node;	/* TPL_MAP, TPL_LIST */
};

struct run {
	struct arena *a;	/* strings made during the run */
	const struct tpl_value *root;
	int flags;
	struct strbuf *out;
	size_t out_start;
	long steps;
	struct tpl_error e;
};

#define run_fail(r, ...) tpl_error_set(&(r)->e, __VA_ARGS__)

static int
step(struct run *r)
{
	if (++r->steps > TPL_MAX_STEPS) {
		run_fail(r, "template took more than %d steps", TPL_MAX_STEPS);
		return -1;
	}
	return 0;
}

static struct val
val_of(const struct tpl_value *v)
{
	struct val out = {0};

	if (v == NULL)
		return out;
	out.type = v->type;
	out.str = v->str;
	out.num = v->num;
	out.boolean = v->boolean;
	out.node = v;
	return out;
}

static struct val
val_str(const char *s)
{
	struct val v = {0};

	v.type = TPL_STRING;
	v.str = s;
	return v;
}

static int
truth(const struct val *v)
{
	switch (v->type) {
	case TPL_STRING: return v->str[0] != '\0';
	case TPL_NUMBER: return v->num != 0;
	case TPL_BOOL: return v->boolean;
	case TPL_MAP: case TPL_LIST: return v->node->n > 0;
	default: return 0;
	}
}

/* A number as Go's %v writes a float64: the shortest form that reads back the same. */
static void
format_number(char *buf, size_t len, double v)
{
	if (v == floor(v) && fabs(v) < 1e21) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* The text of v as the template prints it. */
static void
print_val(struct strbuf *sb, const struct val *v)
{
	char num[64];

	switch (v->type) {
	case TPL_NIL: sb_puts(sb, "<no value>"); break;
	case TPL_STRING: sb_puts(sb, v->str); break;
	case TPL_NUMBER: format_number(num, sizeof(num), v->num); sb_puts(sb, num); break;
	case TPL_BOOL: sb_puts(sb, v->boolean ? "true" : "false"); break;
	case TPL_MAP: case TPL_LIST:
		sb_puts(sb, v->type == TPL_MAP ? "map[" : "[");
		for (size_t i = 0; i < v->node->n; i++) {
			struct val kid = val_of(v->node->kids[i]);

			if (i > 0)
				sb_puts(sb, " ");
			if (v->type == TPL_MAP)
				sb_printf(sb, "%s:", v->node->kids[i]->name);
			print_val(sb, &kid);
		}
		sb_puts(sb, "]");
		break;
	}
}

static const char *
text_of(struct run *r, const struct val *v)
{
	struct strbuf sb = {0};
	const char *s;

	if (v->type == TPL_STRING)
		return v->str;
	print_val(&sb, v);
	s = arena_strndup(r->a, sb.data ? sb.data : "", sb.len);
	sb_free(&sb);
	return s;
}

/* Follows path ("A.b.c"; "" is v itself) from v. A missing first name is an error (the
 * original's data is a Go struct); a missing key further down is nil (a Go map). */
static int
resolve(struct run *r, const struct tpl_value *v, const char *path, struct val *out)
{
	char name[128];
	int first = 1;

	while (*path != '\0') {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		const struct tpl_value *kid;

		if (n >= sizeof(name)) {
			run_fail(r, "field name too long");
			return -1;
		}
		memcpy(name, path, n);
		name[n] = '\0';
		if (v == NULL) {
			*out = val_of(NULL);
			return 0;
		}
		if (v->type != TPL_MAP) {
			run_fail(r, "can't evaluate field %s in a non-map value", name);
			return -1;
		}
		kid = tpl_map_get(v, name);
		if (kid == NULL && first) {
			run_fail(r, "can't evaluate field %s", name);
			return -1;
		}
		v = kid;
		first = 0;
		path += n + (dot ? 1 : 0);
	}
	*out = val_of(v);
	return 0;
}

static int eval_pipe(struct run *r, const struct pipe *pp, const struct tpl_value *dot,
    struct val *out);

static int
eval_arg(struct run *r, const struct arg *a, const struct tpl_value *dot, struct val *out)
{
	memset(out, 0, sizeof(*out));
	switch (a->kind) {
	case ARG_FIELD: return resolve(r, dot, a->s, out);
	case ARG_ROOT: return resolve(r, r->root, a->s, out);
	case ARG_STRING: *out = val_str(a->s); return 0;
	case ARG_NUMBER: out->type = TPL_NUMBER; out->num = a->num; return 0;
	case ARG_BOOL: out->type = TPL_BOOL; out->boolean = a->num != 0; return 0;
	case ARG_PIPE: return eval_pipe(r, a->pipe, dot, out);
	case ARG_FUNC:
		run_fail(r, "function %s used as a value", a->s);
		return -1;
	}
	return -1;
}

static int
vals_equal(const struct val *x, const struct val *y)
{
	if (x->type != y->type)
		return 0;
	switch (x->type) {
	case TPL_STRING: return strcmp(x->str, y->str) == 0;
	case TPL_NUMBER: return x->num == y->num;
	case TPL_BOOL: return x->boolean == y->boolean;
	case TPL_NIL: return 1;
	default: return x->node == y->node;
	}
}

/* Percent-escaping as Go's url.QueryEscape (query: space is '+') or url.PathEscape. */
static const char *
url_escape(struct run *r, const char *s, int query)
{
	struct strbuf sb = {0};
	const char *out;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
		    (!query && strchr("$&+:=@", c) != NULL))
			sb_append(&sb, s, 1);
		else if (query && c == ' ')
			sb_puts(&sb, "+");
		else
			sb_printf(&sb, "%%%02X", c);
	}
	out = arena_strndup(r->a, sb.data ? sb.data : "", sb.len);
	sb_free(&sb);
	return out;
}

/* Changes the case of s: 'u' upper, 'l' lower, 't' title (first letter upper, rest lower).
 * ASCII letters only. */
static const char *
recase(struct run *r, const char *s, char how)
{
	char *out = arena_strdup(r->a, s);

	for (char *c = out; *c != '\0'; c++) {
		int upper = how == 'u' || (how == 't' && c == out);

		*c = (char)(upper ? toupper((unsigned char)*c) : tolower((unsigned char)*c));
	}
	return out;
}

/* A width or precision of a printf verb above 99 is refused: it could only bloat output. */
static int
spec_ok(const char *spec)
{
	for (const char *c = spec; *c != '\0'; c++)
		if (isdigit((unsigned char)c[0]) && isdigit((unsigned char)c[1]) &&
		    isdigit((unsigned char)c[2]))
			return 0;
	return 1;
}

/* Go's fmt.Sprintf over the verbs templates use: %s %v %q %d %f %g %x with flags, width and
 * precision; %%. A missing argument writes %!v(MISSING) as Go does. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"	/* spec is built and checked here */
static const char *
do_printf(struct run *r, const char *fmt, const struct val *args, int nargs)
{
	struct strbuf sb = {0};
	int next = 0;
	const char *out;

	for (const char *f = fmt; *f != '\0'; f++) {
		char spec[32];
		size_t n = 0;
		const struct val *v;

		if (*f != '%') {
			sb_append(&sb, f, 1);
			continue;
		}
		if (f[1] == '%') {
			sb_puts(&sb, "%");
			f++;
			continue;
		}
		spec[n++] = '%';
		for (f++; *f != '\0' && strchr("-+ #0123456789.", *f) != NULL && n < 20; f++)
			spec[n++] = *f;
		if (*f == '\0' || strchr("svqdfgex", *f) == NULL) {
			sb_puts(&sb, "%!(NOVERB)");
			if (*f == '\0')
				break;
			continue;
		}
		if (next >= nargs) {
			sb_printf(&sb, "%%!%c(MISSING)", *f);
			continue;
		}
		v = &args[next++];
		spec[n] = '\0';
		if (!spec_ok(spec)) {
			sb_puts(&sb, "%!(BADWIDTH)");
			continue;
		}
		if (strchr("dfgex", *f) != NULL && v->type == TPL_NUMBER) {
			if (*f == 'd' || *f == 'x') {
				if (v->num != floor(v->num) || fabs(v->num) > 9e18) {
					char num[64];

					format_number(num, sizeof(num), v->num);
					sb_printf(&sb, "%%!%c(float64=%s)", *f, num);
					continue;
				}
				memcpy(spec + n, *f == 'd' ? "lld" : "llx", 4);
				sb_printf(&sb, spec, (long long)v->num);
			} else {
				spec[n] = *f;
				spec[n + 1] = '\0';
				sb_printf(&sb, spec, v->num);
			}
		} else if (*f == 'q') {
			sb_printf(&sb, "\"%s\"", text_of(r, v));
		} else {
			spec[n] = 's';
			spec[n + 1] = '\0';
			sb_printf(&sb, spec, text_of(r, v));
		}
		if (sb.len > TPL_MAX_OUTPUT)
			break;
	}
	out = arena_strndup(r->a, sb.data ? sb.data : "", sb.len);
	sb_free(&sb);
	return out;
}
#pragma GCC diagnostic pop

#define TPL_MAX_ARGS 16

/* Calls function name with args; the result in *out. */
static int
call(struct run *r, const char *name, struct val *args, int nargs, struct val *out)
{
	memset(out, 0, sizeof(*out));
	if (strcmp(name, "eq") == 0 || strcmp(name, "ne") == 0) {
		int equal = 0;

		if (nargs < 2) {
			run_fail(r, "%s: missing argument for comparison", name);
			return -1;
		}
		for (int i = 1; i < nargs && !equal; i++)
			equal = vals_equal(&args[0], &args[i]);
		out->type = TPL_BOOL;
		out->boolean = name[0] == 'e' ? equal : !equal;
		return 0;
	}
	if (strcmp(name, "and") == 0 || strcmp(name, "or") == 0) {
		int want = name[0] == 'o';

		if (nargs < 1) {
			run_fail(r, "%s: wrong number of args", name);
			return -1;
		}
		*out = args[nargs - 1];
		for (int i = 0; i < nargs; i++)
			if (truth(&args[i]) == want) {
				*out = args[i];
				break;
			}
		return 0;
	}
	if (nargs != 1 && strcmp(name, "printf") != 0) {
		run_fail(r, "%s: wants 1 argument, got %d", name, nargs);
		return -1;
	}
	if (strcmp(name, "not") == 0) {
		out->type = TPL_BOOL;
		out->boolean = !truth(&args[0]);
	} else if (strcmp(name, "len") == 0) {
		out->type = TPL_NUMBER;
		if (args[0].type == TPL_STRING)
			out->num = (double)strlen(args[0].str);
		else if (args[0].type == TPL_MAP || args[0].type == TPL_LIST)
			out->num = (double)args[0].node->n;
		else {
			run_fail(r, "len of a value without length");
			return -1;
		}
	} else if (strcmp(name, "printf") == 0) {
		if (nargs < 1 || args[0].type != TPL_STRING) {
			run_fail(r, "printf: the first argument must be a format string");
			return -1;
		}
		*out = val_str(do_printf(r, args[0].str, args + 1, nargs - 1));
	} else if (strcmp(name, "urlquery") == 0 || strcmp(name, "urlencode") == 0) {
		*out = val_str(url_escape(r, text_of(r, &args[0]), 1));
	} else if (strcmp(name, "urlpath") == 0 || strcmp(name, "pathescape") == 0) {
		*out = val_str(url_escape(r, text_of(r, &args[0]), 0));
	} else {		/* title, upper, lower: the parser let no other name through */
		*out = val_str(recase(r, text_of(r, &args[0]), name[0]));
	}
	return 0;
}

/* Runs a pipeline; each command after the first gets the previous result as its last
 * argument. */
static int
eval_pipe(struct run *r, const struct pipe *pp, const struct tpl_value *dot, struct val *out)
{
	struct val prev = {0};
	int have_prev = 0;

	for (const struct cmd *c = pp->cmds; c != NULL; c = c->next) {
		struct val args[TPL_MAX_ARGS];
		int nargs = 0;

		if (step(r) < 0)
			return -1;
		if (c->args->kind != ARG_FUNC) {
			if (eval_arg(r, c->args, dot, &prev) < 0)
				return -1;
			have_prev = 1;
			continue;
		}
		for (const struct arg *a = c->args->next; a != NULL; a = a->next) {
			if (nargs == TPL_MAX_ARGS - 1) {
				run_fail(r, "%s: too many arguments", c->args->s);
				return -1;
			}
			if (eval_arg(r, a, dot, &args[nargs++]) < 0)
				return -1;
		}
		if (have_prev)
			args[nargs++] = prev;
		if (call(r, c->args->s, args, nargs, &prev) < 0)
			return -1;
		if (arena_used(r->a) > TPL_MAX_VALUES) {
			run_fail(r, "template values are larger than %d bytes", TPL_MAX_VALUES);
			return -1;
		}
		have_prev = 1;
	}
	*out = prev;
	return 0;
}

/* Appends s to the output, escaped for the inside of a JSON string when asked. */
static void
emit(struct run *r, const char *s, size_t len, int escape)
{
	if (!escape) {
		sb_append(r->out, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': sb_puts(r->out, "\\\""); break;
		case '\\': sb_puts(r->out, "\\\\"); break;
		case '\n': sb_puts(r->out, "\\n"); break;
		case '\r': sb_puts(r->out, "\\r"); break;
		case '\t': sb_puts(r->out, "\\t"); break;
		default:
			if (c < 0x20)
				sb_printf(r->out, "\\u%04x", c);
			else
				sb_append(r->out, s + i, 1);
		}
	}
}

static int
exec_list(struct run *r, const struct node *n, const struct tpl_value *dot)
{
	for (; n != NULL; n = n->next) {
		struct val v;

		if (step(r) < 0)
			return -1;
		switch (n->kind) {
		case NODE_TEXT:
			emit(r, n->text, n->len, 0);
			break;
		case NODE_ACTION: {
			struct strbuf sb = {0};

			if (eval_pipe(r, n->pipe, dot, &v) < 0)
				return -1;
			print_val(&sb, &v);
			emit(r, sb.data ? sb.data : "", sb.len, r->flags & TPL_ESCAPE_JSON);
			sb_free(&sb);
			break;
		}
		case NODE_IF:
			if (eval_pipe(r, n->pipe, dot, &v) < 0)
				return -1;
			if (exec_list(r, truth(&v) ? n->body : n->alt, dot) < 0)
				return -1;
			break;
		case NODE_RANGE:
			if (eval_pipe(r, n->pipe, dot, &v) < 0)
				return -1;
			if (v.type != TPL_LIST && v.type != TPL_MAP && v.type != TPL_NIL) {
				run_fail(r, "range can't iterate over a single value");
				return -1;
			}
			if (!truth(&v)) {
				if (exec_list(r, n->alt, dot) < 0)
					return -1;
				break;
			}
			for (size_t i = 0; i < v.node->n; i++)
				if (exec_list(r, n->body, v.node->kids[i]) < 0)
					return -1;
			break;
		}
		/* What the pipelines made is dead now: an if's condition was tested, an action's
		 * value written, and range walks the data, not the arena. */
		arena_clear(r->a);
		if (r->out->len - r->out_start > TPL_MAX_OUTPUT) {
			run_fail(r, "template output is larger than %d bytes", TPL_MAX_OUTPUT);
			return -1;
		}
	}
	return 0;
}

int
notify_template_run(const struct notify_template *t, const struct tpl_value *data, int flags,
    struct strbuf *out, char *err, size_t errlen)
{
	struct run r = {0};
	int rc;

	r.a = arena_new();
	r.root = data;
	r.flags = flags;
	r.out = out;
	r.out_start = out->len;
	r.e.msg = err;
	r.e.len = errlen;
	sb_puts(out, "");	/* data is a string even when nothing is written */
	rc = exec_list(&r, t->root, data);
	arena_free(r.a);
	return rc < 0 || r.e.failed ? -1 : 0;
}

int
notify_template_render(const char *text, const struct tpl_value *data, int flags,
    struct strbuf *out, char *err, size_t errlen)
{
	struct notify_template *t = notify_template_parse(text, err, errlen);
	int rc;

	if (t == NULL)
		return -1;
	rc = notify_template_run(t, data, flags, out, err, errlen);
	notify_template_free(t);
	return rc;
}
