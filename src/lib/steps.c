/* SPDX-License-Identifier: MIT */
/* The protocol's steps as v6lab_protocol events (declared in v6lab/wrap.h). */
#include <stdio.h>
#include <string.h>

#include "v6lab/token.h"
#include "v6lab/wrap.h"
#include "v6lab_protocol.h"

#define ROLE ((int)v6_role())

void v6_trace_message(enum v6_message what, int question, const char *text)
{
	switch (what) {
	case V6_PROMPT_SENT:
		lttng_ust_tracepoint(v6lab_protocol, prompt_sent, ROLE, question, text);
		break;
	case V6_PROMPT_RECEIVED:
		lttng_ust_tracepoint(v6lab_protocol, prompt_received, ROLE, question, text);
		break;
	case V6_ANSWER_SENT:
		lttng_ust_tracepoint(v6lab_protocol, answer_sent, ROLE, question, text);
		break;
	case V6_VERDICT_RECEIVED:
		lttng_ust_tracepoint(v6lab_protocol, verdict_received, ROLE, question, text);
		break;
	}
}

void v6_trace_answer(int question, const char *answer, int result, const char *why)
{
	lttng_ust_tracepoint(v6lab_protocol, answer_checked, ROLE, question, answer, result, why);
}

void v6_trace_token(enum v6_token_step step, const char *token, const char *detail)
{
	/* Tokens in a reply are not NUL-terminated: copy the 28 characters first. */
	token_t tok;
	size_t len = strnlen(token, V6_TOKEN_LEN);
	memcpy(tok, token, len);
	tok[len] = '\0';
	int index = token_valid(tok, len) ? token_index(tok) : 0;

	switch (step) {
	case V6_TOKEN_GENERATED:
		lttng_ust_tracepoint(v6lab_protocol, token_generated, ROLE, index, tok, detail);
		break;
	case V6_TOKEN_RECEIVED:
		lttng_ust_tracepoint(v6lab_protocol, token_received, ROLE, index, tok, detail);
		break;
	case V6_TOKEN_FORWARDED:
		lttng_ust_tracepoint(v6lab_protocol, token_forwarded, ROLE, index, tok, detail);
		break;
	case V6_TOKEN_VERIFIED:
		lttng_ust_tracepoint(v6lab_protocol, token_verified, ROLE, index, tok, detail);
		break;
	}
}

void v6_trace_verdict(int pass, int ok, int expected, const char *concurrent, const char *reason)
{
	lttng_ust_tracepoint(v6lab_protocol, verdict, ROLE, pass, ok, expected, concurrent, reason);
}
