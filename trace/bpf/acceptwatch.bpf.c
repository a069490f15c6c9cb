// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch, kernel side: why did accept() fire, or not?
 *
 * Classic tracepoints only (these kernels have no kprobes, and fentry/fexit/tp_btf do not load):
 *   syscalls:sys_{enter,exit}_accept{,4}  who waits in accept(), what it returned
 *   syscalls:sys_{enter,exit}_{poll,ppoll,select,pselect6,epoll_wait,epoll_pwait,epoll_pwait2},
 *   syscalls:sys_enter_epoll_ctl          who waits for a connection on the listener before
 *                                         calling accept() (--poll, --diagnose)
 *   sock:inet_sock_set_state              LISTEN / SYN_RECV / ESTABLISHED / CLOSE
 *   sock:sk_data_ready                    a connection was queued on a listener we do not know
 *                                         yet (attached only while one is unknown, see below)
 *   net:netif_receive_skb                 a SYN for the port reached the host (--syn, --diagnose),
 *                                         plain or inside a 6in4 or Teredo tunnel
 *   tcp:tcp_retransmit_synack             the final ACK of the handshake is not coming back
 *   tcp:tcp_send_reset, tcp:tcp_receive_reset
 *   skb:kfree_skb                         the kernel dropped it (or the tunnel packet carrying
 *                                         it), and the drop reason (not a
 *                                         payload-less segment freed with its closing socket:
 *                                         QUEUE_PURGE of the peer's FIN, one per connection)
 * Filters are read-only globals set by the loader before load.
 *
 * Cost: these programs run on every connection of every process, so each one bails out on the
 * cheapest field first (tracepoint arguments, then the port), and kernel memory is read with
 * direct loads through bpf_rdonly_cast() (faulting loads, like BTF pointer walks) instead of one
 * bpf_probe_read_kernel() call per field. Most of the cost is the tracepoints' own, per hit, so
 * the per-packet and per-segment ones are attached only when needed:
 *   - netif_receive_skb runs for every packet the host receives: only for --syn and --diagnose.
 *   - sk_data_ready runs for every segment of data any socket receives. The accept queue k/m is
 *     read from the listener when its new connection goes ESTABLISHED (the child is queued just
 *     before), which needs the listener's struct sock: learnt from listen(), accept(), a drop
 *     or a SYN-ACK retransmission. A listener that was already there when we started, and has
 *     none of these yet, is learnt from sk_data_ready; the loader attaches it only while such a
 *     listener is unknown (learning_listeners), and detaches it once all are known. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "acceptwatch.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define S_IFMT 00170000
#define S_IFSOCK 0140000

/* Kernel pointers from tracepoint arguments or plain memory -> read-only, untrusted BTF
 * pointers the verifier lets us dereference directly (faults read as zero). */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;
#define KPTR(type, p) ((const type *)bpf_rdonly_cast((const void *)(p), bpf_core_type_id_kernel(type)))
#define KMEM(p) ((const unsigned char *)bpf_rdonly_cast((const void *)(p), 0))

/* The tcp:* tracepoints (tcp_retransmit_synack, tcp_receive_reset, ...) carry the same
 * endpoint fields under the same names, in records of different types: one macro copies
 * them into an event. */
#define TCP_TP_ENDPOINTS(e, ctx)                                                  \
	do {                                                                     \
		(e)->family = (ctx)->family;                                     \
		(e)->lport = (ctx)->sport;                                       \
		(e)->rport = (ctx)->dport;                                       \
		if ((ctx)->family == AF_INET) {                                  \
			bpf_probe_read_kernel((e)->laddr, 4, (ctx)->saddr);      \
			bpf_probe_read_kernel((e)->raddr, 4, (ctx)->daddr);      \
		} else {                                                         \
			bpf_probe_read_kernel((e)->laddr, 16, (ctx)->saddr_v6);  \
			bpf_probe_read_kernel((e)->raddr, 16, (ctx)->daddr_v6);  \
		}                                                                \
	} while (0)

const volatile __u32 targ_tgid = 0;      /* -p: only this process's accept() calls */
const volatile __u16 targ_family = 0;    /* -4 / -6 */
const volatile __u32 targ_netns = 0;     /* --netns */
const volatile bool filter_ports = false;   /* network events: only ports in the ports map */
const volatile bool accept_by_port = false; /* accept() events: only on listeners in the map */
const volatile bool follow_listen = false;  /* -p without -P: learn the ports that pid listens on */
const volatile __u32 wakeup_bytes = 0;   /* wake the reader only once this much is queued */
/* The loader sets it while sock:sk_data_ready is attached to learn listeners (see above). */
volatile bool learning_listeners = false;
/* Events that found the ring buffer full (the reader fell behind): the loader reports them. */
__u64 lost_events = 0;

/* Watched ports: an array indexed by port, so the lookup on every packet is inlined. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} ports SEC(".maps");

enum { ACC_NONE, ACC_WATCHED, ACC_IGNORED };

struct accept_start {
	__u64 ts;
	__u64 sk;
	__s32 fd;
	__u32 state; /* ACC_*: what sys_enter decided for the call in progress */
};

/* The accept() call a thread is in: task-local storage (no hash lookup, no LRU lock; freed
 * with the thread, so a thread killed inside accept() leaves nothing behind). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct accept_start);
} accepting SEC(".maps");

/* Listening sockets seen so far, so a SYN can be reported with the queue it lands in. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct aw_listener_key);
	__type(value, __u64);
} listeners SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* The handshake's final ACK makes three events back to back in one softirq on one CPU: the
 * child socket's LISTEN -> SYN_RECV and SYN_RECV -> ESTABLISHED, then "queued" (the listener's
 * accept queue, read at ESTABLISHED, or at sk_data_ready for a listener not known yet). They
 * are built here and written to the ring buffer as one record of up to three struct aw_event
 * (the reader splits a record into size / sizeof(aw_event) events), which saves two
 * ring-buffer reservations per connection. Our tracepoint programs
 * never nest on a CPU (bpf_prog_active), so a per-CPU slot needs no lock. Whatever else runs
 * on the CPU first writes out what is pending (flush_pending() at the start of every program),
 * so nothing is held past the end of the sequence or reordered on a CPU. */
