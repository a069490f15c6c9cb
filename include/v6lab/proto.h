/* SPDX-License-Identifier: MIT */
/*
 * The IPv4 leg of the protocol: the course server's prompts and the student's answers.
 * tutorials/reference/protocol.md is the contract; this is its code.
 */
#ifndef V6LAB_PROTO_H
#define V6LAB_PROTO_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "v6lab/net.h"

/* Every question comes after this colour packet; with ipv4-server --framing 2021 (the
 * default) it is a segment of its own, as the 2021 clients' two read()s expect (segments.h). */
#define V6_COLOUR "\033[1;36m"
#define V6_COLOUR_RESET "\033[0m"
/* Every question ends with this: a robust client reads until it has seen it, however the
 * server cut the question into segments. */
#define V6_PROMPT_END "\n> "
/* Answers are lines ("\n" or "\r\n"), at most this long with the line end. */
#define V6_ANSWER_MAX 256
/* A reply holds at most this many bytes (145 for 5 tokens; room for sloppiness). */
#define V6_REPLY_MAX 1024
#define V6_BANNER "v6lab course server: the IPv4/IPv6 token relay\n"

enum v6_question {
	Q_STUDENT_ID = 1,
	Q_V6_ADDR,
	Q_V6_PORT,
	Q_READY,
	Q_CONCURRENT,
	Q_START,
};
#define V6_QUESTIONS 6
/* How many invalid answers to one question before the session FAILs. */
#define V6_MAX_ATTEMPTS 3
/* How many invalid answers in all before the session FAILs: six typos are plenty, and
 * without a bound a student holds a session 6 x 3 x --answer-timeout. */
#define V6_MAX_WRONG_ANSWERS 6

/* What the student answered, once validated. */
struct answers {
	char student[32];
	char v6addr[INET6_ADDRSTRLEN];
	struct in6_addr addr;
	uint16_t port;
};

/* "[k/6] question\n> " for question q with n course clients. Returns its length. */
int proto_question(int q, int nclients, char *buf, size_t bufsz);
/* The question number of a prompt received by a client ("[k/6] ..." on its last line), 0 if none. */
int proto_question_number(const char *prompt);
/* Make what the server sent safe to show on the student's terminal, in place: colour
 * escapes (SGR: ESC [ digits and ; then m) stay if colour is true; every other escape
 * sequence (a screen clear, an OSC 52 clipboard write, a title) and control character but
 * \n and \t goes. */
char *proto_for_terminal(char *text, bool colour);
/* Strip the line end ("\n" or "\r\n") of an answer in place. */
char *proto_chomp(char *line);

enum answer_check { ANSWER_OK, ANSWER_RETRY, ANSWER_FAIL };
/*
 * Validate the answer to question q and store it in a. ANSWER_RETRY: ask again, why
 * holds the message for the student; ANSWER_FAIL: the session ends with FAIL, why says why.
 */
enum answer_check proto_check_answer(int q, const char *answer, const struct prefix6 *allow,
				     size_t nallow, struct answers *a, char *why, size_t whysz);

/* The message after the last answer: the clients start. */
int proto_start_message(const struct answers *a, int nclients, char *buf, size_t bufsz);

#endif
