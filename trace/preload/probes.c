/* SPDX-License-Identifier: MIT */
/*
 * libv6lab-preload-probes.so: the five v6lab providers' probes, linked to liblttng-ust, for
 * libv6lab-preload.so, which dlopens this library in a process it traces (and only then:
 * a shell under scripts/trace never loads liblttng-ust). The tracepoints themselves are
 * defined in preload.c (dynamic linkage); the probes are the same as trace/tp.c's.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES

#include "v6lab_io.h"
#include "v6lab_ipc.h"
#include "v6lab_process.h"
#include "v6lab_protocol.h"
#include "v6lab_sockets.h"
