/* SPDX-License-Identifier: MIT */
/* Opening the System V objects the pairs share: whichever side comes first makes it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/msg.h>
#include <sys/shm.h>

#include "student.h"

int open_queue(const char *key)
{
	int qid = msgget((key_t)strtol(key, NULL, 0), IPC_CREAT | 0666);

	if (qid < 0) {
		perror("msgget");
		exit(1);
	}
	return qid;
}

struct shared *attach_shm(const char *key, int *id)
{
	struct shared *s;

	*id = shmget((key_t)strtol(key, NULL, 0), sizeof(struct shared), IPC_CREAT | 0666);
	if (*id < 0) {
		perror("shmget");
		exit(1);
	}
	s = shmat(*id, NULL, 0);
	if (s == (void *)-1) {
		perror("shmat");
		exit(1);
	}
	return s;
}
