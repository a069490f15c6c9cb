/* SPDX-License-Identifier: MIT */
/*
 * relay_storm: a large trace, fast. It plays every hop of the token relay in one process,
 * through the wrapper layer, switching roles as a token moves on: course client writes a
 * socket -> IPv6 server reads it -> pipe -> message queue -> IPv4 client -> course server.
 * The hops are the real programs' events (same wrappers, same protocol steps) without
 * their start-up, fork and registration costs, so scripts/bench-v6trace can make a trace
 * of a million events in seconds. Not a model of a correct program: one process, no fork.
 *
 * Usage: relay_storm ROUNDS   (each round relays 5 tokens: about 150 events)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "v6lab/queue.h"
#include "v6lab/token.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

#define N 5

static void relay_round(int net[2], int pipe_fds[2], int qid)
{
	token_t tok[N];
	char buf[512], reply[N * (V6_TOKEN_LEN + 1) + 1];
	struct token_msg m;
	size_t len = 0;

	for (int i = 0; i < N; i++) {
		v6_set_role(V6_ROLE_IPV4_SERVER);
		if (!token_make(N - i, tok[i]))
			die("no randomness");
		v6_set_role(V6_ROLE_IPV6_CLIENT);
		snprintf(buf, sizeof(buf), "%s\r\n", tok[i]);
		Write(net[0], buf, V6_TOKEN_WIRE_LEN);
		v6_set_role(V6_ROLE_IPV6_SERVER);
		Read(net[1], buf, V6_TOKEN_WIRE_LEN);
		v6_trace_token(V6_TOKEN_RECEIVED, tok[i], "ok");
		struct token_record rec = { .pid = 0 };
		memcpy(rec.token, tok[i], sizeof(token_t));
		Write(pipe_fds[1], &rec, sizeof(rec));
		Read(pipe_fds[0], &rec, sizeof(rec));
	}
	for (int i = 0; i < N; i++) {
		memset(&m, 0, sizeof(m)); /* the text is 256 bytes: no stale token after the NUL */
		m.mtype = V6_MSG_TOKEN;
		snprintf(m.text, sizeof(m.text), "%s", tok[i]);
		Msgsnd(qid, &m, sizeof(m.text), 0);
		v6_trace_token(V6_TOKEN_FORWARDED, tok[i], "message queue");
	}
	v6_set_role(V6_ROLE_IPV4_CLIENT);
	for (int i = 0; i < N; i++) {
		Msgrcv(qid, &m, sizeof(m.text), 0, 0);
		len += (size_t)snprintf(reply + len, sizeof(reply) - len, "%s%s", m.text,
					i + 1 < N ? "," : "\n");
	}
	Write(net[1], reply, len);
	for (int i = 0; i < N; i++)
		v6_trace_token(V6_TOKEN_FORWARDED, tok[i], "course server");
	v6_set_role(V6_ROLE_IPV4_SERVER);
	Read(net[0], buf, sizeof(buf));
	for (int i = 0; i < N; i++)
		v6_trace_token(V6_TOKEN_VERIFIED, tok[i], "ok");
}

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	long rounds = argc == 2 ? strtol(argv[1], NULL, 10) : 0;
	if (rounds < 1)
		die("usage: relay_storm ROUNDS");
	int net[2], pipe_fds[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, net) < 0 || Pipe(pipe_fds) < 0)
		die("socketpair/pipe failed");
	int qid = Msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (qid < 0)
		die("msgget failed");
	for (long r = 0; r < rounds; r++)
		relay_round(net, pipe_fds, qid);
	Msgctl(qid, IPC_RMID, NULL);
	printf("%ld rounds, %ld tokens\n", rounds, rounds * N);
	return 0;
}
