/* SPDX-License-Identifier: MIT */
/*
 * hardcoded-server PORT [KEY]: eof-server.c with one mistake.
 *
 * 2021 habit: the server binds the student's Teredo address of the day, hard-coded,
 * instead of in6addr_any. Teredo addresses change (they hold the NAT's public address
 * and port), so next time bind() fails with "Cannot assign requested address".
 *
 * Deserves: where the address exists, PASS: 5/5 tokens, concurrent: yes (grade log true);
 * where it does not, the server exits at bind() and the course server gives FAIL: 0/5
 * tokens, concurrent: unknown; course client 1 could not connect ... (Connection refused)
 * (grade log "concurrent": null).
 */
#define MISTAKE_TEREDO_ADDR "2001:0:53aa:64c:1c:2e55:a7b3:fe8b"
#include "eof-server.c"
