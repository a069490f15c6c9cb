/* SPDX-License-Identifier: MIT */
/*
 * The wrapper layer (see v6lab/wrap.h): each wrapper makes its system call between an
 * X_entry and an X trace event (providers in trace/, catalogue in trace/README.md).
 *
 * Three rules hold in every wrapper:
 *  - the result and errno are the system call's: errno is saved before the trace events
 *    and restored after them;
 *  - a field that costs something to build (an address as text, the tokens in a buffer,
 *    what kind of fd this is) is built only when its event is enabled
 *    (lttng_ust_tracepoint_enabled), so an untraced run pays a load and a branch;
 *  - errno in an event is 0 when the call succeeded.
 */
#include "v6lab/wrap.h"

#include <errno.h>
#include <lttng/ust-fork.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "v6lab_io.h"
#include "v6lab_ipc.h"
#include "v6lab_process.h"
#include "v6lab_sockets.h"
#include "v6lab_trace.h"

/* The mark of a program whose wrappers fire the events: libv6lab-preload.so, which
 * scripts/trace preloads into everything it runs, finds this ELF note and stays silent. */
__asm__(".pushsection .note.v6lab, \"a\", @note\n"
	".balign 4\n.long 6\n.long 0\n.long 1\n.asciz \"v6lab\"\n.balign 4\n"
	".popsection\n");

static enum v6_role current_role;

/* Every event's first field. */
#define ROLE ((int)current_role)
/* errno for an event: the call's errno if it failed, else 0. */
#define ERR(failed, e) ((failed) ? (e) : 0)
/* Is either event of a call enabled? (to build a field both use only once) */
#define EITHER(prov, call) \
	(lttng_ust_tracepoint_enabled(prov, call##_entry) || lttng_ust_tracepoint_enabled(prov, call))

void v6_set_role(enum v6_role role)
{
	current_role = role;
	lttng_ust_tracepoint(v6lab_process, start, ROLE, (int)getpid(), (int)getppid());
}

enum v6_role v6_role(void)
{
	return current_role;
}

/* --- sockets ---------------------------------------------------------------------- */

int Socket(int domain, int type, int protocol)
{
	lttng_ust_tracepoint(v6lab_sockets, socket_entry, ROLE, domain, type, protocol);
	int fd = socket(domain, type, protocol);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, socket, ROLE, domain, type, protocol, fd,
			     ERR(fd < 0, e));
	errno = e;
	return fd;
}

int Setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	lttng_ust_tracepoint(v6lab_sockets, setsockopt_entry, ROLE, fd, level, name, len);
	int r = setsockopt(fd, level, name, val, len);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, setsockopt, ROLE, fd, level, name, r, ERR(r < 0, e));
	errno = e;
	return r;
}

int Bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct v6lab_tp_addr a = { 0 };
	if (EITHER(v6lab_sockets, bind))
		v6lab_tp_addr(sa, len, &a);
	lttng_ust_tracepoint(v6lab_sockets, bind_entry, ROLE, fd, a.family, a.host, a.port);
	int r = bind(fd, sa, len);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, bind, ROLE, fd, a.family, a.host, a.port, r,
			     ERR(r < 0, e));
	errno = e;
	return r;
}

int Listen(int fd, int backlog)
{
	lttng_ust_tracepoint(v6lab_sockets, listen_entry, ROLE, fd, backlog);
	int r = listen(fd, backlog);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, listen, ROLE, fd, backlog, r, ERR(r < 0, e));
	errno = e;
	return r;
}

int Accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	lttng_ust_tracepoint(v6lab_sockets, accept_entry, ROLE, fd);
	int conn = accept(fd, sa, len);
	int e = errno;
	if (lttng_ust_tracepoint_enabled(v6lab_sockets, accept)) {
		struct v6lab_tp_addr a = { 0 }; /* no address if the caller asked for none */
		if (conn >= 0 && sa && len)
			v6lab_tp_addr(sa, *len, &a);
		lttng_ust_do_tracepoint(v6lab_sockets, accept, ROLE, fd, conn, a.family, a.host,
					a.port, ERR(conn < 0, e));
	}
	errno = e;
	return conn;
}

int Connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct v6lab_tp_addr a = { 0 };
	if (EITHER(v6lab_sockets, connect))
		v6lab_tp_addr(sa, len, &a);
	lttng_ust_tracepoint(v6lab_sockets, connect_entry, ROLE, fd, a.family, a.host, a.port);
	int r = connect(fd, sa, len);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, connect, ROLE, fd, a.family, a.host, a.port, r,
			     ERR(r < 0, e));
	errno = e;
	return r;
}

int Shutdown(int fd, int how)
{
	lttng_ust_tracepoint(v6lab_sockets, shutdown_entry, ROLE, fd, how);
	int r = shutdown(fd, how);
	int e = errno;
	lttng_ust_tracepoint(v6lab_sockets, shutdown, ROLE, fd, how, r, ERR(r < 0, e));
	errno = e;
	return r;
}

/* --- any descriptor: sockets and the pipe ------------------------------------------ */

ssize_t Read(int fd, void *buf, size_t n)
{
	int kind = EITHER(v6lab_io, read) ? v6lab_tp_fdkind(fd) : V6LAB_TP_FDKIND_OTHER;
	lttng_ust_tracepoint(v6lab_io, read_entry, ROLE, fd, kind, n);
	ssize_t r = read(fd, buf, n);
	int e = errno;
	if (lttng_ust_tracepoint_enabled(v6lab_io, read)) {
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = v6lab_tp_tokens(buf, r, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_io, read, ROLE, fd, kind, n, r, ERR(r < 0, e), nt,
					tokens);
	}
	errno = e;
	return r;
}

ssize_t Write(int fd, const void *buf, size_t n)
{
	int kind = EITHER(v6lab_io, write) ? v6lab_tp_fdkind(fd) : V6LAB_TP_FDKIND_OTHER;
	lttng_ust_tracepoint(v6lab_io, write_entry, ROLE, fd, kind, n);
	ssize_t r = write(fd, buf, n);
	int e = errno;
	if (lttng_ust_tracepoint_enabled(v6lab_io, write)) {
		/* Only the bytes that went out: a short write carries part of the buffer. */
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = v6lab_tp_tokens(buf, r, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_io, write, ROLE, fd, kind, n, r, ERR(r < 0, e), nt,
					tokens);
	}
	errno = e;
	return r;
}

int Close(int fd)
{
	/* What fd was can only be asked before it is closed. */
	int kind = EITHER(v6lab_io, close) ? v6lab_tp_fdkind(fd) : V6LAB_TP_FDKIND_OTHER;
	lttng_ust_tracepoint(v6lab_io, close_entry, ROLE, fd, kind);
	int r = close(fd);
	int e = errno;
	lttng_ust_tracepoint(v6lab_io, close, ROLE, fd, kind, r, ERR(r < 0, e));
	errno = e;
	return r;
}

/* --- processes and the pipe --------------------------------------------------------- */

pid_t Fork(void)
{
	sigset_t sigset;

	lttng_ust_tracepoint(v6lab_process, fork_entry, ROLE);
	/* The fork hooks: without them the child would keep the parent's registration with
	 * the session daemon, and its events would carry the parent's vpid (or be lost). */
	lttng_ust_before_fork(&sigset);
	pid_t pid = fork();
	int e = errno;
	if (pid == 0) {
		lttng_ust_after_fork_child(&sigset);
		/* UST has no vppid context: the child names its parent itself. */
		lttng_ust_tracepoint(v6lab_process, fork_child, ROLE, (int)getpid(), (int)getppid());
	} else {
		lttng_ust_after_fork_parent(&sigset);
		lttng_ust_tracepoint(v6lab_process, fork, ROLE, (int)pid, ERR(pid < 0, e));
	}
	errno = e;
	return pid;
}

