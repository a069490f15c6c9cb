/* SPDX-License-Identifier: MIT */
/*
 * shm-server PORT [KEY] is eof-server.c linked with this hand-off.
 *
 * 2021 habit: System V shared memory instead of the seed's queue. The server attaches the
 * segment at KEY (default 7003; made if missing), copies the five tokens in, sets the
 * "full" marker last and detaches; shm-client (fetch-shm.c) polls the marker every 3 s
 * and removes the segment.
 *
 * Deserves (with shm-client): PASS: 5/5 tokens, concurrent: yes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/shm.h>

#include "student.h"

void hand_off(char tokens[NCLIENTS][TOKEN_LEN + 1], const char *key)
{
	int id;
	struct shared *s = attach_shm(key ? key : SHM_KEY, &id);

	memcpy(s->tokens, tokens, sizeof(s->tokens));
	s->full = 1;
	shmdt(s);
	printf("put %d tokens in shared memory %s\n", NCLIENTS, key ? key : SHM_KEY);
	fflush(stdout);
}
