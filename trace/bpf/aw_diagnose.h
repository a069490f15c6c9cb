/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* acceptwatch's diagnosis: fold the events of one port into a state (aw_diag_fold), then
 * choose the verdict and its evidence from that state and the facts looked up at the end
 * (aw_diag_verdict). No globals, no I/O: everything it knows is in its arguments, so the
 * unit tests feed it synthetic events and facts. */
#ifndef V6LAB_AW_DIAGNOSE_H
#define V6LAB_AW_DIAGNOSE_H

#include <stdbool.h>

#include "acceptwatch.h"
#include "aw_names.h"
#include "aw_proc.h"

#define AW_POLLERS 8

/* A process seen (by the BPF side) waiting in poll/select/epoll_wait on the listener. */
struct aw_poller {
	struct aw_event wait;  /* its last poll-wait: who, which call, the listener and its fd */
	unsigned int calls;    /* calls entered while we watched */
	unsigned int woken;    /* of them, returned with the listener ready */
	bool in_call;          /* the last one had not returned */
};

/* The events of one watch, folded. Zero-initialise it. */
struct aw_diag {
	bool accepted;
	struct aw_event accept;
	unsigned int waits;
	struct aw_event wait;
	unsigned int accept_errors;
	struct aw_event accept_error;
	unsigned int syns, syns_full;
	struct aw_event syn;
	unsigned int syn_netns[8], n_syn_netns; /* where SYNs were seen (routers see them too) */
	unsigned int tunnel_syns, tunnel_drops; /* IPv6 SYNs inside 6in4 / Teredo, and their drops */
	struct aw_event tunnel_syn, tunnel_drop;
	unsigned int synrecv, established;
	bool have_backlog;
	unsigned int backlog, max_backlog, peak_backlog;
	unsigned int synack_retrans, synack_max;
	struct aw_event synack;
	unsigned int rst_sent, rst_recv;
	struct aw_event rst;
	unsigned int drops_syn, drops_nosock, drops_overflow, drops_other;
	struct aw_event drop_syn, drop_other;
	unsigned int listens;
	struct aw_event listen;
	unsigned int poll_calls;
	struct aw_poller pollers[AW_POLLERS];
	unsigned int npollers;
};

void aw_diag_fold(struct aw_diag *d, const struct aw_event *e,
		  const struct aw_enum_names *drop_reasons);
/* accept() returned, or failed for good: nothing more to wait for. */
bool aw_diag_finished(const struct aw_diag *d);
/* The first RST sent from the port (its namespace and port are worth a look), or NULL. */
const struct aw_event *aw_diag_rst(const struct aw_diag *d);

/* A listener and the first process that holds it (pid 0: none found). */
struct aw_owned_listener {
	struct aw_listener l;
	pid_t pid;
	char comm[AW_COMM_LEN];
};

/* What the verdict needs besides the events: looked up by the caller when watching ends. */
struct aw_diag_facts {
	unsigned short port;
	unsigned long long start_ns, end_ns; /* the watch, on the events' clock (CLOCK_MONOTONIC) */
	unsigned int netns_filter;           /* --netns: one namespace only */
	unsigned long long lost_events;      /* events the ring buffer had no room for */
	const struct aw_enum_names *drop_reasons, *rst_reasons;
	const struct aw_netns_names *netns_names;
	/* For an RST (aw_diag_rst): does its namespace have a process, and what listens on its
	 * port there. */
	bool rst_netns_has_process;
	const struct aw_owned_listener *rst_listeners;
	int n_rst_listeners;
	/* The listening sockets of the port now, and the threads asleep waiting on them. */
	const struct aw_listener *listeners;
	int nlisteners;
	const struct aw_waiter *waiters;
	int nwaiters;
};

#define AW_EVIDENCE_MAX 16
#define AW_WAITING_MAX 8

/* A process that waits (now: seen in /proc at the end) or waited (seen by the BPF side) for a
 * connection on the listener. */
struct aw_waiting {
	pid_t pid;
	char comm[AW_COMM_LEN];
	unsigned char call;      /* enum aw_call */
	int fd;
	bool now;
	unsigned int calls, woken; /* as in struct aw_poller (0 when only /proc saw it) */
	int family;              /* the listener's address, 0 if unknown */
	unsigned char addr[16];
	unsigned short port;
};

struct aw_report {
	const char *verdict;     /* accepted, accept_error, dropped, overflow, not_accepting, ... */
	char message[512];
	char evidence[AW_EVIDENCE_MAX][256];
	int n;
	struct aw_waiting waiting[AW_WAITING_MAX];
	int nwaiting;
};

void aw_diag_verdict(const struct aw_diag *d, const struct aw_diag_facts *f,
		     struct aw_report *r);

#endif
