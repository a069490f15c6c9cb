/* SPDX-License-Identifier: MIT */
/* Framing: messages must come out whole however TCP cuts the bytes. A child process feeds
 * a socketpair one byte at a time (or all at once) and the reader must not care. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "v6lab/io.h"
#include "v6lab/proto.h"
#include "v6lab/token.h"
#include "v6lab/util.h"

/* Write data into a socketpair from a child, chunk bytes per write, then close. */
static int feed(const char *data, size_t len, size_t chunk, pid_t *pid)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	*pid = fork();
	assert_true(*pid >= 0);
	if (*pid == 0) {
		close(sv[0]);
		signal(SIGPIPE, SIG_IGN);
		for (size_t off = 0; off < len; off += chunk) {
			size_t n = len - off < chunk ? len - off : chunk;
			if (write(sv[1], data + off, n) != (ssize_t)n)
				_exit(errno == EPIPE ? 0 : 1); /* the reader may stop early */
			if (chunk == 1)
				usleep(200);
		}
		_exit(0);
	}
	close(sv[1]);
	return sv[0];
}

static void reap(pid_t pid)
{
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static const char prompts[] = V6_COLOUR V6_BANNER "[1/6] Student id (digits)" V6_PROMPT_END
	"error: x\n[2/6] IPv6 address of your IPv6 server" V6_PROMPT_END "PASS: done\n";

static void read_prompts(size_t chunk)
{
	pid_t pid;
	int fd = feed(prompts, strlen(prompts), chunk, &pid);
	struct rbuf rb;
	char out[512];
	size_t partial = 99;
	rbuf_init(&rb, fd);

	assert_true(read_until(&rb, V6_PROMPT_END, out, sizeof(out), now_ms() + 5000, &partial) > 0);
	assert_int_equal(proto_question_number(out), 1);
	assert_non_null(strstr(out, V6_BANNER));
	assert_true(read_until(&rb, V6_PROMPT_END, out, sizeof(out), now_ms() + 5000, &partial) > 0);
	assert_int_equal(proto_question_number(out), 2);
	assert_string_equal(out, "error: x\n[2/6] IPv6 address of your IPv6 server\n> ");
	assert_true(read_until(&rb, "\n", out, sizeof(out), now_ms() + 5000, &partial) > 0);
	assert_string_equal(out, "PASS: done\n");
	assert_int_equal(read_until(&rb, "\n", out, sizeof(out), now_ms() + 5000, &partial), 0);
	assert_int_equal(partial, 0);
	close(fd);
	reap(pid);
}

static void prompts_one_byte_at_a_time(void **state)
{
	(void)state;
	read_prompts(1);
}

static void prompts_merged_in_one_write(void **state)
{
	(void)state;
	read_prompts(sizeof(prompts));
}

static void prompts_odd_chunks(void **state)
{
	(void)state;
	read_prompts(7);
}

static enum token_frame frame(const char *wire, size_t chunk, token_t tok)
{
	pid_t pid;
	int fd = feed(wire, strlen(wire), chunk, &pid);
	enum token_frame f = token_read(fd, 3000, tok);
	close(fd);
	reap(pid);
	return f;
}

static void token_one_byte_segments(void **state)
{
	(void)state;
	token_t tok;
	assert_int_equal(frame("client3:abcdefghij0123456789\r\n", 1, tok), TOKEN_OK);
	assert_string_equal(tok, "client3:abcdefghij0123456789");
}

static void token_with_fin_in_one_segment(void **state)
{
	(void)state;
	token_t tok;
	/* the whole token and the close together */
	assert_int_equal(frame("client1:ABCDEFGHIJ0123456789\r\n", 64, tok), TOKEN_OK);
	assert_int_equal(frame("client1:ABCDEFGHIJ0123456789\n", 64, tok), TOKEN_OK);
}

static void token_bad_frames(void **state)
{
	(void)state;
	token_t tok;
	assert_int_equal(frame("client1:ABCDEFGHIJ01234", 5, tok), TOKEN_TRUNCATED);
	assert_int_equal(frame("client1:ABCDEFGHIJ0123456789XYZW\r\n", 64, tok), TOKEN_OVERSIZED);
	assert_int_equal(frame("client1:ABCDEFGHIJ0123456789ABCDEFGHIJ", 3, tok), TOKEN_OVERSIZED);
	assert_int_equal(frame("client1:ABCDEFGHIJ01234567-9\r\n", 64, tok), TOKEN_MALFORMED);
	assert_int_equal(frame("\r\n", 64, tok), TOKEN_MALFORMED);
}

static void token_timeout(void **state)
{
	(void)state;
	int sv[2];
	token_t tok;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(write(sv[1], "client1:", 8), 8);
	int64_t t0 = now_ms();
	assert_int_equal(token_read(sv[0], 200, tok), TOKEN_TIMEOUT);
	assert_true(now_ms() - t0 >= 190);
	close(sv[0]);
	close(sv[1]);
}

static void readn_short_at_eof(void **state)
{
	(void)state;
	pid_t pid;
	char buf[16];
	int fd = feed("abcdef", 6, 1, &pid);
	assert_int_equal(readn(fd, buf, 4, 3000), 4);
	assert_memory_equal(buf, "abcd", 4);
	assert_int_equal(readn(fd, buf, 10, 3000), 2);
	close(fd);
	reap(pid);
}

static void read_until_too_long(void **state)
{
	(void)state;
	pid_t pid;
	char out[8];
	struct rbuf rb;
	int fd = feed("0123456789\n", 11, 11, &pid);
	rbuf_init(&rb, fd);
	assert_int_equal(read_until(&rb, "\n", out, sizeof(out), now_ms() + 3000, NULL), -1);
	assert_int_equal(errno, EMSGSIZE);
	close(fd);
	reap(pid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(prompts_one_byte_at_a_time),
		cmocka_unit_test(prompts_merged_in_one_write),
		cmocka_unit_test(prompts_odd_chunks),
		cmocka_unit_test(token_one_byte_segments),
		cmocka_unit_test(token_with_fin_in_one_segment),
		cmocka_unit_test(token_bad_frames),
		cmocka_unit_test(token_timeout),
		cmocka_unit_test(readn_short_at_eof),
		cmocka_unit_test(read_until_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
