/* SPDX-License-Identifier: MIT */
#include "v6lab/course.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

/* The clients of one test: the first to see that all are connected (or that the connect
 * phase is over) fixes everybody's send time. */
struct course_group {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	struct course_client *c;
	int n, stagger_ms;
	int connecting;	       /* clients still in connect() */
	int64_t phase_end_ms;  /* the send times are fixed by then at the latest */
	bool scheduled;
	int64_t send_at_ms[V6_MAX_CLIENTS]; /* 0: send at once (connected after the schedule) */
};

/* The connected clients send in the reverse order of their connections, the first 100 ms
 * from now, then stagger_ms apart. Called with the lock held. */
static void schedule(struct course_group *g)
{
	int64_t start = now_ms() + 100;
	int connected = 0, first = -1;
	for (int i = 0; i < g->n; i++) {
		if (!g->c[i].connected_ms)
			continue;
		int later = 0; /* how many connected after client i */
		for (int j = 0; j < g->n; j++)
			later += g->c[j].connected_ms > g->c[i].connected_ms ||
				 (g->c[j].connected_ms == g->c[i].connected_ms && j > i);
		g->send_at_ms[i] = start + (int64_t)later * g->stagger_ms;
		if (first < 0 || g->c[i].connected_ms < g->c[first].connected_ms)
			first = i;
		connected++;
	}
	if (connected > 1)
		g->c[first].sends_last = true;
	g->scheduled = true;
	pthread_cond_broadcast(&g->changed);
}

/* One client less in connect(); the last one fixes the send times. Lock held. */
static void leave_connecting(struct course_group *g, struct course_client *c)
{
	c->connect_over = true;
	pthread_cond_broadcast(&g->changed); /* the next client may connect now */
	if (--g->connecting == 0 && !g->scheduled)
		schedule(g);
}

/* An absolute CLOCK_MONOTONIC time ms from now, for pthread_cond_timedwait. */
static struct timespec in_ms(int64_t ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += (time_t)(ms / 1000);
	t.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Wait for this client's turn to connect: its time, and the client before it connected (or
 * trying for COURSE_CONNECT_GAP_MS already). A late thread cannot overtake an earlier one, so
 * the handshakes are in the clients' order even on a loaded machine, where the threads may
 * all wake at once: two handshakes in the same millisecond could not be told apart. */
static void wait_turn(struct course_group *g, struct course_client *c)
{
	const struct course_client *prev = c > g->c ? c - 1 : NULL;
	pthread_mutex_lock(&g->lock);
	for (;;) {
		int64_t now = now_ms(), until = c->connect_at_ms; /* 0: at once */
		bool prev_done = !prev || prev->connect_over;
		if (!prev_done && prev->connect_begun_ms) {
			int64_t gap_end = prev->connect_begun_ms + COURSE_CONNECT_GAP_MS;
			if (now >= gap_end)
				prev_done = true; /* it has tried long enough: its SYN may be lost */
			else if (gap_end > until)
				until = gap_end;
		}
		if (prev_done && now >= until)
			break;
		/* until then, or until the one before begins or connects (it broadcasts) */
		int64_t wait = (prev_done || prev->connect_begun_ms) ? until - now : COURSE_CONNECT_GAP_MS;
		struct timespec t = in_ms(wait > 0 ? wait : 1);
		pthread_cond_timedwait(&g->changed, &g->lock, &t);
	}
	c->connect_begun_ms = now_ms();
	pthread_cond_broadcast(&g->changed);
	pthread_mutex_unlock(&g->lock);
}

/* When the handshake of connection fd completed, as the kernel saw it: the SYN-ACK is the
 * last segment it received (nothing else has come yet), so a thread that ran late after
 * connect() returned cannot change the order of the connections. */
static int64_t handshake_ms(int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	int64_t now = now_ms();
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return now;
	return now - ti.tcpi_last_ack_recv;
}

/* This client's connect is over (fd connected, or -1): wait until the send times are fixed,
 * and return its own (0: at once). */
static int64_t group_connected(struct course_group *g, struct course_client *c, int fd)
{
	bool connected = fd >= 0;
	pthread_mutex_lock(&g->lock);
	if (connected)
		c->connected_ms = handshake_ms(fd);
	leave_connecting(g, c);
	while (!g->scheduled && connected) {
		int64_t left = g->phase_end_ms - now_ms();
		if (left <= 0) {
			schedule(g);
			break;
		}
		struct timespec until = in_ms(left);
		pthread_cond_timedwait(&g->changed, &g->lock, &until);
	}
	int64_t at = g->send_at_ms[c - g->c];
	pthread_mutex_unlock(&g->lock);
	return at;
}

