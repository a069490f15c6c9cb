/* SPDX-License-Identifier: MIT */
/*
 * Reading and writing a TCP stream whatever TCP does to segment boundaries.
 *
 * TCP delivers bytes, not messages: one write() of the peer can arrive as several reads,
 * and several writes as one read. A program that expects "one read() = one message"
 * works on loopback and breaks over a tunnel. These loops are what every role uses instead.
 */
#ifndef V6LAB_IO_H
#define V6LAB_IO_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Write all n bytes (loops over short writes and EINTR). Returns n, or -1 with errno. */
ssize_t writen(int fd, const void *buf, size_t n);
/* Write a NUL-terminated string. */
ssize_t write_str(int fd, const char *s);

/* Read exactly n bytes unless EOF comes first. Waits at most timeout_ms in all
 * (-1: no limit). Returns the bytes read (< n only at EOF), or -1 with errno
 * (ETIMEDOUT when the time ran out). */
ssize_t readn(int fd, void *buf, size_t n, int timeout_ms);

/* A small read buffer, so that bytes read past one message are kept for the next. */
struct rbuf {
	int fd;
	size_t len;
	char data[4096];
};
void rbuf_init(struct rbuf *rb, int fd);

/*
 * Read until `delim` has been received, copying the message (delimiter included,
 * NUL-terminated) to out. Returns its length, or:
 *   0  EOF before the delimiter (what came is in out, NUL-terminated, *partial = its length)
 *  -1  error, errno set: ETIMEDOUT (deadline passed), EMSGSIZE (no delimiter within
 *      outsz - 1 bytes), or the read's errno.
 * deadline_ms is an absolute now_ms() time, or -1 for no limit.
 */
ssize_t read_until(struct rbuf *rb, const char *delim, char *out, size_t outsz,
		   int64_t deadline_ms, size_t *partial);

/*
 * Close a connection after the last word: shutdown(SHUT_WR) sends it with a FIN, then
 * what the peer still sends is read and dropped for at most timeout_ms. Closing with
 * unread bytes would make TCP answer with a reset, which can destroy the last word
 * before the peer has read it.
 */
void close_lingering(int fd, int timeout_ms);

/*
 * The same close for a server that cannot wait on one peer: connections closed after their
 * last word while its poll() loop goes on. lingering_add() shuts fd down for writing; it is
 * closed once the peer has closed too or timeout_ms has passed, by lingering_wait(). When
 * LINGERING_MAX are waiting already, the longest waiting is closed at once.
 */
#define LINGERING_MAX 64
struct lingering {
	struct pollfd pfd[LINGERING_MAX];
	int64_t until[LINGERING_MAX]; /* now_ms() times */
	int n;
};
void lingering_add(struct lingering *l, int fd, int timeout_ms);
/*
 * Wait (ppoll() with sigmask) until fd is readable, a signal comes, or a lingering
 * connection's peer sends, closes or runs out of time; read and drop what those peers sent
 * and close the ones done. True: fd is readable.
 */
bool lingering_wait(struct lingering *l, int fd, const sigset_t *sigmask);
/* Close them all at once, without lingering: in a child forked from the loop, its copies
 * (the parent still lingers on the connections). */
void lingering_forget(struct lingering *l);

#endif