pid_t Waitpid(pid_t pid, int *status, int options)
{
	int st = 0;
	lttng_ust_tracepoint(v6lab_process, waitpid_entry, ROLE, (int)pid, options);
	pid_t r = waitpid(pid, &st, options);
	int e = errno;
	if (r <= 0)
		st = 0; /* nothing reaped: status means nothing */
	lttng_ust_tracepoint(v6lab_process, waitpid, ROLE, (int)pid, options, (int)r, st,
			     ERR(r < 0, e));
	if (status && r > 0)
		*status = st;
	errno = e;
	return r;
}

int Pipe(int fds[2])
{
	lttng_ust_tracepoint(v6lab_ipc, pipe_entry, ROLE);
	int r = pipe(fds);
	int e = errno;
	lttng_ust_tracepoint(v6lab_ipc, pipe, ROLE, r == 0 ? fds[0] : -1, r == 0 ? fds[1] : -1, r,
			     ERR(r < 0, e));
	errno = e;
	return r;
}

/* --- the System V message queue ------------------------------------------------------ */

int Msgget(key_t key, int flags)
{
	lttng_ust_tracepoint(v6lab_ipc, msgget_entry, ROLE, (int)key, flags);
	int id = msgget(key, flags);
	int e = errno;
	/* The outcome follows from the call: IPC_PRIVATE, or IPC_CREAT | IPC_EXCL, succeeds
	 * only by creating a queue; without IPC_CREAT a key opens only one that is there.
	 * IPC_CREAT alone on a key could do either and is recorded as "created": no caller
	 * asks that way (queue_create() uses IPC_EXCL to know). */
	int outcome = V6LAB_TP_MSGGET_FAILED;
	if (id >= 0)
		outcome = (flags & IPC_CREAT) || key == IPC_PRIVATE ? V6LAB_TP_MSGGET_CREATED
								     : V6LAB_TP_MSGGET_EXISTING;
	lttng_ust_tracepoint(v6lab_ipc, msgget, ROLE, (int)key, flags, id, outcome, ERR(id < 0, e));
	errno = e;
	return id;
}

/* The text of a message: after the long mtype (msgsz counts the text only). */
#define MSG_TEXT(msg) ((const char *)(msg) + sizeof(long))

int Msgsnd(int id, const void *msg, size_t size, int flags)
{
	long mtype = *(const long *)msg;
	lttng_ust_tracepoint(v6lab_ipc, msgsnd_entry, ROLE, id, mtype, size, flags);
	int r = msgsnd(id, msg, size, flags);
	int e = errno;
	if (lttng_ust_tracepoint_enabled(v6lab_ipc, msgsnd)) {
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = v6lab_tp_tokens(MSG_TEXT(msg), (ssize_t)size, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_ipc, msgsnd, ROLE, id, mtype, size, r, ERR(r < 0, e),
					nt, tokens);
	}
	errno = e;
	return r;
}

ssize_t Msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	lttng_ust_tracepoint(v6lab_ipc, msgrcv_entry, ROLE, id, size, type, flags);
	ssize_t r = msgrcv(id, msg, size, type, flags);
	int e = errno;
	if (lttng_ust_tracepoint_enabled(v6lab_ipc, msgrcv)) {
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = v6lab_tp_tokens(MSG_TEXT(msg), r, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_ipc, msgrcv, ROLE, id, size, type,
					r >= 0 ? *(const long *)msg : 0L, r, ERR(r < 0, e), nt,
					tokens);
	}
	errno = e;
	return r;
}

int Msgctl(int id, int cmd, struct msqid_ds *buf)
{
	lttng_ust_tracepoint(v6lab_ipc, msgctl_entry, ROLE, id, cmd);
	int r = msgctl(id, cmd, buf);
	int e = errno;
	lttng_ust_tracepoint(v6lab_ipc, msgctl, ROLE, id, cmd, r, ERR(r < 0, e));
	errno = e;
	return r;
}
