/* SPDX-License-Identifier: MIT */
/*
 * libv6lab-preload.so: the v6lab events for a program that has no wrappers (a student's),
 * by LD_PRELOAD. Each libc call below is interposed, as lttng-ust's own
 * liblttng-ust-libc-wrapper and liblttng-ust-fork do: the real call is found with
 * dlsym(RTLD_NEXT) and made between the same X_entry and X events, with the same fields,
 * as src/lib/wrap.c fires (role "other"), so every analysis reads both alike. Besides
 * those, what only a student's program does: opening a FIFO, waiting in poll or select on
 * a listening socket, posix_spawn, vfork, system, sleeping.
 *
 * What keeps it out of the way (trace/README.md, "Programs without wrappers"):
 *  - Silent until the process makes its first IPv4/IPv6 socket, System V queue or
 *    segment, or FIFO (mkfifo, or opening one): shells, timeout and the tools of a command
 *    line never get that far, and stay as they were (not even liblttng-ust is loaded in
 *    them). Only then is libv6lab-preload-probes.so (the providers, linked to liblttng-ust)
 *    dlopen'ed, a start event names the process, and the events fire from that call on.
 *  - Silent for good in v6lab's own programs, whose wrappers fire already: they carry an
 *    ELF note "v6lab" (src/lib/wrap.c; an executable exports no symbols to look up), read
 *    here from the program headers. And in script interpreters (python3, perl): the test
 *    harnesses make sockets of their own and are not the student's program.
 *  - Never lttng-ust's own work: a thread-local guard while our code runs (liblttng-ust's
 *    initialisation, its fork hooks, the tracepoints themselves), lttng-ust's threads
 *    marked when they are created (every thread started while the guard is up, and every
 *    thread such a thread starts), and only sockets of the Internet families, pipes and
 *    FIFOs recorded (its Unix sockets and shared memory never are).
 *  - The call is made exactly as asked and its result and errno are returned untouched:
 *    errno is saved before anything of ours runs and restored after (TRACED, below).
 * Never built with the sanitizers (it is preloaded into programs that have none).
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The tracepoints are defined here, hidden, and the providers are dlopen'ed later. */
#define LTTNG_UST_TRACEPOINT_DEFINE
#define LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE
#define LTTNG_UST_TRACEPOINT_HIDDEN_DEFINITION
#include "v6lab_io.h"
#include "v6lab_ipc.h"
#include "v6lab_process.h"
#include "v6lab_sockets.h"
#include "v6lab_trace.h"

#define ROLE 0 /* "other": not one of v6lab's four programs */
#define ERR(failed, e) ((failed) ? (e) : 0)
#define EITHER(prov, call) \
	(lttng_ust_tracepoint_enabled(prov, call##_entry) || lttng_ust_tracepoint_enabled(prov, call))
#define TLS __thread __attribute__((tls_model("initial-exec")))

enum { UNDECIDED, ACTIVATING, ON, OFF };
static int state = UNDECIDED;
static TLS int busy;	   /* our own code runs in this thread: interpose nothing */
static TLS int ust_thread; /* a thread of liblttng-ust */
#define IN_VFORK_CHILD 2   /* a bit of busy: this thread is a vfork child's (see vfork) */

static void (*ust_before_fork)(sigset_t *);
static void (*ust_after_fork_parent)(sigset_t *);
static void (*ust_after_fork_child)(sigset_t *);

/* The real functions, found in the libraries after this one. All are resolved in the
 * constructor, before liblttng-ust can be loaded: its threads call some of them while the
 * thread that dlopen()s it holds the loader's lock, which dlsym() would wait for. */
#define REAL_FUNCTIONS(X)                                                                  \
	X(pthread_create) X(socket) X(setsockopt) X(bind) X(listen) X(accept) X(accept4)  \
	X(connect) X(shutdown) X(read) X(write) X(recv) X(send) X(recvfrom) X(sendto)    \
	X(__read_chk) X(__recv_chk) X(readv) X(writev) X(close) X(fclose) X(dup) X(dup2) \
	X(fork) X(posix_spawn) X(posix_spawnp) X(system) X(waitpid) X(wait) X(pipe)      \
	X(pipe2) X(msgget) X(msgsnd) X(msgrcv) X(msgctl) X(shmget) X(shmat) X(shmdt)     \
	X(shmctl) X(mkfifo) X(open) X(open64) X(openat) X(openat64) X(__open_2)          \
	X(__open64_2) X(__openat_2) X(__openat64_2) X(fopen) X(fopen64) X(poll)          \
	X(__poll_chk) X(ppoll) X(__ppoll_chk) X(select) X(pselect) X(sleep) X(usleep)    \
	X(nanosleep)
/* What _FORTIFY_SOURCE compiles some calls as (declared by glibc only under it). */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);
int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen);
#define DECLARE(name) static __typeof__(name) *real_##name;
REAL_FUNCTIONS(DECLARE)
#define RESOLVE(name) *(void **)&real_##name = dlsym(RTLD_NEXT, #name);
static void resolve_all(void)
{
	REAL_FUNCTIONS(RESOLVE)
}
/* Before the constructor (another library's constructor calling in): resolve now. */
#define REAL(name)                   \
	do {                         \
		if (!real_##name)    \
			resolve_all(); \
	} while (0)

/* Should this call fire events? */
static inline int tracing(void)
{
	return __atomic_load_n(&state, __ATOMIC_ACQUIRE) == ON && !busy && !ust_thread;
}

/*
 * The body of every wrapper below: when this thread records and `also` holds (evaluated
 * with the guard up), the entry event, the real call, the result event; else the call
 * alone. Nothing of ours runs with the guard down, and the call starts with the caller's
 * errno and returns with its own. In `result`, r is what the call returned and e its errno.
 */
#define TRACED(also, type, call, entry, result) \
	do {                                    \
		if (!tracing())                 \
			return call;            \
		int e = errno;                  \
		busy = 1;                       \
		if (!(also)) {                  \
			busy = 0;               \
			errno = e;              \
			return call;            \
		}                               \
		entry;                          \
		busy = 0;                       \
		errno = e;                      \
		type r = call;                  \
		e = errno;                      \
		busy = 1;                       \
		result;                         \
		busy = 0;                       \
		errno = e;                      \
		return r;                       \
	} while (0)

/* --- deciding: v6lab program, interpreter, or a program to trace ------------------------ */

static int note_has_v6lab(const char *p, size_t size, size_t align)
{
	const char *end = p + size;
	while (p + 12 <= end) {
		const ElfW(Word) *h = (const ElfW(Word) *)p;
		size_t namesz = h[0], descsz = h[1];
		const char *name = p + 12;
		if (namesz == 6 && name + 6 <= end && memcmp(name, "v6lab", 6) == 0)
			return 1;
		p = name + ((namesz + align - 1) & ~(align - 1));
		p += (descsz + align - 1) & ~(align - 1);
	}
	return 0;
}

/* dl_iterate_phdr's first object is the program itself. */
static int find_marker(struct dl_phdr_info *info, size_t size, void *found)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_NOTE &&
		    note_has_v6lab((const char *)(info->dlpi_addr + ph->p_vaddr), ph->p_memsz,
				   ph->p_align >= 8 ? 8 : 4))
			*(int *)found = 1;
	}
	return 1; /* the program only */
}

