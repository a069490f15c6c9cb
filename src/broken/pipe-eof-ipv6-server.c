/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. Once it has the tokens, it waits for every child to be done by
 * reading the pipe until EOF, but it still holds the pipe's write end itself: a pipe has
 * EOF only when no write end is open anywhere, so read() never returns 0 and the server
 * hangs (here SIGALRM ends it after 3 s, so the exercise ends). Fix: Close(pipe_fds[1]) in
 * the parent before reading to EOF (the reference closes it once the tokens are in).
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .wait_pipe_eof = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
