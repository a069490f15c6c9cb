/* SPDX-License-Identifier: MIT */
/*
 * The seed's hand-off (eof-server, sleepy-server, htons-server, hardcoded-server,
 * leaky-server): a System V message queue at KEY (default 7002), five messages of the
 * seed's struct, one token each, msgsz = sizeof(struct msg) - sizeof(long).
 * fetch-queue.c takes them and removes the queue.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>

#include "student.h"

void hand_off(char tokens[NCLIENTS][TOKEN_LEN + 1], const char *key)
{
	struct msg m;
	int qid = open_queue(key ? key : QUEUE_KEY);

	for (int i = 0; i < NCLIENTS; i++) {
		memset(&m, 0, sizeof(m));
		m.mtype = 1;
		strcpy(m.text, tokens[i]);
		if (msgsnd(qid, &m, sizeof(m) - sizeof(long), 0) < 0)
			perror("msgsnd");
	}
	printf("sent %d tokens to message queue %s\n", NCLIENTS, key ? key : QUEUE_KEY);
	fflush(stdout);
}