#define PENDING_MAX 3

struct pending {
	__u32 n;
	__u32 pad;
	__u64 sk; /* the child socket in SYN_RECV */
	struct aw_event ev[PENDING_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pending);
} pendings SEC(".maps");

static __always_inline struct pending *pending_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&pendings, &zero);
}

static __always_inline __u64 wake_flags(void)
{
	if (wakeup_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		return BPF_RB_NO_WAKEUP;
	return BPF_RB_FORCE_WAKEUP;
}

static __always_inline void pending_write(struct pending *pd)
{
	__u32 n = pd->n;

	pd->n = 0;
	if (n == 0 || n > PENDING_MAX)
		return;
	if (bpf_ringbuf_output(&events, pd->ev, n * sizeof(struct aw_event), wake_flags()))
		__sync_fetch_and_add(&lost_events, n);
}

static __always_inline void flush_pending(void)
{
	struct pending *pd = pending_get();

	if (pd && pd->n)
		pending_write(pd);
}

static __always_inline void init_event(struct aw_event *e, __u32 type, __u32 netns)
{
	__builtin_memset(e, 0, sizeof(*e));
	e->type = type;
	e->ts_ns = bpf_ktime_get_ns();
	e->netns = netns;
}

/* The next event slot of the pending record, or NULL if it is full. */
static __always_inline struct aw_event *pending_slot(struct pending *pd, __u32 type, __u32 netns)
{
	__u32 n = pd->n;
	struct aw_event *e;

	if (n >= PENDING_MAX)
		return NULL;
	e = &pd->ev[n];
	init_event(e, type, netns);
	pd->n = n + 1;
	return e;
}

static __always_inline bool port_wanted(__u16 port)
{
	__u32 key = port;
	__u8 *on;

	if (!filter_ports)
		return true;
	on = bpf_map_lookup_elem(&ports, &key);
	return on && *on;
}

static __always_inline bool scope_wanted(__u16 family, __u32 netns)
{
	if (targ_family && family != targ_family)
		return false;
	if (targ_netns && netns != targ_netns)
		return false;
	return true;
}

static __always_inline __u32 sk_netns(const struct sock *sk)
{
	if (!sk)
		return 0;
	return sk->__sk_common.skc_net.net->ns.inum;
}

/* netns of a packet: its device's, falling back to its socket's. */
static __always_inline __u32 skb_netns(const struct sk_buff *skb)
{
	const struct net_device *dev = skb->dev;

	if (dev)
		return dev->nd_net.net->ns.inum;
	return sk_netns(skb->sk);
}

/* A ring-buffer slot for one event. Callers have written out what was pending first (every
 * program starts so), which keeps this CPU's events in order. */
static __always_inline struct aw_event *reserve(__u32 type, __u32 netns)
{
	struct aw_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (!e) {
		__sync_fetch_and_add(&lost_events, 1);
		return NULL;
	}
	init_event(e, type, netns);
	return e;
}

static __always_inline void set_task(struct aw_event *e)
{
	__u64 id = bpf_get_current_pid_tgid();

	e->pid = id >> 32;
	e->tid = (__u32)id;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

/* Batch wake-ups: under load the reader drains on its poll timeout instead of being woken
 * for every event (this is most of the tracing overhead on an accept loop). */
static __always_inline void submit(struct aw_event *e)
{
	bpf_ringbuf_submit(e, wake_flags());
}

static __always_inline void sk_backlog(const struct sock *sk, struct aw_event *e)
{
	e->backlog = sk->sk_ack_backlog;
	e->max_backlog = sk->sk_max_ack_backlog;
	e->flags |= AW_F_LISTENER;
}

static __always_inline void sk_endpoints(const struct sock *sk, struct aw_event *e)
{
	e->family = sk->__sk_common.skc_family;
	e->lport = sk->__sk_common.skc_num;
	e->rport = bpf_ntohs(sk->__sk_common.skc_dport);
	if (e->family == AF_INET) {
		__builtin_memcpy(e->laddr, &sk->__sk_common.skc_rcv_saddr, 4);
		__builtin_memcpy(e->raddr, &sk->__sk_common.skc_daddr, 4);
	} else {
		__builtin_memcpy(e->laddr, &sk->__sk_common.skc_v6_rcv_saddr, 16);
		__builtin_memcpy(e->raddr, &sk->__sk_common.skc_v6_daddr, 16);
	}
}

static __always_inline void remember_listener(const struct sock *sk, __u32 netns, __u16 port)
{
	struct aw_listener_key key = { .netns = netns, .port = port };
	__u64 ptr = (__u64)sk, *known;

	/* Called for every accept(): a lookup is much cheaper than an LRU update. */
	known = bpf_map_lookup_elem(&listeners, &key);
	if (known && *known == ptr)
		return;
	bpf_map_update_elem(&listeners, &key, &ptr, BPF_ANY);
}

/* fd of the current process -> its TCP socket, or NULL. */
static __always_inline const struct sock *fd_to_tcp_sock(const struct task_struct *task, int fd)
{
	const struct fdtable *fdt = task->files->fdt;
	const struct file *file;
	const struct socket *sock;
	const struct sock *sk;
	__u16 family;

	if (fd < 0 || !fdt || (unsigned int)fd >= fdt->max_fds)
		return NULL;
	file = KPTR(struct file, *(const __u64 *)(KMEM(fdt->fd) + (__u64)fd * sizeof(void *)));
	if (!file || (file->f_inode->i_mode & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = KPTR(struct socket, file->private_data);
	if (!sock)
		return NULL;
	sk = sock->sk;
	if (!sk || sk->sk_protocol != IPPROTO_TCP)
		return NULL;
	family = sk->__sk_common.skc_family;
	if (family != AF_INET && family != AF_INET6)
		return NULL;
	return sk;
}

/* ---- accept() and accept4() ---- */

static __always_inline int accept_enter(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct accept_start *st;
	const struct sock *sk;
	struct aw_event *e;
	__u32 netns;
	__u16 port;
	int fd;

	flush_pending();
	if (targ_tgid && task->tgid != targ_tgid)
		return 0;
	st = bpf_task_storage_get(&accepting, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	/* Whatever happens below, sys_exit must not take this call for an early one. */
	st->state = ACC_IGNORED;
	fd = (int)ctx->args[0];
	sk = fd_to_tcp_sock(task, fd);
	if (!sk)
		return 0;
	port = sk->__sk_common.skc_num;
	if (accept_by_port && !port_wanted(port))
		return 0;
	netns = sk_netns(sk);
	if (!scope_wanted(sk->__sk_common.skc_family, netns))
		return 0;
	st->state = ACC_WATCHED;
	st->ts = bpf_ktime_get_ns();
	st->sk = (__u64)sk;
	st->fd = fd;
	if (sk->__sk_common.skc_state == TCP_LISTEN)
		remember_listener(sk, netns, port);

	e = reserve(AW_ACCEPT_WAIT, netns);
	if (!e)
		return 0;
	set_task(e);
	sk_endpoints(sk, e);
	sk_backlog(sk, e);
	e->fd = fd;
	submit(e);
	return 0;
}

static __always_inline int accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	const struct sock *sk = NULL, *lsk = NULL;
	struct accept_start *st;
	struct aw_event *e;
	long ret = ctx->ret;
	__u64 start = 0;
	int fd = -1;
	__u8 flags = 0;

	flush_pending();
	st = bpf_task_storage_get(&accepting, task, 0, 0);
	if (st && st->state == ACC_IGNORED) {
		st->state = ACC_NONE; /* sys_enter found no watched listener on that fd */
		return 0;
	}
	if (st && st->state == ACC_WATCHED) {
		st->state = ACC_NONE;
		start = st->ts;
		fd = st->fd;
		lsk = KPTR(struct sock, st->sk);
	} else {
		/* Entered accept() before we attached: only the exit tells us. */
		st = NULL;
		if (targ_tgid && task->tgid != targ_tgid)
			return 0;
		if (ret < 0 && !targ_tgid)
			return 0; /* an error on an unknown fd: maybe not even TCP */
		flags = AW_F_EARLY;
	}
	if (ret >= 0) {
		sk = fd_to_tcp_sock(task, (int)ret);
		if (!sk)
			return 0;
		if (!st && accept_by_port && !port_wanted(sk->__sk_common.skc_num))
			return 0;
	}
	if (sk && !scope_wanted(sk->__sk_common.skc_family, sk_netns(sk)))
		return 0;

	e = reserve(AW_ACCEPT, sk ? sk_netns(sk) : sk_netns(lsk));
	if (!e)
		return 0;
	set_task(e);
	e->flags = flags;
	e->fd = fd;
	e->ret = (int)ret;
	if (start)
		e->lat_ns = e->ts_ns - start;
	if (sk)
		sk_endpoints(sk, e);
	else if (lsk)
		sk_endpoints(lsk, e);
	if (lsk)
		sk_backlog(lsk, e);
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_accept")
int aw_enter_accept(struct trace_event_raw_sys_enter *ctx)
{
	return accept_enter(ctx);
}

SEC("tracepoint/syscalls/sys_enter_accept4")
int aw_enter_accept4(struct trace_event_raw_sys_enter *ctx)
{
	return accept_enter(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int aw_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int aw_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx);
}

/* ---- waiting for a connection in poll(), select() or epoll_wait() ----
 * A server that polls its listener calls accept() only once a connection is there: until then
 * it waits here, and "no accept() call" would wrongly blame it. These programs run for every
 * such call on the machine (event loops make many), so the loader attaches them only with
 * --poll or --diagnose, and each looks at a bounded number of fds: poll's first POLL_MAX
 * entries, select's first SELECT_MAX fds, and for epoll_wait() (which names only its set) the
 * set's entry in epolls, filled from epoll_ctl() and, for sets made before we started, by the
 * loader. A wait that began before we attached has no sys_enter here: the loader finds it in
 * /proc when it gives the verdict. */

#define POLL_MAX 16
#define SELECT_MAX 256
#define POLLIN_ANY 0x41 /* POLLIN | POLLRDNORM (and EPOLLIN | EPOLLRDNORM): a connection */
#define EPOLL_CTL_ADD 1
#define EPOLL_CTL_DEL 2
#define EPOLL_CTL_MOD 3

struct poll_start {
	__u64 ts;
	__u64 sk;
	__u64 uaddr; /* poll: the pollfd array; select: the readfds set */
	__s32 fd;
	__u32 idx;   /* poll: the listener's entry in the array */
	__u32 call;  /* enum aw_call; AW_CALL_NONE: not in a call we watch */
};

/* The call a thread waits in, as the accept() one (task-local, freed with the thread). */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct poll_start);
} polling SEC(".maps");

/* epoll sets that wait for input on a listener we watch -> that listener's fd. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct aw_epoll_key);
	__type(value, __s32);
} epolls SEC(".maps");

struct user_pollfd {
	__s32 fd;
	__s16 events;
	__s16 revents;
};

/* fd of the current process -> a listener we watch (as accept() is filtered), or NULL. */
static __always_inline const struct sock *watched_listener(const struct task_struct *task, int fd)
{
	const struct sock *sk = fd_to_tcp_sock(task, fd);

	if (!sk || sk->__sk_common.skc_state != TCP_LISTEN)
		return NULL;
	if (accept_by_port && !port_wanted(sk->__sk_common.skc_num))
		return NULL;
	if (!scope_wanted(sk->__sk_common.skc_family, sk_netns(sk)))
		return NULL;
	return sk;
}

/* The same, for fd in the loops below: a global function, which the verifier checks once,
 * not once per iteration of a loop (*sk: the socket's address, 0 if it is none). */
__noinline int watched_listener_fd(int fd, __u64 *sk)
{
	if (!sk)
		return 0;
	*sk = (__u64)watched_listener(bpf_get_current_task_btf(), fd);
	return 0;
}

static __always_inline int poll_begin(struct task_struct *task, const struct sock *sk, int fd,
				      __u32 idx, __u64 uaddr, __u32 call)
{
	struct poll_start *st;
	struct aw_event *e;
	__u32 netns = sk_netns(sk);

	st = bpf_task_storage_get(&polling, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st)
		return 0;
	st->ts = bpf_ktime_get_ns();
	st->sk = (__u64)sk;
	st->uaddr = uaddr;
	st->fd = fd;
	st->idx = idx;
	st->call = call;
	remember_listener(sk, netns, sk->__sk_common.skc_num);

	e = reserve(AW_POLL_WAIT, netns);
	if (!e)
		return 0;
	set_task(e);
	sk_endpoints(sk, e);
	sk_backlog(sk, e);
	e->fd = fd;
	e->call = call;
	submit(e);
	return 0;
}

/* poll(ufds, nfds, ...), ppoll(ufds, nfds, ...) */
static __always_inline int poll_enter(struct trace_event_raw_sys_enter *ctx, __u32 call)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct user_pollfd fds[POLL_MAX] = {};
	const struct sock *sk;
	__u64 n = ctx->args[1], addr = 0;
	__u32 i, found = 0;
	int fd = -1;

	flush_pending();
	if (targ_tgid && task->tgid != targ_tgid)
		return 0;
	if (!n)
		return 0;
	if (n > POLL_MAX)
		n = POLL_MAX;
	if (bpf_probe_read_user(fds, n * sizeof(fds[0]), (const void *)ctx->args[0]))
		return 0;
	for (i = 0; i < POLL_MAX && i < n; i++) {
		if (!(fds[i].events & POLLIN_ANY))
			continue;
		watched_listener_fd(fds[i].fd, &addr);
		if (addr) {
			fd = fds[i].fd;
			found = i;
			break;
		}
	}
	if (!addr)
		return 0;
	sk = KPTR(struct sock, addr);
	return poll_begin(task, sk, fd, found, ctx->args[0], call);
}

/* select(n, readfds, ...), pselect6(n, readfds, ...) */
static __always_inline int select_enter(struct trace_event_raw_sys_enter *ctx, __u32 call)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 bits[SELECT_MAX / 64] = {}, addr = 0;
	const struct sock *sk;
	int nfds = (int)ctx->args[0];
	__u32 n, fd, size;

	flush_pending();
	if (targ_tgid && task->tgid != targ_tgid)
		return 0;
	if (nfds <= 0 || !ctx->args[1])
		return 0;
	n = nfds > SELECT_MAX ? SELECT_MAX : nfds;
	size = (n + 63) / 64 * 8;
	if (size > sizeof(bits)) /* it is not: for the verifier, which does not follow a division */
		size = sizeof(bits);
	if (bpf_probe_read_user(bits, size, (const void *)ctx->args[1]))
		return 0;
	for (fd = 0; fd < SELECT_MAX && fd < n; fd++) {
		if (!((bits[fd / 64] >> (fd % 64)) & 1))
			continue;
		watched_listener_fd(fd, &addr);
		if (addr)
			break;
	}
	if (!addr)
		return 0;
	sk = KPTR(struct sock, addr);
	return poll_begin(task, sk, fd, 0, ctx->args[1], call);
}

/* epoll_wait(epfd, ...), epoll_pwait(epfd, ...), epoll_pwait2(epfd, ...) */
static __always_inline int epoll_enter(struct trace_event_raw_sys_enter *ctx, __u32 call)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct aw_epoll_key key = {};
	const struct sock *sk;
	__s32 *fd, lfd;

	flush_pending();
	if (targ_tgid && task->tgid != targ_tgid)
		return 0;
	key.tgid = task->tgid;
	key.epfd = (int)ctx->args[0];
	fd = bpf_map_lookup_elem(&epolls, &key);
	if (!fd)
		return 0;
	lfd = *fd;
	sk = watched_listener(task, lfd);
	if (!sk)
		return 0;
	return poll_begin(task, sk, lfd, 0, 0, call);
}

