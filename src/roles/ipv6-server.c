/* SPDX-License-Identifier: MIT */
/*
 * ipv6-server: the student's IPv6 server.
 *
 *   listen on [::]:port
 *   loop until N tokens:  accept -> fork a child per connection
 *       child:  read one token (whatever the segments) -> write it to the pipe -> exit
 *       parent: close the connection, read finished tokens off the pipe, reap children
 *   close the listening socket, put the N tokens on the message queue, exit
 *
 * The parent waits on the listening socket and the pipe at once (poll), so it never
 * waits for one child before accepting the next connection: the server is concurrent.
 * Stopped by SIGTERM or Ctrl-C while it collects, it ends its children and removes its
 * queue, so that the next run does not find a stale one.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/queue.h"
#include "v6lab/token.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

struct options {
	const char *bind;
	uint16_t port;
	int tokens;
	key_t queue_key; /* 0: derived from the port */
	int read_timeout_ms;
};

static _Noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: ipv6-server [--bind A] [--port P] [--tokens N] [--queue-key KEY] "
		"[--read-timeout S]\n"
		"  --bind A          address to listen on (default ::, dual-stack)\n"
		"  --port P          port (default 7002; 0 = any free port, printed)\n"
		"  --tokens N        tokens to collect before passing them on (default 5, 1..%d)\n"
		"  --queue-key KEY   System V message queue key (default 0x7636<port in hex>)\n"
		"  --read-timeout S  how long a child waits for its token (default 10)\n",
		V6_MAX_CLIENTS);
	fputs("--help and --version print this help and the version.\n", status ? stderr : stdout);
	exit(status);
}

static struct options parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "tokens", required_argument, NULL, 'n' },
		{ "queue-key", required_argument, NULL, 'k' },
		{ "read-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct options o = { .bind = "::", .port = 7002, .tokens = 5, .read_timeout_ms = 10000 };
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.bind = optarg; break;
		case 'p':
			if (!parse_port(optarg, true, &o.port))
				die("--port '%s': give a number from 0 to 65535", optarg);
			break;
		case 'n':
			o.tokens = option_int("--tokens", optarg, 1, V6_MAX_CLIENTS);
			break;
		case 'k':
			if (!parse_queue_key(optarg, &o.queue_key))
				die("--queue-key '%s': give a positive number (decimal or 0x hex)", optarg);
			break;
		case 't':
			o.read_timeout_ms = 1000 * option_int("--read-timeout", optarg, 1, 3600);
			break;
		case 'h': usage(0);
		case 'V': print_version();
		default: usage(V6_EXIT_ERROR);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	return o;
}

/* SIGCHLD is blocked except inside ppoll() (collect_tokens): a child that finished, before
 * or during the wait, makes ppoll() return EINTR, and the loop reaps it at once. The
 * handler does nothing, but it must exist: SIGCHLD's default action ignores it, and an
 * ignored signal wakes nothing. */
static void on_sigchld(int sig)
{
	(void)sig;
}

/* At most this many children at once: idle connections cannot fork the server to death;
 * the next ones wait in the listen() backlog until a child is done. */
#define MAX_CHILDREN 32
static int live_children;
static pid_t children[MAX_CHILDREN]; /* the live ones' pids, 0: a free slot */

/* SIGTERM or SIGINT (Ctrl-C) while collecting: the server removes its queue and stops. Like
 * SIGCHLD they are blocked except inside ppoll(), so the loop sees them when it wakes. */
static volatile sig_atomic_t stop_signal;
static void on_stop(int sig)
{
	stop_signal = sig;
}

/* A child is ended by them at once (the parent sends SIGTERM to those still running). */
static void default_stop_signals(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
}

static void reap_children(int options)
{
	int status;
	pid_t pid;
	while (live_children > 0 && (pid = Waitpid(-1, &status, options)) > 0) {
		live_children--;
		for (int i = 0; i < MAX_CHILDREN; i++)
			if (children[i] == pid)
				children[i] = 0;
		if (WIFSIGNALED(status))
			warnx_("child %d was killed by signal %d: its token is lost", pid,
			       WTERMSIG(status));
	}
}

/* The child: one connection, one token, one record on the pipe. */
static _Noreturn void serve_client(int conn, int pipe_w, const char *peer, int timeout_ms)
{
	struct token_record rec = { .pid = getpid() };
	snprintf(rec.peer, sizeof(rec.peer), "%s", peer);
	rec.status = token_read(conn, timeout_ms, rec.token);
	if (writen(pipe_w, &rec, sizeof(rec)) < 0) {
		if (errno == EPIPE) /* the parent has all it needs and closed the pipe */
			warnx_("child %d: %s came after the last token needed: not passed on",
			       rec.pid, peer);
		else
			warnx_("child %d: writing the pipe: %s", rec.pid, strerror(errno));
	}
	Close(conn);
	Close(pipe_w);
	_exit(0);
}