static int is_interpreter(void)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return 0;
	exe[n] = '\0';
	const char *base = strrchr(exe, '/');
	base = base ? base + 1 : exe;
	return strncmp(base, "python", 6) == 0 || strncmp(base, "perl", 4) == 0;
}

__attribute__((constructor)) static void decide(void)
{
	int marked = 0;
	resolve_all();
	dl_iterate_phdr(find_marker, &marked);
	if (marked || is_interpreter())
		__atomic_store_n(&state, OFF, __ATOMIC_RELEASE);
}

/* The first socket or IPC object of a process to trace: load the providers (and with them
 * liblttng-ust, which registers with the session daemon before dlopen returns). */
static void activate(void)
{
	int expect = UNDECIDED;
	if (busy || ust_thread ||
	    !__atomic_compare_exchange_n(&state, &expect, ACTIVATING, 0, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return;
	int e = errno;
	busy = 1;
	int ok = 0;
	Dl_info self;
	char path[PATH_MAX];
	if (dladdr((void *)activate, &self) && self.dli_fname) {
		const char *slash = strrchr(self.dli_fname, '/');
		int dirlen = slash ? (int)(slash - self.dli_fname) : 1;
		const char *dir = slash ? self.dli_fname : ".";
		if (snprintf(path, sizeof(path), "%.*s/libv6lab-preload-probes.so", dirlen, dir) <
		    (int)sizeof(path)) {
			void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
			if (h) {
				*(void **)&ust_before_fork = dlsym(h, "lttng_ust_before_fork");
				*(void **)&ust_after_fork_parent = dlsym(h, "lttng_ust_after_fork_parent");
				*(void **)&ust_after_fork_child = dlsym(h, "lttng_ust_after_fork_child");
				ok = ust_before_fork && ust_after_fork_parent && ust_after_fork_child;
			}
		}
	}
	__atomic_store_n(&state, ok ? ON : OFF, __ATOMIC_RELEASE);
	if (ok) /* as v6_set_role() does: scripts/v6trace finds the process by it */
		lttng_ust_tracepoint(v6lab_process, start, ROLE, (int)getpid(), (int)getppid());
	busy = 0;
	errno = e;
}

/* --- lttng-ust's threads ---------------------------------------------------------------- */

struct start {
	void *(*fn)(void *);
	void *arg;
};

static void *ust_thread_start(void *p)
{
	struct start s = *(struct start *)p;
	free(p);
	ust_thread = 1;
	return s.fn(s.arg);
}

/* A thread started from our code (liblttng-ust's initialisation, its fork hooks) or from
 * one of liblttng-ust's threads (its timer thread) is liblttng-ust's. */
int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	REAL(pthread_create);
	struct start *s;
	if ((busy || ust_thread) && (s = malloc(sizeof(*s)))) {
		s->fn = fn;
		s->arg = arg;
		int r = real_pthread_create(t, attr, ust_thread_start, s);
		if (r)
			free(s);
		return r;
	}
	return real_pthread_create(t, attr, fn, arg);
}

/* --- what a descriptor is ---------------------------------------------------------------- */

/* The kind of fd if its I/O is recorded (a socket of the Internet families, a pipe or a
 * FIFO), else -1: terminals, files, Unix sockets (lttng-ust's among them) are not. */
static int recorded_kind(int fd)
{
	int kind = v6lab_tp_fdkind(fd);
	if (kind == V6LAB_TP_FDKIND_PIPE)
		return kind;
	if (kind != V6LAB_TP_FDKIND_SOCKET)
		return -1;
	int domain = 0;
	socklen_t len = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) < 0 ||
	    (domain != AF_INET && domain != AF_INET6))
		return -1;
	return kind;
}

/* The listening sockets of this process (listen() succeeded on them here, or before the
 * fork that made it), below FD_SETSIZE: poll and select are recorded only when they watch
 * one. A mark is confirmed (SO_ACCEPTCONN) when a poll watches it, since a descriptor can
 * be closed where we do not see it (exec, close_range). */
#define WORD_BITS (8 * sizeof(unsigned long))
static unsigned long listening[FD_SETSIZE / WORD_BITS];
static int nlistening; /* marks set: with none, poll and select are not even looked at */