SEC("tracepoint/syscalls/sys_enter_poll")
int aw_enter_poll(struct trace_event_raw_sys_enter *ctx)
{
	return poll_enter(ctx, AW_CALL_POLL);
}

SEC("tracepoint/syscalls/sys_enter_ppoll")
int aw_enter_ppoll(struct trace_event_raw_sys_enter *ctx)
{
	return poll_enter(ctx, AW_CALL_PPOLL);
}

SEC("tracepoint/syscalls/sys_enter_select")
int aw_enter_select(struct trace_event_raw_sys_enter *ctx)
{
	return select_enter(ctx, AW_CALL_SELECT);
}

SEC("tracepoint/syscalls/sys_enter_pselect6")
int aw_enter_pselect6(struct trace_event_raw_sys_enter *ctx)
{
	return select_enter(ctx, AW_CALL_PSELECT6);
}

SEC("tracepoint/syscalls/sys_enter_epoll_wait")
int aw_enter_epoll_wait(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, AW_CALL_EPOLL_WAIT);
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait")
int aw_enter_epoll_pwait(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, AW_CALL_EPOLL_PWAIT);
}

SEC("tracepoint/syscalls/sys_enter_epoll_pwait2")
int aw_enter_epoll_pwait2(struct trace_event_raw_sys_enter *ctx)
{
	return epoll_enter(ctx, AW_CALL_EPOLL_PWAIT2);
}

