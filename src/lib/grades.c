/* SPDX-License-Identifier: MIT */
#include "v6lab/grades.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Copy s as a JSON string body (quotes and control characters escaped). */
static int json_str(char *buf, size_t sz, const char *s)
{
	size_t n = 0;
	for (; *s && n + 7 < sz; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			n += (size_t)snprintf(buf + n, sz - n, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			n += (size_t)snprintf(buf + n, sz - n, "\\u%04x", ch);
		else
			buf[n++] = (char)ch;
	}
	buf[n] = '\0';
	return (int)n;
}

int grades_format(const struct grade *g, long long unix_time, char *buf, size_t bufsz)
{
	char when[32], student[80], peer[80], v6addr[80], reason[1024];
	time_t t = (time_t)unix_time;
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	json_str(student, sizeof(student), g->student ? g->student : "");
	json_str(peer, sizeof(peer), g->peer ? g->peer : "");
	json_str(v6addr, sizeof(v6addr), g->v6addr ? g->v6addr : "");
	json_str(reason, sizeof(reason), g->verdict->reason);
	return snprintf(buf, bufsz,
			"{\"time\":\"%s\",\"student\":\"%s\",\"peer\":\"%s\",\"v6addr\":\"%s\","
			"\"v6port\":%d,\"tokens_expected\":%d,\"tokens_ok\":%d,"
			"\"concurrent\":%s,\"verdict\":\"%s\",\"reason\":\"%s\","
			"\"elapsed_ms\":%lld}\n",
			when, student, peer, v6addr, g->v6port, g->verdict->expected,
			g->verdict->ok, concurrency_json(g->verdict->concurrent), g->verdict->pass ? "PASS" : "FAIL",
			reason, (long long)g->elapsed_ms);
}

int grades_append(const char *path, const struct grade *g)
{
	char line[2048];
	int n = grades_format(g, (long long)time(NULL), line, sizeof(line));
	if (n < 0 || (size_t)n >= sizeof(line))
		return -1;
	/* O_APPEND + one write: lines of concurrent sessions never interleave, and a session
	 * killed mid-way leaves no half line. fsync: the grade survives a crash. */
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int ok = write(fd, line, (size_t)n) == n && fsync(fd) == 0;
	close(fd);
	return ok ? 0 : -1;
}