static int marked(int fd)
{
	return fd >= 0 && fd < FD_SETSIZE &&
	       (__atomic_load_n(&listening[fd / WORD_BITS], __ATOMIC_RELAXED) >> (fd % WORD_BITS)) & 1;
}

static void mark(int fd, int on)
{
	if (fd < 0 || fd >= FD_SETSIZE || marked(fd) == !!on)
		return;
	unsigned long bit = 1UL << (fd % WORD_BITS), *word = &listening[fd / WORD_BITS];
	unsigned long old = on ? __atomic_fetch_or(word, bit, __ATOMIC_RELAXED)
			       : __atomic_fetch_and(word, ~bit, __ATOMIC_RELAXED);
	if (!(old & bit) == !!on) /* this call changed it, not another thread's */
		__atomic_add_fetch(&nlistening, on ? 1 : -1, __ATOMIC_RELAXED);
}

/* --- sockets ------------------------------------------------------------------------------ */

int socket(int domain, int type, int protocol)
{
	REAL(socket);
	if (domain == AF_INET || domain == AF_INET6)
		activate();
	TRACED(1, int, real_socket(domain, type, protocol),
	       lttng_ust_tracepoint(v6lab_sockets, socket_entry, ROLE, domain, type, protocol),
	       lttng_ust_tracepoint(v6lab_sockets, socket, ROLE, domain, type, protocol, r,
				    ERR(r < 0, e)));
}

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	REAL(setsockopt);
	TRACED(EITHER(v6lab_sockets, setsockopt) && recorded_kind(fd) >= 0, int,
	       real_setsockopt(fd, level, name, val, len),
	       lttng_ust_tracepoint(v6lab_sockets, setsockopt_entry, ROLE, fd, level, name, len),
	       lttng_ust_tracepoint(v6lab_sockets, setsockopt, ROLE, fd, level, name, r,
				    ERR(r < 0, e)));
}

/* Always looked at (one call a server): its mark is what poll and select go by. */
static void listened(int fd, int backlog, int r, int e)
{
	if (r == 0)
		mark(fd, 1);
	lttng_ust_tracepoint(v6lab_sockets, listen, ROLE, fd, backlog, r, ERR(r < 0, e));
}

int listen(int fd, int backlog)
{
	REAL(listen);
	TRACED(recorded_kind(fd) >= 0, int, real_listen(fd, backlog),
	       lttng_ust_tracepoint(v6lab_sockets, listen_entry, ROLE, fd, backlog),
	       listened(fd, backlog, r, e));
}

int shutdown(int fd, int how)
{
	REAL(shutdown);
	TRACED(EITHER(v6lab_sockets, shutdown) && recorded_kind(fd) >= 0, int,
	       real_shutdown(fd, how),
	       lttng_ust_tracepoint(v6lab_sockets, shutdown_entry, ROLE, fd, how),
	       lttng_ust_tracepoint(v6lab_sockets, shutdown, ROLE, fd, how, r, ERR(r < 0, e)));
}

/* bind and connect: the address asked for, in both events. */
#define ADDR_CALL(name, call)                                                                \
	struct v6lab_tp_addr a = { 0 };                                                      \
	TRACED(EITHER(v6lab_sockets, name) && recorded_kind(fd) >= 0, int, call, {           \
		if (sa)                                                                      \
			v6lab_tp_addr(sa, len, &a);                                          \
		lttng_ust_tracepoint(v6lab_sockets, name##_entry, ROLE, fd, a.family, a.host, \
				     a.port);                                                \
	}, lttng_ust_tracepoint(v6lab_sockets, name, ROLE, fd, a.family, a.host, a.port, r,   \
				ERR(r < 0, e)))

int bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	REAL(bind);
	ADDR_CALL(bind, real_bind(fd, sa, len));
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	REAL(connect);
	ADDR_CALL(connect, real_connect(fd, sa, len));
}

/* accept and accept4: the peer, from getpeername (students often pass no address). */
static void accepted(int fd, int conn, int e)
{
	if (!lttng_ust_tracepoint_enabled(v6lab_sockets, accept))
		return;
	struct v6lab_tp_addr a = { 0 };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	if (conn >= 0 && getpeername(conn, (struct sockaddr *)&ss, &len) == 0)
		v6lab_tp_addr((struct sockaddr *)&ss, len, &a);
	lttng_ust_do_tracepoint(v6lab_sockets, accept, ROLE, fd, conn, a.family, a.host, a.port,
				ERR(conn < 0, e));
}

#define ACCEPT_CALL(call)                                                                  \
	TRACED(EITHER(v6lab_sockets, accept) && recorded_kind(fd) >= 0, int, call,         \
	       lttng_ust_tracepoint(v6lab_sockets, accept_entry, ROLE, fd), accepted(fd, r, e))

int accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	REAL(accept);
	ACCEPT_CALL(real_accept(fd, sa, len));
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	REAL(accept4);
	ACCEPT_CALL(real_accept4(fd, sa, len, flags));
}

/* --- reads and writes: read, recv, recvfrom, readv are read events; write, send, sendto,
 * writev are write events (fd, kind, count, ret, err, tokens of the bytes done) ----------- */

/* Either event of a read (is_read) or of a write enabled: only then is fd looked at. */
static inline int io_enabled(int is_read)
{
	return is_read ? EITHER(v6lab_io, read) : EITHER(v6lab_io, write);
}

static void io_entry(int is_read, int fd, int kind, size_t n)
{
	if (is_read)
		lttng_ust_tracepoint(v6lab_io, read_entry, ROLE, fd, kind, n);
	else
		lttng_ust_tracepoint(v6lab_io, write_entry, ROLE, fd, kind, n);
}

