/* SPDX-License-Identifier: MIT */
/*
 * onemsg-client HOST PORT [KEY]: read-twice-client.c linked with fetch-onemsg.c.
 *
 * 2021 habit: one msgrcv of ONE message that holds all five tokens joined by ','
 * (onemsg-server); it does not read the socket after OK and reads it twice for the
 * verdict (the first read gets the start message, the second the verdict). It removes
 * the queue.
 *
 * Deserves (with onemsg-server): PASS: 5/5 tokens, concurrent: yes.
 */
#define READS_AFTER_OK 0
#define READS_FOR_VERDICT 2
#include "read-twice-client.c"
