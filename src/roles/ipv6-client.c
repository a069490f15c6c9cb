/* SPDX-License-Identifier: MIT */
/*
 * ipv6-client: one course token client, the same code ipv4-server runs five of.
 *
 *   connect to [addr]:port -> wait --delay-ms -> write "clientK:<20 chars>\r\n"
 *   -> wait for the server to close -> exit
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "v6lab/course.h"
#include "v6lab/net.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

static _Noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: ipv6-client --addr A --port P [--index K] [--token T] [--delay-ms MS]\n"
		"  --addr A       the IPv6 (or IPv4) address of the server\n"
		"  --port P       its port\n"
		"  --index K      client number 1..%d (default 1): the token starts with clientK:\n"
		"  --token T      the 28-character token to send (default: a random one)\n"
		"  --delay-ms MS  wait this long after connecting before sending (default 0)\n",
		V6_MAX_CLIENTS);
	fputs("--help and --version print this help and the version.\n", status ? stderr : stdout);
	exit(status);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'p' },
		{ "index", required_argument, NULL, 'i' },
		{ "token", required_argument, NULL, 't' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *addr = NULL, *token = NULL;
	uint16_t port = 0;
	int index = 1, delay = 0;
	int c;

	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV6_CLIENT);
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'a': addr = optarg; break;
		case 'p':
			if (!parse_port(optarg, false, &port))
				die("--port '%s': give a number from 1 to 65535", optarg);
			break;
		case 'i':
			index = option_int("--index", optarg, 1, V6_MAX_CLIENTS);
			break;
		case 't': token = optarg; break;
		case 'd':
			delay = option_int("--delay-ms", optarg, 0, 3600000);
			break;
		case 'h': usage(0);
		case 'V': print_version();
		default: usage(V6_EXIT_ERROR);
		}
	}
	if (!addr || !port)
		die("--addr and --port are required (see --help)");
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);

	struct course_client cc = { .index = index, .connect_timeout_ms = 10000,
				    .eof_timeout_ms = 10000 };
	if (!parse_addr(addr, port, &cc.target, &cc.target_len))
		die("--addr '%s' is not a numeric IPv6 or IPv4 address", addr);
	if (token) {
		if (!token_valid(token, strlen(token)) || token_index(token) != index)
			die("--token '%s': give client%d: followed by 20 letters or digits", token,
			    index);
		memcpy(cc.token, token, sizeof(cc.token));
	} else if (!token_make(index, cc.token)) {
		die("no randomness for a token: %s", strerror(errno));
	}

	ignore_sigpipe();
	cc.send_delay_ms = delay;
	course_client_run(&cc);
	char text[V6_ADDRSTR_LEN];
	sockaddr_text((struct sockaddr *)&cc.target, text, sizeof(text));
	if (cc.failed_step) {
		warnx_("%s %s: %s", cc.failed_step, text, strerror(cc.error));
		return V6_EXIT_ERROR;
	}
	printf("client%d: sent %s to %s; server %s\n", index, cc.token, text,
	       cc.eof_ms ? "closed the connection" : "kept the connection open");
	return 0;
}
