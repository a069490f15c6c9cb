/* SPDX-License-Identifier: MIT */
/*
 * fifo-client HOST PORT [PATH] is read-twice-client.c linked with this fetch.
 *
 * 2021 habit: a named FIFO instead of the seed's queue. The client makes the FIFO at PATH
 * (default /tmp/fifo7002) if fifo-server has not, opens it for reading (which waits for
 * the server to open it for writing), reads the five 28-byte tokens and unlinks the FIFO.
 * Like read-twice-client it reads the socket once after OK and once for the verdict.
 *
 * Deserves (with fifo-server): PASS: 5/5 tokens, concurrent: yes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "student.h"

void fetch_tokens(const char *key, char tokens[NCLIENTS][TOKEN_LEN + 1])
{
	const char *path = key ? key : FIFO_PATH;
	int fd;

	if (mkfifo(path, 0666) < 0 && errno != EEXIST) {
		perror("mkfifo");
		exit(1);
	}
	printf("waiting for the tokens on FIFO %s\n", path);
	fflush(stdout);
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		perror("open fifo");
		exit(1);
	}
	for (int i = 0; i < NCLIENTS; i++) {
		if (read(fd, tokens[i], TOKEN_LEN) != TOKEN_LEN)
			fprintf(stderr, "short read on the FIFO\n");
		tokens[i][TOKEN_LEN] = '\0';
		printf("got token %d: %s\n", i + 1, tokens[i]);
		fflush(stdout);
	}
	close(fd);
	unlink(path);
}
