/* SPDX-License-Identifier: MIT */
/*
 * ipv4-client: the student's IPv4 client.
 *
 *   connect to the course server -> answer its six questions (from stdin, or from the
 *   options) -> take the tokens off the message queue the IPv6 server fills
 *   -> send them back "t1,...,tN\n" -> print the verdict
 *
 * Exit 0 on PASS, 1 on FAIL, 2 on error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/proto.h"
#include "v6lab/queue.h"
#include "v6lab/token.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

struct options {
	const char *server;
	uint16_t port;
	key_t queue_key; /* 0: derived from the IPv6 server's port */
	int timeout_ms;
	const char *id, *v6addr, *v6port;
	bool yes;
};

static _Noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: ipv4-client --server A [--port P] [--queue-key KEY] [--timeout S]\n"
		"                   [--id ID --v6-addr A --v6-port P --yes]\n"
		"  --server A       the course server's IPv4 address\n"
		"  --port P         its port (default 50000)\n"
		"  --queue-key KEY  message queue key (default 0x7636<IPv6 server port in hex>)\n"
		"  --timeout S      how long to wait for the tokens (default 60)\n"
		"  --id, --v6-addr, --v6-port  answer those questions without asking\n"
		"  --yes            answer Y, Y and OK without asking\n"
		"Without the answer options it asks on the terminal, as in the assignment.\n"
		"The course server's colours are shown only on a terminal, never with NO_COLOR set.\n");
	fputs("--help and --version print this help and the version.\n", status ? stderr : stdout);
	exit(status);
}

static struct options parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "queue-key", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "id", required_argument, NULL, 'i' },
		{ "v6-addr", required_argument, NULL, 'a' },
		{ "v6-port", required_argument, NULL, 'P' },
		{ "yes", no_argument, NULL, 'y' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct options o = { .port = 50000, .timeout_ms = 60000 };
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': o.server = optarg; break;
		case 'p':
			if (!parse_port(optarg, false, &o.port))
				die("--port '%s': give a number from 1 to 65535", optarg);
			break;
		case 'k':
			if (!parse_queue_key(optarg, &o.queue_key))
				die("--queue-key '%s': give a positive number (decimal or 0x hex)", optarg);
			break;
		case 't':
			o.timeout_ms = 1000 * option_int("--timeout", optarg, 1, 3600);
			break;
		case 'i': o.id = optarg; break;
		case 'a': o.v6addr = optarg; break;
		case 'P': o.v6port = optarg; break;
		case 'y': o.yes = true; break;
		case 'h': usage(0);
		case 'V': print_version();
		default: usage(V6_EXIT_ERROR);
		}
	}
	if (!o.server)
		die("--server is required: the course server's IPv4 address (see --help)");
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	return o;
}

/* The answer to question q: from the options if given, else typed on stdin. */
/* What the course server sent, on our terminal: its colours only when stdout is a terminal
 * and NO_COLOR is not set; never its other escape sequences. */
static bool colour;
static void show(char *text)
{
	fputs(proto_for_terminal(text, colour), stdout);
}

static void answer_for(const struct options *o, int q, char *buf, size_t bufsz)
{
	const char *given = q == Q_STUDENT_ID ? o->id
			    : q == Q_V6_ADDR  ? o->v6addr
			    : q == Q_V6_PORT  ? o->v6port
			    : q == Q_START    ? (o->yes ? "OK" : NULL)
					      : (o->yes ? "Y" : NULL);
	if (given) {
		snprintf(buf, bufsz, "%s\n", given);
		printf("%s", buf); /* show it, as if typed */
		return;
	}
	if (!fgets(buf, (int)bufsz, stdin))
		die("no answer on standard input for question %d", q);
	if (!strchr(buf, '\n'))
		die("answer to question %d is longer than %zu bytes", q, bufsz - 2);
}

