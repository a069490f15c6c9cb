// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch's diagnosis: see aw_diagnose.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "aw_diagnose.h"

#define TCP_ESTABLISHED_STATE 1
#define TCP_SYN_RECV_STATE 3
#define TCP_LISTEN_STATE 10

/* ---- fold ---- */

/* Errors that mean "try again", not "accept() is broken"; 512..516 are the kernel's
 * ERESTART* codes, seen at sys_exit when a signal interrupts the call. */
static bool soft_accept_error(int err)
{
	return err == EAGAIN || err == EINTR || err == ECONNABORTED || (err >= 512 && err <= 516);
}

/* Remember the network namespace of a SYN, once. */
static void note_syn_netns(struct aw_diag *d, unsigned int netns)
{
	for (unsigned int i = 0; i < d->n_syn_netns; i++)
		if (d->syn_netns[i] == netns)
			return;
	if (d->n_syn_netns < sizeof(d->syn_netns) / sizeof(d->syn_netns[0]))
		d->syn_netns[d->n_syn_netns++] = netns;
}

/* The poller of this process, call and fd; a new one if there is room, else NULL. */
static struct aw_poller *poller(struct aw_diag *d, const struct aw_event *e, bool add)
{
	for (unsigned int i = 0; i < d->npollers; i++) {
		const struct aw_event *w = &d->pollers[i].wait;

		if (w->pid == e->pid && w->call == e->call && w->fd == e->fd)
			return &d->pollers[i];
	}
	if (!add || d->npollers >= AW_POLLERS)
		return NULL;
	return &d->pollers[d->npollers++];
}

static void fold_poll(struct aw_diag *d, const struct aw_event *e)
{
	struct aw_poller *p = poller(d, e, e->type == AW_POLL_WAIT);

	if (e->type == AW_POLL_WAIT)
		d->poll_calls++;
	if (!p)
		return;
	if (e->type == AW_POLL_WAIT) {
		p->wait = *e;
		p->calls++;
		p->in_call = true;
	} else {
		p->in_call = false;
		if (e->flags & AW_F_READY)
			p->woken++;
	}
}

static void fold_drop(struct aw_diag *d, const struct aw_event *e, const struct aw_enum_names *dr)
{
	if (e->tunnel) {
		/* The outer packet was dropped: the SYN never reached TCP. */
		if (!(e->flags & AW_F_OUTBOUND) && !d->tunnel_drops++)
			d->tunnel_drop = *e;
	} else if (aw_enum_is(dr, e->reason, "NO_SOCKET")) {
		d->drops_nosock++;
	} else if (aw_enum_is(dr, e->reason, "TCP_LISTEN_OVERFLOW")) {
		d->drops_overflow++;
	} else if (!(e->flags & (AW_F_OUTBOUND | AW_F_LISTENER)) &&
		   (e->tcpflags & (AW_TCP_SYN | AW_TCP_ACK)) == AW_TCP_SYN) {
		/* Dropped before any socket saw it (a listener that received a duplicate SYN and
		 * answered it frees it too: that one is not the cause). */
		if (!d->drops_syn++)
			d->drop_syn = *e;
	} else if (!d->drops_other++) {
		d->drop_other = *e;
	}
}

void aw_diag_fold(struct aw_diag *d, const struct aw_event *e,
		  const struct aw_enum_names *drop_reasons)
{
	if (e->flags & AW_F_LISTENER) {
		d->have_backlog = true;
		d->backlog = e->backlog;
		d->max_backlog = e->max_backlog;
		if (e->backlog > d->peak_backlog)
			d->peak_backlog = e->backlog;
	}
	switch (e->type) {
	case AW_ACCEPT:
		if (e->ret >= 0) {
			d->accepted = true;
			d->accept = *e;
		} else if (!soft_accept_error(-e->ret)) {
			if (!d->accept_errors++)
				d->accept_error = *e;
		}
		break;
	case AW_ACCEPT_WAIT:
		d->waits++;
		d->wait = *e;
		break;
	case AW_LISTEN:
		if (e->newstate == TCP_LISTEN_STATE && !d->listens++)
			d->listen = *e;
		break;
	case AW_STATE:
		if (e->newstate == TCP_SYN_RECV_STATE)
			d->synrecv++;
		else if (e->newstate == TCP_ESTABLISHED_STATE && e->oldstate == TCP_SYN_RECV_STATE)
			d->established++;
		break;
	case AW_SYN:
		note_syn_netns(d, e->netns);
		if (e->tunnel) {
			if (!d->tunnel_syns++)
				d->tunnel_syn = *e;
			break;
		}
		if (!d->syns++)
			d->syn = *e;
		if ((e->flags & AW_F_LISTENER) && e->backlog > e->max_backlog)
			d->syns_full++;
		break;
	case AW_SYNACK_RETRANS:
		if (!d->synack_retrans++)
			d->synack = *e;
		if (e->count > d->synack_max)
			d->synack_max = e->count;
		break;
	case AW_RST_SENT:
		if (!d->rst_sent++)
			d->rst = *e;
		break;
	case AW_RST_RECV:
		d->rst_recv++;
		break;
	case AW_DROP:
		fold_drop(d, e, drop_reasons);
		break;
	case AW_POLL_WAIT:
	case AW_POLL_DONE:
		fold_poll(d, e);
		break;
	}
}

