/* SPDX-License-Identifier: MIT */
/*
 * htons-server PORT [KEY]: eof-server.c with one mistake.
 *
 * 2021 habit: sin6_port = atoi(argv[1]) without htons(), so on a little-endian machine it
 * listens on the byte-swapped port (7002 = 0x1b5a: it listens on 0x5a1b = 23067). Nothing
 * listens where the student says; it waits in accept() until it is killed (its queue
 * hand-off is never reached).
 *
 * Deserves: FAIL: 0/5 tokens, concurrent: unknown; course client 1 could not connect
 * [::1]:PORT (Connection refused) (grade log "concurrent": null).
 */
#define MISTAKE_NO_HTONS
#include "eof-server.c"
