// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch's output: see aw_print.h.
 *
 * Lines are built by hand into one buffer: an accept loop makes 6 events per connection, and
 * printf()/snprintf()/inet_ntop() per field cost ~0.9 us per event in this process, which
 * competes for the CPUs with the server being traced. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "aw_print.h"

/* ---- one line ---- */

struct line {
	char *p, *end;
	const char *detail; /* text: where DETAIL starts (what follows is separated by ", ") */
	bool json;
};

static void put_mem(struct line *l, const char *s, size_t n)
{
	if (n > (size_t)(l->end - l->p))
		n = l->end - l->p;
	memcpy(l->p, s, n);
	l->p += n;
}

static void put_str(struct line *l, const char *s)
{
	put_mem(l, s, strlen(s));
}

static void put_char(struct line *l, char c)
{
	if (l->p < l->end)
		*l->p++ = c;
}

static void put_uint(struct line *l, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		put_char(l, tmp[--n]);
}

static void put_int(struct line *l, long long v)
{
	if (v < 0) {
		put_char(l, '-');
		put_uint(l, -(unsigned long long)v);
	} else {
		put_uint(l, v);
	}
}

/* "%-*s ": pad the column that started at `col` to `width`, then one space. */
static void put_pad(struct line *l, const char *col, int width)
{
	while (l->p - col < width)
		put_char(l, ' ');
	put_char(l, ' ');
}

static void put_json_str(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put_char(l, '"');
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\') {
			put_char(l, '\\');
			put_char(l, c);
		} else if (c < 0x20) {
			put_str(l, "\\u00");
			put_char(l, hex[c >> 4]);
			put_char(l, hex[c & 15]);
		} else {
			put_char(l, c);
		}
	}
	put_char(l, '"');
}

/* aw_duration() without the floating-point formatting (rounded to the same unit). */
static void put_duration(struct line *l, unsigned long long ns)
{
	unsigned long long v;
	char buf[64];

	if (ns < 1000000ULL) {
		v = (ns + 50) / 100; /* 0.1 us */
		if (v < 10000) {
			put_uint(l, v / 10);
			put_char(l, '.');
			put_char(l, '0' + v % 10);
			put_str(l, " us");
			return;
		}
	} else if (ns < 1000000000ULL) {
		v = (ns + 50000) / 100000; /* 0.1 ms */
		if (v < 10000) {
			put_uint(l, v / 10);
			put_char(l, '.');
			put_char(l, '0' + v % 10);
			put_str(l, " ms");
			return;
		}
	}
	put_str(l, aw_duration(ns, buf, sizeof(buf)));
}

static const char *addr_cached(struct aw_printer *p, int family, const unsigned char *a,
			       size_t *len)
{
	const unsigned int n = sizeof(p->addrs) / sizeof(p->addrs[0]);
	size_t alen = family == AF_INET ? 4 : 16;
	unsigned int i;

	for (i = 0; i < n; i++)
		if (p->addrs[i].len && p->addrs[i].family == family && !memcmp(p->addrs[i].a, a, alen))
			break;
	if (i == n) {
		i = p->next_addr++ % n;
		p->addrs[i].family = family;
		memcpy(p->addrs[i].a, a, alen);
		aw_addr_str(family, a, p->addrs[i].s, sizeof(p->addrs[i].s));
		p->addrs[i].len = strlen(p->addrs[i].s);
	}
	*len = p->addrs[i].len;
	return p->addrs[i].s;
}

static void put_addr(struct aw_printer *p, struct line *l, int family, const unsigned char *a)
{
	size_t n;
	const char *s = addr_cached(p, family, a, &n);

	put_mem(l, s, n);
}

static void put_endpoint(struct aw_printer *p, struct line *l, int family,
			 const unsigned char *a, unsigned short port)
{
	if (family != AF_INET)
		put_char(l, '[');
	put_addr(p, l, family, a);
	if (family != AF_INET)
		put_char(l, ']');
	put_char(l, ':');
	put_uint(l, port);
}

/* ---- fields: one call writes a field in either output ----
 * JSON: ,"key":value (no key: not in JSON). Text: `text` then the value (no text: not in
 * text). */

static void put_key(struct line *l, const char *key)
{
	put_str(l, ",\"");
	put_str(l, key);
	put_str(l, "\":");
}

static void field_int(struct line *l, const char *key, const char *text, long long v)
{
	if (l->json ? !key : !text)
		return;
	if (l->json)
		put_key(l, key);
	else
		put_str(l, text);
	put_int(l, v);
}

