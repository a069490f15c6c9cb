/* SPDX-License-Identifier: MIT */
/* The message queue: key, round trip, stale queues, timeouts. Uses real System V queues
 * at keys of its own and removes them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <sys/msg.h>
#include <unistd.h>

#include "v6lab/queue.h"
#include "v6lab/util.h"

/* A key no one else uses: this process's pid in a range of our own. */
static key_t test_key(void)
{
	return (key_t)(0x7e000000 | (getpid() & 0xffffff));
}

static void keys(void **state)
{
	(void)state;
	key_t k;
	assert_int_equal(queue_key_for_port(7002), 0x76361b5a);
	assert_true(parse_queue_key("0x76361b5a", &k) && k == 0x76361b5a);
	assert_true(parse_queue_key("1234", &k) && k == 1234);
	assert_false(parse_queue_key("0", &k)); /* IPC_PRIVATE is not a shared key */
	assert_false(parse_queue_key("-1", &k));
	assert_false(parse_queue_key("12abc", &k));
	assert_false(parse_queue_key("", &k));
}

static void round_trip_and_removed(void **state)
{
	(void)state;
	char err[256];
	token_t in[3] = { "client1:AAAAAAAAAAAAAAAAAAAA", "client2:BBBBBBBBBBBBBBBBBBBB",
			  "client3:CCCCCCCCCCCCCCCCCCCC" };
	token_t out[5];
	key_t key = test_key();
	int id = queue_create(key, err, sizeof(err));
	assert_true(id >= 0);
	struct msqid_ds ds;
	assert_int_equal(msgctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.msg_perm.mode & 0777, 0600);
	assert_int_equal(queue_put_tokens(id, in, 3, now_ms() + 1000), 0);
	assert_int_equal(queue_take_tokens(key, out, 5, now_ms() + 1000, -1, err, sizeof(err)), 3);
	for (int i = 0; i < 3; i++)
		assert_string_equal(out[i], in[i]);
	assert_int_equal(msgget(key, 0), -1); /* removed once read */
	assert_int_equal(errno, ENOENT);
}

static void stale_queue_replaced(void **state)
{
	(void)state;
	char err[256];
	key_t key = test_key();
	int old = msgget(key, IPC_CREAT | 0600);
	struct token_msg m = { .mtype = V6_MSG_TOKEN, .text = "client1:STALESTALESTALESTALE" };
	assert_int_equal(msgsnd(old, &m, sizeof(m.text), 0), 0);
	int id = queue_create(key, err, sizeof(err));
	assert_true(id >= 0);
	assert_int_not_equal(id, old);
	struct msqid_ds ds;
	assert_int_equal(msgctl(id, IPC_STAT, &ds), 0);
	assert_int_equal(ds.msg_qnum, 0); /* the stale token is gone */
	msgctl(id, IPC_RMID, NULL);
}

static void someone_elses_queue_refused(void **state)
{
	(void)state;
	char err[256];
	key_t key = test_key();
	int id = msgget(key, IPC_CREAT | 0600);
	struct msqid_ds ds;
	assert_int_equal(msgctl(id, IPC_STAT, &ds), 0);
	ds.msg_perm.uid = geteuid() + 4242; /* hand it to another user (we may, as its owner) */
	if (msgctl(id, IPC_SET, &ds) != 0) {
		msgctl(id, IPC_RMID, NULL);
		fail_msg("IPC_SET on our own queue failed: %s", strerror(errno)); /* owner may */
	}
	assert_int_equal(queue_create(key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "belongs to uid"));
	assert_non_null(strstr(err, "--queue-key"));
	msgctl(id, IPC_RMID, NULL); /* root may still remove it */
}

static void take_times_out(void **state)
{
	(void)state;
	char err[256];
	token_t out[5];
	key_t key = test_key();
	int64_t t0 = now_ms();
	/* no queue at all: it waits for it until the deadline, not less */
	assert_int_equal(queue_take_tokens(key, out, 5, now_ms() + 300, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "appeared in time"));
	assert_true(now_ms() - t0 >= 280);
	/* a queue, but the tokens never come */
	int id = queue_create(key, err, sizeof(err));
	assert_true(id >= 0);
	int64_t t1 = now_ms();
	assert_int_equal(queue_take_tokens(key, out, 5, now_ms() + 300, -1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "timed out with 0 token(s)"));
	assert_true(now_ms() - t1 >= 280);
	assert_true(now_ms() - t0 < 2000);
	msgctl(id, IPC_RMID, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys),
		cmocka_unit_test(round_trip_and_removed),
		cmocka_unit_test(stale_queue_replaced),
		cmocka_unit_test(someone_elses_queue_refused),
		cmocka_unit_test(take_times_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
