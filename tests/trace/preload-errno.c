/* SPDX-License-Identifier: MIT */
/*
 * What a student's program sees of its calls, for preload_test.py errno: results and errno
 * printed, traced (libv6lab-preload.so) and not; the two outputs must be the same.
 * Plain libc, as a student writes it. Usage: v6lab-preload-errno PORT (nothing listens).
 * The FIFO it opens is in a directory of its own under /tmp, removed before it exits.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The result, then errno (in this order: a call's arguments are evaluated in any order). */
#define SHOW(what, call)                                                  \
	do {                                                              \
		long r_ = (long)(call);                                   \
		int e_ = errno;                                           \
		printf("%-28s %3ld errno %d\n", what, r_, e_);             \
	} while (0)

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	errno = 4242; /* a success leaves errno alone */
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	/* Not the number itself: liblttng-ust holds descriptors of its own in a traced run. */
	SHOW("socket (a descriptor)", fd >= 0);
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_port = htons(atoi(argv[1])),
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	SHOW("connect (refused)", connect(fd, (struct sockaddr *)&a, sizeof(a)));
	errno = 0;
	SHOW("send (not connected)", send(fd, "x", 1, MSG_NOSIGNAL));
	errno = 0;
	SHOW("connect (bad length)", connect(fd, (struct sockaddr *)&a, 3));
	errno = 4242;
	SHOW("close", close(fd));
	SHOW("close again", close(fd));
	int p[2];
	errno = 4242;
	SHOW("pipe", pipe(p));
	errno = 4242;
	SHOW("write (pipe)", write(p[1], "client1:abcdefghij0123456789\r\n", 30));
	char buf[64];
	SHOW("read (pipe)", read(p[0], buf, sizeof(buf)));
	SHOW("close (pipe)", close(p[0]) + close(p[1]));
	errno = 0;
	SHOW("read (closed pipe)", read(p[0], buf, 1));
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	SHOW("msgget", q >= 0);
	struct { long mtype; char text[8]; } m;
	SHOW("msgrcv (empty)", msgrcv(q, &m, sizeof(m.text), 0, IPC_NOWAIT));
	errno = 4242;
	SHOW("msgctl IPC_RMID", msgctl(q, IPC_RMID, NULL));
	SHOW("msgctl (removed)", msgctl(q, IPC_RMID, NULL));
	errno = 4242;
	SHOW("usleep", usleep(1000));

	/* Opening a FIFO: its open is recorded, another path's is not. */
	char dir[] = "/tmp/v6lab-preload-errno-XXXXXX", fifo[64];
	if (!mkdtemp(dir))
		return 1;
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	errno = 4242;
	SHOW("mkfifo", mkfifo(fifo, 0600));
	SHOW("open fifo (no reader yet)", open(fifo, O_WRONLY | O_NONBLOCK));
	errno = 4242;
	int rd = open(fifo, O_RDONLY | O_NONBLOCK);
	SHOW("open fifo (reader)", rd >= 0);
	int wr = openat(AT_FDCWD, fifo, O_WRONLY | O_NONBLOCK);
	SHOW("openat fifo (writer)", wr >= 0);
	FILE *f = fopen(fifo, "w");
	SHOW("fopen fifo (writer)", f != NULL);
	SHOW("fclose", f ? fclose(f) : -2);
	SHOW("close (fifo ends)", close(rd) + close(wr));
	errno = 0;
	SHOW("open (no such file)", open("/nonexistent/v6lab", O_RDONLY));
	unlink(fifo);
	rmdir(dir);

	/* Waiting on a listening socket. */
	struct sockaddr_in6 any = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int ls = socket(AF_INET6, SOCK_STREAM, 0);
	errno = 4242;
	SHOW("bind+listen", bind(ls, (struct sockaddr *)&any, sizeof(any)) + listen(ls, 1));
	struct pollfd pw = { .fd = ls, .events = POLLIN };
	SHOW("poll listener (nothing yet)", poll(&pw, 1, 0));
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(ls, &rs);
	struct timeval bad = { -1, 0 };
	errno = 0;
	SHOW("select listener (bad timeout)", select(ls + 1, &rs, NULL, NULL, &bad));
	errno = 4242;
	SHOW("close (listener)", close(ls));

	/* Children running other programs. */
	char *none[] = { "/nonexistent/v6lab", NULL };
	pid_t pid;
	errno = 4242;
	SHOW("posix_spawn (no such program)", posix_spawn(&pid, none[0], NULL, NULL, none, environ));
	errno = 4242;
	SHOW("system (exit 3)", system("exit 3"));
	errno = 4242;
	fflush(stdout);
	pid = vfork();
	if (pid == 0)
		_exit(5);
	SHOW("vfork", pid > 0);
	int st = 0;
	SHOW("waitpid (vfork child)", waitpid(pid, &st, 0) == pid ? st : -1);
	return 0;
}