static void field_str(struct line *l, const char *key, const char *text, const char *s)
{
	if (l->json && key) {
		put_key(l, key);
		put_json_str(l, s);
	} else if (!l->json && text) {
		put_str(l, text);
		put_str(l, s);
	}
}

/* JSON: "key":true or false; text: `text` if v. */
static void field_bool(struct line *l, const char *key, const char *text, bool v)
{
	if (l->json && key) {
		put_key(l, key);
		put_str(l, v ? "true" : "false");
	} else if (!l->json && text && v) {
		put_str(l, text);
	}
}

/* JSON: nanoseconds; text: `text`, the duration, `after`. */
static void field_ns(struct line *l, const char *key, const char *text, const char *after,
		     unsigned long long ns)
{
	if (l->json) {
		put_key(l, key);
		put_uint(l, ns);
	} else {
		put_str(l, text);
		put_duration(l, ns);
		put_str(l, after);
	}
}

/* Text: what comes after something else in DETAIL starts with ", ". */
static const char *sep(const struct line *l, const char *first, const char *next)
{
	return l->p == l->detail ? first : next;
}

/* ---- the events, each described once ---- */

enum item {
	I_END,
	I_CALL,        /* poll: "ppoll() "               "call":"ppoll" */
	I_FD,          /* "fd 3"                          "fd":3 */
	I_RET,         /* " -> 5", " -> -EAGAIN"          "ret":5, "error":"EAGAIN" */
	I_BLOCKED,     /* ", blocked 1.2 ms", ", blocked since before start (>= 2.0 s)"
			* "blocked_ns", or "early":true,"blocked_ns_min" */
	I_READY,       /* ", listener ready"              "ready" (poll, select: epoll cannot tell) */
	I_STATES,      /* "LISTEN -> SYN_RECV"            "oldstate", "newstate" */
	I_RETRANS,     /* "SYN-ACK retransmission #2"     "retrans" */
	I_RST_REASON,  /* "reason NOT_SPECIFIED"          "reason" */
	I_RST_SOCKET,  /* ", socket in LISTEN", ", no socket matched"   "state", "nosock":true */
	I_SOCK_STATE,  /* "socket in ESTABLISHED"         "state" */
	I_FLAGS,       /* "SYN"                           "tcpflags" */
	I_FLAGS_JSON,  /*                                 "tcpflags" */
	I_DIRECTION,   /* " to port", " from port"        "direction":"to-port" */
	I_DROP_REASON, /* ", reason NETFILTER_DROP"       "reason" */
	I_TUNNEL,      /* "inside Teredo from 192.0.2.1:3544"  "tunnel", "outer_source", "outer_sport" */
	I_QUEUE,       /* "queue 1/16", "queue 3/2 FULL"  "backlog", "max_backlog" (read from the listener) */
};

static const struct event_desc {
	const char *name;
	bool remote;  /* it has a peer (events about a listener, or a call on one, have none) */
	unsigned char items[7];
} events[AW_EVENT_MAX + 1] = {
	[AW_ACCEPT] = { "accept", true, { I_FD, I_RET, I_BLOCKED, I_QUEUE } },
	[AW_ACCEPT_WAIT] = { "accept-wait", false, { I_FD, I_QUEUE } },
	[AW_LISTEN] = { "listen", false, { I_STATES, I_QUEUE } },
	[AW_STATE] = { "state", true, { I_STATES, I_QUEUE } },
	[AW_BACKLOG] = { "queued", false, { I_QUEUE } },
	[AW_SYN] = { "syn", true, { I_FLAGS_JSON, I_TUNNEL, I_QUEUE } },
	[AW_SYNACK_RETRANS] = { "synack-retrans", true, { I_RETRANS, I_QUEUE } },
	[AW_RST_SENT] = { "rst-sent", true, { I_RST_REASON, I_RST_SOCKET, I_QUEUE } },
	[AW_RST_RECV] = { "rst-recv", true, { I_SOCK_STATE, I_QUEUE } },
	[AW_DROP] = { "drop", true, { I_FLAGS, I_DIRECTION, I_DROP_REASON, I_TUNNEL, I_QUEUE } },
	[AW_POLL_WAIT] = { "poll-wait", false, { I_CALL, I_FD, I_QUEUE } },
	[AW_POLL_DONE] = { "poll-done", false, { I_CALL, I_FD, I_RET, I_READY, I_BLOCKED, I_QUEUE } },
};

