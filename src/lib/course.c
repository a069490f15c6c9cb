/* SPDX-License-Identifier: MIT */
#include "v6lab/course.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

/* Over a tunnel the first SYN to a new peer is often lost (Teredo: the relay's bubbles open
 * the path first, the SYN is retransmitted 1 s later), so "all connected by start + 20n + 100
 * ms" does not hold: the group's send times count from when the last client is connected or
 * has failed. */
struct course_group {
	pthread_mutex_t lock;
	pthread_cond_t all_in;
	int connecting;
	int64_t all_connected_ms;
};

static void group_leave(struct course_group *g)
{
	pthread_mutex_lock(&g->lock);
	if (--g->connecting == 0) {
		g->all_connected_ms = now_ms();
		pthread_cond_broadcast(&g->all_in);
	}
	pthread_mutex_unlock(&g->lock);
}

/* This client is connected (or failed to): wait for the others, then fix its send time. */
static void group_connected(struct course_client *c)
{
	struct course_group *g = c->group;
	if (!g)
		return;
	group_leave(g);
	pthread_mutex_lock(&g->lock);
	while (g->connecting > 0)
		pthread_cond_wait(&g->all_in, &g->lock);
	c->send_at_ms += g->all_connected_ms;
	pthread_mutex_unlock(&g->lock);
}

static void fail(struct course_client *c, const char *step, int err)
{
	c->failed_step = step;
	c->error = err;
}

/* After sending, wait for the server to close its side (EOF): that is how the course side
 * sees when the student's server has finished with this connection. */
static void wait_for_close(struct course_client *c, int fd)
{
	char junk[64];
	int64_t deadline = now_ms() + c->eof_timeout_ms;
	for (;;) {
		int64_t left = deadline - now_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (left <= 0)
			return; /* still open: the server never closed it, eof_ms stays 0 */
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		ssize_t n = Read(fd, junk, sizeof(junk));
		if (n > 0)
			continue; /* a server has nothing to say; ignore it */
		if (n < 0 && errno == EINTR)
			continue;
		c->eof_ms = now_ms(); /* EOF, or reset: either way the server is done with us */
		return;
	}
}

void course_client_run(struct course_client *c)
{
	char wire[V6_TOKEN_WIRE_LEN + 1];

	if (c->connect_at_ms)
		sleep_until_ms(c->connect_at_ms);
	int fd = tcp_connect((struct sockaddr *)&c->target, c->target_len, c->connect_timeout_ms);
	if (fd < 0) {
		fail(c, "connect", errno);
		group_connected(c);
		return;
	}
	c->connected_ms = now_ms();
	group_connected(c);

	if (c->send_at_ms)
		sleep_until_ms(c->send_at_ms);
	if (c->send_delay_ms)
		sleep_until_ms(now_ms() + c->send_delay_ms);
	memcpy(wire, c->token, V6_TOKEN_LEN);
	memcpy(wire + V6_TOKEN_LEN, "\r\n", 3);
	if (writen(fd, wire, V6_TOKEN_WIRE_LEN) < 0) {
		fail(c, "write", errno);
		Close(fd);
		return;
	}
	c->sent_ms = now_ms();
	wait_for_close(c, fd);
	Close(fd);
}

static void *client_thread(void *arg)
{
	course_client_run(arg);
	return NULL;
}

const char *course_run_clients(struct course_client c[], int n, const struct sockaddr *target,
			       socklen_t len, int stagger_ms)
{
	pthread_t tid[V6_MAX_CLIENTS];
	struct course_group g = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, n, 0 };
	int64_t start = now_ms();
	/* Client k connects at start + 20k ms (1 first); once all are connected they send in
	 * reverse order, 100 ms later: client n first, client 1 last. */
	for (int i = 0; i < n; i++) {
		memcpy(&c[i].target, target, len);
		c[i].target_len = len;
		c[i].connect_at_ms = start + 20 * i;
		c[i].group = &g;
		c[i].send_at_ms = 100 + (int64_t)(n - 1 - i) * stagger_ms;
	}
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, client_thread, &c[i]) != 0) {
			fail(&c[i], "thread", errno);
			tid[i] = 0;
			group_leave(&g); /* the others do not wait for it */
		}
	for (int i = 0; i < n; i++) {
		if (tid[i])
			pthread_join(tid[i], NULL);
		c[i].group = NULL;
	}

	/* Concurrent: the server finished with some client while client 1, connected first,
	 * had not sent yet. One connection at a time: nobody was finished before that. */
	if (n < 2 || c[0].sent_ms == 0)
		return "unknown";
	for (int i = 1; i < n; i++)
		if (c[i].eof_ms && c[i].eof_ms < c[0].sent_ms)
			return "yes";
	for (int i = 1; i < n; i++)
		if (c[i].sent_ms == 0)
			return "unknown";
	return "no";
}
