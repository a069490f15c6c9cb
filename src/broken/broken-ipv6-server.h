/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (teaching and test helpers, never installed): the skeleton of the
 * broken IPv6 servers in this directory. It is src/roles/ipv6-server.c cut down to what the
 * mistakes need, traced through the same wrappers; each broken-*.c file turns exactly one
 * mistake on, and `scripts/v6trace lint` finds exactly that one
 * (tutorials/04-classic-mistakes.md).
 *
 * With no mistake on, it makes the reference's system calls in the reference's order
 * (SIGCHLD blocked outside ppoll(), the tokens on the queue before the last waitpid()) and
 * prints the same lines on stdout; every line marked MISTAKE is where a mistake changes
 * that. Cut down means only: --bind (::) and --read-timeout (10 s) are fixed, there is no
 * --help and one usage line for any wrong option, it says less on stderr (nothing
 * when accept() or fork() fails or a child was killed, one message for any failed write
 * to the pipe), SIGTERM and SIGINT kill it as they come (no clean-up of its queue) and the
 * children alive at once are not bounded.
 */
#ifndef V6LAB_BROKEN_IPV6_SERVER_H
#define V6LAB_BROKEN_IPV6_SERVER_H

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/queue.h"
#include "v6lab/token.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

struct mistake {
	bool keep_listen_in_child; /* the child never closes the listening socket */
	bool never_close_listen;   /* the parent never closes the listening socket */
	bool one_read;		   /* the child reads the token with one read(), no loop */
	bool never_reap;	   /* the parent never calls waitpid() */
	bool keep_conn_in_parent;  /* the parent never closes the connection it forked for */
	bool keep_pipe_r_in_child; /* the child never closes the pipe's read end */
	bool wait_pipe_eof;	   /* the parent reads the pipe to EOF, holding the write end */
	bool sequential;	   /* the parent waits for each child's token before accepting */
};

static void broken_on_sigchld(int sig)
{
	(void)sig;
}

/* The child: one connection, one token, one record on the pipe. */
static _Noreturn void broken_serve(const struct mistake *m, int conn, int pipe_w, const char *peer)
{
	struct token_record rec = { .pid = getpid() };
	snprintf(rec.peer, sizeof(rec.peer), "%s", peer);
	if (m->one_read) {
		/* MISTAKE: one read() is one TCP segment's worth, not one message. Whatever it
		 * returned is taken as the token, as the 2021 servers did (minus the "\r\n"). */
		char buf[V6_TOKEN_WIRE_LEN + 1];
		ssize_t n = Read(conn, buf, V6_TOKEN_WIRE_LEN);
		size_t len = n > 2 ? (size_t)n - 2 : 0;
		memcpy(rec.token, buf, len < V6_TOKEN_LEN ? len : V6_TOKEN_LEN);
		rec.status = n > 0 ? TOKEN_OK : TOKEN_TRUNCATED;
		/* token_read() traces the token's arrival; this read has to say it itself */
		v6_trace_token(V6_TOKEN_RECEIVED, rec.token,
			       token_frame_name((enum token_frame)rec.status));
	} else {
		rec.status = token_read(conn, 10000, rec.token);
	}
	if (writen(pipe_w, &rec, sizeof(rec)) < 0)
		warnx_("child %d: writing the pipe: %s", rec.pid, strerror(errno));
	Close(conn);
	Close(pipe_w);
	_exit(0);
}

static int broken_live_children;

static void broken_reap(const struct mistake *m, int options)
{
	if (m->never_reap)
		return; /* MISTAKE: no waitpid(): every finished child stays a zombie */
	while (broken_live_children > 0 && Waitpid(-1, NULL, options) > 0)
		broken_live_children--;
}

static void broken_accept(const struct mistake *m, int listen_fd, const int pipe_fds[2])
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char text[V6_ADDRSTR_LEN];

	int conn = Accept(listen_fd, (struct sockaddr *)&peer, &len);
	if (conn < 0)
		return;
	sockaddr_text((struct sockaddr *)&peer, text, sizeof(text));
	pid_t pid = Fork();
	if (pid < 0) {
		Close(conn);
		return;
	}
	if (pid == 0) {
		if (!m->keep_listen_in_child)
			Close(listen_fd);
		/* else MISTAKE: the child keeps the listening socket it will never accept on */
		if (!m->keep_pipe_r_in_child)
			Close(pipe_fds[0]);
		/* else MISTAKE: the child keeps the pipe's read end; it only ever writes */
		broken_serve(m, conn, pipe_fds[1], text);
	}
	broken_live_children++;
	if (!m->keep_conn_in_parent)
		Close(conn);
	/* else MISTAKE: the parent keeps its copy of the connection the child serves: the
	 * client sees no EOF when the child closes, and every later child inherits it too */
	printf("accepted %s (child %d)\n", text, pid);
}