/* epoll_ctl(epfd, op, fd, event): a set that starts (or stops) waiting for input on a listener. */
SEC("tracepoint/syscalls/sys_enter_epoll_ctl")
int aw_enter_epoll_ctl(struct trace_event_raw_sys_enter *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct aw_epoll_key key = {};
	int op = (int)ctx->args[1], fd = (int)ctx->args[2];
	__u32 events = 0;
	__s32 *known;

	flush_pending();
	if (targ_tgid && task->tgid != targ_tgid)
		return 0;
	if (op != EPOLL_CTL_ADD && op != EPOLL_CTL_MOD && op != EPOLL_CTL_DEL)
		return 0;
	key.tgid = task->tgid;
	key.epfd = (int)ctx->args[0];
	if (op != EPOLL_CTL_DEL && ctx->args[3])
		bpf_probe_read_user(&events, sizeof(events), (const void *)ctx->args[3]);
	if (op == EPOLL_CTL_DEL || !(events & POLLIN_ANY)) {
		known = bpf_map_lookup_elem(&epolls, &key);
		if (known && *known == fd)
			bpf_map_delete_elem(&epolls, &key);
		return 0;
	}
	if (watched_listener(task, fd))
		bpf_map_update_elem(&epolls, &key, &fd, BPF_ANY);
	return 0;
}