/* The tokens are those of the scan bytes at buf: the bytes done. */
static void io_result(int is_read, int fd, int kind, size_t n, ssize_t r, int e, const void *buf,
		      ssize_t scan)
{
	if (is_read ? !lttng_ust_tracepoint_enabled(v6lab_io, read)
		    : !lttng_ust_tracepoint_enabled(v6lab_io, write))
		return;
	char tokens[V6LAB_TP_TOKENS_MAX];
	int nt = v6lab_tp_tokens(buf, scan, tokens, sizeof(tokens));
	if (is_read)
		lttng_ust_do_tracepoint(v6lab_io, read, ROLE, fd, kind, n, r, ERR(r < 0, e), nt,
					tokens);
	else
		lttng_ust_do_tracepoint(v6lab_io, write, ROLE, fd, kind, n, r, ERR(r < 0, e), nt,
					tokens);
}

/* IO_CALL(is_read, buf, n, call): the events around a call on fd moving n bytes at buf. */
#define IO_CALL(is_read, buf, n, call)                                                   \
	int kind = -1;                                                                   \
	TRACED(io_enabled(is_read) && (kind = recorded_kind(fd)) >= 0, ssize_t, call,   \
	       io_entry(is_read, fd, kind, n), io_result(is_read, fd, kind, n, r, e, buf, r))

ssize_t read(int fd, void *buf, size_t n)
{
	REAL(read);
	IO_CALL(1, buf, n, real_read(fd, buf, n));
}

ssize_t write(int fd, const void *buf, size_t n)
{
	REAL(write);
	IO_CALL(0, buf, n, real_write(fd, buf, n));
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
	REAL(recv);
	IO_CALL(1, buf, n, real_recv(fd, buf, n, flags));
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
	REAL(send);
	IO_CALL(0, buf, n, real_send(fd, buf, n, flags));
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
	REAL(recvfrom);
	IO_CALL(1, buf, n, real_recvfrom(fd, buf, n, flags, sa, len));
}

ssize_t sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *sa,
	       socklen_t len)
{
	REAL(sendto);
	IO_CALL(0, buf, n, real_sendto(fd, buf, n, flags, sa, len));
}

/* With _FORTIFY_SOURCE, read and recv are compiled as these. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	REAL(__read_chk);
	IO_CALL(1, buf, n, real___read_chk(fd, buf, n, buflen));
}

ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags)
{
	REAL(__recv_chk);
	IO_CALL(1, buf, n, real___recv_chk(fd, buf, n, buflen, flags));
}

/* readv and writev: the tokens of the first bytes done (a whole reply fits). */
#define GATHER_MAX 1024
static size_t gather(const struct iovec *iov, int cnt, ssize_t done, char *out)
{
	size_t used = 0;
	for (int i = 0; i < cnt && done > 0 && used < GATHER_MAX; i++) {
		size_t k = iov[i].iov_len;
		if (k > (size_t)done)
			k = (size_t)done;
		if (k > GATHER_MAX - used)
			k = GATHER_MAX - used;
		memcpy(out + used, iov[i].iov_base, k);
		used += k;
		done -= (ssize_t)k;
	}
	return used;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t n = 0;
	for (int i = 0; iov && i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

static void iov_result(int is_read, int fd, int kind, const struct iovec *iov, int cnt,
		       ssize_t r, int e)
{
	char bytes[GATHER_MAX];
	ssize_t got = r > 0 ? (ssize_t)gather(iov, cnt, r, bytes) : 0;
	io_result(is_read, fd, kind, iov_total(iov, cnt), r, e, bytes, got);
}

#define IOV_CALL(is_read, call)                                                          \
	int kind = -1;                                                                   \
	TRACED(io_enabled(is_read) && (kind = recorded_kind(fd)) >= 0, ssize_t, call,   \
	       io_entry(is_read, fd, kind, iov_total(iov, cnt)),                         \
	       iov_result(is_read, fd, kind, iov, cnt, r, e))

ssize_t readv(int fd, const struct iovec *iov, int cnt)
{
	REAL(readv);
	IOV_CALL(1, real_readv(fd, iov, cnt));
}

ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(writev);
	IOV_CALL(0, real_writev(fd, iov, cnt));
}

/* --- close, fclose, dup ------------------------------------------------------------------ */

/* kind: what the descriptor (fd, as the expression which_fd finds it) was, asked before
 * the close. */
#define CLOSE_CALL(which_fd, call)                                                      \
	TRACED(EITHER(v6lab_io, close) && (which_fd) >= 0 && (kind = recorded_kind(fd)) >= 0, \
	       int, call, lttng_ust_tracepoint(v6lab_io, close_entry, ROLE, fd, kind),      \
	       lttng_ust_tracepoint(v6lab_io, close, ROLE, fd, kind, r, ERR(r < 0, e)))

int close(int fd)
{
	REAL(close);
	int kind = -1;
	if (tracing())
		mark(fd, 0);
	CLOSE_CALL(fd, real_close(fd));
}

/* A stream on a socket or pipe (fdopen), or on a FIFO (fopen), closes its descriptor: a
 * close event, though the stream's reads and writes are made inside libc, unseen. */
int fclose(FILE *f)
{
	REAL(fclose);
	int kind = -1, fd = -1;
	CLOSE_CALL(fd = f ? fileno(f) : -1, real_fclose(f));
}

/* dup (newfd -1) and dup2; the new descriptor of a listening socket is one too. */
static void duped(int fd, int kind, int newfd, int r, int e)
{
	if (r >= 0 && r != fd)
		mark(r, marked(fd));
	lttng_ust_tracepoint(v6lab_io, dup, ROLE, fd, kind, newfd, r, ERR(r < 0, e));
}

#define DUP_CALL(newfd, call)                                                             \
	int kind = -1;                                                                    \
	TRACED(EITHER(v6lab_io, dup) && (kind = recorded_kind(fd)) >= 0, int, call,      \
	       lttng_ust_tracepoint(v6lab_io, dup_entry, ROLE, fd, kind, newfd),          \
	       duped(fd, kind, newfd, r, e))

int dup(int fd)
{
	REAL(dup);
	DUP_CALL(-1, real_dup(fd));
}

int dup2(int fd, int newfd)
{
	REAL(dup2);
	DUP_CALL(newfd, real_dup2(fd, newfd));
}

/* --- processes ------------------------------------------------------------------------- */

/* With the UST fork hooks, as liblttng-ust-fork does: without them the child would keep
 * the parent's registration with the session daemon. (The guard stays up across the fork:
 * the hooks and the child's first event are ours.) */
pid_t fork(void)
{
	REAL(fork);
	if (!tracing())
		return real_fork();
	sigset_t sigset;
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_process, fork_entry, ROLE);
	ust_before_fork(&sigset);
	errno = e;
	pid_t pid = real_fork();
	e = errno;
	if (pid == 0) {
		ust_after_fork_child(&sigset);
		lttng_ust_tracepoint(v6lab_process, fork_child, ROLE, (int)getpid(), (int)getppid());
	} else {
		ust_after_fork_parent(&sigset);
		lttng_ust_tracepoint(v6lab_process, fork, ROLE, (int)pid, ERR(pid < 0, e));
	}
	busy = 0;
	errno = e;
	return pid;
}

