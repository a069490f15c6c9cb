/* SPDX-License-Identifier: MIT */
#include "v6lab/sessions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "v6lab/targets.h"

/* What one running session has claimed. */
struct claim {
	pid_t pid;		/* 0: a free entry */
	char student[32];	/* "" until claimed */
	struct in6_addr addr;	/* the target as compared: this host's addresses as ::1 */
	uint16_t port;		/* 0 until claimed */
};

struct session_table {
	pthread_mutex_t lock;
	int max;
	struct claim claims[];
};

struct session_table *session_table_create(int max)
{
	size_t size = sizeof(struct session_table) + (size_t)max * sizeof(struct claim);
	struct session_table *t = mmap(NULL, size, PROT_READ | PROT_WRITE,
				       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (t == MAP_FAILED)
		return NULL;
	pthread_mutexattr_t attr; /* the mapping starts zeroed: every entry free */
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	int err = pthread_mutex_init(&t->lock, &attr);
	pthread_mutexattr_destroy(&attr);
	if (err) {
		munmap(t, size);
		errno = err;
		return NULL;
	}
	t->max = max;
	return t;
}

static void lock(struct session_table *t)
{
	/* Its owner died holding it: what it was writing is its own entry only, cleared when
	 * the server reaps it, so the table is usable as it is. */
	if (pthread_mutex_lock(&t->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&t->lock);
}

/* The caller's entry, made from a free one the first time; NULL if none is free (the
 * server never runs more sessions than the table holds). */
static struct claim *own_claim(struct session_table *t, pid_t me)
{
	struct claim *free_one = NULL;
	for (int i = 0; i < t->max; i++) {
		if (t->claims[i].pid == me)
			return &t->claims[i];
		if (t->claims[i].pid == 0 && !free_one)
			free_one = &t->claims[i];
	}
	if (free_one)
		free_one->pid = me;
	return free_one;
}

/* What a session claims: its student id, or its target. */
enum claimed { STUDENT, TARGET };

static bool same(const struct claim *a, const struct claim *b, enum claimed what)
{
	return what == STUDENT ? strcmp(a->student, b->student) == 0
			       : a->port == b->port && IN6_ARE_ADDR_EQUAL(&a->addr, &b->addr);
}

/* Claim want's student or target for want->pid, unless another running session holds the
 * same. False: one does (*held), or no entry was free. */
static bool claim(struct session_table *t, const struct claim *want, enum claimed what,
		  bool *held)
{
	*held = false;
	lock(t);
	for (int i = 0; i < t->max && !*held; i++)
		*held = t->claims[i].pid != 0 && t->claims[i].pid != want->pid &&
			same(&t->claims[i], want, what);
	struct claim *mine = *held ? NULL : own_claim(t, want->pid);
	if (mine && what == STUDENT) {
		memcpy(mine->student, want->student, sizeof(mine->student));
	} else if (mine) {
		mine->addr = want->addr;
		mine->port = want->port;
	}
	pthread_mutex_unlock(&t->lock);
	return mine != NULL;
}

/* No free entry: cannot happen while the server runs no more sessions than the table holds. */
static enum answer_check table_full(char *why, size_t whysz)
{
	snprintf(why, whysz, "server busy, try again in a minute");
	return ANSWER_FAIL;
}

enum answer_check session_claim_student(struct session_table *t, const char *student,
					char *why, size_t whysz)
{
	struct claim want = { .pid = getpid() };
	bool held;
	snprintf(want.student, sizeof(want.student), "%s", student);
	if (claim(t, &want, STUDENT, &held))
		return ANSWER_OK;
	if (!held)
		return table_full(why, whysz);
	snprintf(why, whysz, "student %s already has a session running: finish it first", student);
	return ANSWER_FAIL;
}

enum answer_check session_claim_target(struct session_table *t, const struct in6_addr *addr,
				       uint16_t port, char *why, size_t whysz)
{
	struct claim want = { .pid = getpid(), .port = port,
			      .addr = is_local_address(addr) ? in6addr_loopback : *addr };
	char text[INET6_ADDRSTRLEN];
	bool held;
	if (claim(t, &want, TARGET, &held))
		return ANSWER_OK;
	if (!held)
		return table_full(why, whysz);
	inet_ntop(AF_INET6, addr, text, sizeof(text));
	snprintf(why, whysz, "[%s]:%u is the target of another running session: give the port "
		 "of your own IPv6 server", text, port);
	return ANSWER_RETRY;
}

void session_release(struct session_table *t, pid_t pid)
{
	lock(t);
	for (int i = 0; i < t->max; i++)
		if (t->claims[i].pid == pid)
			t->claims[i] = (struct claim){ 0 };
	pthread_mutex_unlock(&t->lock);
}
