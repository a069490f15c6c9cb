/* SPDX-License-Identifier: MIT */
/*
 * The seed's way for the client to get the tokens (read-twice-client): five msgrcv of the
 * seed's struct, one token each, from the System V queue at KEY (default 7002; made if the
 * server has not made it yet), then the queue is removed (msgctl IPC_RMID).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

#include "student.h"

void fetch_tokens(const char *key, char tokens[NCLIENTS][TOKEN_LEN + 1])
{
	struct msg m;
	int qid = open_queue(key ? key : QUEUE_KEY);

	printf("waiting for the tokens on message queue %s\n", key ? key : QUEUE_KEY);
	fflush(stdout);
	for (int i = 0; i < NCLIENTS; i++) {
		if (msgrcv(qid, &m, sizeof(m) - sizeof(long), 0, 0) < 0) {
			perror("msgrcv");
			exit(1);
		}
		m.text[TOKEN_LEN] = '\0';
		strcpy(tokens[i], m.text);
		printf("got token %d: %s\n", i + 1, tokens[i]);
		fflush(stdout);
	}
	msgctl(qid, IPC_RMID, NULL);
}
