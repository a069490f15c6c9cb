/* SPDX-License-Identifier: MIT */
/*
 * The wrapper layer: the socket, process, pipe and message-queue calls of the four
 * programs that make, use or end something go through these functions (socket,
 * setsockopt, bind, listen, accept, connect, read, write, shutdown, close, fork, waitpid,
 * pipe, msgget, msgsnd, msgrcv, msgctl). The few that only ask or wait are made directly
 * and leave no event: getsockname() (the port tcp_listen() got), fcntl() (O_NONBLOCK),
 * poll() and ppoll() (is a descriptor ready?) and the signal calls.
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

/*
 * The protocol's steps, for the trace (v6lab_protocol events, see trace/README.md): one
 * call where the step happens. Without a tracing session each costs a test and a branch.
 */
enum v6_message {
	V6_PROMPT_SENT,	      /* course server: a question went out */
	V6_PROMPT_RECEIVED,   /* student client: a whole question came in */
	V6_ANSWER_SENT,	      /* student client: its answer went out */
	V6_VERDICT_RECEIVED,  /* student client: the verdict line came in */
};
void v6_trace_message(enum v6_message what, int question, const char *text);
/* Course server: how it judged an answer (result: enum answer_check of proto.h). */
void v6_trace_answer(int question, const char *answer, int result, const char *why);

enum v6_token_step {
	V6_TOKEN_GENERATED, /* a course client made it */
	V6_TOKEN_RECEIVED,  /* the student's server read it off a connection */
	V6_TOKEN_FORWARDED, /* passed on to the next hop (queue, course server) */
	V6_TOKEN_VERIFIED,  /* the course server checked it in the reply */
};
/* token: its 28 characters (need not be NUL-terminated after them), or "" if none. */
void v6_trace_token(enum v6_token_step step, const char *token, const char *detail);
void v6_trace_verdict(int pass, int ok, int expected, const char *concurrent,
		      const char *reason);

#endif
