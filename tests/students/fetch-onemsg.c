/* SPDX-License-Identifier: MIT */
/*
 * onemsg-client's way to get the tokens: ONE msgrcv of the seed's struct from the queue at
 * KEY (default 7002) holding all five tokens joined by ',' (handoff-onemsg.c), split
 * again here; then the queue is removed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

#include "student.h"

void fetch_tokens(const char *key, char tokens[NCLIENTS][TOKEN_LEN + 1])
{
	struct msg m;
	char *tok, *save;
	int qid = open_queue(key ? key : QUEUE_KEY), i = 0;

	printf("waiting for the message on queue %s\n", key ? key : QUEUE_KEY);
	fflush(stdout);
	if (msgrcv(qid, &m, sizeof(m) - sizeof(long), 0, 0) < 0) {
		perror("msgrcv");
		exit(1);
	}
	m.text[sizeof(m.text) - 1] = '\0';
	printf("got: %s\n", m.text);
	fflush(stdout);
	memset(tokens, 0, NCLIENTS * sizeof(tokens[0]));
	tok = strtok_r(m.text, ",", &save);
	while (tok && i < NCLIENTS) {
		snprintf(tokens[i++], TOKEN_LEN + 1, "%s", tok);
		tok = strtok_r(NULL, ",", &save);
	}
	msgctl(qid, IPC_RMID, NULL);
}
