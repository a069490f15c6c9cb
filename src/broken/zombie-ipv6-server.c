/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The parent never calls waitpid(): every child that has finished
 * stays a zombie (<defunct> in ps) until the server exits. Fix: reap on SIGCHLD with
 * waitpid(-1, &status, WNOHANG), and wait for the rest before exiting.
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .never_reap = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
