/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The child never closes the listening socket it inherited from
 * fork(): while a child lives, the port stays open in it even after the parent has closed
 * it, and a client could be queued on a socket nobody accepts on. Fix: Close(listen_fd)
 * first thing in the child.
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .keep_listen_in_child = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
