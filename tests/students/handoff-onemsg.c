/* SPDX-License-Identifier: MIT */
/*
 * onemsg-server PORT [KEY] is eof-server.c linked with this hand-off.
 *
 * 2021 habit: the server joins the five tokens with ',' itself and sends them as ONE
 * message of the seed's struct on the System V queue at KEY (default 7002); onemsg-client
 * (fetch-onemsg.c) does a single msgrcv and removes the queue.
 *
 * Deserves (with onemsg-client): PASS: 5/5 tokens, concurrent: yes.
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

	memset(&m, 0, sizeof(m));
	m.mtype = 1;
	for (int i = 0; i < NCLIENTS; i++) {
		if (i > 0)
			strcat(m.text, ",");
		strcat(m.text, tokens[i]);
	}
	if (msgsnd(qid, &m, sizeof(m) - sizeof(long), 0) < 0)
		perror("msgsnd");
	printf("sent one message with %d tokens to queue %s: %s\n", NCLIENTS,
	       key ? key : QUEUE_KEY, m.text);
	fflush(stdout);
}
