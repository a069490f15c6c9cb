/* SPDX-License-Identifier: MIT */
/*
 * libv6lab-preload.so: the v6lab events for a program that has no wrappers (a student's),
 * by LD_PRELOAD. Each libc call below is interposed, as lttng-ust's own
 * liblttng-ust-libc-wrapper and liblttng-ust-fork do: the real call is found with
 * dlsym(RTLD_NEXT) and made between the same X_entry and X events, with the same fields,
 * as src/lib/wrap.c fires (role "other"), so every analysis reads both alike.
 *
 * What keeps it out of the way (trace/README.md, "Programs without wrappers"):
 *  - Silent until the process makes its first IPv4/IPv6 socket, System V queue or
 *    segment, or FIFO (mkfifo): shells, timeout and the tools of a command line never get that far,
 *    and stay as they were (not even liblttng-ust is loaded in them). Only then is
 *    libv6lab-preload-probes.so (the providers, linked to liblttng-ust) dlopen'ed, a
 *    start event names the process, and the events fire from that call on.
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
 *    errno is saved before the events and restored after them.
 * Never built with the sanitizers (it is preloaded into programs that have none).
 */
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

static void (*ust_before_fork)(sigset_t *);
static void (*ust_after_fork_parent)(sigset_t *);
static void (*ust_after_fork_child)(sigset_t *);

/* The real functions, found in the libraries after this one. All are resolved in the
 * constructor, before liblttng-ust can be loaded: its threads call some of them while the
 * thread that dlopen()s it holds the loader's lock, which dlsym() would wait for. */
#define REAL_FUNCTIONS(X)                                                                 \
	X(pthread_create) X(socket) X(setsockopt) X(bind) X(listen) X(accept) X(accept4) \
	X(connect) X(shutdown) X(read) X(write) X(recv) X(send) X(recvfrom) X(sendto)   \
	X(__read_chk) X(__recv_chk) X(readv) X(writev) X(close) X(dup) X(dup2) X(fork)  \
	X(waitpid) X(wait) X(pipe) X(pipe2) X(msgget) X(msgsnd) X(msgrcv) X(msgctl)   \
	X(shmget) X(shmat) X(shmdt) X(shmctl) X(mkfifo) X(sleep) X(usleep) X(nanosleep)
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
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

/* --- sockets ------------------------------------------------------------------------------ */

int socket(int domain, int type, int protocol)
{
	REAL(socket);
	if (domain == AF_INET || domain == AF_INET6)
		activate();
	if (!tracing())
		return real_socket(domain, type, protocol);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_sockets, socket_entry, ROLE, domain, type, protocol);
	busy = 0;
	errno = e0;
	int fd = real_socket(domain, type, protocol);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_sockets, socket, ROLE, domain, type, protocol, fd, ERR(fd < 0, e));
	busy = 0;
	errno = e;
	return fd;
}

/* The events of a call on fd that returns int: FD_CALL(prov, name, real call, fields...)
 * fires name_entry(role, fd, fields...) and name(role, fd, fields..., ret, err), when fd is
 * a socket of ours. */
