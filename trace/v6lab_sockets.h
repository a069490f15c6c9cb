/* SPDX-License-Identifier: MIT */
/*
 * Provider v6lab_sockets: socket, setsockopt, bind, listen, accept, connect, shutdown.
 * Each call has an X_entry event (the arguments, when the call starts) and an X event
 * (arguments again, the result and errno, when it returns): the time between the two is
 * how long the call blocked. Fired by the wrappers in src/lib/wrap.c, and for a student's
 * program by libv6lab-preload.so (trace/preload/), with poll besides; catalogue in
 * trace/README.md.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER v6lab_sockets

/* tracepoint-event.h includes this header again, by this name, to generate the probes. */
#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "v6lab_sockets.h"

/* The usual guard, except that the multi-read pass must get through it every time. */
#if !defined(V6LAB_SOCKETS_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define V6LAB_SOCKETS_H

#include <lttng/tracepoint.h>

#include "v6lab_tp_common.h"

LTTNG_UST_TRACEPOINT_ENUM(v6lab_sockets, role, V6LAB_TP_ROLE_VALUES)
LTTNG_UST_TRACEPOINT_ENUM(v6lab_sockets, family, V6LAB_TP_FAMILY_VALUES)

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, socket_entry,
	LTTNG_UST_TP_ARGS(int, role, int, family, int, type, int, protocol),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_enum(v6lab_sockets, family, int, family, family)
		lttng_ust_field_integer(int, type, type)
		lttng_ust_field_integer(int, protocol, protocol)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, socket,
	LTTNG_UST_TP_ARGS(int, role, int, family, int, type, int, protocol, int, fd, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_enum(v6lab_sockets, family, int, family, family)
		lttng_ust_field_integer(int, type, type)
		lttng_ust_field_integer(int, protocol, protocol)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, setsockopt_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, level, int, name, unsigned int, optlen),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, level, level)
		lttng_ust_field_integer(int, name, name)
		lttng_ust_field_integer(unsigned int, optlen, optlen)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, setsockopt,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, level, int, name, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, level, level)
		lttng_ust_field_integer(int, name, name)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* bind and connect: a socket and an address. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_sockets, addr_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_sockets, family, int, family, family)
		lttng_ust_field_string(addr, V6LAB_TP_TEXT(addr))
		lttng_ust_field_integer(int, port, port)))

LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_sockets, addr_result,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port,
			  int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_enum(v6lab_sockets, family, int, family, family)
		lttng_ust_field_string(addr, V6LAB_TP_TEXT(addr))
		lttng_ust_field_integer(int, port, port)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_sockets, addr_entry, v6lab_sockets, bind_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_sockets, addr_result, v6lab_sockets, bind,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port,
			  int, ret, int, err))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_sockets, addr_entry, v6lab_sockets, connect_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_sockets, addr_result, v6lab_sockets, connect,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, family, const char *, addr, int, port,
			  int, ret, int, err))

/* listen (arg = backlog) and shutdown (arg = how: 0 SHUT_RD, 1 SHUT_WR, 2 SHUT_RDWR). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, listen_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, backlog),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, backlog, backlog)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, listen,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, backlog, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, backlog, backlog)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, accept_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)))

/* fd: the listening socket; new_fd: the connected one (-1 on error); addr/port: the peer. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, accept,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, new_fd, int, family, const char *, addr,
			  int, port, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, new_fd, new_fd)
		lttng_ust_field_enum(v6lab_sockets, family, int, family, family)
		lttng_ust_field_string(addr, V6LAB_TP_TEXT(addr))
		lttng_ust_field_integer(int, port, port)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, shutdown_entry,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, how),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, how, how)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, shutdown,
	LTTNG_UST_TP_ARGS(int, role, int, fd, int, how, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(int, how, how)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* poll, ppoll, select, pselect watching a listening socket: only from libv6lab-preload.so
 * (a student's server waiting for its clients), and only when a listener is among the
 * descriptors watched. nfds: poll's count of descriptors, select's first argument;
 * listeners: the listening sockets among them ("3", "3,4"); timeout_us: -1 = for ever. */
#define V6LAB_TP_POLL 0
#define V6LAB_TP_PPOLL 1
#define V6LAB_TP_SELECT 2
#define V6LAB_TP_PSELECT 3
LTTNG_UST_TRACEPOINT_ENUM(v6lab_sockets, wait_call,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("poll", V6LAB_TP_POLL)
		lttng_ust_field_enum_value("ppoll", V6LAB_TP_PPOLL)
		lttng_ust_field_enum_value("select", V6LAB_TP_SELECT)
		lttng_ust_field_enum_value("pselect", V6LAB_TP_PSELECT)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, poll_entry,
	LTTNG_UST_TP_ARGS(int, role, int, call, int, nfds, const char *, listeners,
			  int64_t, timeout_us),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_enum(v6lab_sockets, wait_call, int, call, call)
		lttng_ust_field_integer(int, nfds, nfds)
		lttng_ust_field_string(listeners, V6LAB_TP_TEXT(listeners))
		lttng_ust_field_integer(int64_t, timeout_us, timeout_us)))

/* ret: the call's (descriptors ready, 0 = timed out, -1); ready: the listeners among them
 * (a connection waits: accept will not block), "-" when none. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_sockets, poll,
	LTTNG_UST_TP_ARGS(int, role, int, call, int, nfds, const char *, listeners,
			  int64_t, timeout_us, int, ret, const char *, ready, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_sockets, role, int, role, role)
		lttng_ust_field_enum(v6lab_sockets, wait_call, int, call, call)
		lttng_ust_field_integer(int, nfds, nfds)
		lttng_ust_field_string(listeners, V6LAB_TP_TEXT(listeners))
		lttng_ust_field_integer(int64_t, timeout_us, timeout_us)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_string(ready, V6LAB_TP_TEXT(ready))
		lttng_ust_field_integer(int, err, err)))

/* Entries are detail (DEBUG_SYSTEM); results are the story (INFO). */
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, socket_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, setsockopt_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, bind_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, listen_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, accept_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, connect_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, shutdown_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, socket, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, setsockopt, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, bind, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, listen, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, accept, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, connect, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, shutdown, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, poll_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_sockets, poll, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* V6LAB_SOCKETS_H */

#include <lttng/tracepoint-event.h>
