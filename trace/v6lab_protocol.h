/* SPDX-License-Identifier: MIT */
/*
 * Provider v6lab_protocol: the steps of the assignment's protocol, above the system calls:
 * the course server's questions and the student's answers, each token's life (generated,
 * received, forwarded, verified) and the verdict. Fired by the v6_trace_*() functions
 * (src/lib/steps.c) called where the step happens; catalogue in trace/README.md.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER v6lab_protocol

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "v6lab_protocol.h"

#if !defined(V6LAB_PROTOCOL_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define V6LAB_PROTOCOL_H

#include <lttng/tracepoint.h>

#include "v6lab_tp_common.h"

LTTNG_UST_TRACEPOINT_ENUM(v6lab_protocol, role, V6LAB_TP_ROLE_VALUES)

/* enum answer_check of v6lab/proto.h */
LTTNG_UST_TRACEPOINT_ENUM(v6lab_protocol, answer_check,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("ok", 0)
		lttng_ust_field_enum_value("retry", 1)
		lttng_ust_field_enum_value("fail", 2)))

/* A protocol message: question is 1..6 (0 when the message is not about one). */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_protocol, message,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, text),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_protocol, role, int, role, role)
		lttng_ust_field_integer(int, question, question)
		lttng_ust_field_string(text, V6LAB_TP_TEXT(text))))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, message, v6lab_protocol, prompt_sent,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, text))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, message, v6lab_protocol, prompt_received,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, text))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, message, v6lab_protocol, answer_sent,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, text))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, message, v6lab_protocol, verdict_received,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, text))

/* The course server's check of one answer; why: the message for the student, or "". */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_protocol, answer_checked,
	LTTNG_UST_TP_ARGS(int, role, int, question, const char *, answer, int, result,
			  const char *, why),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_protocol, role, int, role, role)
		lttng_ust_field_integer(int, question, question)
		lttng_ust_field_string(answer, V6LAB_TP_TEXT(answer))
		lttng_ust_field_enum(v6lab_protocol, answer_check, int, result, result)
		lttng_ust_field_string(why, V6LAB_TP_TEXT(why))))

/* One step of one token. index: K of "clientK:" (0 if there is no token);
 * detail: what happened (see trace/README.md for each event). */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(v6lab_protocol, token_step,
	LTTNG_UST_TP_ARGS(int, role, int, index, const char *, token, const char *, detail),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_protocol, role, int, role, role)
		lttng_ust_field_integer(int, index, index)
		lttng_ust_field_string(token, V6LAB_TP_TEXT(token))
		lttng_ust_field_string(detail, V6LAB_TP_TEXT(detail))))

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, token_step, v6lab_protocol, token_generated,
	LTTNG_UST_TP_ARGS(int, role, int, index, const char *, token, const char *, detail))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, token_step, v6lab_protocol, token_received,
	LTTNG_UST_TP_ARGS(int, role, int, index, const char *, token, const char *, detail))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, token_step, v6lab_protocol, token_forwarded,
	LTTNG_UST_TP_ARGS(int, role, int, index, const char *, token, const char *, detail))
LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(v6lab_protocol, token_step, v6lab_protocol, token_verified,
	LTTNG_UST_TP_ARGS(int, role, int, index, const char *, token, const char *, detail))

/* The course server's verdict on one session. concurrent: "yes", "no" or "unknown". */
LTTNG_UST_TRACEPOINT_EVENT(v6lab_protocol, verdict,
	LTTNG_UST_TP_ARGS(int, role, int, pass, int, ok, int, expected, const char *, concurrent,
			  const char *, reason),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_enum(v6lab_protocol, role, int, role, role)
		lttng_ust_field_integer(int, pass, pass)
		lttng_ust_field_integer(int, ok, ok)
		lttng_ust_field_integer(int, expected, expected)
		lttng_ust_field_string(concurrent, V6LAB_TP_TEXT(concurrent))
		lttng_ust_field_string(reason, V6LAB_TP_TEXT(reason))))

LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, prompt_sent, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, prompt_received, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, answer_sent, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, answer_checked, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, verdict_received, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, token_generated, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, token_received, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, token_forwarded, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, token_verified, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)
LTTNG_UST_TRACEPOINT_LOGLEVEL(v6lab_protocol, verdict, LTTNG_UST_TRACEPOINT_LOGLEVEL_NOTICE)

#endif /* V6LAB_PROTOCOL_H */

#include <lttng/tracepoint-event.h>
