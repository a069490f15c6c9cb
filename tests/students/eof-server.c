/* SPDX-License-Identifier: MIT */
/*
 * eof-server PORT [KEY]: the 2021-style concurrent IPv6 server.
 *
 * 2021 habit: accept five times in a row and fork a child for each connection; the child
 * reads its connection until read() returns 0 (the course client has sent its token and
 * shut down writing), passes the token to the parent over a pipe and exits. The parent
 * closes each connection after the fork, takes the five tokens off the pipe, reaps the
 * children and hands the tokens on (here: handoff-queue.c, five messages of the seed's
 * struct, one token each, on System V key KEY, default 7002).
 *
 * Deserves: PASS: 5/5 tokens, concurrent: yes (grade log "concurrent": true).
 *
 * The same file makes other programs of the corpus: linked with handoff-onemsg.c,
 * handoff-fifo.c or handoff-shm.c it is onemsg-server, fifo-server, shm-server; with one
 * MISTAKE flag defined (the lines marked MISTAKE) htons-server, hardcoded-server,
 * leaky-server (see those files).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "student.h"

/* The child: read the whole connection, then give the token to the parent. */
static void serve(int conn, int to_parent)
{
	char buf[64];
	int got = 0, n;

	memset(buf, 0, sizeof(buf));
	while ((n = read(conn, buf + got, sizeof(buf) - 1 - got)) > 0)
		got += n;
	printf("child %d: got %d bytes: %s", getpid(), got, buf);
	fflush(stdout);
	if (write(to_parent, buf, TOKEN_WIRE) != TOKEN_WIRE)
		perror("write to pipe");
	close(conn);
	exit(0);
}

int main(int argc, char **argv)
{
	struct sockaddr_in6 addr;
	char tokens[NCLIENTS][TOKEN_LEN + 1], buf[TOKEN_WIRE];
	int lfd, conn, fd[2], i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [KEY]\n", argv[0]);
		return 1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin6_family = AF_INET6;
#ifdef MISTAKE_TEREDO_ADDR
	/* MISTAKE (hardcoded-server): the address the student's Teredo tunnel had that day */
	inet_pton(AF_INET6, MISTAKE_TEREDO_ADDR, &addr.sin6_addr);
#else
	addr.sin6_addr = in6addr_any;
#endif
#ifdef MISTAKE_NO_HTONS
	addr.sin6_port = atoi(argv[1]); /* MISTAKE (htons-server): host byte order */
#else
	addr.sin6_port = htons(atoi(argv[1]));
#endif
	lfd = listen6(&addr);
	printf("listening on port %s\n", argv[1]);
	fflush(stdout);
	if (pipe(fd) < 0) {
		perror("pipe");
		return 1;
	}

	for (i = 0; i < NCLIENTS; i++) {
		conn = accept(lfd, NULL, NULL);
		printf("accepted connection %d\n", i + 1);
		fflush(stdout);
		if (fork() == 0) {
			/* MISTAKE (leaky-server): the child keeps the listener and the read end */
#ifndef MISTAKE_LEAKY
			close(lfd);
			close(fd[0]);
#endif
			serve(conn, fd[1]);
		}
		close(conn);
	}
	/* MISTAKE (leaky-server): the parent keeps the write end */
#ifndef MISTAKE_LEAKY
	close(fd[1]);
#endif

	for (i = 0; i < NCLIENTS; i++) {
		if (read(fd[0], buf, TOKEN_WIRE) != TOKEN_WIRE)
			perror("read from pipe");
		memcpy(tokens[i], buf, TOKEN_LEN); /* without the \r\n */
		tokens[i][TOKEN_LEN] = '\0';
		printf("token %d: %s\n", i + 1, tokens[i]);
		fflush(stdout);
	}
	/* MISTAKE (leaky-server): children never reaped, the listening socket never closed */
#ifndef MISTAKE_LEAKY
	while (wait(NULL) > 0)
		;
	close(lfd);
#endif
	hand_off(tokens, argc > 2 ? argv[2] : NULL);
	return 0;
}
