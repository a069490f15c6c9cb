/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv4 client that
 * never removes the message queue. It takes the tokens off the queue with msgrcv() and
 * sends them back like src/roles/ipv4-client.c (same options, answers from the options or
 * typed), but forgets msgctl(id, IPC_RMID): the queue outlives both programs (ipcs -q
 * lists it) and the next run of the IPv6 server finds a stale queue at its key.
 * Fix: msgctl(id, IPC_RMID, NULL) once the end message is read (queue_take_tokens does).
 * scripts/v6trace lint finds it: tutorials/04-classic-mistakes.md.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/proto.h"
#include "v6lab/queue.h"
#include "v6lab/token.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

struct options {
	const char *server, *answers[V6_QUESTIONS + 1];
	uint16_t port;
	key_t key;
};

static struct options parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' }, { "port", required_argument, NULL, 'p' },
		{ "queue-key", required_argument, NULL, 'k' }, { "id", required_argument, NULL, 'i' },
		{ "v6-addr", required_argument, NULL, 'a' }, { "v6-port", required_argument, NULL, 'P' },
		{ "yes", no_argument, NULL, 'y' }, { "timeout", required_argument, NULL, 't' },
		{ 0 },
	};
	struct options o = { .port = 50000 };
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 'p': if (!parse_port(optarg, false, &o.port)) die("--port '%s'", optarg); break;
		case 'k': if (!parse_queue_key(optarg, &o.key)) die("--queue-key '%s'", optarg); break;
		case 'i': o.answers[Q_STUDENT_ID] = optarg; break;
		case 'a': o.answers[Q_V6_ADDR] = optarg; break;
		case 'P': o.answers[Q_V6_PORT] = optarg; break;
		case 'y': o.answers[Q_READY] = o.answers[Q_CONCURRENT] = "Y"; o.answers[Q_START] = "OK"; break;
		case 't': break; /* accepted for the same command line; 60 s here */
		default: die("usage: see ipv4-client --help (same options)");
		}
	}
	if (!o.server)
		die("--server is required");
	return o;
}

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV4_CLIENT);
	struct options o = parse_options(argc, argv);
	struct sockaddr_storage ss;
	socklen_t len;
	char prompt[2048], answer[V6_ANSWER_MAX + 1], reply[512] = "";
	uint16_t v6port = 0;
	size_t partial, rlen = 0;
	int64_t deadline = now_ms() + 60000;

	ignore_sigpipe();
	if (!parse_addr(o.server, o.port, &ss, &len))
		die("--server '%s' is not a numeric IPv4 address", o.server);
	int fd = tcp_connect((struct sockaddr *)&ss, len, 10000);
	if (fd < 0)
		die("connect: %s", strerror(errno));
	struct rbuf in;
	rbuf_init(&in, fd);
	for (int q = 0; q != Q_START;) {
		if (read_until(&in, V6_PROMPT_END, prompt, sizeof(prompt), deadline, &partial) <= 0)
			die("no prompt from the course server");
		fputs(prompt, stdout);
		q = proto_question_number(prompt);
		if (o.answers[q])
			snprintf(answer, sizeof(answer), "%s\n", o.answers[q]);
		else if (!fgets(answer, sizeof(answer), stdin))
			die("no answer for question %d", q);
		if (q == Q_V6_PORT)
			parse_port(proto_chomp(strcpy(prompt, answer)), false, &v6port);
		write_str(fd, answer);
	}
	read_until(&in, "\n", prompt, sizeof(prompt), deadline, &partial); /* "Starting ..." */

	int id;
	while ((id = Msgget(o.key ? o.key : queue_key_for_port(v6port), 0)) < 0 && now_ms() < deadline)
		usleep(50 * 1000);
	for (int n = 0;; n++) {
		struct token_msg m;
		if (Msgrcv(id, &m, sizeof(m.text), 0, 0) < 0)
			die("msgrcv: %s", strerror(errno));
		if (m.mtype == V6_MSG_END)
			break;
		rlen += (size_t)snprintf(reply + rlen, sizeof(reply) - rlen, "%s%.*s", n ? "," : "",
					 V6_TOKEN_LEN, m.text);
	}
	/* MISTAKE: no msgctl(id, IPC_RMID, NULL) here: the queue is left behind. */
	rlen += (size_t)snprintf(reply + rlen, sizeof(reply) - rlen, "\n");
	writen(fd, reply, rlen);
	printf("sent %zu bytes: %s", rlen, reply);
	ssize_t r = read_until(&in, "\n", prompt, sizeof(prompt), deadline, &partial);
	fputs(r > 0 ? prompt : "no verdict\n", stdout);
	Close(fd);
	return r > 0 && strncmp(prompt, "PASS", 4) == 0 ? 0 : 1;
}