bool aw_diag_finished(const struct aw_diag *d)
{
	return d->accepted || d->accept_errors;
}

const struct aw_event *aw_diag_rst(const struct aw_diag *d)
{
	return d->rst_sent ? &d->rst : NULL;
}

/* ---- who waits for a connection ---- */

static bool is_accept(unsigned int call)
{
	return call == AW_CALL_ACCEPT || call == AW_CALL_ACCEPT4;
}

static struct aw_waiting *find_waiting(struct aw_report *r, pid_t pid, unsigned int call, int fd)
{
	for (int i = 0; i < r->nwaiting; i++)
		if (r->waiting[i].pid == pid && r->waiting[i].call == call && r->waiting[i].fd == fd)
			return &r->waiting[i];
	return NULL;
}

/* Those /proc shows asleep on the listener now, then those the BPF side saw in poll and
 * friends, once each (the same process, call and fd: one entry, with both views). */
static void collect_waiting(const struct aw_diag *d, const struct aw_diag_facts *f,
			    struct aw_report *r)
{
	for (int i = 0; i < f->nwaiters && r->nwaiting < AW_WAITING_MAX; i++) {
		const struct aw_waiter *w = &f->waiters[i];
		struct aw_waiting *x;

		if (find_waiting(r, w->pid, w->call, w->fd))
			continue; /* another thread of it, in the same call */
		x = &r->waiting[r->nwaiting++];
		*x = (struct aw_waiting){ .pid = w->pid, .call = w->call, .fd = w->fd, .now = true };
		memcpy(x->comm, w->comm, sizeof(x->comm));
		for (int j = 0; j < f->nlisteners; j++)
			if (f->listeners[j].inode == w->inode) {
				x->family = f->listeners[j].family;
				memcpy(x->addr, f->listeners[j].addr, sizeof(x->addr));
				x->port = f->listeners[j].port;
			}
	}
	for (unsigned int i = 0; i < d->npollers; i++) {
		const struct aw_poller *p = &d->pollers[i];
		const struct aw_event *e = &p->wait;
		struct aw_waiting *x = find_waiting(r, e->pid, e->call, e->fd);

		if (!x) {
			if (r->nwaiting >= AW_WAITING_MAX)
				continue;
			x = &r->waiting[r->nwaiting++];
			*x = (struct aw_waiting){ .pid = e->pid, .call = e->call, .fd = e->fd };
			memcpy(x->comm, e->comm, sizeof(x->comm));
		}
		x->calls = p->calls;
		x->woken = p->woken;
		if (!x->family) {
			x->family = e->family;
			memcpy(x->addr, e->laddr, sizeof(x->addr));
			x->port = e->lport;
		}
	}
}

/* The one to name in the verdict: one waiting now, in poll and friends if there is one. */
static const struct aw_waiting *main_waiting(const struct aw_report *r)
{
	const struct aw_waiting *best = NULL;

	for (int i = 0; i < r->nwaiting; i++) {
		const struct aw_waiting *w = &r->waiting[i];
		int rank = w->now * 2 + !is_accept(w->call);

		if (!best || rank > best->now * 2 + !is_accept(best->call))
			best = w;
	}
	return best;
}

/* "ipv6-server (pid 42) waits in ppoll() on the listening socket" */
static const char *waiting_str(const struct aw_waiting *w, char *buf, size_t n)
{
	snprintf(buf, n, "%s (pid %d) %s in %s() on the listening socket", w->comm, w->pid,
		 w->now ? "waits" : "waited", aw_call_name(w->call));
	return buf;
}

