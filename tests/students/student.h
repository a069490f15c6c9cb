/* SPDX-License-Identifier: MIT */
/*
 * What the 2021-style student programs of this corpus share: the token's size and the
 * hand-off between the IPv6 server and the IPv4 client. Plain libc, on purpose: these are
 * students' programs, not v6lab's (tests/students/README.md).
 *
 * Each server is linked with one handoff-*.c, each client with the matching fetch-*.c:
 * the pair agrees on the IPC object named by KEY (a System V key, or the FIFO's path).
 * Students hard-coded KEY; here it is the last, optional argument and defaults to theirs.
 */
#ifndef STUDENT_H
#define STUDENT_H

#include <netinet/in.h>

#define NCLIENTS 5
#define TOKEN_WIRE 30 /* what a course client sends: clientK: + 20 characters + \r\n */
#define TOKEN_LEN 28  /* the token: the same without the \r\n */

#define QUEUE_KEY "7002"      /* handoff-queue.c, handoff-onemsg.c and their fetch-*.c */
#define SHM_KEY "7003"        /* handoff-shm.c, fetch-shm.c */
#define FIFO_PATH "/tmp/fifo7002" /* handoff-fifo.c, fetch-fifo.c */

/* The seed's message: msgsz is sizeof(struct msg) - sizeof(long), the text only. */
struct msg {
	long mtype;
	char text[256];
};

/* The shared memory of shm-server and shm-client: the server sets full last. */
struct shared {
	volatile int full;
	char tokens[NCLIENTS][TOKEN_LEN + 1];
};

/* The server side: give the five tokens to the client (key NULL: the default). */
void hand_off(char tokens[NCLIENTS][TOKEN_LEN + 1], const char *key);
/* The client side: take them (key NULL: the default); exits when it cannot. */
void fetch_tokens(const char *key, char tokens[NCLIENTS][TOKEN_LEN + 1]);

/* socket, SO_REUSEADDR, bind, listen(fd, 5), or perror and exit(1) (listen6.c). */
int listen6(const struct sockaddr_in6 *addr);
/* The queue / the shared memory at a System V key, made if missing, or exit(1) (sysv.c). */
int open_queue(const char *key);
struct shared *attach_shm(const char *key, int *id);

#endif
