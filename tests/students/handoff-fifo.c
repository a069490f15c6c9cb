/* SPDX-License-Identifier: MIT */
/*
 * fifo-server PORT [PATH] is eof-server.c linked with this hand-off.
 *
 * 2021 habit: a named FIFO instead of the seed's queue. The server makes it at PATH
 * (default /tmp/fifo7002; an existing one is fine), opens it for writing (which waits for
 * the client to open it for reading) and writes the five tokens, 28 bytes each;
 * fifo-client (fetch-fifo.c) reads them and unlinks the FIFO.
 *
 * Deserves (with fifo-client): PASS: 5/5 tokens, concurrent: yes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "student.h"

void hand_off(char tokens[NCLIENTS][TOKEN_LEN + 1], const char *key)
{
	const char *path = key ? key : FIFO_PATH;
	int fd;

	if (mkfifo(path, 0666) < 0 && errno != EEXIST) {
		perror("mkfifo");
		exit(1);
	}
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		perror("open fifo");
		exit(1);
	}
	for (int i = 0; i < NCLIENTS; i++)
		if (write(fd, tokens[i], TOKEN_LEN) != TOKEN_LEN)
			perror("write fifo");
	close(fd);
	printf("wrote %d tokens to FIFO %s\n", NCLIENTS, path);
	fflush(stdout);
}
