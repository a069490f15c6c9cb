/* SPDX-License-Identifier: MIT */
/*
 * A student's server that waits for its client in poll() and select() on its listening
 * socket, for preload_test.py poll: plain libc. Each call's result is printed (the same
 * traced and untraced); nothing depends on timing: a child connects once, and every wait
 * that expects the connection has it pending or waits for it.
 * Usage: v6lab-preload-poll (listens on [::1], an ephemeral port)
 */
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SHOW(what, call) printf("%-34s %d\n", what, (int)(call))

int main(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(a);
	int ls = socket(AF_INET6, SOCK_STREAM, 0), p[2];
	if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 5) < 0 ||
	    getsockname(ls, (struct sockaddr *)&a, &len) < 0 || pipe(p) < 0)
		return 1;
	struct pollfd w[2] = { { .fd = ls, .events = POLLIN }, { .fd = p[0], .events = POLLIN } };

	/* Nothing pending yet: the listener and a pipe watched, no wait. */
	SHOW("poll listener+pipe (timeout 0)", poll(w, 2, 0));
	/* The pipe alone: no listener, not recorded. */
	SHOW("poll pipe", poll(&w[1], 1, 0));
	fd_set rd;
	FD_ZERO(&rd);
	FD_SET(p[0], &rd);
	struct timeval none = { 0, 0 };
	SHOW("select pipe", select(p[0] + 1, &rd, NULL, NULL, &none));

	fflush(stdout);
	pid_t child = fork();
	if (child == 0) { /* the client: its connection waits in the backlog until accepted */
		int s = socket(AF_INET6, SOCK_STREAM, 0);
		_exit(s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)) < 0);
	}
	/* For ever, until the client connects (at once if it has). */
	SHOW("poll listener (for ever)", poll(w, 1, -1));
	/* The connection still pending: each returns at once. */
	FD_ZERO(&rd);
	FD_SET(ls, &rd);
	struct timeval tv = { 5, 0 };
	SHOW("select listener", select(ls + 1, &rd, NULL, NULL, &tv));
	struct timespec ts = { 5, 0 };
	SHOW("ppoll listener", ppoll(w, 1, &ts, NULL));
	FD_ZERO(&rd);
	FD_SET(ls, &rd);
	SHOW("pselect listener", pselect(ls + 1, &rd, NULL, NULL, &ts, NULL));
	int c = accept(ls, NULL, NULL);
	SHOW("accept", c >= 0);
	/* Nothing pending any more: 10 ms, then 0. */
	struct timespec brief = { 0, 10000000 };
	SHOW("ppoll listener (10 ms)", ppoll(w, 1, &brief, NULL));
	int status = -1;
	SHOW("client exit", waitpid(child, &status, 0) == child ? status : -1);
	close(c);
	close(ls);
	return 0;
}
