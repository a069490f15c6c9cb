/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* acceptwatch's /proc lookups: listening sockets (the kernel's own tables, per network
 * namespace), the processes that hold them, the epoll sets that watch them, and the threads
 * that wait on them now. Each takes a filter and fills an array; none keeps state. */
#ifndef V6LAB_AW_PROC_H
#define V6LAB_AW_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "acceptwatch.h"

/* A listening TCP socket, from /proc/PID/net/tcp{,6}. */
struct aw_listener {
	unsigned int netns;      /* inode of its network namespace */
	int family;              /* of the socket: AF_INET or AF_INET6 */
	unsigned char addr[16];  /* bound address (IPv4 in the first 4 bytes) */
	unsigned short port;
	unsigned long inode;     /* socket inode: "socket:[inode]" in /proc/PID/fd */
};

/* Which listeners: 0 / NULL = any. */
struct aw_listener_filter {
	unsigned int netns;          /* this network namespace only */
	pid_t holder;                /* only those this process holds (and its namespace only) */
	int family;                  /* AF_INET or AF_INET6 */
	unsigned short port;         /* this port only */
	const unsigned short *ports; /* or one of these nports ports (even 0 of them: none) */
	int nports;
};

int aw_proc_listeners(const struct aw_listener_filter *f, struct aw_listener *out, int max);

/* A descriptor, in some process, of one of the sockets asked for. In /proc order: the first
 * one of an inode is its "owner" (a listener shared by several processes has several). */
struct aw_socket_fd {
	pid_t pid;
	int fd;
	unsigned long inode;
	char comm[AW_COMM_LEN];
};

int aw_proc_socket_fds(const unsigned long *inodes, int ninodes, struct aw_socket_fd *out,
		       int max);

/* An epoll set (epfd in process pid) that waits for input on one of the sockets asked for
 * (its fd there: fd), from /proc/PID/fdinfo/EPFD. */
struct aw_epoll_fd {
	pid_t pid;
	int epfd;
	int fd;
	unsigned long inode;
};

int aw_proc_epolls(const struct aw_socket_fd *fds, int nfds, struct aw_epoll_fd *out, int max);

/* A thread asleep in accept(), poll(), select() or epoll_wait() with one of the sockets
 * asked for among what it waits for (/proc/PID/task/TID/syscall, then the call's own
 * arguments: the pollfd array or fd_set read from its memory, the epoll set's fdinfo). */
struct aw_waiter {
	pid_t pid, tid;
	char comm[AW_COMM_LEN];
	unsigned char call;      /* enum aw_call */
	int fd;                  /* the listener's fd in that process */
	unsigned long inode;
};

int aw_proc_waiters(const struct aw_socket_fd *fds, int nfds, struct aw_waiter *out, int max);

/* Every network namespace that has a process in it, once, with one such process (through
 * its /proc/PID/net, that namespace's sockets are read). */
struct aw_netns_pid {
	unsigned int ino;
	pid_t pid;
};

int aw_proc_netns(struct aw_netns_pid *out, int max);
/* Any process inside netns ino; 0 if none. */
pid_t aw_proc_pid_in_netns(unsigned int ino);

bool aw_all_digits(const char *s);

#endif
