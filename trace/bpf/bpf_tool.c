// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Shared loader helpers of the eBPF tools (see bpf_tool.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bpf_tool.h"

long tool_parse_num(const char *arg, long min, long max, const char *what, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_failure(state, 1, 0, "invalid %s: '%s' (expected %ld..%ld)", what, arg, min, max);
	return v;
}

int tool_libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	return vfprintf(stderr, fmt, args);
}

bool tool_has_cap(int cap)
{
	char line[256];
	unsigned long long caps = 0;
	bool found = false;
	FILE *fp = fopen("/proc/self/status", "r");

	if (!fp)
		return geteuid() == 0;
	while (!found && fgets(line, sizeof(line), fp))
		found = sscanf(line, "CapEff: %llx", &caps) == 1;
	fclose(fp);
	return caps & (1ULL << cap);
}

unsigned long long tool_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}