/* Did the call say the listener is ready? poll and select write it back next to what was
 * asked; epoll_wait returns the user's own data, which does not say. */
static __always_inline bool poll_ready(const struct poll_start *st)
{
	struct user_pollfd pfd;
	__u64 word;

	switch (st->call) {
	case AW_CALL_POLL:
	case AW_CALL_PPOLL:
		if (bpf_probe_read_user(&pfd, sizeof(pfd),
					(const void *)(st->uaddr + (__u64)(st->idx % POLL_MAX) * sizeof(pfd))))
			return false;
		return pfd.revents & POLLIN_ANY;
	case AW_CALL_SELECT:
	case AW_CALL_PSELECT6:
		if (bpf_probe_read_user(&word, sizeof(word),
					(const void *)(st->uaddr + (__u64)((__u32)st->fd / 64) * 8)))
			return false;
		return (word >> ((__u32)st->fd % 64)) & 1;
	default:
		return false;
	}
}

/* sys_exit of every call above (one program, attached to each). */
SEC("tracepoint/syscalls/sys_exit_ppoll")
int aw_exit_poll(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct poll_start *st;
	const struct sock *sk;
	struct aw_event *e;
	long ret = ctx->ret;
	bool ready;

	flush_pending();
	st = bpf_task_storage_get(&polling, task, 0, 0);
	if (!st || st->call == AW_CALL_NONE)
		return 0;
	ready = ret > 0 && poll_ready(st);
	sk = KPTR(struct sock, st->sk);
	e = reserve(AW_POLL_DONE, sk_netns(sk));
	if (e) {
		set_task(e);
		sk_endpoints(sk, e);
		sk_backlog(sk, e);
		e->fd = st->fd;
		e->ret = (int)ret;
		e->call = st->call;
		e->lat_ns = e->ts_ns - st->ts;
		if (ready)
			e->flags |= AW_F_READY;
		submit(e);
	}
	st->call = AW_CALL_NONE;
	return 0;
}

/* ---- socket state ---- */

/* Addresses straight from the tracepoint's record, no helper call: each load at a constant
 * offset from ctx (the verifier refuses a moved ctx pointer) and aligned to its size, which
 * inet_sock_set_state's layout allows (the tcp:* records' addresses are not aligned). */
#define SS_OFF(f) __builtin_offsetof(struct trace_event_raw_inet_sock_set_state, f)
#define CTX_LOAD(type, ctx, off) (*(const type *)((const char *)(ctx) + (off)))

static __always_inline void set_state_addrs(struct aw_event *e,
					    const struct trace_event_raw_inet_sock_set_state *ctx,
					    __u16 family)
{
	if (family == AF_INET) {
		*(__u32 *)e->laddr = CTX_LOAD(__u32, ctx, SS_OFF(saddr));
		*(__u32 *)e->raddr = CTX_LOAD(__u32, ctx, SS_OFF(daddr));
	} else {
		__u64 s0 = CTX_LOAD(__u64, ctx, SS_OFF(saddr_v6));
		__u64 s1 = CTX_LOAD(__u64, ctx, SS_OFF(saddr_v6) + 8);
		__u64 d0 = CTX_LOAD(__u64, ctx, SS_OFF(daddr_v6));
		__u64 d1 = CTX_LOAD(__u64, ctx, SS_OFF(daddr_v6) + 8);

		__builtin_memcpy(e->laddr, &s0, 8);
		__builtin_memcpy(e->laddr + 8, &s1, 8);
		__builtin_memcpy(e->raddr, &d0, 8);
		__builtin_memcpy(e->raddr + 8, &d1, 8);
	}
}

/* The child socket is already in its listener's accept queue when it goes ESTABLISHED: end
 * the handshake's record with "queued", read from the listener, if we know it. If not, and
 * sk_data_ready is attached to learn it, that comes next and ends the record instead. */