/* A child that runs another program: posix_spawn, posix_spawnp (the child is made inside
 * libc, which runs nothing of ours in it before its exec), and vfork. */
#define SPAWN_CALL(path, call)                                                          \
	TRACED(1, int, call, lttng_ust_tracepoint(v6lab_process, spawn_entry, ROLE, path), \
	       lttng_ust_tracepoint(v6lab_process, spawn, ROLE, path, r == 0 ? (int)*pid : -1, r))

int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *actions,
		const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	REAL(posix_spawn);
	pid_t child;
	if (!pid) /* the event names the child even if the caller does not ask for it */
		pid = &child;
	SPAWN_CALL(path, real_posix_spawn(pid, path, actions, attr, argv, envp));
}

int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *actions,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	REAL(posix_spawnp);
	pid_t child;
	if (!pid)
		pid = &child;
	SPAWN_CALL(file, real_posix_spawnp(pid, file, actions, attr, argv, envp));
}

#if defined(__x86_64__)
/*
 * vfork: until it execs or exits, the child runs in the parent's memory, on its stack, with
 * this thread's TLS: nothing of ours may fire there (the events would carry the parent's
 * vpid, into its buffers), so the guard is raised in the child and lowered in the parent
 * when it resumes. It cannot be a C function around the real vfork, which the child
 * returns from first and whose frame its next calls overwrite; as glibc's vfork.S does, the
 * return address is kept in a register across the system call.
 */
void v6lab_vfork_begin(void) __attribute__((visibility("hidden"), used));
pid_t v6lab_vfork_end(long r) __attribute__((visibility("hidden"), used));

void v6lab_vfork_begin(void)
{
	if (!tracing())
		return;
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_process, spawn_entry, ROLE, "-");
	busy = 0;
	errno = e;
}

/* r: the system call's result (the child's pid, 0 in the child, -errno). */
pid_t v6lab_vfork_end(long r)
{
	if (r == 0) {
		busy |= IN_VFORK_CHILD;
		return 0;
	}
	busy &= ~IN_VFORK_CHILD;
	if (r < 0) {
		errno = (int)-r;
		r = -1;
	}
	if (tracing()) {
		int e = errno;
		busy = 1;
		lttng_ust_tracepoint(v6lab_process, spawn, ROLE, "-", (int)r, ERR(r < 0, e));
		busy = 0;
		errno = e;
	}
	return (pid_t)r;
}

#define STR(x) #x
#define XSTR(x) STR(x)
#ifdef __CET__
#define ENDBR "endbr64\n\t"
#else
#define ENDBR ""
#endif
__asm__(".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n\t" ENDBR
	"sub $8, %rsp\n\t" /* the stack aligned for a call */
	"call v6lab_vfork_begin\n\t"
	"add $8, %rsp\n\t"
	"pop %rdi\n\t" /* the return address, out of the child's way */
	"mov $" XSTR(__NR_vfork) ", %eax\n\t"
	"syscall\n\t"
	"push %rdi\n\t"
	"mov %rax, %rdi\n\t"
	"jmp v6lab_vfork_end\n"
	".size vfork, .-vfork\n");
#endif

int system(const char *command)
{
	REAL(system);
	TRACED(1, int, real_system(command),
	       lttng_ust_tracepoint(v6lab_process, system_entry, ROLE, command),
	       lttng_ust_tracepoint(v6lab_process, system, ROLE, command, r, ERR(r < 0, e)));
}

/* status: what waitpid wrote, if it reaped a child (0 otherwise), as Waitpid() records. */
static void waited(pid_t pid, int options, pid_t r, const int *status, int e)
{
	int st = status && r > 0 ? *status : 0;
	lttng_ust_tracepoint(v6lab_process, waitpid, ROLE, (int)pid, options, (int)r, st,
			     ERR(r < 0, e));
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	REAL(waitpid);
	TRACED(1, pid_t, real_waitpid(pid, status, options),
	       lttng_ust_tracepoint(v6lab_process, waitpid_entry, ROLE, (int)pid, options),
	       waited(pid, options, r, status, e));
}

/* wait(s) is waitpid(-1, s, 0), and recorded as that. */
pid_t wait(int *status)
{
	REAL(wait);
	TRACED(1, pid_t, real_wait(status),
	       lttng_ust_tracepoint(v6lab_process, waitpid_entry, ROLE, -1, 0),
	       waited(-1, 0, r, status, e));
}

/* --- pipes and the System V queue ----------------------------------------------------- */

