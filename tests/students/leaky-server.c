/* SPDX-License-Identifier: MIT */
/*
 * leaky-server PORT [KEY]: eof-server.c with the resource mistakes most 2021 servers had.
 *
 * 2021 habit: the listening socket is never closed (not by the parent, and kept open in
 * every child), the children are never reaped (zombies until the parent exits), the pipe
 * ends are kept (the parent keeps the write end, each child the read end). It still closes
 * each connection in the parent, so the course clients see their close, and it exits
 * after handing off (its zombies go to init, or to a subreaper).
 *
 * Deserves: PASS: 5/5 tokens, concurrent: yes (grade log true): the course server cannot
 * see these leaks; scripts/v6trace lint can.
 */
#define MISTAKE_LEAKY
#include "eof-server.c"
