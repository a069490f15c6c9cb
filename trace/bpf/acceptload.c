/* SPDX-License-Identifier: MIT */
/*
 * v6lab-acceptload: the load of scripts/bench-acceptwatch, on [::1]:PORT.
 *
 *   v6lab-acceptload server PORT ipv6-server|accept-loop
 *   v6lab-acceptload client PORT ipv6-server|accept-loop SECONDS CLIENTS
 *
 * ipv6-server: the server does per connection what ipv6-server does: poll() on the listener
 *   and the pipe, accept(), fork() a child that reads the 30-byte token and writes it to the
 *   pipe, read the pipe, reap the child. Each client process connects, sends a token and waits
 *   for the close, in a loop (scripts/bench-acceptwatch runs 5 at once, like the assignment's
 *   ipv6-clients).
 * accept-loop: accept() then close(), nothing else; one client connects and waits for the
 *   close: a bare accept loop, where the tracing's cost per connection weighs the most.
 * The client prints the connections completed (all client processes together).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN_LEN 30
#define MAX_CLIENTS 64

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static _Noreturn void fail(const char *what)
{
	fprintf(stderr, "v6lab-acceptload: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* The child of one connection: the token, onto the pipe. */
static _Noreturn void serve(int conn, int pipe_w)
{
	char token[TOKEN_LEN];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(token) && (n = read(conn, token + got, sizeof(token) - got)) > 0)
		got += n;
	if (got && write(pipe_w, token, got) < 0)
		_exit(1);
	_exit(0);
}

static _Noreturn void server(int listen_fd, bool fork_per_conn)
{
	struct pollfd fds[2];
	int pipe_fds[2];

	if (pipe(pipe_fds))
		fail("pipe");
	fds[0] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = pipe_fds[0], .events = POLLIN };
	puts("ready");
	fflush(stdout);
	for (;;) {
		char token[TOKEN_LEN];
		int conn;
		pid_t pid;

		if (!fork_per_conn) {
			conn = accept(listen_fd, NULL, NULL);
			if (conn >= 0)
				close(conn);
			continue;
		}
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			fail("poll");
		if (fds[1].revents & POLLIN) {
			if (read(pipe_fds[0], token, sizeof(token)) < 0)
				fail("read pipe");
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
		}
		if (!(fds[0].revents & POLLIN))
			continue;
		conn = accept(listen_fd, NULL, NULL);
		if (conn < 0)
			continue;
		pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0) {
			close(listen_fd);
			close(pipe_fds[0]);
			serve(conn, pipe_fds[1]);
		}
		close(conn);
	}
}

/* One client process: connections completed in `seconds`. */
static long client(const struct sockaddr_in6 *a, double seconds, bool send_token)
{
	static const char token[TOKEN_LEN + 1] = "acceptload:abcdefghijABCDEFGHI";
	double end = now() + seconds;
	char buf[64];
	long n = 0;

	while (now() < end) {
		int s = socket(AF_INET6, SOCK_STREAM, 0);

		if (s < 0)
			fail("socket");
		if (connect(s, (const struct sockaddr *)a, sizeof(*a)) == 0) {
			if (!send_token || write(s, token, TOKEN_LEN) == TOKEN_LEN) {
				while (read(s, buf, sizeof(buf)) > 0)
					;
				n++;
			}
		}
		close(s);
	}
	return n;
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	bool ipv6_server;
	int one = 1;

	char *end;
	long port;

	if (argc < 4 || (strcmp(argv[1], "server") && strcmp(argv[1], "client")) ||
	    (strcmp(argv[3], "ipv6-server") && strcmp(argv[3], "accept-loop"))) {
		fprintf(stderr, "usage: v6lab-acceptload server PORT ipv6-server|accept-loop\n"
				"       v6lab-acceptload client PORT ipv6-server|accept-loop SECONDS CLIENTS\n");
		return 2;
	}
	port = strtol(argv[2], &end, 10);
	if (*end || port < 1 || port > 65535) {
		fprintf(stderr, "v6lab-acceptload: port '%s': give 1..65535\n", argv[2]);
		return 2;
	}
	a.sin6_port = htons(port);
	ipv6_server = !strcmp(argv[3], "ipv6-server");
	if (!strcmp(argv[1], "server")) {
		int l = socket(AF_INET6, SOCK_STREAM, 0);

		if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
		    bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 128))
			fail("listen");
		server(l, ipv6_server);
	}
	if (argc < 6) {
		fprintf(stderr, "v6lab-acceptload: client needs SECONDS and CLIENTS\n");
		return 2;
	}
	double seconds = atof(argv[4]);
	int clients = atoi(argv[5]), fds[MAX_CLIENTS][2];
	long total = 0;

	if (seconds <= 0 || clients < 1 || clients > MAX_CLIENTS) {
		fprintf(stderr, "v6lab-acceptload: SECONDS > 0 and CLIENTS 1..%d\n", MAX_CLIENTS);
		return 2;
	}
	for (int i = 0; i < clients; i++) {
		if (pipe(fds[i]))
			fail("pipe");
		pid_t pid = fork();
		if (pid < 0)
			fail("fork");
		if (pid == 0) {
			long n = client(&a, seconds, ipv6_server);

			_exit(write(fds[i][1], &n, sizeof(n)) == sizeof(n) ? 0 : 1);
		}
		close(fds[i][1]);
	}
	for (int i = 0; i < clients; i++) {
		long n = 0;

		if (read(fds[i][0], &n, sizeof(n)) == sizeof(n))
			total += n;
		close(fds[i][0]);
	}
	while (wait(NULL) > 0)
		;
	printf("%ld\n", total);
	return 0;
}