/* ---- verdict ---- */

static void evidence(struct aw_report *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void evidence(struct aw_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= AW_EVIDENCE_MAX)
		return;
	va_start(ap, fmt);
	vsnprintf(r->evidence[r->n++], sizeof(r->evidence[0]), fmt, ap);
	va_end(ap);
}

static const char *plural(unsigned int n)
{
	return n == 1 ? "" : "s";
}

static const char *drop_hint(const struct aw_enum_names *dr, unsigned int reason)
{
	if (aw_enum_is(dr, reason, "NETFILTER_DROP"))
		return "a firewall rule on this host drops it: see nft list ruleset / iptables -S";
	if (aw_enum_is(dr, reason, "IP_RPFILTER"))
		return "reverse-path filter: see sysctl net.ipv4.conf.*.rp_filter";
	if (aw_enum_is(dr, reason, "OTHERHOST"))
		return "the packet was not addressed to this host's MAC";
	if (aw_enum_is(dr, reason, "XFRM_POLICY"))
		return "an IPsec policy rejects it";
	return "the kernel discarded it before any socket saw it";
}

/* Why a tunnelled SYN did not come out of its tunnel, from the drop reason if there was one. */
static const char *tunnel_hint(const struct aw_enum_names *dr, const struct aw_event *e,
			       bool dropped)
{
	if (e->tunnel == AW_TUN_6IN4) {
		if (dropped && aw_enum_is(dr, e->reason, "IP_NOPROTO"))
			return "nothing on this host takes IPv4 protocol 41: there is no 6in4 (sit) tunnel; create it, with this remote, on the host the tunnel broker points to";
		return "the 6in4 (sit) tunnel did not take it: is a tunnel with this remote address configured and up?";
	}
	if (dropped && aw_enum_is(dr, e->reason, "NO_SOCKET"))
		return "nothing receives that UDP port on this host: is the Teredo client (miredo) running?";
	return "the Teredo client (miredo) did not hand it to its tun interface: is miredo running and qualified, with this Teredo address?";
}

/* "nothing listens on A:P": say what does listen on P in that namespace, if anything. */
static void explain_no_listener(struct aw_report *r, const struct aw_event *rst,
				const struct aw_diag_facts *f)
{
	static const unsigned char any[16];

	if (!f->rst_netns_has_process) {
		evidence(r, "no process runs in that network namespace: no server there at all");
		return;
	}
	if (!f->n_rst_listeners) {
		evidence(r, "no socket listens on port %u in that namespace: wrong port, or the server is not running",
			 rst->lport);
		return;
	}
	for (int i = 0; i < f->n_rst_listeners; i++) {
		const struct aw_owned_listener *o = &f->rst_listeners[i];
		const struct aw_listener *l = &o->l;
		bool wildcard = !memcmp(l->addr, any, l->family == AF_INET ? 4 : 16);
		char ep[64], owner[64] = "";

		aw_endpoint(l->family, l->addr, l->port, ep, sizeof(ep));
		if (o->pid)
			snprintf(owner, sizeof(owner), " (pid %d %s)", o->pid, o->comm[0] ? o->comm : "?");
		if (wildcard && l->family == AF_INET6 && rst->family == AF_INET)
			evidence(r, "a listener on %s%s is IPv6-only (IPV6_V6ONLY): IPv4 clients are refused",
				 ep, owner);
		else if (wildcard)
			evidence(r, "a listener on %s%s exists but does not cover this %s address",
				 ep, owner, rst->family == AF_INET ? "IPv4" : "IPv6");
		else
			evidence(r, "a listener on port %u is bound to another address: %s%s; bind to the address clients use, or to 0.0.0.0 / ::",
				 l->port, ep, owner);
	}
}

/* The verdict and its message: the first cause that the evidence supports, in this order. */
static void choose_verdict(const struct aw_diag *d, const struct aw_diag_facts *f,
			   struct aw_report *r)
{
	const struct aw_enum_names *dr = f->drop_reasons;
	const struct aw_waiting *w = main_waiting(r);
	unsigned short port = f->port;
	char a[96], b[128], c[64], ns[32], who[128];