#define PIPE_CALL(call)                                                                  \
	TRACED(1, int, call, lttng_ust_tracepoint(v6lab_ipc, pipe_entry, ROLE),          \
	       lttng_ust_tracepoint(v6lab_ipc, pipe, ROLE, r == 0 ? fds[0] : -1,          \
				    r == 0 ? fds[1] : -1, r, ERR(r < 0, e)))

int pipe(int fds[2])
{
	REAL(pipe);
	PIPE_CALL(real_pipe(fds));
}

int pipe2(int fds[2], int flags)
{
	REAL(pipe2);
	PIPE_CALL(real_pipe2(fds, flags));
}

int msgget(key_t key, int flags)
{
	REAL(msgget);
	activate();
	TRACED(1, int, real_msgget(key, flags),
	       lttng_ust_tracepoint(v6lab_ipc, msgget_entry, ROLE, (int)key, flags),
	       lttng_ust_tracepoint(v6lab_ipc, msgget, ROLE, (int)key, flags, r,
				    v6lab_tp_msgget_outcome((int)key, flags, r), ERR(r < 0, e)));
}

/* A message: the long mtype, then the text (msgsz counts the text only). */
#define MSG_TYPE(msg) ((msg) ? *(const long *)(msg) : 0L)
#define MSG_TEXT(msg) ((const char *)(msg) + sizeof(long))

static void sent(int id, const void *msg, size_t size, int r, int e)
{
	if (!lttng_ust_tracepoint_enabled(v6lab_ipc, msgsnd))
		return;
	char tokens[V6LAB_TP_TOKENS_MAX];
	int nt = v6lab_tp_tokens(msg && r == 0 ? MSG_TEXT(msg) : "", msg && r == 0 ? (ssize_t)size : 0,
				 tokens, sizeof(tokens));
	lttng_ust_do_tracepoint(v6lab_ipc, msgsnd, ROLE, id, MSG_TYPE(msg), size, r, ERR(r < 0, e),
				nt, tokens);
}

int msgsnd(int id, const void *msg, size_t size, int flags)
{
	REAL(msgsnd);
	TRACED(1, int, real_msgsnd(id, msg, size, flags),
	       lttng_ust_tracepoint(v6lab_ipc, msgsnd_entry, ROLE, id, MSG_TYPE(msg), size, flags),
	       sent(id, msg, size, r, e));
}

static void received(int id, const void *msg, size_t size, long type, ssize_t r, int e)
{
	if (!lttng_ust_tracepoint_enabled(v6lab_ipc, msgrcv))
		return;
	char tokens[V6LAB_TP_TOKENS_MAX];
	int nt = v6lab_tp_tokens(r >= 0 ? MSG_TEXT(msg) : "", r, tokens, sizeof(tokens));
	lttng_ust_do_tracepoint(v6lab_ipc, msgrcv, ROLE, id, size, type, r >= 0 ? MSG_TYPE(msg) : 0L,
				r, ERR(r < 0, e), nt, tokens);
}

ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	REAL(msgrcv);
	TRACED(1, ssize_t, real_msgrcv(id, msg, size, type, flags),
	       lttng_ust_tracepoint(v6lab_ipc, msgrcv_entry, ROLE, id, size, type, flags),
	       received(id, msg, size, type, r, e));
}

int msgctl(int id, int cmd, struct msqid_ds *buf)
{
	REAL(msgctl);
	TRACED(1, int, real_msgctl(id, cmd, buf),
	       lttng_ust_tracepoint(v6lab_ipc, msgctl_entry, ROLE, id, cmd),
	       lttng_ust_tracepoint(v6lab_ipc, msgctl, ROLE, id, cmd, r, ERR(r < 0, e)));
}

/* --- what students used instead: shared memory and FIFOs ------------------------------ */

int shmget(key_t key, size_t size, int flags)
{
	REAL(shmget);
	activate();
	TRACED(1, int, real_shmget(key, size, flags),
	       lttng_ust_tracepoint(v6lab_ipc, shmget_entry, ROLE, (int)key, size, flags),
	       lttng_ust_tracepoint(v6lab_ipc, shmget, ROLE, (int)key, size, flags, r,
				    v6lab_tp_msgget_outcome((int)key, flags, r), ERR(r < 0, e)));
}

/* ret: 0 attached, -1 on error (the address means nothing in a trace). */
void *shmat(int id, const void *addr, int flags)
{
	REAL(shmat);
	TRACED(1, void *, real_shmat(id, addr, flags),
	       lttng_ust_tracepoint(v6lab_ipc, shmat_entry, ROLE, id, flags),
	       lttng_ust_tracepoint(v6lab_ipc, shmat, ROLE, id, flags, r == (void *)-1 ? -1 : 0,
				    ERR(r == (void *)-1, e)));
}

int shmdt(const void *addr)
{
	REAL(shmdt);
	TRACED(1, int, real_shmdt(addr), lttng_ust_tracepoint(v6lab_ipc, shmdt_entry, ROLE),
	       lttng_ust_tracepoint(v6lab_ipc, shmdt, ROLE, r, ERR(r < 0, e)));
}

int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	REAL(shmctl);
	TRACED(1, int, real_shmctl(id, cmd, buf),
	       lttng_ust_tracepoint(v6lab_ipc, shmctl_entry, ROLE, id, cmd),
	       lttng_ust_tracepoint(v6lab_ipc, shmctl, ROLE, id, cmd, r, ERR(r < 0, e)));
}

int mkfifo(const char *path, mode_t mode)
{
	REAL(mkfifo);
	activate();
	TRACED(1, int, real_mkfifo(path, mode),
	       lttng_ust_tracepoint(v6lab_ipc, mkfifo_entry, ROLE, path, (unsigned int)mode),
	       lttng_ust_tracepoint(v6lab_ipc, mkfifo, ROLE, path, (unsigned int)mode, r,
				    ERR(r < 0, e)));
}