#define FD_CALL(prov, name, call, ...)                                                   \
	do {                                                                             \
		if (!tracing() || !EITHER(prov, name) || recorded_kind(fd) < 0)           \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		lttng_ust_tracepoint(prov, name##_entry, ROLE, fd, __VA_ARGS__);         \
		busy = 0;                                                                \
		errno = e0;                                                              \
		int r = call;                                                            \
		int e = errno;                                                           \
		busy = 1;                                                                \
		lttng_ust_tracepoint(prov, name, ROLE, fd, __VA_ARGS__, r, ERR(r < 0, e)); \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

int setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	REAL(setsockopt);
	if (!tracing() || !EITHER(v6lab_sockets, setsockopt) || recorded_kind(fd) < 0)
		return real_setsockopt(fd, level, name, val, len);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_sockets, setsockopt_entry, ROLE, fd, level, name, len);
	busy = 0;
	errno = e0;
	int r = real_setsockopt(fd, level, name, val, len);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_sockets, setsockopt, ROLE, fd, level, name, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

int listen(int fd, int backlog)
{
	REAL(listen);
	FD_CALL(v6lab_sockets, listen, real_listen(fd, backlog), backlog);
}

int shutdown(int fd, int how)
{
	REAL(shutdown);
	FD_CALL(v6lab_sockets, shutdown, real_shutdown(fd, how), how);
}

/* bind and connect: the address asked for, in both events. */
#define ADDR_CALL(name, call)                                                            \
	do {                                                                             \
		if (!tracing() || !EITHER(v6lab_sockets, name) || recorded_kind(fd) < 0)  \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		struct v6lab_tp_addr a = { 0 };                                          \
		if (sa)                                                                  \
			v6lab_tp_addr(sa, len, &a);                                      \
		lttng_ust_tracepoint(v6lab_sockets, name##_entry, ROLE, fd, a.family, a.host, \
				     a.port);                                            \
		busy = 0;                                                                \
		errno = e0;                                                              \
		int r = call;                                                            \
		int e = errno;                                                           \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_sockets, name, ROLE, fd, a.family, a.host, a.port, r, \
				     ERR(r < 0, e));                                     \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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
static int accepted(int fd, int conn, int e)
{
	if (lttng_ust_tracepoint_enabled(v6lab_sockets, accept)) {
		struct v6lab_tp_addr a = { 0 };
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		if (conn >= 0 && getpeername(conn, (struct sockaddr *)&ss, &len) == 0)
			v6lab_tp_addr((struct sockaddr *)&ss, len, &a);
		lttng_ust_do_tracepoint(v6lab_sockets, accept, ROLE, fd, conn, a.family, a.host,
					a.port, ERR(conn < 0, e));
	}
	return conn;
}

#define ACCEPT_CALL(call)                                                                \
	do {                                                                             \
		if (!tracing() || !EITHER(v6lab_sockets, accept) || recorded_kind(fd) < 0) \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_sockets, accept_entry, ROLE, fd);             \
		busy = 0;                                                                \
		errno = e0;                                                              \
		int conn = call;                                                         \
		int e = errno;                                                           \
		busy = 1;                                                                \
		accepted(fd, conn, e);                                                   \
		busy = 0;                                                                \
		errno = e;                                                               \
		return conn;                                                             \
	} while (0)

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
	do {                                                                             \
		int kind;                                                                \
		if (!tracing() || !io_enabled(is_read) || (kind = recorded_kind(fd)) < 0) \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		io_entry(is_read, fd, kind, n);                                          \
		busy = 0;                                                                \
		errno = e0;                                                              \
		ssize_t r = call;                                                        \
		int e = errno;                                                           \
		busy = 1;                                                                \
		io_result(is_read, fd, kind, n, r, e, buf, r);                              \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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

#define IOV_CALL(is_read, call)                                                          \
	do {                                                                             \
		int kind;                                                                \
		if (!tracing() || !io_enabled(is_read) || (kind = recorded_kind(fd)) < 0) \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		size_t n = iov_total(iov, cnt);                                          \
		io_entry(is_read, fd, kind, n);                                          \
		busy = 0;                                                                \
		errno = e0;                                                              \
		ssize_t r = call;                                                        \
		int e = errno;                                                           \
		busy = 1;                                                                \
		char bytes[GATHER_MAX];                                                  \
		ssize_t got = r > 0 ? (ssize_t)gather(iov, cnt, r, bytes) : 0;           \
		io_result(is_read, fd, kind, n, r, e, bytes, got);                       \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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

/* --- close, dup ------------------------------------------------------------------------ */

int close(int fd)
{
	REAL(close);
	int kind;
	/* What fd was: asked before the close. */
	if (!tracing() || !EITHER(v6lab_io, close) || (kind = recorded_kind(fd)) < 0)
		return real_close(fd);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_io, close_entry, ROLE, fd, kind);
	busy = 0;
	errno = e0;
	int r = real_close(fd);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_io, close, ROLE, fd, kind, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

#define DUP_CALL(newfd, call)                                                            \
	do {                                                                             \
		int kind;                                                                \
		if (!tracing() || !EITHER(v6lab_io, dup) || (kind = recorded_kind(fd)) < 0) \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_io, dup_entry, ROLE, fd, kind, newfd);        \
		busy = 0;                                                                \
		errno = e0;                                                              \
		int r = call;                                                            \
		int e = errno;                                                           \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_io, dup, ROLE, fd, kind, newfd, r, ERR(r < 0, e)); \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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
 * the parent's registration with the session daemon. */
pid_t fork(void)
{
	REAL(fork);
	if (!tracing())
		return real_fork();
	sigset_t sigset;
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_process, fork_entry, ROLE);
	ust_before_fork(&sigset);
	errno = e0;
	pid_t pid = real_fork();
	int e = errno;
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

/* status: what waitpid wrote, if it reaped a child (0 otherwise), as Waitpid() records. */
static pid_t traced_wait(pid_t pid, int *status, int options, pid_t (*call)(pid_t, int *, int))
{
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_process, waitpid_entry, ROLE, (int)pid, options);
	busy = 0;
	errno = e0;
	pid_t r = call(pid, status, options);
	int e = errno;
	busy = 1;
	int st = status && r > 0 ? *status : 0;
	lttng_ust_tracepoint(v6lab_process, waitpid, ROLE, (int)pid, options, (int)r, st,
			     ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	REAL(waitpid);
	if (!tracing())
		return real_waitpid(pid, status, options);
	return traced_wait(pid, status, options, real_waitpid);
}

/* wait(s) is waitpid(-1, s, 0), and recorded as that. */
static pid_t wait_as_waitpid(pid_t pid, int *status, int options)
{
	REAL(wait);
	(void)pid;
	(void)options;
	return real_wait(status);
}

pid_t wait(int *status)
{
	if (!tracing()) {
		REAL(wait);
		return real_wait(status);
	}
	return traced_wait(-1, status, 0, wait_as_waitpid);
}

/* --- pipes and the System V queue ----------------------------------------------------- */

#define PIPE_CALL(call)                                                                  \
	do {                                                                             \
		if (!tracing())                                                          \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_ipc, pipe_entry, ROLE);                       \
		busy = 0;                                                                \
		errno = e0;                                                              \
		int r = call;                                                            \
		int e = errno;                                                           \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_ipc, pipe, ROLE, r == 0 ? fds[0] : -1,         \
				     r == 0 ? fds[1] : -1, r, ERR(r < 0, e));            \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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
	if (!tracing())
		return real_msgget(key, flags);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, msgget_entry, ROLE, (int)key, flags);
	busy = 0;
	errno = e0;
	int id = real_msgget(key, flags);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, msgget, ROLE, (int)key, flags, id,
			     v6lab_tp_msgget_outcome((int)key, flags, id), ERR(id < 0, e));
	busy = 0;
	errno = e;
	return id;
}

