/* SPDX-License-Identifier: MIT */
/*
 * The probes of the five v6lab providers, compiled once, here (as tp.c in lttng-ust's
 * easy-ust example). CREATE_PROBES makes each header generate the serializers and the
 * constructor that registers the provider with liblttng-ust; DEFINE makes this file
 * hold the tracepoint definitions the wrappers refer to (static linking).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE

#include "v6lab_io.h"
#include "v6lab_ipc.h"
#include "v6lab_process.h"
#include "v6lab_protocol.h"
#include "v6lab_sockets.h"
