/* SPDX-License-Identifier: MIT */
#include "v6lab/verdict.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "v6lab/wrap.h"

const char *concurrency_word(enum concurrency c)
{
	return c == CONCURRENCY_YES ? "yes" : c == CONCURRENCY_NO ? "no" : "unknown";
}

const char *concurrency_json(enum concurrency c)
{
	return c == CONCURRENCY_YES ? "true" : c == CONCURRENCY_NO ? "false" : "null";
}

/* The items of one kind of problem: as many as fit in LIST_SHOWN characters are named, the
 * others counted. Four lists of at most LIST_SHOWN + " and N more" fit in a reason. */
#define LIST_SHOWN 96
struct list {
	char text[LIST_SHOWN + 1];
	int more;
};

static void add_item(struct list *l, const char *item)
{
	size_t n = strlen(l->text);
	if (n + 1 + strlen(item) > LIST_SHOWN)
		l->more++;
	else
		snprintf(l->text + n, sizeof(l->text) - n, " %s", item);
}

/* Append "; label: item item and N more" to the reason when there are items. */
static void add_reason(struct verdict *v, const char *label, const struct list *l)
{
	if (l->text[0] == '\0')
		return;
	size_t n = strlen(v->reason);
	n += (size_t)snprintf(v->reason + n, sizeof(v->reason) - n, "%s%s:%s", n ? "; " : "",
			      label, l->text);
	if (l->more && n < sizeof(v->reason))
		snprintf(v->reason + n, sizeof(v->reason) - n, " and %d more", l->more);
}

void verdict_check(const char *reply, const token_t issued[], int n, enum concurrency concurrent,
		   struct verdict *v)
{
	bool seen[V6_MAX_CLIENTS] = { false };
	struct list missing = { "", 0 }, duplicate = { "", 0 }, unknown = { "", 0 },
		    malformed = { "", 0 };

	memset(v, 0, sizeof(*v));
	v->expected = n;
	v->concurrent = concurrent;

	/* Walk the comma-separated items up to the line end. */
	const char *p = reply;
	size_t total = strcspn(reply, "\n");
	const char *end = reply + total;
	while (total > 0) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *item_end = comma ? comma : end;
		size_t len = (size_t)(item_end - p);
		if (len > 0 && p[len - 1] == '\r')
			len--; /* "\r\n" line end */
		char label[48];
		if (!token_valid(p, len)) {
			snprintf(label, sizeof(label), "'%.*s%s'", len > 24 ? 24 : (int)len, p,
				 len > 24 ? "..." : "");
			for (char *c = label; *c; c++)
				if (!isprint((unsigned char)*c))
					*c = '?'; /* the line goes back to a terminal */
			add_item(&malformed, label);
		} else {
			int i;
			for (i = 0; i < n; i++)
				if (memcmp(issued[i], p, V6_TOKEN_LEN) == 0)
					break;
			snprintf(label, sizeof(label), "client%d", p[6] - '0');
			const char *check = i == n ? "unknown" : seen[i] ? "duplicate" : "ok";
			v6_trace_token(V6_TOKEN_VERIFIED, p, check);
			if (i == n)
				add_item(&unknown, label);
			else if (seen[i])
				add_item(&duplicate, label);
			else {
				seen[i] = true;
				v->ok++;
			}
		}
		if (!comma)
			break;
		p = comma + 1; /* an empty item after a trailing comma is malformed too */
	}
	for (int i = 0; i < n; i++)
		if (!seen[i]) {
			char label[24];
			snprintf(label, sizeof(label), "client%d", i + 1);
			add_item(&missing, label);
		}
	if (total == 0)
		snprintf(v->reason, sizeof(v->reason), "empty reply");
	add_reason(v, "missing", &missing);
	add_reason(v, "unknown", &unknown);
	add_reason(v, "duplicate", &duplicate);
	add_reason(v, "malformed", &malformed);
	v->pass = v->reason[0] == '\0';
}

void verdict_fail(struct verdict *v, int expected, enum concurrency concurrent,
		  const char *reason)
{
	memset(v, 0, sizeof(*v));
	v->expected = expected;
	v->concurrent = concurrent;
	snprintf(v->reason, sizeof(v->reason), "%s", reason);
}

int verdict_line(const struct verdict *v, char *buf, size_t bufsz)
{
	return snprintf(buf, bufsz, "%s: %d/%d tokens, concurrent: %s%s%s\n",
			v->pass ? "PASS" : "FAIL", v->ok, v->expected, concurrency_word(v->concurrent),
			v->pass ? "" : "; ", v->reason);
}