/* The text of a message: after the long mtype (msgsz counts the text only). */
#define MSG_TEXT(msg) ((const char *)(msg) + sizeof(long))

int msgsnd(int id, const void *msg, size_t size, int flags)
{
	REAL(msgsnd);
	if (!tracing())
		return real_msgsnd(id, msg, size, flags);
	int e0 = errno;
	busy = 1;
	long mtype = msg ? *(const long *)msg : 0;
	lttng_ust_tracepoint(v6lab_ipc, msgsnd_entry, ROLE, id, mtype, size, flags);
	busy = 0;
	errno = e0;
	int r = real_msgsnd(id, msg, size, flags);
	int e = errno;
	busy = 1;
	if (lttng_ust_tracepoint_enabled(v6lab_ipc, msgsnd)) {
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = msg && r == 0 ? v6lab_tp_tokens(MSG_TEXT(msg), (ssize_t)size, tokens,
							 sizeof(tokens))
				       : v6lab_tp_tokens("", 0, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_ipc, msgsnd, ROLE, id, mtype, size, r, ERR(r < 0, e),
					nt, tokens);
	}
	busy = 0;
	errno = e;
	return r;
}

ssize_t msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	REAL(msgrcv);
	if (!tracing())
		return real_msgrcv(id, msg, size, type, flags);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, msgrcv_entry, ROLE, id, size, type, flags);
	busy = 0;
	errno = e0;
	ssize_t r = real_msgrcv(id, msg, size, type, flags);
	int e = errno;
	busy = 1;
	if (lttng_ust_tracepoint_enabled(v6lab_ipc, msgrcv)) {
		char tokens[V6LAB_TP_TOKENS_MAX];
		int nt = v6lab_tp_tokens(r >= 0 ? MSG_TEXT(msg) : "", r, tokens, sizeof(tokens));
		lttng_ust_do_tracepoint(v6lab_ipc, msgrcv, ROLE, id, size, type,
					r >= 0 ? *(const long *)msg : 0L, r, ERR(r < 0, e), nt,
					tokens);
	}
	busy = 0;
	errno = e;
	return r;
}

