/* mdstat.c: the md arrays of /proc/mdstat as the report's raid entries (agents.md §10.7),
 * a pure parser: the original asks `mdadm --detail`, we read the kernel's own summary. */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "util.h"

/* The array's member list after "mdN : active raid1 ": "sdb1[1] sda1[0](F) ...". */
static void
parse_members(struct agent_md_array *a, const char *s)
{
	char tok[96];
	int len;

	while (sscanf(s, " %95s%n", tok, &len) == 1) {
		char *br = strchr(tok, '[');
		struct agent_md_member *d;

		s += len;
		if (!br || a->ndevices >= (int)ARRAY_LEN(a->devices))
			continue;
		d = &a->devices[a->ndevices++];
		*br = '\0';
		snprintf(d->device, sizeof(d->device), "/dev/%.58s", tok);
		if (strstr(br + 1, "(F)")) {
			snprintf(d->state, sizeof(d->state), "faulty");
			d->slot = -1;
			a->failed++;
		} else if (strstr(br + 1, "(S)")) {
			snprintf(d->state, sizeof(d->state), "spare");
			d->slot = -1;
			a->spare++;
		} else {
			snprintf(d->state, sizeof(d->state), "active");
			d->slot = (int)strtol(br + 1, NULL, 10);
		}
	}
}

/* Adds what the array is doing ("recovering") to its state. */
static void
append_state(struct agent_md_array *a, const char *action)
{
	size_t len = strlen(a->state);

	snprintf(a->state + len, sizeof(a->state) - len, ", %s", action);
}

/* The "[==>....]  recovery = 12.6% (...) finish=... speed=50000K/sec" line. */
static void
parse_progress(struct agent_md_array *a, const char *line, char *action, size_t actlen)
{
	static const char *const actions[] = { "recovery", "resync", "reshape", "check" };
	const char *pct, *speed;

	for (size_t i = 0; i < ARRAY_LEN(actions); i++)
		if (strstr(line, actions[i])) {
			snprintf(action, actlen, "%s", i == 0 ? "recovering" : i == 1 ? "resyncing" :
			    i == 2 ? "reshaping" : "checking");
			break;
		}
	if ((pct = strchr(line, '%'))) {
		/* the number before '%' ("= 17.3%"); the progress bar has '=' signs too */
		while (pct > line && (isdigit((unsigned char)pct[-1]) || pct[-1] == '.'))
			pct--;
		a->rebuild_percent = strtod(pct, NULL);
	}
	if ((speed = strstr(line, "speed="))) {
		int n = 0;

		while (speed[6 + n] && !isspace((unsigned char)speed[6 + n]))
			n++;
		snprintf(a->rebuild_speed, sizeof(a->rebuild_speed), "%.*s", n, speed + 6);
	}
}

int
agent_parse_mdstat(const char *text, struct agent_md_array **out)
{
	struct agent_md_array *list = NULL, *cur = NULL;
	int n = 0, cap = 0, inactive = 0;
	char action[32] = "", line[1024];

	*out = NULL;
	if (!text)
		return -1;

	for (const char *p = text; agent_next_line(&p, line, sizeof(line)); ) {
		char name[32], status[32], level[32];
		int consumed = 0, total, up;

		if (strncmp(line, "md", 2) == 0 &&
		    sscanf(line, "%31s : %31s%n", name, status, &consumed) == 2 && consumed > 0) {
			if (cur && *action)
				append_state(cur, action);
			GROW(list, n, cap);
			cur = &list[n++];
			*action = '\0';
			inactive = strcmp(status, "inactive") == 0;
			snprintf(cur->device, sizeof(cur->device), "/dev/%s", name);
			const char *rest = line + consumed;
			/* "(auto-read-only)" and similar come before the level */
			while (sscanf(rest, " %31s%n", level, &consumed) == 1 && level[0] == '(')
				rest += consumed;
			if (!inactive && strncmp(level, "raid", 4) != 0 && strcmp(level, "linear") != 0)
				level[0] = '\0';
			if (!inactive && level[0]) {
				for (char *c = level; *c; c++)
					*c = (char)tolower((unsigned char)*c);
				snprintf(cur->level, sizeof(cur->level), "%s", level);
				rest += consumed;
			}
			parse_members(cur, rest);
			snprintf(cur->state, sizeof(cur->state), "%s", inactive ? "inactive" : "clean");
			cur->total = cur->ndevices;
			cur->active = cur->ndevices - cur->failed - cur->spare;
			cur->working = cur->ndevices - cur->failed;
			continue;
		}
		if (!cur || !isspace((unsigned char)line[0])) {
			if (cur && *action)
				append_state(cur, action);
			*action = '\0';
			cur = NULL;
			continue;
		}
		const char *br = strstr(line, "] [");
		const char *slash = strchr(line, '/');
		if (br && slash && sscanf(line, "%*[^[][%d/%d]", &total, &up) == 2) {
			cur->total = total;
			cur->active = up;
			if (up < total)
				snprintf(cur->state, sizeof(cur->state), "clean, degraded");
		} else if (strstr(line, "finish=") || strstr(line, "% (") || strstr(line, "DELAYED"))
			parse_progress(cur, line, action, sizeof(action));
	}
	if (cur && *action)
		append_state(cur, action);
	*out = list;
	return n;
}