	if (d->accepted) {
		const struct aw_event *e = &d->accept;

		r->verdict = "accepted";
		if (e->flags & AW_F_EARLY)
			snprintf(b, sizeof(b), "after >= %s (it was already blocked when acceptwatch started)",
				 aw_duration(e->ts_ns - f->start_ns, c, sizeof(c)));
		else
			snprintf(b, sizeof(b), "after blocking %s", aw_duration(e->lat_ns, c, sizeof(c)));
		snprintf(r->message, sizeof(r->message),
			 "accept() returned fd %d to pid %u (%s) for %s on port %u, %s", e->ret, e->pid,
			 e->comm, aw_peer_str(e, a, sizeof(a)), e->lport, b);
	} else if (d->accept_errors) {
		const struct aw_event *e = &d->accept_error;

		r->verdict = "accept_error";
		snprintf(r->message, sizeof(r->message), "accept() failed in pid %u (%s): %s (%s)",
			 e->pid, e->comm, aw_errno_str(-e->ret, b, sizeof(b)) + 1, strerror(-e->ret));
	} else if (d->drops_syn) {
		const struct aw_event *e = &d->drop_syn;

		r->verdict = "dropped";
		snprintf(r->message, sizeof(r->message),
			 "SYN arrived but was dropped by the kernel: reason %s (%u packet%s to %s, netns %s): %s",
			 aw_enum_name(dr, e->reason, b, sizeof(b)), d->drops_syn, plural(d->drops_syn),
			 aw_endpoint(e->family, e->laddr, e->lport, a, sizeof(a)),
			 aw_netns_label(f->netns_names, e->netns, ns, sizeof(ns)), drop_hint(dr, e->reason));
	} else if (d->established || (d->have_backlog && d->peak_backlog > 0)) {
		unsigned int overflow = d->syns_full + d->drops_overflow;
		int len;

		r->verdict = overflow ? "overflow" : "not_accepting";
		if (overflow)
			len = snprintf(r->message, sizeof(r->message),
				       "listen queue overflow: %u connection%s established but never accepted (backlog %u/%u), %u later handshake packet%s ignored or dropped: no process is calling accept() on port %u",
				       d->established, plural(d->established), d->peak_backlog,
				       d->max_backlog, overflow, plural(overflow), port);
		else
			len = snprintf(r->message, sizeof(r->message),
				       "connections established but no process is calling accept() on port %u (backlog %u/%u, %u established)",
				       port, d->peak_backlog, d->max_backlog, d->established);
		/* A poll that said "a connection is there", and no accept() after it. */
		if (w && w->woken && !d->waits && len > 0 && (size_t)len < sizeof(r->message))
			snprintf(r->message + len, sizeof(r->message) - len,
				 ": %s (pid %d) was woken by %s() on the listening socket %u time%s, and did not call accept()",
				 w->comm, w->pid, aw_call_name(w->call), w->woken, plural(w->woken));
	} else if (d->synack_retrans) {
		const struct aw_event *e = &d->synack;

		r->verdict = "synack_retrans";
		snprintf(r->message, sizeof(r->message),
			 "handshake not completed: SYN-ACK retransmitted %u time%s to %s: the final ACK is not coming back (return path broken: NAT mapping, asymmetric route, firewall on the way back)",
			 d->synack_retrans, plural(d->synack_retrans), aw_peer_str(e, a, sizeof(a)));
	} else if (d->rst_sent || d->drops_nosock) {
		const struct aw_event *e = &d->rst;

		r->verdict = "rst_no_listener";
		if (d->rst_sent)
			snprintf(r->message, sizeof(r->message),
				 "RST sent: nothing listens on %s (netns %s): bound to another address? wrong port? v6only?",
				 aw_endpoint(e->family, e->laddr, e->lport, a, sizeof(a)),
				 aw_netns_label(f->netns_names, e->netns, ns, sizeof(ns)));
		else
			snprintf(r->message, sizeof(r->message),
				 "SYNs dropped with reason NO_SOCKET: nothing listens on port %u", port);
	} else if (!d->syns && (d->tunnel_syns || d->tunnel_drops)) {
		const struct aw_event *e = d->tunnel_syns ? &d->tunnel_syn : &d->tunnel_drop;

		r->verdict = "tunnel_not_delivered";
		snprintf(r->message, sizeof(r->message),
			 "SYN for port %u arrived inside %s (netns %s) but never came out of the tunnel%s%s: %s",
			 port, aw_tunnel_str(e, a, sizeof(a)),
			 aw_netns_label(f->netns_names, e->netns, ns, sizeof(ns)),
			 d->tunnel_drops ? ", dropped with reason " : "",
			 d->tunnel_drops ? aw_enum_name(dr, d->tunnel_drop.reason, c, sizeof(c)) : "",
			 tunnel_hint(dr, d->tunnel_drops ? &d->tunnel_drop : e, d->tunnel_drops));
	} else if (d->syns) {
		r->verdict = "syn_unanswered";
		snprintf(r->message, sizeof(r->message),
			 "%u SYN%s reached port %u but no handshake, RST or drop followed", d->syns,
			 plural(d->syns), port);
	} else if (w) {
		/* The server is ready: it is the connections that did not come. */
		r->verdict = "no_syn";
		snprintf(r->message, sizeof(r->message),
			 "no SYN reached this host for port %u in %.0f s, while %s: the server %s ready, the connections do not reach it (look upstream: NAT, port forwarding, firewall, tunnel)",
			 port, (f->end_ns - f->start_ns) / 1e9, waiting_str(w, who, sizeof(who)),
			 w->now ? "is" : "was");
	} else {
		r->verdict = "no_syn";
		snprintf(r->message, sizeof(r->message),
			 "no SYN reached this host for port %u in %.0f s (look upstream: NAT, port forwarding, firewall, tunnel)",
			 port, (f->end_ns - f->start_ns) / 1e9);
	}
}

