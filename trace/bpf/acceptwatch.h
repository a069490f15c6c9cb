/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* acceptwatch: the event both sides share (kernel writes it into the ring buffer, the loader
 * reads it). Fixed-size fields only: vmlinux.h and the C library must both compile this. */
#ifndef V6LAB_ACCEPTWATCH_H
#define V6LAB_ACCEPTWATCH_H

#define AW_COMM_LEN 16
#define AW_MAX_PORTS 64

enum aw_event_type {
	AW_ACCEPT = 1,   /* accept()/accept4() returned (sys_exit) */
	AW_ACCEPT_WAIT,  /* accept()/accept4() entered on a watched listener (sys_enter) */
	AW_LISTEN,       /* a socket entered or left TCP_LISTEN */
	AW_STATE,        /* other TCP state change of a socket on a watched port */
	AW_BACKLOG,      /* a connection was queued on a listener: accept queue k/m */
	AW_SYN,          /* a SYN for a watched port reached the host (netif_receive_skb), maybe
			  * inside a tunnel (tunnel != AW_TUN_NONE: the inner IPv6 SYN's endpoints) */
	AW_SYNACK_RETRANS, /* the listener retransmitted a SYN-ACK: the final ACK is missing */
	AW_RST_SENT,     /* the kernel sent a RST from a watched port */
	AW_RST_RECV,     /* a socket on or towards a watched port received a RST */
	AW_DROP,         /* the kernel dropped a TCP packet from/to a watched port (kfree_skb) */
	AW_POLL_WAIT,    /* poll/ppoll/select/pselect6/epoll_wait entered, waiting (among others)
			  * for a watched listener to be readable: call = enum aw_call, fd = its fd */
	AW_POLL_DONE,    /* that call returned: ret, lat_ns; AW_F_READY if it said the listener
			  * was readable (poll and select say which fds are; epoll does not) */
};
#define AW_EVENT_MAX AW_POLL_DONE

enum aw_flags {
	AW_F_EARLY = 1 << 0,    /* accept() was already blocked when acceptwatch started */
	AW_F_OUTBOUND = 1 << 1, /* packet leaves the watched port (src = watched side) */
	AW_F_LISTENER = 1 << 2, /* backlog/max_backlog were read from the listener */
	AW_F_NOSOCK = 1 << 3,   /* RST sent with no socket: nothing matched the packet */
	AW_F_READY = 1 << 4,    /* poll-done: the listener was among the fds reported ready */
};

/* The calls a server waits in for a connection (AW_POLL_*, and the loader's /proc view). */
enum aw_call {
	AW_CALL_NONE = 0,
	AW_CALL_ACCEPT,
	AW_CALL_ACCEPT4,
	AW_CALL_POLL,
	AW_CALL_PPOLL,
	AW_CALL_SELECT,
	AW_CALL_PSELECT6,
	AW_CALL_EPOLL_WAIT,
	AW_CALL_EPOLL_PWAIT,
	AW_CALL_EPOLL_PWAIT2,
	AW_CALL_MAX = AW_CALL_EPOLL_PWAIT2
};

/* How a packet came: plain, or IPv6 inside IPv4 (the outer header is described in the event). */
enum aw_tunnel {
	AW_TUN_NONE = 0,
	AW_TUN_6IN4,   /* IPv4 protocol 41 (sit, 6in4 tunnel brokers) */
	AW_TUN_TEREDO, /* IPv4 UDP (miredo, RFC 4380): port 3544, or an inner address in 2001::/32 */
};

#define AW_TEREDO_PORT 3544

/* TCP header flag bits as on the wire (byte 13). */
#define AW_TCP_FIN 0x01
#define AW_TCP_SYN 0x02
#define AW_TCP_RST 0x04
#define AW_TCP_ACK 0x10

struct aw_event {
	unsigned long long ts_ns;   /* CLOCK_MONOTONIC */
	union {
		unsigned long long lat_ns;  /* accept, poll-done: time blocked (0 when AW_F_EARLY) */
		struct {                    /* SYN, drop with tunnel != AW_TUN_NONE: outer header */
			unsigned int outer_saddr;   /* IPv4 source, network order */
			unsigned short outer_sport; /* UDP source port (Teredo), host order */
			unsigned short outer_pad;
		};
	};
	unsigned int type;          /* enum aw_event_type */
	unsigned int pid;           /* tgid; 0 when the event ran in softirq context */
	unsigned int tid;
	unsigned int netns;         /* inode of the network namespace */
	int fd;                     /* accept, poll: listening fd */
	int ret;                    /* accept: new fd or -errno; poll-done: ready fds or -errno */
	unsigned int reason;        /* drop: enum skb_drop_reason; RST sent: enum sk_rst_reason */
	unsigned int backlog;       /* accept queue length of the listener */
	unsigned int max_backlog;   /* its maximum (listen()'s backlog, capped by somaxconn) */
	unsigned int count;         /* SYN-ACK retransmission number */
	unsigned short family;      /* AF_INET or AF_INET6 (of the socket or the packet) */
	unsigned short lport;       /* local port (packets: the watched side), host order */
	unsigned short rport;       /* remote port, host order */
	unsigned char oldstate;
	unsigned char newstate;
	unsigned char tcpflags;     /* packets: AW_TCP_* */
	unsigned char flags;        /* enum aw_flags */
	unsigned char tunnel;       /* SYN, drop: enum aw_tunnel */
	unsigned char call;         /* poll-wait, poll-done: enum aw_call */
	unsigned char laddr[16];    /* IPv4 in the first 4 bytes */
	unsigned char raddr[16];
	char comm[AW_COMM_LEN];
};

/* Key of the BPF side's map of listening sockets (the loader looks listeners up in it). */
struct aw_listener_key {
	unsigned int netns;   /* inode of the network namespace */
	unsigned short port;  /* host order */
	unsigned short pad;
};

/* Key of the BPF side's map of epoll sets that watch a listener (epoll_wait() names only the
 * set): filled from epoll_ctl(), and by the loader for sets made before it started. */
struct aw_epoll_key {
	unsigned int tgid;
	int epfd;
};

#endif
