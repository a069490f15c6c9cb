/* SPDX-License-Identifier: MIT */
/*
 * The wrapper layer: every socket, process, pipe and message-queue call of the four
 * programs goes through one of these functions.
 *
 * Each wrapper has the signature and the result of the system call it wraps (-1 and errno
 * on failure) and adds one thing: the trace event, so that a student who reads Accept() in
 * a role program finds an accept event in the trace, with nothing in between.
 * Unlike the wrappers of UNIX Network Programming they do not exit on error: a course
 * server that serves a whole class cannot die because one student's program misbehaved,
 * so the caller decides (see die() in util.h for the calls a program cannot live without).
 */
#ifndef V6LAB_WRAP_H
#define V6LAB_WRAP_H

#include <sys/msg.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Which of the four programs (or a tool/test helper) is running: set once in main(),
 * recorded in every trace event. */
enum v6_role {
	V6_ROLE_OTHER = 0,
	V6_ROLE_IPV4_SERVER,
	V6_ROLE_IPV4_CLIENT,
	V6_ROLE_IPV6_SERVER,
	V6_ROLE_IPV6_CLIENT,
};
void v6_set_role(enum v6_role role);
enum v6_role v6_role(void);
const char *v6_role_name(enum v6_role role);

int Socket(int domain, int type, int protocol);
int Setsockopt(int fd, int level, int name, const void *val, socklen_t len);
int Bind(int fd, const struct sockaddr *sa, socklen_t len);
int Listen(int fd, int backlog);
int Accept(int fd, struct sockaddr *sa, socklen_t *len);
int Connect(int fd, const struct sockaddr *sa, socklen_t len);
ssize_t Read(int fd, void *buf, size_t n);
ssize_t Write(int fd, const void *buf, size_t n);
int Shutdown(int fd, int how);
int Close(int fd);

pid_t Fork(void);
pid_t Waitpid(pid_t pid, int *status, int options);
int Pipe(int fds[2]);

int Msgget(key_t key, int flags);
int Msgsnd(int id, const void *msg, size_t size, int flags);
ssize_t Msgrcv(int id, void *msg, size_t size, long type, int flags);
int Msgctl(int id, int cmd, struct msqid_ds *buf);

#endif
