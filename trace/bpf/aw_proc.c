// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch's /proc lookups: see aw_proc.h. */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "aw_proc.h"

#define TCP_LISTEN_STATE 10
#define MAX_NETNS 1024
#define MAX_POLLFDS 1024     /* entries of a pollfd array looked at */
#define MAX_SELECT_FDS 4096  /* fds of an fd_set looked at */
#define IN_EVENTS 0x41       /* POLLIN | POLLRDNORM, EPOLLIN | EPOLLRDNORM: what a connection wakes */

bool aw_all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

static unsigned int netns_of(pid_t pid)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	return stat(path, &st) ? 0 : st.st_ino;
}

static void read_comm(pid_t pid, char *comm, size_t n)
{
	char path[64];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	comm[0] = '\0';
	if ((fp = fopen(path, "r"))) {
		if (fgets(comm, n, fp))
			comm[strcspn(comm, "\n")] = '\0';
		fclose(fp);
	}
}

/* The socket inode of fd in pid ("socket:[inode]"), 0 if it is no socket. */
static unsigned long fd_socket(pid_t pid, const char *fd)
{
	char link[PATH_MAX], target[64];
	unsigned long inode;
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%d/fd/%s", pid, fd);
	len = readlink(link, target, sizeof(target) - 1);
	if (len <= 0)
		return 0;
	target[len] = '\0';
	return sscanf(target, "socket:[%lu]", &inode) == 1 ? inode : 0;
}

static bool has_inode(const unsigned long *inodes, int n, unsigned long inode)
{
	for (int i = 0; i < n; i++)
		if (inodes[i] == inode)
			return true;
	return false;
}

/* The socket inodes process pid holds. */
static int pid_sockets(pid_t pid, unsigned long *out, int max)
{
	char path[64];
	struct dirent *f;
	DIR *fds;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", pid);
	if (!(fds = opendir(path)))
		return 0;
	while (n < max && (f = readdir(fds)))
		if (aw_all_digits(f->d_name) && (out[n] = fd_socket(pid, f->d_name)))
			n++;
	closedir(fds);
	return n;
}

/* ---- listeners ---- */

static bool port_matches(const struct aw_listener_filter *f, unsigned short port)
{
	if (f->port && port != f->port)
		return false;
	if (!f->ports)
		return true;
	for (int i = 0; i < f->nports; i++)
		if (f->ports[i] == port)
			return true;
	return false;
}

/* The listeners of pid's network namespace (netns), appended to out[n..max). */
static int read_net_tcp(pid_t pid, unsigned int netns, const struct aw_listener_filter *f,
			struct aw_listener *out, int n, int max)
{
	static const char *const files[] = { "tcp", "tcp6" };

	for (int v6 = 0; v6 < 2; v6++) {
		char path[64], line[512];
		FILE *fp;

		if (f->family && f->family != (v6 ? AF_INET6 : AF_INET))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, files[v6]);
		if (!(fp = fopen(path, "r")))
			continue;
		while (n < max && fgets(line, sizeof(line), fp)) {
			char laddr[64];
			unsigned int lport, st;
			unsigned long inode;
			struct aw_listener *l = &out[n];

			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*d %lu",
				   laddr, &lport, &st, &inode) != 4)
				continue;
			if (st != TCP_LISTEN_STATE || !port_matches(f, lport))
				continue;
			memset(l, 0, sizeof(*l));
			l->netns = netns;
			l->family = v6 ? AF_INET6 : AF_INET;
			l->port = lport;
			l->inode = inode;
			/* The address is printed as 32-bit words in host byte order. */
			for (int w = 0; w < (v6 ? 4 : 1); w++) {
				char word[9] = { 0 };
				unsigned int a;

				memcpy(word, laddr + 8 * w, 8);
				a = strtoul(word, NULL, 16);
				memcpy(l->addr + 4 * w, &a, 4);
			}
			n++;
		}
		fclose(fp);
	}
	return n;
}