static int broken_read_record(int pipe_r, token_t *slot)
{
	struct token_record rec;
	if (readn(pipe_r, &rec, sizeof(rec), -1) != (ssize_t)sizeof(rec))
		return 0;
	rec.token[V6_TOKEN_LEN] = '\0';
	rec.peer[sizeof(rec.peer) - 1] = '\0';
	if (rec.status != TOKEN_OK) {
		warnx_("no token from %s (child %d): %s", rec.peer, rec.pid,
		       token_frame_name((enum token_frame)rec.status));
		return 0;
	}
	memcpy(*slot, rec.token, sizeof(token_t));
	printf("token from %s (child %d): %s\n", rec.peer, rec.pid, rec.token);
	return 1;
}

static void broken_put_tokens(int qid, token_t *tokens, int got, key_t key)
{
	if (queue_put_tokens(qid, tokens, got, now_ms() + 30000) < 0)
		die("putting the tokens on queue id %d: %s", qid, strerror(errno));
	printf("put %d token(s) on message queue key 0x%08x (id %d)\n", got, (unsigned)key, qid);
}

/* "Make sure every child is done": read the pipe until EOF, i.e. until every write end is
 * closed. The tokens are handed over first and the rest is cleaned up, so the run passes
 * and this is the only mistake left. */
static void broken_wait_pipe_eof(const struct mistake *m, int listen_fd, int pipe_r, int qid,
				 token_t *tokens, int got, key_t key)
{
	Close(listen_fd);
	broken_put_tokens(qid, tokens, got, key);
	broken_reap(m, 0);
	/* Not the mistake: it would block forever, so SIGALRM (default action: terminate)
	 * ends it after 3 s, and the exercise with it. */
	alarm(3);
	printf("waiting for EOF on the pipe (every child done)\n");
	char c;
	/* MISTAKE: this process still holds the pipe's write end (pipe_fds[1]): the pipe has a
	 * writer as long as it lives, read() never returns 0 and the server hangs here. Fix:
	 * Close(pipe_fds[1]) before reading to EOF. */
	while (Read(pipe_r, &c, 1) > 0)
		;
}

static int broken_ipv6_server_main(int argc, char **argv, const struct mistake *m)
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "tokens", required_argument, NULL, 'n' },
		{ "queue-key", required_argument, NULL, 'k' },
		{ 0 },
	};
	uint16_t port = 7002;
	int n = 5, c;
	key_t key = 0;
	char err[256];
	token_t tokens[V6_MAX_CLIENTS] = { { 0 } };

	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV6_SERVER);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'p' && parse_port(optarg, true, &port))
			continue;
		if (c == 'n') {
			n = option_int("--tokens", optarg, 1, V6_MAX_CLIENTS);
			continue;
		}
		if (c == 'k' && parse_queue_key(optarg, &key))
			continue;
		die("usage: %s [--port P] [--tokens N] [--queue-key KEY]", v6_progname());
	}
	ignore_sigpipe();
	on_signal(SIGCHLD, broken_on_sigchld);
	setvbuf(stdout, NULL, _IOLBF, 0);
	int listen_fd = tcp_listen("::", port, SOMAXCONN, &port, err, sizeof(err));
	if (listen_fd < 0)
		die("%s", err);
	key = key ? key : queue_key_for_port(port);
	int qid = queue_create(key, err, sizeof(err));
	if (qid < 0)
		die("%s", err);
	printf("listening on [::]:%u, %d token(s) to collect, message queue key 0x%08x\n", port, n,
	       (unsigned)key);

	sigset_t wait_mask; /* SIGCHLD wakes ppoll() only, however late it comes */
	block_signal(SIGCHLD, &wait_mask);
	int pipe_fds[2];
	if (Pipe(pipe_fds) < 0)
		die("pipe: %s", strerror(errno));
	int got = 0;
	while (got < n) {
		struct pollfd pfd[2] = { { .fd = listen_fd, .events = POLLIN },
					 { .fd = pipe_fds[0], .events = POLLIN } };
		if (ppoll(pfd, 2, NULL, &wait_mask) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd[1].revents & POLLIN)
			got += broken_read_record(pipe_fds[0], &tokens[got]);
		else if (pfd[0].revents & POLLIN) {
			broken_accept(m, listen_fd, pipe_fds);
			/* MISTAKE (sequential): wait for this child's token, and for the child,
			 * before accepting anyone else: one connection at a time, whatever
			 * fork() promised */
			if (m->sequential) {
				got += broken_read_record(pipe_fds[0], &tokens[got]);
				broken_reap(m, 0);
			}
		}
		broken_reap(m, WNOHANG);
	}
	if (m->wait_pipe_eof) {
		broken_wait_pipe_eof(m, listen_fd, pipe_fds[0], qid, tokens, got, key);
		return 0; /* never reached: SIGALRM ends the process blocked in read() */
	}
	Close(pipe_fds[1]);
	Close(pipe_fds[0]);
	if (!m->never_close_listen)
		Close(listen_fd);
	/* else MISTAKE: the port stays open: a 6th client is queued, never served or refused */
	broken_put_tokens(qid, tokens, got, key);
	broken_reap(m, 0);
	return 0;
}

#endif
