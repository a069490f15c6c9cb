/* SPDX-License-Identifier: MIT */
/* Error reporting and time: one clear line per problem, prefixed by the program's name. */
#ifndef V6LAB_UTIL_H
#define V6LAB_UTIL_H

#include <stdbool.h>
#include <signal.h>
#include <stdint.h>

/* Exit code for errors (1 is a FAIL verdict, 0 a PASS). */
#define V6_EXIT_ERROR 2

void v6_set_progname(const char *argv0);
const char *v6_progname(void);

/* "prog: message" on stderr; die() then exits with V6_EXIT_ERROR. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A whole-number option value from min to max, or die() saying which option was wrong
 * and what it takes: "--tokens '0': give a number from 1 to 9". */
int option_int(const char *opt, const char *value, int min, int max);

/* Monotonic milliseconds, for deadlines and latencies. */
int64_t now_ms(void);
/* Sleep until a monotonic deadline (restarts after signals). */
void sleep_until_ms(int64_t deadline_ms);

/* Ignore SIGPIPE (a peer that went away is an EPIPE error, not a dead process) and install
 * handlers that interrupt blocking calls without restarting them. */
void ignore_sigpipe(void);
void on_signal(int sig, void (*handler)(int));
/* Block sig and fill wait_mask with the mask to wait with (sig unblocked). ppoll() with it
 * is woken by sig even when sig came just before the call: a plain poll() or accept()
 * would sleep through a SIGCHLD that arrived after the last waitpid() (a zombie until the
 * next client). */
void block_signal(int sig, sigset_t *wait_mask);

/* --version: "PROGRAM (v6lab) VERSION" on stdout, exit 0. */
_Noreturn void print_version(void);

/* Colour on fd only when it is a terminal and NO_COLOR is unset or empty (no-color.org). */
bool colour_wanted(int fd);

#endif