int aw_proc_listeners(const struct aw_listener_filter *f, struct aw_listener *out, int max)
{
	struct aw_netns_pid ns[MAX_NETNS];
	int nns, n = 0;

	if (f->holder) {
		unsigned long held[1024];
		int nheld = pid_sockets(f->holder, held, 1024), k = 0;

		n = read_net_tcp(f->holder, netns_of(f->holder), f, out, 0, max);
		for (int i = 0; i < n; i++)
			if (has_inode(held, nheld, out[i].inode))
				out[k++] = out[i];
		return k;
	}
	nns = aw_proc_netns(ns, MAX_NETNS);
	for (int i = 0; i < nns && n < max; i++)
		if (!f->netns || ns[i].ino == f->netns)
			n = read_net_tcp(ns[i].pid, ns[i].ino, f, out, n, max);
	return n;
}

/* ---- processes ---- */

int aw_proc_socket_fds(const unsigned long *inodes, int ninodes, struct aw_socket_fd *out,
		       int max)
{
	struct dirent *p;
	DIR *proc;
	int n = 0;

	if (!ninodes || !(proc = opendir("/proc")))
		return 0;
	while (n < max && (p = readdir(proc))) {
		char path[PATH_MAX];
		struct dirent *f;
		DIR *fds;
		int first = n;
		pid_t pid;

		if (!aw_all_digits(p->d_name))
			continue;
		pid = atoi(p->d_name);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		if (!(fds = opendir(path)))
			continue;
		while (n < max && (f = readdir(fds))) {
			unsigned long inode;

			if (!aw_all_digits(f->d_name))
				continue;
			inode = fd_socket(pid, f->d_name);
			if (!inode || !has_inode(inodes, ninodes, inode))
				continue;
			out[n] = (struct aw_socket_fd){ .pid = pid, .fd = atoi(f->d_name), .inode = inode };
			if (n > first)
				memcpy(out[n].comm, out[first].comm, sizeof(out[n].comm));
			else
				read_comm(pid, out[n].comm, sizeof(out[n].comm));
			n++;
		}
		closedir(fds);
	}
	closedir(proc);
	return n;
}

/* The socket inodes of process pid among fds[] (fds of several processes). */
static int inodes_of(pid_t pid, const struct aw_socket_fd *fds, int nfds, unsigned long *out,
		     int max)
{
	int n = 0;

	for (int i = 0; i < nfds && n < max; i++)
		if (fds[i].pid == pid)
			out[n++] = fds[i].inode;
	return n;
}

/* The fd that socket inode has in pid (the first of its fds[] entries), -1 if none. */
static int fd_of(pid_t pid, unsigned long inode, const struct aw_socket_fd *fds, int nfds)
{
	for (int i = 0; i < nfds; i++)
		if (fds[i].pid == pid && fds[i].inode == inode)
			return fds[i].fd;
	return -1;
}

static bool first_of_pid(const struct aw_socket_fd *fds, int i)
{
	for (int j = 0; j < i; j++)
		if (fds[j].pid == fds[i].pid)
			return false;
	return true;
}

/* In epoll set epfd of pid, the first target that waits for input on one of inodes:
 * its fd, and *inode; -1 if none. fdinfo lines: "tfd: FD events: HEX data: HEX pos:N ino:HEX
 * sdev:HEX" (ino: the target file's inode, a socket's inode for a socket). */
static int epoll_target(pid_t pid, int epfd, const unsigned long *inodes, int ninodes,
			unsigned long *inode)
{
	char path[64], line[256];
	int found = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", pid, epfd);
	if (!(fp = fopen(path, "r")))
		return -1;
	while (found < 0 && fgets(line, sizeof(line), fp)) {
		unsigned int events;
		unsigned long ino;
		const char *at;
		int tfd;

		if (sscanf(line, "tfd: %d events: %x", &tfd, &events) != 2 || !(events & IN_EVENTS))
			continue;
		at = strstr(line, " ino:");
		if (at && sscanf(at, " ino:%lx", &ino) == 1 && has_inode(inodes, ninodes, ino)) {
			found = tfd;
			*inode = ino;
		}
	}
	fclose(fp);
	return found;
}