const char *aw_event_name(unsigned int type)
{
	return type && type <= AW_EVENT_MAX ? events[type].name : NULL;
}

static void put_item(const struct aw_printer *p, struct line *l, enum item item,
		     const struct aw_event *e)
{
	char tmp[64], addr[INET_ADDRSTRLEN];
	const char *err;

	switch (item) {
	case I_END:
		break;
	case I_CALL:
		field_str(l, "call", "", aw_call_name(e->call));
		if (!l->json)
			put_str(l, "() ");
		break;
	case I_FD:
		field_int(l, "fd", "fd ", e->fd);
		break;
	case I_RET:
		if (e->ret >= 0) {
			field_int(l, "ret", " -> ", e->ret);
		} else {
			err = aw_errno_str(-e->ret, tmp, sizeof(tmp)); /* "-EAGAIN" */
			field_int(l, "ret", NULL, e->ret);
			field_str(l, "error", " -> ", l->json ? err + 1 : err);
		}
		break;
	case I_BLOCKED:
		if (e->flags & AW_F_EARLY) {
			field_bool(l, "early", ", blocked since before start", true);
			field_ns(l, "blocked_ns_min", " (>= ", ")", e->ts_ns - p->start_ns);
		} else {
			field_ns(l, "blocked_ns", ", blocked ", "", e->lat_ns);
		}
		break;
	case I_READY:
		if (e->call < AW_CALL_EPOLL_WAIT)
			field_bool(l, "ready", ", listener ready", e->flags & AW_F_READY);
		break;
	case I_STATES:
		field_str(l, "oldstate", "", aw_tcp_state(e->oldstate));
		field_str(l, "newstate", " -> ", aw_tcp_state(e->newstate));
		break;
	case I_RETRANS:
		field_int(l, "retrans", "SYN-ACK retransmission #", e->count);
		break;
	case I_RST_REASON:
		field_str(l, "reason", "reason ", aw_enum_name(p->rst_reasons, e->reason, tmp, sizeof(tmp)));
		break;
	case I_RST_SOCKET:
		if (e->flags & AW_F_NOSOCK)
			field_bool(l, "nosock", ", no socket matched", true);
		else
			field_str(l, "state", ", socket in ", aw_tcp_state(e->oldstate));
		break;
	case I_SOCK_STATE:
		field_str(l, "state", "socket in ", aw_tcp_state(e->oldstate));
		break;
	case I_FLAGS:
	case I_FLAGS_JSON:
		field_str(l, "tcpflags", item == I_FLAGS ? "" : NULL,
			  aw_flags_str(e->tcpflags, tmp, sizeof(tmp)));
		break;
	case I_DIRECTION:
		field_str(l, "direction", NULL, e->flags & AW_F_OUTBOUND ? "from-port" : "to-port");
		field_str(l, NULL, e->flags & AW_F_OUTBOUND ? " from port" : " to port", "");
		break;
	case I_DROP_REASON:
		field_str(l, "reason", ", reason ", aw_enum_name(p->drop_reasons, e->reason, tmp, sizeof(tmp)));
		break;
	case I_TUNNEL:
		if (!e->tunnel)
			break;
		field_str(l, "tunnel", NULL, aw_tunnel_name(e->tunnel, true));
		field_str(l, "outer_source", NULL, inet_ntop(AF_INET, &e->outer_saddr, addr, sizeof(addr)));
		if (e->tunnel == AW_TUN_TEREDO)
			field_int(l, "outer_sport", NULL, e->outer_sport);
		field_str(l, NULL, sep(l, "inside ", ", inside "), aw_tunnel_str(e, tmp, sizeof(tmp)));
		break;
	case I_QUEUE:
		if (!(e->flags & AW_F_LISTENER))
			break;
		field_int(l, "backlog", sep(l, "queue ", ", queue "), e->backlog);
		field_int(l, "max_backlog", "/", e->max_backlog);
		if (!l->json && e->backlog > e->max_backlog)
			put_str(l, " FULL");
		break;
	}
}