int msgctl(int id, int cmd, struct msqid_ds *buf)
{
	REAL(msgctl);
	if (!tracing())
		return real_msgctl(id, cmd, buf);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, msgctl_entry, ROLE, id, cmd);
	busy = 0;
	errno = e0;
	int r = real_msgctl(id, cmd, buf);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, msgctl, ROLE, id, cmd, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

/* --- what students used instead: shared memory and FIFOs ------------------------------ */

int shmget(key_t key, size_t size, int flags)
{
	REAL(shmget);
	activate();
	if (!tracing())
		return real_shmget(key, size, flags);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmget_entry, ROLE, (int)key, size, flags);
	busy = 0;
	errno = e0;
	int id = real_shmget(key, size, flags);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmget, ROLE, (int)key, size, flags, id,
			     v6lab_tp_msgget_outcome((int)key, flags, id), ERR(id < 0, e));
	busy = 0;
	errno = e;
	return id;
}

void *shmat(int id, const void *addr, int flags)
{
	REAL(shmat);
	if (!tracing())
		return real_shmat(id, addr, flags);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmat_entry, ROLE, id, flags);
	busy = 0;
	errno = e0;
	void *r = real_shmat(id, addr, flags);
	int e = errno;
	int failed = r == (void *)-1;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmat, ROLE, id, flags, failed ? -1 : 0, ERR(failed, e));
	busy = 0;
	errno = e;
	return r;
}

int shmdt(const void *addr)
{
	REAL(shmdt);
	if (!tracing())
		return real_shmdt(addr);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmdt_entry, ROLE);
	busy = 0;
	errno = e0;
	int r = real_shmdt(addr);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmdt, ROLE, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	REAL(shmctl);
	if (!tracing())
		return real_shmctl(id, cmd, buf);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmctl_entry, ROLE, id, cmd);
	busy = 0;
	errno = e0;
	int r = real_shmctl(id, cmd, buf);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, shmctl, ROLE, id, cmd, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

int mkfifo(const char *path, mode_t mode)
{
	REAL(mkfifo);
	activate();
	if (!tracing())
		return real_mkfifo(path, mode);
	int e0 = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, mkfifo_entry, ROLE, path, (unsigned int)mode);
	busy = 0;
	errno = e0;
	int r = real_mkfifo(path, mode);
	int e = errno;
	busy = 1;
	lttng_ust_tracepoint(v6lab_ipc, mkfifo, ROLE, path, (unsigned int)mode, r, ERR(r < 0, e));
	busy = 0;
	errno = e;
	return r;
}

/* --- sleeping (the seed's "concurrent" server slept before each accept) ----------------- */

#define SLEEP_CALL(type, usec, call)                                                     \
	do {                                                                             \
		if (!tracing())                                                          \
			return call;                                                     \
		int e0 = errno;                                                          \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_process, sleep_entry, ROLE, usec);            \
		busy = 0;                                                                \
		errno = e0;                                                              \
		type r = call;                                                           \
		int e = errno;                                                           \
		busy = 1;                                                                \
		lttng_ust_tracepoint(v6lab_process, sleep, ROLE, usec, (int)r,           \
				     ERR((int)r < 0, e));                                \
		busy = 0;                                                                \
		errno = e;                                                               \
		return r;                                                                \
	} while (0)

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
