/* SPDX-License-Identifier: MIT */
/*
 * What a student's program sees of its calls, for preload_test.py errno: results and errno
 * printed, traced (libv6lab-preload.so) and not; the two outputs must be the same.
 * Plain libc, as a student writes it. Usage: v6lab-preload-errno PORT (nothing listens).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/socket.h>
#include <unistd.h>

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
	return 0;
}