/* The columns every event has: TIME EVENT PID COMM NETNS LOCAL REMOTE, or their JSON keys. */
static void put_common(struct aw_printer *p, struct line *l, const struct aw_event *e)
{
	const struct event_desc *d = &events[e->type];
	const char *ns = aw_netns_lookup(p->netns, e->netns);
	/* Events queued between attaching and start_ns come out a little negative. */
	long long st = (long long)(e->ts_ns - p->start_ns);
	unsigned long long t = st < 0 ? -(unsigned long long)st : (unsigned long long)st;
	bool remote = d->remote && e->family;
	char *col = l->p;

	if (l->json) {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "%.6f", st / 1e9);
		put_str(l, "{\"time\":");
		put_str(l, tmp);
		field_str(l, "event", NULL, d->name);
		field_int(l, "netns", NULL, e->netns);
		if (ns)
			field_str(l, "netns_name", NULL, ns);
		if (e->pid) {
			field_int(l, "pid", NULL, e->pid);
			field_int(l, "tid", NULL, e->tid);
			field_str(l, "comm", NULL, e->comm);
		}
		if (e->family) {
			field_str(l, "family", NULL, e->family == AF_INET ? "ipv4" : "ipv6");
			put_key(l, "local");
			put_char(l, '"');
			put_addr(p, l, e->family, e->laddr);
			put_char(l, '"');
			field_int(l, "lport", NULL, e->lport);
		}
		if (remote) {
			put_key(l, "remote");
			put_char(l, '"');
			put_addr(p, l, e->family, e->raddr);
			put_char(l, '"');
			field_int(l, "rport", NULL, e->rport);
			if (aw_is_v4mapped(e->family, e->raddr))
				field_bool(l, "v4mapped", NULL, true);
		}
		return;
	}
	/* TIME(s): milliseconds, rounded */
	if (st < 0)
		put_char(l, '-');
	if (t < (1ULL << 53)) {
		unsigned long long ms = (t + 500000) / 1000000;

		put_uint(l, ms / 1000);
		put_char(l, '.');
		put_char(l, '0' + ms / 100 % 10);
		put_char(l, '0' + ms / 10 % 10);
		put_char(l, '0' + ms % 10);
	} else {
		char tmp[32];

		snprintf(tmp, sizeof(tmp), "%.3f", t / 1e9);
		put_str(l, tmp);
	}
	put_pad(l, col, 9);
	col = l->p;
	put_str(l, d->name);
	put_pad(l, col, 14);
	col = l->p;
	if (e->pid)
		put_uint(l, e->pid);
	else
		put_char(l, '-');
	put_pad(l, col, 7);
	col = l->p;
	put_str(l, e->pid ? e->comm : "-");
	put_pad(l, col, 15);
	col = l->p;
	if (ns)
		put_str(l, ns);
	else
		put_uint(l, e->netns);
	put_pad(l, col, 12);
	col = l->p;
	if (e->family)
		put_endpoint(p, l, e->family, e->laddr, e->lport);
	put_pad(l, col, 47);
	col = l->p;
	if (remote) {
		put_endpoint(p, l, e->family, e->raddr, e->rport);
		if (aw_is_v4mapped(e->family, e->raddr))
			put_str(l, " (IPv4-mapped)");
	}
	put_pad(l, col, 47);
}

void aw_print_event(struct aw_printer *p, const struct aw_event *e)
{
	/* The longest: a JSON line with a 255-byte netns name, every byte escaped. */
	char buf[4096];
	struct line l = { .p = buf, .end = buf + sizeof(buf) - 2, .json = p->json };

	if (!aw_event_name(e->type))
		return;
	put_common(p, &l, e);
	l.detail = l.p;
	for (unsigned int i = 0; i < sizeof(events[0].items) && events[e->type].items[i]; i++)
		put_item(p, &l, events[e->type].items[i], e);
	if (l.json)
		*l.p++ = '}';
	*l.p++ = '\n';
	fwrite_unlocked(buf, 1, l.p - buf, stdout);
}

void aw_print_header(const struct aw_printer *p)
{
	(void)p;
	printf("%-9s %-14s %-7s %-15s %-12s %-47s %-47s %s\n", "TIME(s)", "EVENT", "PID", "COMM",
	       "NETNS", "LOCAL", "REMOTE", "DETAIL");
}

/* ---- the verdict ---- */