int aw_proc_epolls(const struct aw_socket_fd *fds, int nfds, struct aw_epoll_fd *out, int max)
{
	int n = 0;

	for (int i = 0; i < nfds && n < max; i++) {
		pid_t pid = fds[i].pid;
		unsigned long inodes[64];
		char path[64];
		struct dirent *f;
		DIR *dir;
		int ni;

		if (!first_of_pid(fds, i))
			continue;
		ni = inodes_of(pid, fds, nfds, inodes, 64);
		snprintf(path, sizeof(path), "/proc/%d/fd", pid);
		if (!(dir = opendir(path)))
			continue;
		while (n < max && (f = readdir(dir))) {
			char link[PATH_MAX], target[64];
			unsigned long inode = 0;
			ssize_t len;
			int tfd;

			if (!aw_all_digits(f->d_name))
				continue;
			snprintf(link, sizeof(link), "/proc/%d/fd/%s", pid, f->d_name);
			len = readlink(link, target, sizeof(target) - 1);
			if (len <= 0)
				continue;
			target[len] = '\0';
			if (strcmp(target, "anon_inode:[eventpoll]"))
				continue;
			tfd = epoll_target(pid, atoi(f->d_name), inodes, ni, &inode);
			if (tfd >= 0)
				out[n++] = (struct aw_epoll_fd){ .pid = pid, .epfd = atoi(f->d_name),
								 .fd = tfd, .inode = inode };
		}
		closedir(dir);
	}
	return n;
}

/* ---- threads asleep in a call ---- */

static enum aw_call call_of(long nr)
{
	switch (nr) {
	case SYS_accept: return AW_CALL_ACCEPT;
	case SYS_accept4: return AW_CALL_ACCEPT4;
#ifdef SYS_poll
	case SYS_poll: return AW_CALL_POLL;
#endif
	case SYS_ppoll: return AW_CALL_PPOLL;
#ifdef SYS_select
	case SYS_select: return AW_CALL_SELECT;
#endif
	case SYS_pselect6: return AW_CALL_PSELECT6;
#ifdef SYS_epoll_wait
	case SYS_epoll_wait: return AW_CALL_EPOLL_WAIT;
#endif
	case SYS_epoll_pwait: return AW_CALL_EPOLL_PWAIT;
#ifdef SYS_epoll_pwait2
	case SYS_epoll_pwait2: return AW_CALL_EPOLL_PWAIT2;
#endif
	default: return AW_CALL_NONE;
	}
}

