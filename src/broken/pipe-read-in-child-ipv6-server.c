/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The child never closes the pipe's read end it inherited from
 * fork(): it only ever writes the pipe, and while it holds a read end, a writer that
 * should get EPIPE (no reader left) blocks or succeeds instead. Fix: Close(pipe_fds[0])
 * first thing in the child.
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .keep_pipe_r_in_child = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
