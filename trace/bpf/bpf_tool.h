/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* What every v6lab eBPF tool's loader needs the same way (acceptwatch, tunnelwatch): numbers on
 * the command line, libbpf's messages for -v, the process's capabilities, the clock. */
#ifndef V6LAB_BPF_TOOL_H
#define V6LAB_BPF_TOOL_H

#include <argp.h>
#include <stdarg.h>
#include <stdbool.h>

#include <bpf/libbpf.h>

/* Capability bits (linux/capability.h). */
#define TOOL_CAP_NET_ADMIN 12
#define TOOL_CAP_SYS_ADMIN 21
#define TOOL_CAP_PERFMON 38
#define TOOL_CAP_BPF 39

/* arg as a number in min..max, or argp_failure() naming `what`. */
long tool_parse_num(const char *arg, long min, long max, const char *what, struct argp_state *state);
/* libbpf's print callback for -v: everything to stderr. */
int tool_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args);
/* Whether the process has capability cap (effective set; root without /proc: yes). */
bool tool_has_cap(int cap);
/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(). */
unsigned long long tool_mono_ns(void);

#endif
