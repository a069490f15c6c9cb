/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the "concurrent"
 * server of the seed. It forks a child per connection, but then waits for that child's
 * token on the pipe before accepting the next connection, so it serves one client at a
 * time. Everything else is right (children reaped, queue filled): the course server
 * gives PASS with "concurrent: no".
 *
 * Compare with src/roles/ipv6-server.c, whose parent waits on the listening socket and
 * the pipe at once.
 */
#include <errno.h>
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

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV6_SERVER);
	uint16_t port = 0;
	int n = 5;
	char err[256];
	token_t tokens[V6_MAX_CLIENTS];

	if (argc < 3 || strcmp(argv[1], "--port") != 0 || !parse_port(argv[2], true, &port))
		die("usage: sequential-ipv6-server --port P");
	ignore_sigpipe();
	setvbuf(stdout, NULL, _IOLBF, 0);
	int listen_fd = tcp_listen("::", port, 16, &port, err, sizeof(err));
	if (listen_fd < 0)
		die("%s", err);
	key_t key = queue_key_for_port(port);
	int qid = queue_create(key, err, sizeof(err));
	if (qid < 0)
		die("%s", err);
	printf("listening on [::]:%u, %d token(s) to collect, message queue key 0x%08x\n", port, n,
	       (unsigned)key);

	int pipe_fds[2];
	if (Pipe(pipe_fds) < 0)
		die("pipe: %s", strerror(errno));
	for (int got = 0; got < n;) {
		int conn = Accept(listen_fd, NULL, NULL);
		if (conn < 0)
			continue;
		pid_t pid = Fork();
		if (pid == 0) {
			struct token_record rec = { .pid = getpid() };
			Close(listen_fd);
			Close(pipe_fds[0]);
			rec.status = token_read(conn, 10000, rec.token);
			writen(pipe_fds[1], &rec, sizeof(rec));
			_exit(0);
		}
		Close(conn);
		/* THE MISTAKE: wait for this child's token before accepting anyone else. */
		struct token_record rec;
		if (readn(pipe_fds[0], &rec, sizeof(rec), -1) == (ssize_t)sizeof(rec) &&
		    rec.status == TOKEN_OK)
			memcpy(tokens[got++], rec.token, sizeof(token_t));
		Waitpid(pid, NULL, 0);
	}
	Close(listen_fd);
	Close(pipe_fds[0]);
	Close(pipe_fds[1]);
	if (queue_put_tokens(qid, tokens, n, now_ms() + 30000) < 0)
		die("msgsnd: %s", strerror(errno));
	printf("put %d token(s) on message queue key 0x%08x (id %d)\n", n, (unsigned)key, qid);
	return 0;
}