static __always_inline void handshake_done(struct pending *pd, __u32 netns, __u16 port)
{
	struct aw_listener_key key = { .netns = netns, .port = port };
	const struct sock *lsk;
	struct aw_event *e;
	__u64 *known;

	known = bpf_map_lookup_elem(&listeners, &key);
	if (!known) {
		if (!learning_listeners)
			pending_write(pd);
		return;
	}
	e = pending_slot(pd, AW_BACKLOG, netns);
	if (e) {
		lsk = KPTR(struct sock, *known);
		sk_endpoints(lsk, e);
		sk_backlog(lsk, e);
	}
	pending_write(pd);
}

SEC("tracepoint/sock/inet_sock_set_state")
int aw_set_state(struct trace_event_raw_inet_sock_set_state *ctx)
{
	int oldstate = ctx->oldstate, newstate = ctx->newstate;
	/* A child socket is cloned from its listener: its first change reads LISTEN -> SYN_RECV. */
	bool listen = newstate == TCP_LISTEN || (oldstate == TCP_LISTEN && newstate == TCP_CLOSE);
	/* A child's handshake: its events wait in struct pending for the "queued" that ends it. */
	bool handshake = (oldstate == TCP_LISTEN && newstate == TCP_SYN_RECV) ||
			 (oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED);
	__u16 port = ctx->sport, family = ctx->family;
	const struct sock *sk;
	struct pending *pd;
	struct aw_event *e;
	__u32 netns;

	/* Cheapest first: the tracepoint's own fields. States nobody prints stop here; the client
	 * side of a loopback connection (an ephemeral sport) stops at port_wanted() below. */
	if (ctx->protocol != IPPROTO_TCP ||
	    (!listen && newstate != TCP_SYN_RECV && newstate != TCP_ESTABLISHED &&
	     newstate != TCP_CLOSE)) {
		flush_pending();
		return 0;
	}
	/* Write out what is pending, unless this is the same child's SYN_RECV -> ESTABLISHED. */
	pd = pending_get();
	if (!pd)
		return 0;
	if (pd->n && !(newstate == TCP_ESTABLISHED && oldstate == TCP_SYN_RECV && pd->n == 1 &&
		       pd->sk == (__u64)ctx->skaddr))
		pending_write(pd);
	if (listen && newstate == TCP_LISTEN && follow_listen &&
	    (bpf_get_current_pid_tgid() >> 32) == targ_tgid) {
		__u32 key = port;
		__u8 one = 1;

		bpf_map_update_elem(&ports, &key, &one, BPF_ANY);
	}
	if (!port_wanted(port))
		return 0;
	sk = KPTR(struct sock, ctx->skaddr);
	netns = sk_netns(sk);
	if (!scope_wanted(family, netns))
		return 0;
	if (newstate == TCP_LISTEN) {
		remember_listener(sk, netns, port);
	} else if (listen) {
		struct aw_listener_key key = { .netns = netns, .port = port };

		bpf_map_delete_elem(&listeners, &key);
	}

	if (handshake) {
		e = pending_slot(pd, AW_STATE, netns);
		if (!e)
			return 0;
		pd->sk = (__u64)ctx->skaddr;
	} else {
		e = reserve(listen ? AW_LISTEN : AW_STATE, netns);
		if (!e)
			return 0;
	}
	if (listen)
		set_task(e); /* listen() and close() run in the process: the pid is right */
	e->family = family;
	e->lport = port;
	e->rport = ctx->dport;
	set_state_addrs(e, ctx, family);
	e->oldstate = oldstate;
	e->newstate = newstate;
	if (newstate == TCP_LISTEN)
		sk_backlog(sk, e);
	if (!handshake)
		submit(e);
	else if (newstate == TCP_ESTABLISHED)
		handshake_done(pd, netns, port);
	return 0;
}

/* A listener is woken when a connection completes and lands in its accept queue. Attached only
 * while a listener that was there before us is still unknown (see the top of this file). */
SEC("tracepoint/sock/sk_data_ready")
int aw_data_ready(struct trace_event_raw_sk_data_ready *ctx)
{
	const struct sock *sk = KPTR(struct sock, ctx->skaddr);
	struct pending *pd = pending_get();
	struct aw_listener_key key = {};
	struct aw_event *e;
	__u64 *known;

	if (ctx->protocol != IPPROTO_TCP)
		goto out;
	key.port = sk->__sk_common.skc_num;
	if (!port_wanted(key.port) || sk->__sk_common.skc_state != TCP_LISTEN)
		goto out;
	key.netns = sk_netns(sk);
	if (!scope_wanted(ctx->family, key.netns))
		goto out;
	known = bpf_map_lookup_elem(&listeners, &key);
	if (known && *known == (__u64)sk && !(pd && pd->n))
		return 0; /* known: its queue was reported when the connection went ESTABLISHED */
	remember_listener(sk, key.netns, key.port);
	if (pd && pd->n) {
		/* The end of the handshake's sequence: one record for all of it. */
		e = pending_slot(pd, AW_BACKLOG, key.netns);
		if (e) {
			sk_endpoints(sk, e);
			sk_backlog(sk, e);
		}
		pending_write(pd);
		return 0;
	}
	e = reserve(AW_BACKLOG, key.netns);
	if (!e)
		return 0;
	sk_endpoints(sk, e);
	sk_backlog(sk, e);
	submit(e);
	return 0;
out:
	flush_pending();
	return 0;
}

/* ---- packets ---- */

struct pkt {
	__u16 family;
	__u16 sport, dport;
	__u8 flags;
	__u8 tunnel;      /* enum aw_tunnel: the addresses and ports are the inner packet's */
	__u16 outer_sport;
	__u32 outer_saddr;
	__u8 saddr[16], daddr[16];
};

/* Where the TCP header of an IPv4 or IPv6 packet starts; NULL if it is not TCP (or a non-first
 * fragment). Only the bytes needed to decide are read: addresses come later, if at all. */
