/* SPDX-License-Identifier: MIT */
/*
 * Provider v6lab_io: read, write and close on any descriptor (sockets and the pipe
 * between the IPv6 server and its children alike; the kind field tells which).
 * When the bytes read or written carry tokens ("clientK:" + 20 characters), the tokens
 * field holds them, so a token can be followed from hop to hop. Fired by Read, Write and
 * Close in src/lib/wrap.c, and for a student's program by libv6lab-preload.so
 * (trace/preload/: recv/send/recvfrom/sendto/readv/writev are read and write events there,
 * fclose of a stream on a socket or pipe is a close, and dup/dup2 fire dup); catalogue in
 * trace/README.md.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER v6lab_io

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "v6lab_io.h"

#if !defined(V6LAB_IO_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define V6LAB_IO_TP_H

#include <lttng/tracepoint.h>

#include "v6lab_tp_common.h"

LTTNG_UST_TRACEPOINT_ENUM(v6lab_io, role, V6LAB_TP_ROLE_VALUES)
LTTNG_UST_TRACEPOINT_ENUM(v6lab_io, fdkind, V6LAB_TP_FDKIND_VALUES)

/* count: bytes asked for. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_io, io_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)
		lttng_ust_field_integer(uint64_t, count, count)))

/* count: asked; ret: done (-1 on error, 0 = EOF for a read); tokens: "t1,t2" or "". */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_io, io_result,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count, ssize_t, ret, int, err,
			  int, ntokens, const char *, tokens),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)
		lttng_ust_field_integer(uint64_t, count, count)
		lttng_ust_field_integer(int64_t, ret, ret)
		lttng_ust_field_integer(int, err, err)
		lttng_ust_field_integer(int, ntokens, ntokens)
		lttng_ust_field_string(tokens, V6LAB_TP_TEXT(tokens))))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_io, io_entry, v6lab_io, read_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_io, io_result, v6lab_io, read,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count, ssize_t, ret, int, err,
			  int, ntokens, const char *, tokens))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_io, io_entry, v6lab_io, write_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_io, io_result, v6lab_io, write,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, size_t, count, ssize_t, ret, int, err,
			  int, ntokens, const char *, tokens))

/* kind: what fd was before the close. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_io, close_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_io, close,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* dup (newfd -1) and dup2 (newfd: the descriptor asked for); kind: what fd is. A student's
 * server that dup2()s a socket onto 0/1 then reads and writes it under the new number. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_io, dup_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, int, newfd),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)
		lttng_ust_field_integer(int, newfd, newfd)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_io, dup,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, kind, int, newfd, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_io, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_io, fdkind, int, kind, kind)
		lttng_ust_field_integer(int, newfd, newfd)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, read_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, write_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, close_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, dup_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, dup, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, read, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, write, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_io, close, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* V6LAB_IO_TP_H */

#include <lttng/tracepoint-event.h>