/* Accept one connection and fork its child. */
static void accept_client(int listen_fd, const int pipe_fds[2], int timeout_ms)
{
	struct sockaddr_storage peer;
	socklen_t len = sizeof(peer);
	char text[V6_ADDRSTR_LEN];

	int conn = Accept(listen_fd, (struct sockaddr *)&peer, &len);
	if (conn < 0) {
		if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) /* EAGAIN: gone */
			warnx_("accept: %s", strerror(errno));
		return;
	}
	sockaddr_text((struct sockaddr *)&peer, text, sizeof(text));
	pid_t pid = Fork();
	if (pid < 0) {
		warnx_("fork for %s: %s: dropping that connection", text, strerror(errno));
		Close(conn);
		return;
	}
	if (pid == 0) {
		default_stop_signals();
		Close(listen_fd);   /* the child never accepts */
		Close(pipe_fds[0]); /* the child only writes the pipe */
		serve_client(conn, pipe_fds[1], text, timeout_ms);
	}
	live_children++;
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (!children[i]) {
			children[i] = pid;
			break;
		}
	Close(conn); /* the child has it now; keeping it would hold the connection open */
	printf("accepted %s (child %d)\n", text, pid);
}

/* Take one finished child's record off the pipe; 1 if it carried a token. */
static int read_record(int pipe_r, token_t *slot)
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

/* Collect n tokens; -1 when a stop signal came first. wait_mask: the signals unblocked. */
static int collect_tokens(int listen_fd, int n, token_t tokens[], int timeout_ms,
			  const sigset_t *wait_mask)
{
	int pipe_fds[2];
	if (Pipe(pipe_fds) < 0)
		die("pipe: %s", strerror(errno));

	int got = 0;
	while (got < n && !stop_signal) {
		struct pollfd pfd[2] = {
			{ .fd = pipe_fds[0], .events = POLLIN },
			{ .fd = listen_fd, .events = POLLIN },
		};
		/* with MAX_CHILDREN alive, the listening socket waits for one of them to end */
		nfds_t nfds = live_children < MAX_CHILDREN ? 2 : 1;
		if (ppoll(pfd, nfds, NULL, wait_mask) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (pfd[0].revents & POLLIN)
			got += read_record(pipe_fds[0], &tokens[got]);
		else if (nfds == 2 && (pfd[1].revents & POLLIN))
			accept_client(listen_fd, pipe_fds, timeout_ms);
		reap_children(WNOHANG);
	}
	Close(pipe_fds[1]);
	Close(pipe_fds[0]);
	return stop_signal ? -1 : got;
}

/* Stopped while collecting: no child left behind, no queue left for the next run. Exits
 * with 128 + the signal's number, as a shell reports a program the signal killed. */
static _Noreturn void stop(int qid, key_t key)
{
	for (int i = 0; i < MAX_CHILDREN; i++)
		if (children[i])
			kill(children[i], SIGTERM);
	reap_children(0);
	Msgctl(qid, IPC_RMID, NULL);
	printf("stopped by signal %d: removed message queue key 0x%08x\n", (int)stop_signal,
	       (unsigned)key);
	exit(128 + stop_signal);
}

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV6_SERVER);
	struct options o = parse_options(argc, argv);
	char err[256];
	uint16_t port;
	token_t tokens[V6_MAX_CLIENTS];

	ignore_sigpipe();
	on_signal(SIGCHLD, on_sigchld);
	on_signal(SIGTERM, on_stop);
	on_signal(SIGINT, on_stop);
	sigset_t wait_mask; /* SIGCHLD, SIGTERM, SIGINT wake ppoll() only, however late they come */
	block_signal(SIGTERM, &wait_mask);
	block_signal(SIGINT, &wait_mask);
	block_signal(SIGCHLD, &wait_mask);
	sigdelset(&wait_mask, SIGTERM);
	sigdelset(&wait_mask, SIGINT);
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* A backlog that takes a class's burst of connections without dropping SYNs. */
	int listen_fd = tcp_listen(o.bind, o.port, SOMAXCONN, &port, err, sizeof(err));
	if (listen_fd < 0)
		die("%s", err);
	key_t key = o.queue_key ? o.queue_key : queue_key_for_port(port);
	int qid = queue_create(key, err, sizeof(err));
	if (qid < 0)
		die("%s", err);
	printf("listening on [%s]:%u, %d token(s) to collect, message queue key 0x%08x\n",
	       o.bind, port, o.tokens, (unsigned)key);

	int n = collect_tokens(listen_fd, o.tokens, tokens, o.read_timeout_ms, &wait_mask);
	Close(listen_fd); /* all tokens are in: a 6th client is refused */
	if (n < 0)
		stop(qid, key);

	/* Hand the tokens over first: a straggler (an extra client that sends nothing) must
	 * not hold them back until its read timeout. */
	if (queue_put_tokens(qid, tokens, n, now_ms() + 30000) < 0)
		die("putting the tokens on queue id %d: %s", qid, strerror(errno));
	printf("put %d token(s) on message queue key 0x%08x (id %d)\n", n, (unsigned)key, qid);
	reap_children(0); /* no zombie: wait for every child still running */
	return 0;
}