static __always_inline const unsigned char *tcp_header(const unsigned char *l3, __u16 *family)
{
	__u8 ver = l3[0] >> 4;

	if (ver == 4) {
		if (l3[9] != IPPROTO_TCP || ((l3[6] & 0x1f) | l3[7]))
			return NULL;
		*family = AF_INET;
		return l3 + (l3[0] & 0x0f) * 4;
	}
	if (ver == 6 && l3[6] == IPPROTO_TCP) {
		*family = AF_INET6;
		return l3 + 40;
	}
	return NULL;
}

/* IPv6 inside IPv4, as a server behind a NAT gets it: 6in4 (protocol 41) or Teredo (UDP: the
 * IPv6 packet follows the UDP header, after an authentication header and an origin indication
 * if the relay or server added them; taken for Teredo when a port is 3544, the server's, or an
 * inner address is in 2001::/32, the Teredo prefix: relays use other ports). Returns the inner
 * IPv6 header, and notes the tunnel and the outer source in *p; NULL if it is none of these. */
static __always_inline const unsigned char *tunnel_inner(const unsigned char *l3, struct pkt *p)
{
	const unsigned char *l4, *in;
	__u16 sport, dport;

	if ((l3[0] >> 4) != 4 || ((l3[6] & 0x1f) | l3[7]))
		return NULL;
	l4 = l3 + (l3[0] & 0x0f) * 4;
	if (l3[9] == 41) {
		in = l4;
		p->tunnel = AW_TUN_6IN4;
	} else if (l3[9] == IPPROTO_UDP) {
		sport = (l4[0] << 8) | l4[1];
		dport = (l4[2] << 8) | l4[3];
		in = l4 + 8;
		if (in[0] == 0 && in[1] == 1) /* authentication: 4 + id + auth + nonce 8 + conf 1;
					       * the verifier wants the sum cast again */
			in = KMEM((__u64)in + 13 + in[2] + in[3]);
		if (in[0] == 0 && in[1] == 0) /* origin indication */
			in += 8;
		if (sport != AW_TEREDO_PORT && dport != AW_TEREDO_PORT &&
		    *(const __u32 *)(in + 8) != bpf_htonl(0x20010000) &&
		    *(const __u32 *)(in + 24) != bpf_htonl(0x20010000))
			return NULL;
		p->tunnel = AW_TUN_TEREDO;
		p->outer_sport = sport;
	} else {
		return NULL;
	}
	if ((in[0] >> 4) != 6)
		return NULL;
	p->outer_saddr = *(const __u32 *)(l3 + 12);
	return in;
}

/* The TCP header of a packet, or of the IPv6 packet it carries in a tunnel (then *l3 moves to
 * the inner header); NULL if there is no TCP. */
static __always_inline const unsigned char *tcp_or_tunnel(const unsigned char **l3, struct pkt *p)
{
	const unsigned char *th = tcp_header(*l3, &p->family), *in;

	if (th)
		return th;
	in = tunnel_inner(*l3, p);
	if (!in)
		return NULL;
	th = tcp_header(in, &p->family);
	if (!th || p->family != AF_INET6)
		return NULL;
	*l3 = in;
	return th;
}

/* Bytes of TCP payload (IPv6: extension headers are not followed, tcp_header() neither). */
static __always_inline int tcp_payload(const unsigned char *l3, const unsigned char *th,
				       __u16 family)
{
	int doff = (th[12] >> 4) * 4;

	if (family == AF_INET)
		return ((l3[2] << 8) | l3[3]) - (l3[0] & 0x0f) * 4 - doff;
	return ((l3[4] << 8) | l3[5]) - doff;
}

static __always_inline void tcp_ports(const unsigned char *th, struct pkt *p)
{
	p->sport = (th[0] << 8) | th[1];
	p->dport = (th[2] << 8) | th[3];
	p->flags = th[13];
}

static __always_inline void ip_addrs(const unsigned char *l3, struct pkt *p)
{
	if (p->family == AF_INET) {
		__builtin_memcpy(p->saddr, l3 + 12, 4);
		__builtin_memcpy(p->daddr, l3 + 16, 4);
	} else {
		__builtin_memcpy(p->saddr, l3 + 8, 16);
		__builtin_memcpy(p->daddr, l3 + 24, 16);
	}
}

/* Orient a packet on the watched port: local = that side. */
static __always_inline bool pkt_event(const struct pkt *p, struct aw_event *e)
{
	e->family = p->family;
	e->tcpflags = p->flags;
	e->tunnel = p->tunnel;
	if (p->tunnel) {
		e->outer_saddr = p->outer_saddr;
		e->outer_sport = p->outer_sport;
	}
	if (port_wanted(p->dport)) {
		e->lport = p->dport;
		e->rport = p->sport;
		__builtin_memcpy(e->laddr, p->daddr, 16);
		__builtin_memcpy(e->raddr, p->saddr, 16);
		return true;
	}
	if (port_wanted(p->sport)) {
		e->lport = p->sport;
		e->rport = p->dport;
		__builtin_memcpy(e->laddr, p->saddr, 16);
		__builtin_memcpy(e->raddr, p->daddr, 16);
		e->flags |= AW_F_OUTBOUND;
		return true;
	}
	return false;
}

SEC("tracepoint/net/netif_receive_skb")
int aw_receive(struct trace_event_raw_net_dev_template *ctx)
{
	const struct sk_buff *skb = KPTR(struct sk_buff, ctx->skbaddr);
	const unsigned char *l3, *th;
	struct aw_listener_key key = {};
	struct pkt p = {};
	struct aw_event *e;
	__u64 *lsk;
	flush_pending();

	/* skb->data is the network header here (the link layer was pulled). */
	l3 = KMEM(skb->data);
	th = tcp_or_tunnel(&l3, &p);
	if (!th || (th[13] & (AW_TCP_SYN | AW_TCP_ACK)) != AW_TCP_SYN)
		return 0;
	tcp_ports(th, &p);
	if (!port_wanted(p.dport))
		return 0;
	key.netns = skb_netns(skb);
	if (!scope_wanted(p.family, key.netns))
		return 0;
	e = reserve(AW_SYN, key.netns);
	if (!e)
		return 0;
	ip_addrs(l3, &p);
	pkt_event(&p, e);
	key.port = p.dport;
	lsk = p.tunnel ? NULL : bpf_map_lookup_elem(&listeners, &key);
	if (lsk)
		sk_backlog(KPTR(struct sock, *lsk), e);
	submit(e);
	return 0;
}

