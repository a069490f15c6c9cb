/* SPDX-License-Identifier: MIT */
#include "v6lab/proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static const char *const question_text[V6_QUESTIONS + 1] = {
	[Q_STUDENT_ID] = "Student id (digits)",
	[Q_V6_ADDR] = "IPv6 address of your IPv6 server",
	[Q_V6_PORT] = "Port of your IPv6 server",
	[Q_READY] = "Is your IPv6 server running and listening? (Y/N)",
	[Q_CONCURRENT] = "Will it serve the %d clients concurrently? (Y/N)",
	[Q_START] = "Type OK to start the %d IPv6 clients",
};

int proto_question(int q, int nclients, char *buf, size_t bufsz)
{
	char text[128];
	if (q < 1 || q > V6_QUESTIONS)
		return -1;
	snprintf(text, sizeof(text), question_text[q], nclients);
	return snprintf(buf, bufsz, "[%d/%d] %s" V6_PROMPT_END, q, V6_QUESTIONS, text);
}

int proto_question_number(const char *prompt)
{
	/* The question is on the last line before "> ": find that line's start. */
	const char *end = strstr(prompt, V6_PROMPT_END);
	if (!end)
		return 0;
	const char *line = end;
	while (line > prompt && line[-1] != '\n')
		line--;
	/* Each question comes after the colour packet: skip colour escapes (ESC [ ... m). */
	while (line[0] == '\033' && line[1] == '[') {
		size_t n = 2 + strspn(line + 2, "0123456789;");
		if (line[n] != 'm')
			return 0;
		line += n + 1;
	}
	int q, total;
	if (sscanf(line, "[%d/%d]", &q, &total) != 2 || q < 1 || q > V6_QUESTIONS)
		return 0;
	return q;
}

/* The length of the escape sequence at s (s[0] is ESC), and whether it is a colour (SGR). */
static size_t escape_length(const char *s, bool *sgr)
{
	size_t n = 1;
	*sgr = false;
	if (s[1] == '[') { /* CSI: parameters and intermediates, then a final byte */
		n = 2;
		while (s[n] >= 0x20 && s[n] <= 0x3f)
			n++;
		*sgr = s[n] == 'm' && strspn(s + 2, "0123456789;") == n - 2;
		return s[n] >= 0x40 && s[n] <= 0x7e ? n + 1 : n;
	}
	if (s[1] == ']' || s[1] == 'P' || s[1] == '_' || s[1] == '^') { /* OSC, DCS...: up to BEL or ST */
		for (n = 2; s[n]; n++) {
			if (s[n] == '\a')
				return n + 1;
			if (s[n] == '\033' && s[n + 1] == '\\')
				return n + 2;
		}
		return n;
	}
	while (s[n] >= 0x20 && s[n] <= 0x2f) /* ESC, intermediates (as in ESC ( 0), a final byte */
		n++;
	return s[n] >= 0x30 && s[n] <= 0x7e ? n + 1 : n;
}

char *proto_for_terminal(char *text, bool colour)
{
	char *out = text;
	for (const char *p = text; *p;) {
		unsigned char c = (unsigned char)*p;
		if (c == '\033') {
			bool sgr;
			size_t n = escape_length(p, &sgr);
			if (sgr && colour) {
				memmove(out, p, n);
				out += n;
			}
			p += n;
		} else {
			if (c >= 0x20 ? c != 0x7f : c == '\n' || c == '\t')
				*out++ = (char)c;
			p++;
		}
	}
	*out = '\0';
	return text;
}

char *proto_chomp(char *line)
{
	size_t n = strlen(line);
	if (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	if (n > 0 && line[n - 1] == '\r')
		line[--n] = '\0';
	return line;
}

static bool all_digits(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* Y or N, either case. 1 = yes, 0 = no, -1 = neither. */
static int yes_no(const char *s)
{
	if (strcasecmp(s, "y") == 0 || strcasecmp(s, "yes") == 0)
		return 1;
	if (strcasecmp(s, "n") == 0 || strcasecmp(s, "no") == 0)
		return 0;
	return -1;
}

static enum answer_check check_address(const char *s, const struct prefix6 *allow, size_t nallow,
				       struct answers *a, char *why, size_t whysz)
{
	struct in_addr v4;
	if (inet_pton(AF_INET, s, &v4) == 1) {
		snprintf(why, whysz, "%s is an IPv4 address: give the IPv6 address of your server", s);
		return ANSWER_RETRY;
	}
	if (strlen(s) >= sizeof(a->v6addr) || inet_pton(AF_INET6, s, &a->addr) != 1) {
		snprintf(why, whysz, "'%.60s' is not an IPv6 address (example: 2001:0:53aa:64c:1c:2e55:a7b3:fe8b)", s);
		return ANSWER_RETRY;
	}
	for (size_t i = 0; i < nallow; i++)
		if (prefix6_contains(&allow[i], &a->addr)) {
			inet_ntop(AF_INET6, &a->addr, a->v6addr, sizeof(a->v6addr));
			return ANSWER_OK;
		}
	int n = snprintf(why, whysz, "%s is outside the prefixes this server may connect to (", s);
	for (size_t i = 0; i < nallow && n > 0 && (size_t)n < whysz; i++) {
		char p[INET6_ADDRSTRLEN];
		inet_ntop(AF_INET6, &allow[i].addr, p, sizeof(p));
		n += snprintf(why + n, whysz - (size_t)n, "%s%s/%d", i ? ", " : "", p, allow[i].len);
	}
	if (n > 0 && (size_t)n < whysz)
		snprintf(why + n, whysz - (size_t)n, ")");
	return ANSWER_RETRY;
}

enum answer_check proto_check_answer(int q, const char *s, const struct prefix6 *allow,
				     size_t nallow, struct answers *a, char *why, size_t whysz)
{
	why[0] = '\0';
	switch (q) {
	case Q_STUDENT_ID:
		if (!all_digits(s, sizeof(a->student) - 1)) {
			snprintf(why, whysz, "a student id is 1 to %zu digits", sizeof(a->student) - 1);
			return ANSWER_RETRY;
		}
		strcpy(a->student, s);
		return ANSWER_OK;
	case Q_V6_ADDR:
		return check_address(s, allow, nallow, a, why, whysz);
	case Q_V6_PORT:
		if (!all_digits(s, 5) || !parse_port(s, false, &a->port)) {
			snprintf(why, whysz, "'%.20s' is not a port: give a number from 1 to 65535", s);
			return ANSWER_RETRY;
		}
		return ANSWER_OK;
	case Q_READY:
	case Q_CONCURRENT:
		switch (yes_no(s)) {
		case 1:
			return ANSWER_OK;
		case 0:
			snprintf(why, whysz, q == Q_READY
				 ? "you answered N: start your IPv6 server first, then connect again"
				 : "you answered N: the assignment asks for a concurrent server");
			return ANSWER_FAIL;
		default:
			snprintf(why, whysz, "answer Y or N");
			return ANSWER_RETRY;
		}
	case Q_START:
		if (strcasecmp(s, "OK") == 0)
			return ANSWER_OK;
		snprintf(why, whysz, "type OK when you are ready");
		return ANSWER_RETRY;
	default:
		snprintf(why, whysz, "no question %d", q);
		return ANSWER_FAIL;
	}
}

int proto_start_message(const struct answers *a, int nclients, char *buf, size_t bufsz)
{
	return snprintf(buf, bufsz,
			"Starting %d IPv6 clients to [%s]:%u. When you have their tokens, send "
			"them back as t1,t2,...,t%d and a newline.\n",
			nclients, a->v6addr, a->port, nclients);
}