/* Answer the course server's questions; returns the IPv6 server's port the student gave. */
static uint16_t answer_questions(const struct options *o, struct rbuf *in, int fd)
{
	char prompt[2048], answer[V6_ANSWER_MAX + 1];
	uint16_t v6port = 0;
	size_t partial;

	/* A course server asks each question at most V6_MAX_ATTEMPTS times: one that goes on
	 * asking is broken (or hostile), and answering it for ever helps nobody. */
	for (int asked = 1;; asked++) {
		if (asked > V6_QUESTIONS * V6_MAX_ATTEMPTS)
			die("the course server asked %d questions without starting the clients: "
			    "giving up", asked - 1);
		/* Everything up to "\n> " is one prompt, however TCP cut it into segments. */
		ssize_t n = read_until(in, V6_PROMPT_END, prompt, sizeof(prompt),
				       now_ms() + o->timeout_ms, &partial);
		if (n == 0) { /* the server ended the session: a FAIL verdict */
			show(prompt);
			exit(strstr(prompt, "PASS") ? 0 : 1);
		}
		if (n < 0)
			die("reading the course server's prompt: %s", strerror(errno));
		show(prompt);
		fflush(stdout);
		int q = proto_question_number(prompt);
		if (q == 0)
			die("the course server sent something that is not a question");
		v6_trace_message(V6_PROMPT_RECEIVED, q, prompt);
		answer_for(o, q, answer, sizeof(answer));
		if (q == Q_V6_PORT) {
			char port[8];
			snprintf(port, sizeof(port), "%.*s", (int)strcspn(answer, "\r\n"), answer);
			parse_port(port, false, &v6port);
		}
		if (write_str(fd, answer) < 0)
			die("sending the answer: %s", strerror(errno));
		v6_trace_message(V6_ANSWER_SENT, q, answer);
		if (q == Q_START)
			return v6port;
	}
}

static void send_tokens_back(int fd, const token_t tokens[], int n)
{
	char reply[V6_MAX_CLIENTS * (V6_TOKEN_LEN + 1) + 1];
	size_t len = 0;
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(reply + len, sizeof(reply) - len, "%s%s", tokens[i],
					i + 1 < n ? "," : "\n");
	if (writen(fd, reply, len) < 0)
		die("sending the tokens: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		v6_trace_token(V6_TOKEN_FORWARDED, tokens[i], "course server");
	printf("sent %zu bytes: %s", len, reply);
}

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV4_CLIENT);
	struct options o = parse_options(argc, argv);
	colour = colour_wanted(STDOUT_FILENO);
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256], line[1024];
	token_t tokens[V6_MAX_CLIENTS];
	size_t partial = 0;

	ignore_sigpipe();
	if (!parse_addr(o.server, o.port, &ss, &len) || ss.ss_family != AF_INET)
		die("--server '%s' is not a numeric IPv4 address", o.server);
	int fd = tcp_connect((struct sockaddr *)&ss, len, 10000);
	if (fd < 0)
		die("connect %s:%u: %s (is the course server running?)", o.server, o.port,
		    strerror(errno));
	struct rbuf in;
	rbuf_init(&in, fd);

	uint16_t v6port = answer_questions(&o, &in, fd);
	key_t key = o.queue_key ? o.queue_key : queue_key_for_port(v6port);
	if (!key)
		die("no IPv6 server port was answered: give --queue-key");

	/* "Starting N clients..." then, once they sent, our IPv6 server fills the queue. */
	if (read_until(&in, "\n", line, sizeof(line), now_ms() + o.timeout_ms, &partial) > 0)
		show(line);
	/* Watch the server meanwhile: if it gives its verdict first (a course client could not
	 * connect), waiting for tokens that will never come is pointless. Bytes already
	 * buffered after the "Starting" line are that verdict. */
	if (in.len > 0) {
		warnx_("the course server answered before the tokens came");
	} else {
		int n = queue_take_tokens(key, tokens, V6_MAX_CLIENTS, now_ms() + o.timeout_ms, fd,
					  err, sizeof(err));
		if (n < 0 && errno != ECANCELED)
			die("%s", err);
		if (n < 0) {
			warnx_("%s", err);
		} else {
			printf("took %d token(s) off message queue key 0x%08x\n", n, (unsigned)key);
			send_tokens_back(fd, tokens, n);
		}
	}

	/* The verdict: one line starting with PASS or FAIL, then the server closes. */
	ssize_t r = read_until(&in, "\n", line, sizeof(line), now_ms() + o.timeout_ms, &partial);
	if (r < 0)
		die("reading the verdict: %s", strerror(errno));
	if (r == 0 && partial == 0)
		die("the course server closed the connection without a verdict");
	v6_trace_message(V6_VERDICT_RECEIVED, 0, line);
	show(line);
	if (colour)
		fputs(V6_COLOUR_RESET, stdout);
	Close(fd);
	return strncmp(line, "PASS", 4) == 0 ? 0 : 1;
}