/* One line per process waiting on the listener (accept() calls the BPF side saw have their
 * own line). */
static void waiting_evidence(const struct aw_diag *d, struct aw_report *r)
{
	char who[128], ep[64], tail[96];

	for (int i = 0; i < r->nwaiting; i++) {
		const struct aw_waiting *w = &r->waiting[i];

		if (is_accept(w->call) && d->waits && d->wait.pid == (unsigned int)w->pid)
			continue;
		if (w->family)
			aw_endpoint(w->family, w->addr, w->port, ep, sizeof(ep));
		else
			snprintf(ep, sizeof(ep), "?");
		tail[0] = '\0';
		if (!w->now && w->woken)
			snprintf(tail, sizeof(tail), ": %u call%s, %u woken by a connection", w->calls,
				 plural(w->calls), w->woken);
		else if (!w->now)
			snprintf(tail, sizeof(tail), ": %u call%s, none woken by a connection",
				 w->calls, plural(w->calls));
		else if (w->woken)
			snprintf(tail, sizeof(tail), "; woken %u time%s by a connection", w->woken,
				 plural(w->woken));
		evidence(r, "%s %s (fd %d)%s", waiting_str(w, who, sizeof(who)), ep, w->fd, tail);
	}
}

void aw_diag_verdict(const struct aw_diag *d, const struct aw_diag_facts *f, struct aw_report *r)
{
	const struct aw_enum_names *dr = f->drop_reasons;
	unsigned short port = f->port;
	char a[96], b[128], c[64], ns[32];

	memset(r, 0, sizeof(*r));
	collect_waiting(d, f, r);
	choose_verdict(d, f, r);

	/* The evidence: what was seen, whatever the verdict. */
	if (d->syns)
		evidence(r, "%u SYN%s for port %u reached the host; first from %s to %s, netns %s",
			 d->syns, plural(d->syns), port, aw_peer_str(&d->syn, a, sizeof(a)),
			 aw_endpoint(d->syn.family, d->syn.laddr, d->syn.lport, b, sizeof(b)),
			 aw_netns_label(f->netns_names, d->syn.netns, ns, sizeof(ns)));
	else if (strcmp(r->verdict, "accepted"))
		evidence(r, "no SYN for port %u was received on any interface%s", port,
			 d->tunnel_syns || d->tunnel_drops ? " outside a tunnel" : " (nor inside 6in4 or Teredo)");
	if (d->tunnel_syns)
		evidence(r, "%u SYN%s for port %u arrived inside %s; first from %s to %s, netns %s",
			 d->tunnel_syns, plural(d->tunnel_syns), port,
			 aw_tunnel_str(&d->tunnel_syn, c, sizeof(c)), aw_peer_str(&d->tunnel_syn, a, sizeof(a)),
			 aw_endpoint(d->tunnel_syn.family, d->tunnel_syn.laddr, d->tunnel_syn.lport, b, sizeof(b)),
			 aw_netns_label(f->netns_names, d->tunnel_syn.netns, ns, sizeof(ns)));
	if (d->tunnel_drops)
		evidence(r, "%u tunnel packet%s carrying a SYN for port %u dropped, reason %s (%s)",
			 d->tunnel_drops, plural(d->tunnel_drops), port,
			 aw_enum_name(dr, d->tunnel_drop.reason, b, sizeof(b)),
			 aw_tunnel_str(&d->tunnel_drop, c, sizeof(c)));
	if (d->drops_syn)
		evidence(r, "%u SYN%s dropped, reason %s", d->drops_syn, plural(d->drops_syn),
			 aw_enum_name(dr, d->drop_syn.reason, b, sizeof(b)));
	if (d->drops_other)
		evidence(r, "%u other packet%s of port %u dropped; first: %s %s %s in netns %s, reason %s",
			 d->drops_other, plural(d->drops_other), port,
			 aw_flags_str(d->drop_other.tcpflags, c, sizeof(c)),
			 d->drop_other.flags & AW_F_OUTBOUND ? "from" : "to",
			 aw_endpoint(d->drop_other.family, d->drop_other.laddr, d->drop_other.lport, a, sizeof(a)),
			 aw_netns_label(f->netns_names, d->drop_other.netns, ns, sizeof(ns)),
			 aw_enum_name(dr, d->drop_other.reason, b, sizeof(b)));
	if (d->rst_sent)
		evidence(r, "%u RST%s sent from port %u (reason %s%s)", d->rst_sent, plural(d->rst_sent),
			 port, aw_enum_name(f->rst_reasons, d->rst.reason, b, sizeof(b)),
			 d->rst.flags & AW_F_NOSOCK ? ", no socket matched" : "");
	if (d->rst_recv)
		evidence(r, "%u RST%s received by sockets of port %u", d->rst_recv, plural(d->rst_recv),
			 port);
	if (d->drops_nosock)
		evidence(r, "%u packet%s dropped with reason NO_SOCKET", d->drops_nosock,
			 plural(d->drops_nosock));
	if (d->synrecv || d->established)
		evidence(r, "%u handshake%s reached SYN_RECV, %u ESTABLISHED", d->synrecv,
			 plural(d->synrecv), d->established);
	if (d->synack_retrans)
		evidence(r, "%u SYN-ACK retransmission%s (highest #%u)", d->synack_retrans,
			 plural(d->synack_retrans), d->synack_max);
	if (d->have_backlog)
		evidence(r, "accept queue: %u/%u now, peak %u", d->backlog, d->max_backlog,
			 d->peak_backlog);
	if (d->syns_full)
		evidence(r, "%u SYN%s arrived while the accept queue was full", d->syns_full,
			 plural(d->syns_full));
	if (d->drops_overflow)
		evidence(r, "%u packet%s dropped with reason TCP_LISTEN_OVERFLOW", d->drops_overflow,
			 plural(d->drops_overflow));
	if (d->listens)
		evidence(r, "pid %u (%s) started listening on %s", d->listen.pid, d->listen.comm,
			 aw_endpoint(d->listen.family, d->listen.laddr, d->listen.lport, a, sizeof(a)));
	if (d->waits)
		evidence(r, "accept() called %u time%s; last by pid %u (%s) on fd %d", d->waits,
			 plural(d->waits), d->wait.pid, d->wait.comm, d->wait.fd);
	if (!d->accepted)
		waiting_evidence(d, r);
	if (!d->waits && !d->accepted && !r->nwaiting)
		evidence(r, "no accept() call on port %u was seen", port);
	if (d->n_syn_netns > 1 && !f->netns_filter) {
		char list[200] = "";
		size_t len = 0;

		for (unsigned int i = 0; i < d->n_syn_netns && len < sizeof(list); i++)
			len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					aw_netns_label(f->netns_names, d->syn_netns[i], ns, sizeof(ns)));
		evidence(r, "SYNs were seen in %u network namespaces (%s): routers and NATs on this machine see them too; --netns NS keeps to the server's",
			 d->n_syn_netns, list);
	}
	if (!strcmp(r->verdict, "rst_no_listener") && d->rst_sent)
		explain_no_listener(r, &d->rst, f);
	if (f->lost_events)
		evidence(r, "%llu events were lost (the ring buffer was full): this verdict may miss some",
			 f->lost_events);
}
