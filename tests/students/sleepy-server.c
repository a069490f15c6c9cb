/* SPDX-License-Identifier: MIT */
/*
 * sleepy-server PORT [KEY]: the seed's "concurrent" server, sequential in effect.
 *
 * 2021 habit: accept, make a pipe, fork (the child reads the token with one
 * read(fd, buf, 30), writes it to the pipe and exits), then the parent sleeps 2 s and
 * reads that child's pipe before it accepts the next connection: one client at a time,
 * and a fixed sleep() instead of synchronisation. Queue hand-off (handoff-queue.c).
 *
 * Deserves: PASS: 5/5 tokens, concurrent: no (grade log "concurrent": false); the session
 * takes about 5 x 2 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "student.h"

int main(int argc, char **argv)
{
	struct sockaddr_in6 addr;
	char tokens[NCLIENTS][TOKEN_LEN + 1], buf[TOKEN_WIRE + 1];
	int lfd, conn, fd[2], i;
	pid_t pid;

	if (argc < 2) {
		fprintf(stderr, "usage: %s PORT [KEY]\n", argv[0]);
		return 1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin6_family = AF_INET6;
	addr.sin6_addr = in6addr_any;
	addr.sin6_port = htons(atoi(argv[1]));
	lfd = listen6(&addr);
	printf("listening on port %s\n", argv[1]);
	fflush(stdout);

	for (i = 0; i < NCLIENTS; i++) {
		conn = accept(lfd, NULL, NULL);
		printf("accepted connection %d\n", i + 1);
		fflush(stdout);
		if (pipe(fd) < 0) {
			perror("pipe");
			return 1;
		}
		pid = fork();
		if (pid == 0) {
			close(lfd);
			close(fd[0]);
			memset(buf, 0, sizeof(buf));
			if (read(conn, buf, TOKEN_WIRE) <= 0 || write(fd[1], buf, TOKEN_WIRE) < 0)
				perror("child");
			exit(0);
		}
		close(conn);
		close(fd[1]);
		sleep(2); /* give the child time to read the token */
		memset(buf, 0, sizeof(buf));
		if (read(fd[0], buf, TOKEN_WIRE) <= 0)
			perror("read from pipe");
		close(fd[0]);
		waitpid(pid, NULL, 0);
		memcpy(tokens[i], buf, TOKEN_LEN); /* without the \r\n */
		tokens[i][TOKEN_LEN] = '\0';
		printf("token %d: %s\n", i + 1, tokens[i]);
		fflush(stdout);
	}
	close(lfd);
	hand_off(tokens, argc > 2 ? argv[2] : NULL);
	return 0;
}
