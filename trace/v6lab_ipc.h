/* SPDX-License-Identifier: MIT */
/*
 * Provider v6lab_ipc: the pipe between the IPv6 server and its children, and the System V
 * message queue between the IPv6 server and the IPv4 client (msgget, msgsnd, msgrcv,
 * msgctl). Reads and writes on the pipe are v6lab_io events with kind "pipe".
 * Fired by Pipe() and Msg*() in src/lib/wrap.c, and for a student's program by
 * libv6lab-preload.so (trace/preload/), which adds what students used instead: System V
 * shared memory (shmget, shmat, shmdt, shmctl) and named FIFOs (mkfifo, and opening one:
 * fifo_open); catalogue in trace/README.md.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER v6lab_ipc

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "v6lab_ipc.h"

#if !defined(V6LAB_IPC_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define V6LAB_IPC_H

#include <lttng/tracepoint.h>

#include "v6lab_tp_common.h"

LTTNG_UST_TRACEPOINT_ENUM(v6lab_ipc, role, V6LAB_TP_ROLE_VALUES)

/* msgget's outcome: did this call create the queue, or open one that was there? */
#define V6LAB_TP_MSGGET_FAILED 0
#define V6LAB_TP_MSGGET_CREATED 1
#define V6LAB_TP_MSGGET_EXISTING 2
LTTNG_UST_TRACEPOINT_ENUM(v6lab_ipc, msgget_outcome,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("failed", V6LAB_TP_MSGGET_FAILED)
		lttng_ust_field_enum_value("created", V6LAB_TP_MSGGET_CREATED)
		lttng_ust_field_enum_value("existing", V6LAB_TP_MSGGET_EXISTING)))

/* msgctl commands (IPC_RMID 0, IPC_SET 1, IPC_STAT 2, IPC_INFO 3). */
LTTNG_UST_TRACEPOINT_ENUM(v6lab_ipc, msgctl_cmd,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("IPC_RMID", 0)
		lttng_ust_field_enum_value("IPC_SET", 1)
		lttng_ust_field_enum_value("IPC_STAT", 2)
		lttng_ust_field_enum_value("IPC_INFO", 3)
		lttng_ust_field_enum_range("other", 4, 0x7fffffff)))

/* open's access mode (flags & O_ACCMODE): which end of a FIFO a descriptor is. */
LTTNG_UST_TRACEPOINT_ENUM(v6lab_ipc, access,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("O_RDONLY", 0)
		lttng_ust_field_enum_value("O_WRONLY", 1)
		lttng_ust_field_enum_value("O_RDWR", 2)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, pipe_entry,
	LTTNG_UST_TP_ARGS(int, role),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, pipe,
	LTTNG_UST_TP_ARGS(int, role, int, read_fd, int, write_fd, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, read_fd, read_fd)
		lttng_ust_field_integer(int, write_fd, write_fd)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgget_entry,
	LTTNG_UST_TP_ARGS(int, role, int, key, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer_hex(int, key, key)
		lttng_ust_field_integer_hex(int, flags, flags)))

