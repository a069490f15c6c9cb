/* SPDX-License-Identifier: MIT */
/*
 * BROKEN ON PURPOSE (a teaching and test helper, never installed): the IPv6 server with
 * one classic mistake. The parent never closes the connected socket it forked a child
 * for: the child serves it, but the parent's copy keeps the connection open, so the
 * client sees no EOF when the child closes, every later child inherits it, and the parent
 * runs out of descriptors after enough clients. Fix: Close(conn) in the parent right
 * after fork().
 *
 * The code is src/broken/broken-ipv6-server.h, the reference server cut down; the lines
 * marked MISTAKE there are the difference. scripts/v6trace lint finds it:
 * tutorials/04-classic-mistakes.md.
 */
#include "broken-ipv6-server.h"

int main(int argc, char **argv)
{
	static const struct mistake m = { .keep_conn_in_parent = true };
	return broken_ipv6_server_main(argc, argv, &m);
}
