/* SPDX-License-Identifier: MIT */
/*
 * Provider v6lab_process: a program's start, fork and waitpid.
 * UST has no vppid context, so the process tree is in the events themselves: fork in
 * the parent carries the child's pid, fork_child in the child carries getppid(), and
 * start carries the parent of each program. Fired by v6_set_role(), Fork() and Waitpid()
 * in src/lib/wrap.c, and for a student's program by libv6lab-preload.so (trace/preload/),
 * with sleep, spawn (posix_spawn, vfork) and system besides; catalogue in trace/README.md.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER v6lab_process

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "v6lab_process.h"

#if !defined(V6LAB_PROCESS_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define V6LAB_PROCESS_H

#include <lttng/tracepoint.h>

#include "v6lab_tp_common.h"

LTTNG_UST_TRACEPOINT_ENUM(v6lab_process, role, V6LAB_TP_ROLE_VALUES)

/* A program said which role it plays (first thing in main). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, start,
	LTTNG_UST_TP_ARGS(int, role, int, pid, int, ppid),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, ppid, ppid)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, fork_entry,
	LTTNG_UST_TP_ARGS(int, role),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)))

/* In the parent: child_pid is fork()'s return (-1 on error). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, fork,
	LTTNG_UST_TP_ARGS(int, role, int, child_pid, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(int, child_pid, child_pid)
		lttng_ust_field_integer(int, err, err)))

/* In the child, first event after fork: its own pid and getppid(). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, fork_child,
	LTTNG_UST_TP_ARGS(int, role, int, pid, int, ppid),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer(int, ppid, ppid)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, waitpid_entry,
	LTTNG_UST_TP_ARGS(int, role, int, pid, int, options),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer_hex(int, options, options)))

/* pid: asked for (-1 = any); ret: the child reaped (0 = none yet with WNOHANG, -1 error);
 * status: raw; exit_code / term_signal decoded from it (-1 / 0 when not applicable). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, waitpid,
	LTTNG_UST_TP_ARGS(int, role, int, pid, int, options, int, ret, int, status, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(int, pid, pid)
		lttng_ust_field_integer_hex(int, options, options)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer_hex(int, status, status)
		lttng_ust_field_integer(int, exit_code,
			ret > 0 && (status & 0x7f) == 0 ? (status >> 8) & 0xff : -1)
		lttng_ust_field_integer(int, term_signal,
			ret > 0 && (status & 0x7f) != 0 && (status & 0x7f) != 0x7f ? status & 0x7f : 0)
		lttng_ust_field_integer(int, err, err)))

/* sleep, usleep, nanosleep: only from libv6lab-preload.so (a student's program: the seed's
 * "concurrent" server slept before each accept). usec: the time asked for. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, sleep_entry,
	LTTNG_UST_TP_ARGS(int, role, uint64_t, usec),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(uint64_t, usec, usec)))

/* ret: the call's (sleep: the seconds left; usleep, nanosleep: 0 or -1). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, sleep,
	LTTNG_UST_TP_ARGS(int, role, uint64_t, usec, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_integer(uint64_t, usec, usec)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* posix_spawn, posix_spawnp and vfork: only from libv6lab-preload.so. A child that runs
 * another program: no fork_child (nothing is recorded in it until that program starts,
 * whose start event has pid = child_pid). path: posix_spawn's path, posix_spawnp's file, "-"
 * for vfork (the child's exec names it); err: posix_spawn's result (it returns the error),
 * vfork's errno; child_pid -1 on error. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, spawn_entry,
	LTTNG_UST_TP_ARGS(int, role, const char *, path),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, spawn,
	LTTNG_UST_TP_ARGS(int, role, const char *, path, int, child_pid, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))
		lttng_ust_field_integer(int, child_pid, child_pid)
		lttng_ust_field_integer(int, err, err)))

/* system(command): only from libv6lab-preload.so. The shell's pid is not known (system
 * waits for it); a program it execs ("exec prog", or dash's last command) has a start event
 * with ppid = this process. ret: system's (the wait status, -1); exit_code decoded from it
 * (-1 when not applicable, 127 when no shell could run the command). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, system_entry,
	LTTNG_UST_TP_ARGS(int, role, const char *, command),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_string(command, V6LAB_TP_TEXT(command))))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_process, system,
	LTTNG_UST_TP_ARGS(int, role, const char *, command, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_process, role, int, role, role)
		lttng_ust_field_string(command, V6LAB_TP_TEXT(command))
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, exit_code,
			ret != -1 && (ret & 0x7f) == 0 ? (ret >> 8) & 0xff : -1)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, spawn_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, spawn, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, system_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, system, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, sleep_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, sleep, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, start, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, fork_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, fork, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, fork_child, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, waitpid_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_process, waitpid, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* V6LAB_PROCESS_H */

#include <lttng/tracepoint-event.h>
