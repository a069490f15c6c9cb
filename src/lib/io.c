/* SPDX-License-Identifier: MIT */
#include "v6lab/io.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "v6lab/util.h"
#include "v6lab/wrap.h"

ssize_t writen(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	size_t left = n;

	while (left > 0) {
		ssize_t w = Write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	return (ssize_t)n;
}

ssize_t write_str(int fd, const char *s)
{
	return writen(fd, s, strlen(s));
}

/* Wait until fd is readable or the deadline passes (-1: none). 0 = readable, -1 = errno. */
static int wait_readable(int fd, int64_t deadline_ms)
{
	for (;;) {
		int timeout = -1;
		if (deadline_ms >= 0) {
			int64_t left = deadline_ms - now_ms();
			if (left <= 0) {
				errno = ETIMEDOUT;
				return -1;
			}
			timeout = (int)left;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

/* One read once data is there, retried after EINTR. */
static ssize_t read_some(int fd, void *buf, size_t n, int64_t deadline_ms)
{
	for (;;) {
		if (wait_readable(fd, deadline_ms) < 0)
			return -1;
		ssize_t r = Read(fd, buf, n);
		if (r >= 0 || errno != EINTR)
			return r;
	}
}

ssize_t readn(int fd, void *buf, size_t n, int timeout_ms)
{
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	char *p = buf;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read_some(fd, p + got, n - got, deadline);
		if (r < 0)
			return -1;
		if (r == 0)
			break; /* EOF */
		got += (size_t)r;
	}
	return (ssize_t)got;
}

/* Close the i-th lingering connection; the last takes its place. */
static void drop_lingering(struct lingering *l, int i)
{
	Close(l->pfd[i].fd);
	l->pfd[i] = l->pfd[--l->n];
	l->until[i] = l->until[l->n];
}

void close_lingering(int fd, int timeout_ms)
{
	char junk[4096];
	int64_t deadline = now_ms() + timeout_ms;

	Shutdown(fd, SHUT_WR);
	while (read_some(fd, junk, sizeof(junk), deadline) > 0)
		;
	Close(fd);
}

void lingering_add(struct lingering *l, int fd, int timeout_ms)
{
	Shutdown(fd, SHUT_WR);
	if (l->n == LINGERING_MAX)
		drop_lingering(l, 0); /* the longest waiting */
	l->pfd[l->n] = (struct pollfd){ .fd = fd, .events = POLLIN };
	l->until[l->n++] = now_ms() + timeout_ms;
}

bool lingering_wait(struct lingering *l, int fd, const sigset_t *sigmask)
{
	struct pollfd pfd[1 + LINGERING_MAX] = { { .fd = fd, .events = POLLIN } };
	int64_t now = now_ms(), wait_ms = -1;
	for (int i = 0; i < l->n; i++)
		if (wait_ms < 0 || l->until[i] - now < wait_ms)
			wait_ms = l->until[i] > now ? l->until[i] - now : 0;
	memcpy(pfd + 1, l->pfd, (size_t)l->n * sizeof(l->pfd[0]));
	struct timespec ts = { .tv_sec = wait_ms / 1000, .tv_nsec = wait_ms % 1000 * 1000000 };
	int ready = ppoll(pfd, 1 + (nfds_t)l->n, wait_ms < 0 ? NULL : &ts, sigmask);

	char junk[4096];
	now = now_ms();
	for (int i = l->n - 1; i >= 0; i--)
		if (((pfd[1 + i].revents & (POLLIN | POLLHUP | POLLERR)) &&
		     Read(l->pfd[i].fd, junk, sizeof(junk)) <= 0) || /* the peer closed (or reset) */
		    l->until[i] <= now)
			drop_lingering(l, i);
	return ready > 0 && (pfd[0].revents & POLLIN);
}

void lingering_forget(struct lingering *l)
{
	while (l->n > 0)
		Close(l->pfd[--l->n].fd);
}

void rbuf_init(struct rbuf *rb, int fd)
{
	rb->fd = fd;
	rb->len = 0;
}

ssize_t read_until(struct rbuf *rb, const char *delim, char *out, size_t outsz,
		   int64_t deadline_ms, size_t *partial)
{
	size_t dlen = strlen(delim);

	for (;;) {
		/* Is a whole message already buffered? */
		char *hit = rb->len >= dlen ? memmem(rb->data, rb->len, delim, dlen) : NULL;
		if (hit) {
			size_t mlen = (size_t)(hit - rb->data) + dlen;
			if (mlen >= outsz) {
				errno = EMSGSIZE;
				return -1;
			}
			memcpy(out, rb->data, mlen);
			out[mlen] = '\0';
			memmove(rb->data, rb->data + mlen, rb->len - mlen);
			rb->len -= mlen;
			return (ssize_t)mlen;
		}
		if (rb->len >= outsz - 1 || rb->len == sizeof(rb->data)) {
			errno = EMSGSIZE;
			return -1;
		}
		ssize_t r = read_some(rb->fd, rb->data + rb->len, sizeof(rb->data) - rb->len,
				      deadline_ms);
		if (r < 0)
			return -1;
		if (r == 0) {
			size_t n = rb->len < outsz - 1 ? rb->len : outsz - 1;
			memcpy(out, rb->data, n);
			out[n] = '\0';
			if (partial)
				*partial = n;
			rb->len = 0;
			return 0;
		}
		rb->len += (size_t)r;
	}
}