static bool read_mem(pid_t pid, unsigned long addr, void *buf, size_t len)
{
	struct iovec local = { buf, len }, remote = { (void *)addr, len };

	return process_vm_readv(pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

/* Which of pid's listener fds (fds[]) the call it sleeps in (call, args) waits for input
 * on; -1 if none. */
static int waited_fd(pid_t pid, enum aw_call call, const unsigned long *args,
		     const struct aw_socket_fd *fds, int nfds, unsigned long *inode)
{
	unsigned long inodes[64];
	int ni = inodes_of(pid, fds, nfds, inodes, 64);

	switch (call) {
	case AW_CALL_ACCEPT:
	case AW_CALL_ACCEPT4:
		for (int i = 0; i < nfds; i++)
			if (fds[i].pid == pid && fds[i].fd == (int)args[0]) {
				*inode = fds[i].inode;
				return fds[i].fd;
			}
		return -1;
	case AW_CALL_POLL:
	case AW_CALL_PPOLL: {
		struct { int fd; short events, revents; } pfd[MAX_POLLFDS];
		size_t n = args[1] < MAX_POLLFDS ? args[1] : MAX_POLLFDS;

		if (!n || !read_mem(pid, args[0], pfd, n * sizeof(pfd[0])))
			return -1;
		for (size_t i = 0; i < n; i++)
			for (int j = 0; j < nfds; j++)
				if ((pfd[i].events & IN_EVENTS) && fds[j].pid == pid && fds[j].fd == pfd[i].fd) {
					*inode = fds[j].inode;
					return pfd[i].fd;
				}
		return -1;
	}
	case AW_CALL_SELECT:
	case AW_CALL_PSELECT6: {
		unsigned char bits[MAX_SELECT_FDS / 8];
		long n = (long)args[0] < MAX_SELECT_FDS ? (long)args[0] : MAX_SELECT_FDS;

		if (n <= 0 || !args[1] || !read_mem(pid, args[1], bits, (n + 7) / 8))
			return -1;
		for (int j = 0; j < nfds; j++)
			if (fds[j].pid == pid && fds[j].fd < n && (bits[fds[j].fd / 8] >> (fds[j].fd % 8) & 1)) {
				*inode = fds[j].inode;
				return fds[j].fd;
			}
		return -1;
	}
	case AW_CALL_EPOLL_WAIT:
	case AW_CALL_EPOLL_PWAIT:
	case AW_CALL_EPOLL_PWAIT2: {
		int tfd = epoll_target(pid, (int)args[0], inodes, ni, inode), now;
		bool same = false;

		if (tfd < 0)
			return -1;
		/* the fd it was added with, or, if that fd is something else now, the one it has */
		for (int i = 0; i < nfds; i++)
			same |= fds[i].pid == pid && fds[i].fd == tfd && fds[i].inode == *inode;
		now = fd_of(pid, *inode, fds, nfds);
		return same || now < 0 ? tfd : now;
	}
	default:
		return -1;
	}
}

int aw_proc_waiters(const struct aw_socket_fd *fds, int nfds, struct aw_waiter *out, int max)
{
	int n = 0;

	for (int i = 0; i < nfds && n < max; i++) {
		pid_t pid = fds[i].pid;
		char path[64];
		struct dirent *t;
		DIR *tasks;

		if (!first_of_pid(fds, i))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task", pid);
		if (!(tasks = opendir(path)))
			continue;
		while (n < max && (t = readdir(tasks))) {
			char file[PATH_MAX], line[512];
			unsigned long args[6], inode = 0;
			enum aw_call call;
			FILE *fp;
			long nr;
			int ok, fd;

			if (!aw_all_digits(t->d_name))
				continue;
			/* "NR ARG0 .. ARG5 SP PC" while asleep in a call; "running" or "-1 ..." if not */
			snprintf(file, sizeof(file), "/proc/%d/task/%s/syscall", pid, t->d_name);
			if (!(fp = fopen(file, "r")))
				continue;
			ok = fgets(line, sizeof(line), fp) &&
			     sscanf(line, "%ld %lx %lx %lx %lx %lx %lx", &nr, &args[0], &args[1],
				    &args[2], &args[3], &args[4], &args[5]) == 7;
			fclose(fp);
			if (!ok || (call = call_of(nr)) == AW_CALL_NONE)
				continue;
			fd = waited_fd(pid, call, args, fds, nfds, &inode);
			if (fd < 0)
				continue;
			out[n] = (struct aw_waiter){ .pid = pid, .tid = atoi(t->d_name), .call = call,
						     .fd = fd, .inode = inode };
			memcpy(out[n].comm, fds[i].comm, sizeof(out[n].comm));
			n++;
		}
		closedir(tasks);
	}
	return n;
}

/* ---- network namespaces ---- */

int aw_proc_netns(struct aw_netns_pid *out, int max)
{
	struct dirent *p;
	int n = 0;
	DIR *proc;

	if (!(proc = opendir("/proc")))
		return 0;
	while (n < max && (p = readdir(proc))) {
		unsigned int ino;
		int i;

		if (!aw_all_digits(p->d_name) || !(ino = netns_of(atoi(p->d_name))))
			continue;
		for (i = 0; i < n && out[i].ino != ino; i++)
			;
		if (i == n)
			out[n++] = (struct aw_netns_pid){ .ino = ino, .pid = atoi(p->d_name) };
	}
	closedir(proc);
	return n;
}

pid_t aw_proc_pid_in_netns(unsigned int ino)
{
	struct dirent *p;
	pid_t found = 0;
	DIR *proc;

	if (!(proc = opendir("/proc")))
		return 0;
	while (!found && (p = readdir(proc)))
		if (aw_all_digits(p->d_name) && netns_of(atoi(p->d_name)) == ino)
			found = atoi(p->d_name);
	closedir(proc);
	return found;
}