static void fail(struct course_client *c, const char *step, int err)
{
	c->failed_step = step;
	c->error = err;
}

/* A student's server has nothing to say to a course client: what it says anyway is read up
 * to this much, then the client stops reading and closes (a server that floods its clients
 * must not keep the course host busy). */
#define COURSE_READ_MAX 64

/* After sending, wait for the server to close its side (EOF): that is how the course side
 * sees when the student's server has finished with this connection. */
static void wait_for_close(struct course_client *c, int fd)
{
	char junk[COURSE_READ_MAX];
	size_t left_to_read = sizeof(junk);
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
		ssize_t n = Read(fd, junk, left_to_read);
		if (n > 0) {
			left_to_read -= (size_t)n;
			if (left_to_read == 0)
				return; /* it floods us: not a close, eof_ms stays 0 */
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		c->eof_ms = now_ms(); /* EOF, or reset: either way the server is done with us */
		return;
	}
}

void course_client_run(struct course_client *c)
{
	char wire[V6_TOKEN_WIRE_LEN + 1];

	if (c->group)
		wait_turn(c->group, c);
	else if (c->connect_at_ms)
		sleep_until_ms(c->connect_at_ms);
	int fd = tcp_connect((struct sockaddr *)&c->target, c->target_len, c->connect_timeout_ms);
	if (fd < 0)
		fail(c, "connect", errno);
	int64_t send_at = 0;
	if (c->group)
		send_at = group_connected(c->group, c, fd);
	else if (fd >= 0)
		c->connected_ms = now_ms();
	if (fd < 0)
		return;

	if (send_at)
		sleep_until_ms(send_at);
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
	Shutdown(fd, SHUT_WR); /* the token is all we send: a server may read until EOF */
	wait_for_close(c, fd);
	Close(fd);
}

static void *client_thread(void *arg)
{
	course_client_run(arg);
	return NULL;
}

enum concurrency course_run_clients(struct course_client c[], int n,
				    const struct sockaddr *target, socklen_t len, int stagger_ms)
{
	pthread_t tid[V6_MAX_CLIENTS];
	struct course_group g = { .c = c, .n = n, .stagger_ms = stagger_ms, .connecting = n };
	pthread_condattr_t attr;
	int64_t start = now_ms();

	pthread_mutex_init(&g.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC); /* now_ms()'s clock */
	pthread_cond_init(&g.changed, &attr);
	pthread_condattr_destroy(&attr);
	g.phase_end_ms = start + COURSE_CONNECT_PHASE_MS;
	for (int i = 0; i < n; i++) { /* client 1 connects first, then 2, ..., 20 ms apart */
		memcpy(&c[i].target, target, len);
		c[i].target_len = len;
		c[i].connect_at_ms = start + 20 * i;
		c[i].group = &g;
	}
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, client_thread, &c[i]) != 0) {
			fail(&c[i], "thread", errno);
			tid[i] = 0;
			pthread_mutex_lock(&g.lock); /* the others do not wait for it */
			leave_connecting(&g, &c[i]);
			pthread_mutex_unlock(&g.lock);
		}
	for (int i = 0; i < n; i++) {
		if (tid[i])
			pthread_join(tid[i], NULL);
		c[i].group = NULL;
	}
	pthread_cond_destroy(&g.changed);
	pthread_mutex_destroy(&g.lock);
	return course_concurrency(c, n);
}

enum concurrency course_concurrency(const struct course_client c[], int n)
{
	const struct course_client *first = NULL;
	for (int i = 0; i < n; i++)
		if (c[i].sends_last)
			first = &c[i];
	if (n < 2 || !first || !first->sent_ms)
		return CONCURRENCY_UNKNOWN;
	for (int i = 0; i < n; i++)
		if (&c[i] != first && c[i].eof_ms && c[i].eof_ms < first->sent_ms)
			return CONCURRENCY_YES;
	bool closed_any = false;
	for (int i = 0; i < n; i++) {
		if (&c[i] == first)
			continue;
		if (!c[i].sent_ms)
			return CONCURRENCY_UNKNOWN; /* that one could not show it */
		closed_any |= c[i].eof_ms != 0;
	}
	return closed_any ? CONCURRENCY_NO : CONCURRENCY_UNKNOWN;
}