/* Opening a FIFO: open, openat, their 64 and _FORTIFY_SOURCE forms, fopen. Is path (from
 * dirfd) a FIFO? Asked before the open, which waits for the other end. A FIFO makes a
 * process that records nothing yet start, as mkfifo does. */
static int opens_fifo(int dirfd, const char *path)
{
	struct stat st;
	if (!path || busy || ust_thread || __atomic_load_n(&state, __ATOMIC_ACQUIRE) == OFF)
		return 0;
	int e = errno;
	int fifo = fstatat(dirfd, path, &st, 0) == 0 && S_ISFIFO(st.st_mode);
	errno = e;
	if (fifo)
		activate();
	return fifo;
}

/* ino: the FIFO's inode, the same at both ends whatever path each used. */
static void fifo_opened(const char *path, int flags, int fd, int e)
{
	struct stat st;
	uint64_t ino = fd >= 0 && fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
	lttng_ust_tracepoint(v6lab_ipc, fifo_open, ROLE, path, flags, fd, ino, ERR(fd < 0, e));
}

/* FIFO_OPEN(type, dirfd, flags, call, fd): the events around call, which opens path and
 * returns a type from which the expression fd (of r) gets the descriptor. */
#define FIFO_OPEN(type, dirfd, flags, call, fd)                                           \
	do {                                                                              \
		int fifo_ = opens_fifo(dirfd, path);                                      \
		int flags_ = fifo_ ? (flags) : 0;                                         \
		TRACED(fifo_ && EITHER(v6lab_ipc, fifo_open), type, call,                 \
		       lttng_ust_tracepoint(v6lab_ipc, fifo_open_entry, ROLE, path, flags_), \
		       fifo_opened(path, flags_, fd, e));                                 \
	} while (0)
#define OPEN_CALL(dirfd, call) FIFO_OPEN(int, dirfd, flags, call, r)
#define FOPEN_CALL(call) FIFO_OPEN(FILE *, AT_FDCWD, fopen_flags(mode), call, r ? fileno(r) : -1)

/* open's third argument: there only when the flags can create a file. */
#define OPEN_MODE(flags)                                                      \
	mode_t mode = 0;                                                      \
	if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) {        \
		va_list ap;                                                   \
		va_start(ap, flags);                                          \
		mode = (mode_t)va_arg(ap, int);                               \
		va_end(ap);                                                   \
	}

int open(const char *path, int flags, ...)
{
	REAL(open);
	OPEN_MODE(flags);
	OPEN_CALL(AT_FDCWD, real_open(path, flags, mode));
}

int open64(const char *path, int flags, ...)
{
	REAL(open64);
	OPEN_MODE(flags);
	OPEN_CALL(AT_FDCWD, real_open64(path, flags, mode));
}

int openat(int dirfd, const char *path, int flags, ...)
{
	REAL(openat);
	OPEN_MODE(flags);
	OPEN_CALL(dirfd, real_openat(dirfd, path, flags, mode));
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	REAL(openat64);
	OPEN_MODE(flags);
	OPEN_CALL(dirfd, real_openat64(dirfd, path, flags, mode));
}

/* With _FORTIFY_SOURCE, an open whose flags are not known at compile time. */
int __open_2(const char *path, int flags)
{
	REAL(__open_2);
	OPEN_CALL(AT_FDCWD, real___open_2(path, flags));
}

int __open64_2(const char *path, int flags)
{
	REAL(__open64_2);
	OPEN_CALL(AT_FDCWD, real___open64_2(path, flags));
}

int __openat_2(int dirfd, const char *path, int flags)
{
	REAL(__openat_2);
	OPEN_CALL(dirfd, real___openat_2(dirfd, path, flags));
}

int __openat64_2(int dirfd, const char *path, int flags)
{
	REAL(__openat64_2);
	OPEN_CALL(dirfd, real___openat64_2(dirfd, path, flags));
}

