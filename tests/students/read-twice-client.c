/* SPDX-License-Identifier: MIT */
/*
 * read-twice-client HOST PORT [KEY]: the 2021 students' IPv4 client.
 *
 * 2021 habit: before each of its six answers it calls read() on the socket exactly twice,
 * never in a loop (the colour packet, then the question: it relies on the course server
 * sending them as two segments), and takes each answer from one read(0, buf, 1024) of the
 * terminal, written to the socket as read. After the sixth answer (OK) it reads once (the
 * start message), gets the tokens (linked with fetch-queue.c: five msgrcv from the seed's
 * queue at KEY, default 7002, then the queue is removed), sends them back as
 * "t1,t2,t3,t4,t5\n" (145 bytes) and reads once for the verdict.
 *
 * Deserves: PASS against a correct IPv6 server (eof-server) and the course server's 2021
 * framing; against --framing merged its second read before question 1 never returns and
 * the course server gives FAIL (no answer to question 1 in time).
 *
 * The other clients of the corpus are this file linked with another fetch-*.c: fifo-client
 * (fetch-fifo.c), shm-client (fetch-shm.c) and onemsg-client (onemsg-client.c, which also
 * sets READS_AFTER_OK and READS_FOR_VERDICT: how often it reads the socket after OK and
 * for the verdict).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "student.h"

#ifndef READS_AFTER_OK
#define READS_AFTER_OK 1 /* the start message */
#endif
#ifndef READS_FOR_VERDICT
#define READS_FOR_VERDICT 1
#endif

/* One read() of the socket, shown as it came. */
static void read_server(int sock)
{
	char buf[1024];
	int n = read(sock, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	printf("%s", buf);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr;
	char tokens[NCLIENTS][TOKEN_LEN + 1], answer[1024], reply[256] = "";
	int sock, n, q, i;

	if (argc < 3) {
		fprintf(stderr, "usage: %s HOST PORT [KEY]\n", argv[0]);
		return 1;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons(atoi(argv[2]));
	inet_pton(AF_INET, argv[1], &addr.sin_addr);
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(sock, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("connect");
		return 1;
	}

	for (q = 1; q <= 6; q++) {
		read_server(sock); /* the colour */
		read_server(sock); /* the question */
		n = read(0, answer, 1024);
		if (n > 0 && write(sock, answer, n) != n)
			perror("write");
	}
	for (i = 0; i < READS_AFTER_OK; i++)
		read_server(sock);

	fetch_tokens(argc > 3 ? argv[3] : NULL, tokens);
	for (i = 0; i < NCLIENTS; i++) {
		strcat(reply, tokens[i]);
		strcat(reply, i < NCLIENTS - 1 ? "," : "\n");
	}
	n = write(sock, reply, strlen(reply));
	printf("sent %d bytes: %s", n, reply);
	fflush(stdout);

	for (i = 0; i < READS_FOR_VERDICT; i++)
		read_server(sock);
	close(sock);
	return 0;
}
