/* SPDX-License-Identifier: MIT */
/* Error reporting and time: one clear line per problem, prefixed by the program's name. */
#ifndef V6LAB_UTIL_H
#define V6LAB_UTIL_H

#include <stdint.h>

/* Exit code for errors (1 is a FAIL verdict, 0 a PASS). */
#define V6_EXIT_ERROR 2

void v6_set_progname(const char *argv0);
const char *v6_progname(void);

/* "prog: message" on stderr; die() then exits with V6_EXIT_ERROR. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Monotonic milliseconds, for deadlines and latencies. */
int64_t now_ms(void);
/* Sleep until a monotonic deadline (restarts after signals). */
void sleep_until_ms(int64_t deadline_ms);

/* Block SIGPIPE (a peer that went away is an EPIPE error, not a dead process) and install
 * handlers that interrupt blocking calls without restarting them. */
void ignore_sigpipe(void);
void on_signal(int sig, void (*handler)(int));

#endif