/* fopen's mode as the open flags it stands for. */
static int fopen_flags(const char *mode)
{
	int rw = mode && strchr(mode, '+');
	switch (mode ? mode[0] : 'r') {
	case 'w':
		return (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
	case 'a':
		return (rw ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
	default:
		return rw ? O_RDWR : O_RDONLY;
	}
}

FILE *fopen(const char *path, const char *mode)
{
	REAL(fopen);
	FOPEN_CALL(real_fopen(path, mode));
}

FILE *fopen64(const char *path, const char *mode)
{
	REAL(fopen64);
	FOPEN_CALL(real_fopen64(path, mode));
}

/* --- waiting on a listening socket: poll, ppoll, select, pselect -------------------------- */

/* The listeners a call watches (a student's server has one or two). */
#define WATCHED_MAX 8
struct watched {
	int call, nfds, n;
	int64_t timeout_us;
	int fd[WATCHED_MAX];
	int ready[WATCHED_MAX]; /* readable when the call returned: a connection waits */
};

static int watch_start(struct watched *w, int call, int nfds, int64_t timeout_us)
{
	w->call = call;
	w->nfds = nfds;
	w->n = 0;
	w->timeout_us = timeout_us;
	return __atomic_load_n(&nlistening, __ATOMIC_RELAXED) > 0 && EITHER(v6lab_sockets, poll);
}

static void watch(struct watched *w, int fd)
{
	int yes = 0;
	socklen_t len = sizeof(yes);
	for (int k = 0; k < w->n; k++)
		if (w->fd[k] == fd)
			return;
	if (w->n < WATCHED_MAX && marked(fd) &&
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &yes, &len) == 0 && yes) {
		w->ready[w->n] = 0;
		w->fd[w->n++] = fd;
	}
}

/* "3,4": the listeners watched, or only those ready. */
static void fd_list(const struct watched *w, int only_ready, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (int k = 0; k < w->n && used < size; k++)
		if (!only_ready || w->ready[k])
			used += (size_t)snprintf(out + used, size - used, "%s%d", used ? "," : "",
						 w->fd[k]);
}

#define FD_LIST_MAX (WATCHED_MAX * 6) /* "1023," each */

static void polling(const struct watched *w)
{
	char list[FD_LIST_MAX];
	fd_list(w, 0, list, sizeof(list));
	lttng_ust_tracepoint(v6lab_sockets, poll_entry, ROLE, w->call, w->nfds, list, w->timeout_us);
}

static void polled(const struct watched *w, int r, int e)
{
	if (!lttng_ust_tracepoint_enabled(v6lab_sockets, poll))
		return;
	char list[FD_LIST_MAX], ready[FD_LIST_MAX];
	fd_list(w, 0, list, sizeof(list));
	fd_list(w, 1, ready, sizeof(ready));
	lttng_ust_do_tracepoint(v6lab_sockets, poll, ROLE, w->call, w->nfds, list, w->timeout_us, r,
				ready, ERR(r < 0, e));
}

/* Never more than FD_SETSIZE entries are read (no student's server watches more). */
static int poll_watches(struct watched *w, int call, const struct pollfd *fds, nfds_t n,
			int64_t timeout_us)
{
	if (!watch_start(w, call, (int)n, timeout_us) || !fds || n > FD_SETSIZE)
		return 0;
	for (nfds_t i = 0; i < n; i++)
		if (marked(fds[i].fd))
			watch(w, fds[i].fd);
	return w->n;
}

static void poll_result(struct watched *w, const struct pollfd *fds, nfds_t n, int r, int e)
{
	for (nfds_t i = 0; r > 0 && i < n; i++)
		for (int k = 0; k < w->n; k++)
			if (fds[i].fd == w->fd[k] && fds[i].revents & POLLIN)
				w->ready[k] = 1;
	polled(w, r, e);
}

static int64_t ms_us(int ms)
{
	return ms < 0 ? -1 : (int64_t)ms * 1000;
}

static int64_t ts_us(const struct timespec *ts)
{
	return ts ? (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000 : -1;
}

static int64_t tv_us(const struct timeval *tv)
{
	return tv ? (int64_t)tv->tv_sec * 1000000 + tv->tv_usec : -1;
}

/* POLL_CALL(which, timeout_us, call): the events of call, a poll of fds[0..n). */
#define POLL_CALL(which, timeout_us, call)                                                \
	struct watched w;                                                                 \
	TRACED(poll_watches(&w, which, fds, n, timeout_us), int, call, polling(&w),       \
	       poll_result(&w, fds, n, r, e))

int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	REAL(poll);
	POLL_CALL(V6LAB_TP_POLL, ms_us(timeout), real_poll(fds, n, timeout));
}

int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	REAL(__poll_chk);
	POLL_CALL(V6LAB_TP_POLL, ms_us(timeout), real___poll_chk(fds, n, timeout, fdslen));
}

int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	REAL(ppoll);
	POLL_CALL(V6LAB_TP_PPOLL, ts_us(ts), real_ppoll(fds, n, ts, mask));
}

int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
		size_t fdslen)
{
	REAL(__ppoll_chk);
	POLL_CALL(V6LAB_TP_PPOLL, ts_us(ts), real___ppoll_chk(fds, n, ts, mask, fdslen));
}

/* The listeners among the first nfds descriptors of rd (select watches them for reading). */
static int select_watches(struct watched *w, int call, int nfds, const fd_set *rd,
			  int64_t timeout_us)
{
	if (!watch_start(w, call, nfds, timeout_us) || !rd)
		return 0;
	for (int fd = 0; fd < nfds && fd < FD_SETSIZE; fd++)
		if (marked(fd) && FD_ISSET(fd, rd))
			watch(w, fd);
	return w->n;
}

static void select_result(struct watched *w, const fd_set *rd, int r, int e)
{
	for (int k = 0; r > 0 && k < w->n; k++)
		w->ready[k] = !!FD_ISSET(w->fd[k], rd);
	polled(w, r, e);
}

/* The timeout is read before the call (select may change it). */
#define SELECT_CALL(which, timeout_us, call)                                              \
	struct watched w;                                                                 \
	TRACED(select_watches(&w, which, nfds, rd, timeout_us), int, call, polling(&w),   \
	       select_result(&w, rd, r, e))

int select(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, struct timeval *tv)
{
	REAL(select);
	SELECT_CALL(V6LAB_TP_SELECT, tv_us(tv), real_select(nfds, rd, wr, ex, tv));
}

int pselect(int nfds, fd_set *rd, fd_set *wr, fd_set *ex, const struct timespec *ts,
	    const sigset_t *mask)
{
	REAL(pselect);
	SELECT_CALL(V6LAB_TP_PSELECT, ts_us(ts), real_pselect(nfds, rd, wr, ex, ts, mask));
}

/* --- sleeping (the seed's "concurrent" server slept before each accept) ----------------- */

/* usec: the time asked for; ret: the call's (sleep: the seconds left). */
#define SLEEP_CALL(type, usec, call)                                                     \
	TRACED(1, type, call, lttng_ust_tracepoint(v6lab_process, sleep_entry, ROLE, usec), \
	       lttng_ust_tracepoint(v6lab_process, sleep, ROLE, usec, (int)r,             \
				    ERR((int)r < 0, e)))

unsigned int sleep(unsigned int s)
{
	REAL(sleep);
	SLEEP_CALL(unsigned int, (uint64_t)s * 1000000, real_sleep(s));
}

int usleep(useconds_t us)
{
	REAL(usleep);
	SLEEP_CALL(int, (uint64_t)us, real_usleep(us));
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	REAL(nanosleep);
	SLEEP_CALL(int, req ? (uint64_t)req->tv_sec * 1000000 + (uint64_t)req->tv_nsec / 1000 : 0,
		   real_nanosleep(req, rem));
}