SEC("tracepoint/skb/kfree_skb")
int aw_kfree_skb(struct trace_event_raw_kfree_skb *ctx)
{
	const struct sk_buff *skb;
	const struct sock *rx_sk = NULL;
	const unsigned char *l3, *th;
	struct pkt p = {};
	struct aw_event *e;
	__u16 nh;
	__u32 netns;
	flush_pending();

	if (ctx->protocol != ETH_P_IP && ctx->protocol != ETH_P_IPV6)
		return 0;
	skb = KPTR(struct sk_buff, ctx->skbaddr);
	nh = skb->network_header;
	if (nh == (__u16)~0U)
		return 0;
	l3 = KMEM(skb->head) + nh;
	th = tcp_or_tunnel(&l3, &p);
	if (!th)
		return 0;
	if (!p.tunnel &&
	    bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    ctx->reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	    !(th[13] & (AW_TCP_SYN | AW_TCP_RST)) && !tcp_payload(l3, th, p.family))
		return 0; /* a closing socket freed a FIN/ACK it had queued: nothing was lost */
	tcp_ports(th, &p);
	if (!port_wanted(p.dport) && !port_wanted(p.sport))
		return 0;
	ip_addrs(l3, &p);
	netns = skb_netns(skb);
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = KPTR(struct sock, ctx->rx_sk);
	if (!netns)
		netns = sk_netns(rx_sk);
	if (!scope_wanted(p.family, netns))
		return 0;
	e = reserve(AW_DROP, netns);
	if (!e)
		return 0;
	pkt_event(&p, e);
	e->reason = ctx->reason;
	if (!p.tunnel && rx_sk && rx_sk->__sk_common.skc_state == TCP_LISTEN) {
		sk_backlog(rx_sk, e);
		remember_listener(rx_sk, netns, rx_sk->__sk_common.skc_num);
	}
	submit(e);
	return 0;
}

SEC("tracepoint/tcp/tcp_retransmit_synack")
int aw_retransmit_synack(struct trace_event_raw_tcp_retransmit_synack *ctx)
{
	const struct request_sock *req = KPTR(struct request_sock, ctx->req);
	const struct sock *sk = KPTR(struct sock, ctx->skaddr);
	struct aw_event *e;
	__u32 netns;
	flush_pending();

	if (!port_wanted(ctx->sport))
		return 0;
	netns = sk_netns(sk);
	if (!scope_wanted(ctx->family, netns))
		return 0;
	e = reserve(AW_SYNACK_RETRANS, netns);
	if (!e)
		return 0;
	TCP_TP_ENDPOINTS(e, ctx);
	/* The counter is bumped after the retransmission succeeds: this one is +1. */
	e->count = req->num_retrans + 1;
	sk_backlog(sk, e);
	remember_listener(sk, netns, ctx->sport);
	submit(e);
	return 0;
}

SEC("tracepoint/tcp/tcp_send_reset")
int aw_send_reset(struct trace_event_raw_tcp_send_reset *ctx)
{
	const struct sock *sk = KPTR(struct sock, ctx->skaddr);
	unsigned char sa[28], da[28];
	struct aw_event *e;
	__u16 family, lport;
	__u32 netns;
	flush_pending();

	/* saddr is the RST's source: our side. sockaddr_in or sockaddr_in6. */
	bpf_probe_read_kernel(sa, sizeof(sa), ctx->saddr);
	bpf_probe_read_kernel(da, sizeof(da), ctx->daddr);
	family = sa[0] | (sa[1] << 8);
	lport = (sa[2] << 8) | sa[3];
	if (!port_wanted(lport))
		return 0;
	if (sk)
		netns = sk_netns(sk);
	else
		netns = skb_netns(KPTR(struct sk_buff, ctx->skbaddr));
	if (!scope_wanted(family, netns))
		return 0;
	e = reserve(AW_RST_SENT, netns);
	if (!e)
		return 0;
	e->family = family;
	e->lport = lport;
	e->rport = (da[2] << 8) | da[3];
	if (family == AF_INET) {
		__builtin_memcpy(e->laddr, &sa[4], 4);
		__builtin_memcpy(e->raddr, &da[4], 4);
	} else {
		__builtin_memcpy(e->laddr, &sa[8], 16);
		__builtin_memcpy(e->raddr, &da[8], 16);
	}
	if (!sk)
		e->flags |= AW_F_NOSOCK;
	else
		e->oldstate = ctx->state;
	if (bpf_core_field_exists(ctx->reason))
		e->reason = ctx->reason;
	submit(e);
	return 0;
}

SEC("tracepoint/tcp/tcp_receive_reset")
int aw_receive_reset(struct trace_event_raw_tcp_event_sk *ctx)
{
	const struct sock *sk = KPTR(struct sock, ctx->skaddr);
	struct aw_event *e;
	__u32 netns;
	flush_pending();

	if (!port_wanted(ctx->sport) && !port_wanted(ctx->dport))
		return 0;
	netns = sk_netns(sk);
	if (!scope_wanted(ctx->family, netns))
		return 0;
	e = reserve(AW_RST_RECV, netns);
	if (!e)
		return 0;
	TCP_TP_ENDPOINTS(e, ctx);
	e->oldstate = sk->__sk_common.skc_state;
	submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
