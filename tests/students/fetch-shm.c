/* SPDX-License-Identifier: MIT */
/*
 * shm-client HOST PORT [KEY] is read-twice-client.c linked with this fetch.
 *
 * 2021 habit: System V shared memory, and a fixed sleep() instead of synchronisation. The
 * client attaches the segment at KEY (default 7003; made if shm-server has not), looks at
 * the "full" marker every 3 s (sleep(3), 20 times at most) until the server has set it,
 * copies the tokens and removes the segment (shmctl IPC_RMID). Like read-twice-client it
 * reads the socket once after OK and once for the verdict.
 *
 * Deserves (with shm-server): PASS: 5/5 tokens, concurrent: yes; the session takes up to
 * 3 s longer than it has to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>
#include <unistd.h>

#include "student.h"

void fetch_tokens(const char *key, char tokens[NCLIENTS][TOKEN_LEN + 1])
{
	int id;
	struct shared *s = attach_shm(key ? key : SHM_KEY, &id);
	int tries;

	for (tries = 0; tries < 20 && !s->full; tries++) {
		printf("no tokens in shared memory %s yet, sleeping 3 s\n", key ? key : SHM_KEY);
		fflush(stdout);
		sleep(3);
	}
	if (!s->full) {
		printf("gave up waiting for the tokens\n");
		shmdt(s);
		shmctl(id, IPC_RMID, NULL);
		exit(1);
	}
	memcpy(tokens, s->tokens, sizeof(s->tokens));
	printf("got %d tokens from shared memory\n", NCLIENTS);
	fflush(stdout);
	shmdt(s);
	shmctl(id, IPC_RMID, NULL);
}