void aw_print_report(const struct aw_printer *p, const struct aw_report *r,
		     const struct aw_diag *d, unsigned short port)
{
	/* 16 evidence lines of up to 255 bytes, each escaped (x6 at worst), and the rest */
	char buf[64 * 1024], tmp[64], addr[INET6_ADDRSTRLEN];
	struct line l = { .p = buf, .end = buf + sizeof(buf) - 2, .json = true };

	if (!p->json) {
		printf("verdict: %s\n", r->message);
		for (int i = 0; i < r->n; i++)
			printf("  - %s\n", r->evidence[i]);
		return;
	}
	put_str(&l, "{\"verdict\":");
	put_json_str(&l, r->verdict);
	field_str(&l, "message", NULL, r->message);
	field_int(&l, "port", NULL, port);
	field_int(&l, "syns", NULL, d->syns);
	field_int(&l, "syns_full", NULL, d->syns_full);
	field_int(&l, "drops_syn", NULL, d->drops_syn);
	field_int(&l, "drops_other", NULL, d->drops_other);
	field_int(&l, "drops_nosock", NULL, d->drops_nosock);
	field_int(&l, "drops_overflow", NULL, d->drops_overflow);
	field_int(&l, "rst_sent", NULL, d->rst_sent);
	field_int(&l, "rst_recv", NULL, d->rst_recv);
	field_int(&l, "synrecv", NULL, d->synrecv);
	field_int(&l, "established", NULL, d->established);
	field_int(&l, "synack_retrans", NULL, d->synack_retrans);
	field_int(&l, "accept_calls", NULL, d->waits);
	field_int(&l, "poll_calls", NULL, d->poll_calls);
	if (d->have_backlog) {
		field_int(&l, "backlog", NULL, d->backlog);
		field_int(&l, "max_backlog", NULL, d->max_backlog);
		field_int(&l, "peak_backlog", NULL, d->peak_backlog);
	}
	if (d->drops_syn)
		field_str(&l, "drop_reason", NULL,
			  aw_enum_name(p->drop_reasons, d->drop_syn.reason, tmp, sizeof(tmp)));
	if (d->tunnel_syns || d->tunnel_drops) {
		const struct aw_event *t = d->tunnel_syns ? &d->tunnel_syn : &d->tunnel_drop;

		field_int(&l, "tunnel_syns", NULL, d->tunnel_syns);
		field_int(&l, "tunnel_drops", NULL, d->tunnel_drops);
		field_str(&l, "tunnel", NULL, aw_tunnel_name(t->tunnel, true));
		if (d->tunnel_drops)
			field_str(&l, "tunnel_drop_reason", NULL,
				  aw_enum_name(p->drop_reasons, d->tunnel_drop.reason, tmp, sizeof(tmp)));
	}
	if (d->drops_other)
		field_str(&l, "other_drop_reason", NULL,
			  aw_enum_name(p->drop_reasons, d->drop_other.reason, tmp, sizeof(tmp)));
	if (d->accepted) {
		const struct aw_event *e = &d->accept;

		put_str(&l, ",\"accept\":{\"pid\":");
		put_uint(&l, e->pid);
		field_int(&l, "tid", NULL, e->tid);
		field_int(&l, "fd", NULL, e->fd);
		field_int(&l, "ret", NULL, e->ret);
		field_bool(&l, "early", NULL, e->flags & AW_F_EARLY);
		field_int(&l, "blocked_ns", NULL,
			  e->flags & AW_F_EARLY ? e->ts_ns - p->start_ns : e->lat_ns);
		field_str(&l, "comm", NULL, e->comm);
		field_str(&l, "remote", NULL, aw_addr_str(e->family, e->raddr, addr, sizeof(addr)));
		field_int(&l, "rport", NULL, e->rport);
		field_bool(&l, "v4mapped", NULL, aw_is_v4mapped(e->family, e->raddr));
		field_int(&l, "netns", NULL, e->netns);
		put_char(&l, '}');
	}
	put_str(&l, ",\"waiting\":[");
	for (int i = 0; i < r->nwaiting; i++) {
		const struct aw_waiting *w = &r->waiting[i];

		put_str(&l, i ? ",{\"pid\":" : "{\"pid\":");
		put_uint(&l, w->pid);
		field_str(&l, "comm", NULL, w->comm);
		field_str(&l, "call", NULL, aw_call_name(w->call));
		field_int(&l, "fd", NULL, w->fd);
		field_bool(&l, "now", NULL, w->now);
		field_int(&l, "calls", NULL, w->calls);
		field_int(&l, "woken", NULL, w->woken);
		put_char(&l, '}');
	}
	put_str(&l, "],\"evidence\":[");
	for (int i = 0; i < r->n; i++) {
		if (i)
			put_char(&l, ',');
		put_json_str(&l, r->evidence[i]);
	}
	put_str(&l, "]}");
	*l.p++ = '\n';
	fwrite(buf, 1, l.p - buf, stdout);
}