/* mode: the permission bits asked for (flags & 0777); id: the queue id, -1 on error. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgget,
	LTTNG_UST_TP_ARGS(int, role, int, key, int, flags, int, id, int, outcome, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer_hex(int, key, key)
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_integer(int, mode, flags & 0777)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgget_outcome, int, outcome, outcome)
		lttng_ust_field_integer(int, err, err)))

/* size: the message text's size (msgsz, without the long). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgsnd_entry,
	LTTNG_UST_TP_ARGS(int, role, int, id, long, mtype, size_t, size, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer(int64_t, mtype, mtype)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer_hex(int, flags, flags)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgsnd,
	LTTNG_UST_TP_ARGS(int, role, int, id, long, mtype, size_t, size, int, ret, int, err,
			  int, ntokens, const char *, tokens),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer(int64_t, mtype, mtype)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)
		lttng_ust_field_integer(int, ntokens, ntokens)
		lttng_ust_field_string(tokens, V6LAB_TP_TEXT(tokens))))

/* msgtyp: the type asked for (0 = any). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgrcv_entry,
	LTTNG_UST_TP_ARGS(int, role, int, id, size_t, size, long, msgtyp, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(int64_t, msgtyp, msgtyp)
		lttng_ust_field_integer_hex(int, flags, flags)))

/* mtype: the type of the message received (0 on error); ret: bytes of text, -1 on error. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgrcv,
	LTTNG_UST_TP_ARGS(int, role, int, id, size_t, size, long, msgtyp, long, mtype,
			  ssize_t, ret, int, err, int, ntokens, const char *, tokens),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer(int64_t, msgtyp, msgtyp)
		lttng_ust_field_integer(int64_t, mtype, mtype)
		lttng_ust_field_integer(int64_t, ret, ret)
		lttng_ust_field_integer(int, err, err)
		lttng_ust_field_integer(int, ntokens, ntokens)
		lttng_ust_field_string(tokens, V6LAB_TP_TEXT(tokens))))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgctl_entry,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, cmd),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgctl_cmd, int, cmd, cmd)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, msgctl,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, cmd, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgctl_cmd, int, cmd, cmd)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* System V shared memory and FIFOs: only from libv6lab-preload.so (a student's program). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmget_entry,
	LTTNG_UST_TP_ARGS(int, role, int, key, size_t, size, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer_hex(int, key, key)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer_hex(int, flags, flags)))

/* outcome: as msgget's. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmget,
	LTTNG_UST_TP_ARGS(int, role, int, key, size_t, size, int, flags, int, id, int, outcome,
			  int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer_hex(int, key, key)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgget_outcome, int, outcome, outcome)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmat_entry,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer_hex(int, flags, flags)))

/* ret: 0 when attached, -1 on error (the address means nothing in a trace). */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmat,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, flags, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmdt_entry,
	LTTNG_UST_TP_ARGS(int, role),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmdt,
	LTTNG_UST_TP_ARGS(int, role, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmctl_entry,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, cmd),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgctl_cmd, int, cmd, cmd)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, shmctl,
	LTTNG_UST_TP_ARGS(int, role, int, id, int, cmd, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_integer(int, id, id)
		lttng_ust_field_enum(v6lab_ipc, msgctl_cmd, int, cmd, cmd)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* path: the FIFO's path ("-" if none); mode: the permission bits asked for. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, mkfifo_entry,
	LTTNG_UST_TP_ARGS(int, role, const char *, path, unsigned int, mode),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))
		lttng_ust_field_integer_hex(unsigned int, mode, mode)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, mkfifo,
	LTTNG_UST_TP_ARGS(int, role, const char *, path, unsigned int, mode, int, ret, int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))
		lttng_ust_field_integer_hex(unsigned int, mode, mode)
		lttng_ust_field_integer(int, ret, ret)
		lttng_ust_field_integer(int, err, err)))

/* Opening a FIFO (open, openat, fopen of a path that is one): only from libv6lab-preload.so.
 * flags: open's (fopen's mode as the open flags it stands for); the open of one end waits
 * for the other end's (unless O_NONBLOCK), so the time between the two events is that wait.
 * fd: the new descriptor (-1 on error), whose reads and writes are v6lab_io events with kind
 * pipe; ino: the FIFO's inode (0 on error), the same at both ends whatever path each used. */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, fifo_open_entry,
	LTTNG_UST_TP_ARGS(int, role, const char *, path, int, flags),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_enum(v6lab_ipc, access, int, access, flags & 3)))

LTTNG_UST_TRACEPOINT_EVENT(v6lab_ipc, fifo_open,
	LTTNG_UST_TP_ARGS(int, role, const char *, path, int, flags, int, fd, uint64_t, ino,
			  int, err),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_ipc, role, int, role, role)
		lttng_ust_field_string(path, V6LAB_TP_TEXT(path))
		lttng_ust_field_integer_hex(int, flags, flags)
		lttng_ust_field_enum(v6lab_ipc, access, int, access, flags & 3)
		lttng_ust_field_integer(int, fd, fd)
		lttng_ust_field_integer(uint64_t, ino, ino)
		lttng_ust_field_integer(int, err, err)))

LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, pipe_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgget_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgsnd_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgrcv_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgctl_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, pipe, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgget, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgsnd, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgrcv, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, msgctl, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmget_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmat_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmdt_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmctl_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, mkfifo_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmget, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmat, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmdt, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, shmctl, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, mkfifo, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, fifo_open_entry, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_SYSTEM)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_ipc, fifo_open, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* V6LAB_IPC_H */

#include <lttng/tracepoint-event.h>
