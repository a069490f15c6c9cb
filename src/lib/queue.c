/* SPDX-License-Identifier: MIT */
#include "v6lab/queue.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "v6lab/util.h"
#include "v6lab/wrap.h"

/* msgsnd/msgrcv take the size of the text only, not of the long in front of it. */
#define MSG_TEXT_SIZE (sizeof(struct token_msg) - sizeof(long))

key_t queue_key_for_port(uint16_t port)
{
	return (key_t)(V6_QUEUE_KEY_BASE | port);
}

bool parse_queue_key(const char *s, key_t *key)
{
	char *end;
	if (s == NULL || *s == '\0' || *s == '-')
		return false;
	errno = 0;
	unsigned long v = strtoul(s, &end, 0);
	if (errno || *end != '\0' || v == 0 || v > 0x7fffffffUL)
		return false;
	*key = (key_t)v;
	return true;
}

int queue_create(key_t key, char *err, size_t errsz)
{
	int id = Msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	if (id >= 0 || errno != EEXIST) {
		if (id < 0)
			snprintf(err, errsz, "msgget key 0x%08x: %s", (unsigned)key, strerror(errno));
		return id;
	}
	/* A queue is already there: left by a run that crashed, or someone else's. */
	struct msqid_ds ds;
	id = Msgget(key, 0);
	if (id < 0 || Msgctl(id, IPC_STAT, &ds) < 0) {
		snprintf(err, errsz, "message queue key 0x%08x exists and is not ours (%s): "
			 "choose another key with --queue-key", (unsigned)key, strerror(errno));
		return -1;
	}
	if (ds.msg_perm.uid != geteuid()) {
		snprintf(err, errsz, "message queue key 0x%08x (id %d) belongs to uid %u: "
			 "choose another key with --queue-key", (unsigned)key, id,
			 (unsigned)ds.msg_perm.uid);
		return -1;
	}
	warnx_("removing stale message queue key 0x%08x (id %d, %lu message(s)) left by an "
	       "earlier run", (unsigned)key, id, (unsigned long)ds.msg_qnum);
	if (Msgctl(id, IPC_RMID, NULL) < 0 && errno != EIDRM && errno != EINVAL) {
		snprintf(err, errsz, "removing stale queue id %d: %s", id, strerror(errno));
		return -1;
	}
	id = Msgget(key, IPC_CREAT | IPC_EXCL | 0600);
	if (id < 0)
		snprintf(err, errsz, "msgget key 0x%08x: %s", (unsigned)key, strerror(errno));
	return id;
}

/* msgsnd/msgrcv block without a timeout of their own: an alarm interrupts them (EINTR),
 * and the caller looks at its deadline. The program's own SIGALRM action is put back
 * once the call is over. */
static void on_alarm(int sig)
{
	(void)sig;
}

static struct sigaction program_alarm_action;

static void arm_alarm(int64_t deadline_ms, int64_t max_wait_ms)
{
	int64_t left = deadline_ms - now_ms();
	if (left > max_wait_ms)
		left = max_wait_ms;
	if (left < 1)
		left = 1;
	struct itimerval it = { .it_value = { .tv_sec = left / 1000, .tv_usec = (left % 1000) * 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART: EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, &program_alarm_action);
	setitimer(ITIMER_REAL, &it, NULL);
}

static void disarm_alarm(void)
{
	struct itimerval it = { 0 };
	setitimer(ITIMER_REAL, &it, NULL); /* first: no alarm can come after the restore */
	sigaction(SIGALRM, &program_alarm_action, NULL);
}

/* Has the peer on fd said something (or closed)? */
static bool readable_now(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	return fd >= 0 && poll(&pfd, 1, 0) > 0;
}

static int send_msg(int id, long type, const char *text, int64_t deadline_ms)
{
	struct token_msg m = { .mtype = type };
	snprintf(m.text, sizeof(m.text), "%s", text);
	for (;;) {
		arm_alarm(deadline_ms, deadline_ms - now_ms());
		int r = Msgsnd(id, &m, MSG_TEXT_SIZE, 0);
		disarm_alarm();
		if (r == 0)
			return 0;
		if (errno != EINTR)
			return -1;
		if (now_ms() >= deadline_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

int queue_put_tokens(int id, const token_t tokens[], int n, int64_t deadline_ms)
{
	char count[16];
	for (int i = 0; i < n; i++) {
		if (send_msg(id, V6_MSG_TOKEN, tokens[i], deadline_ms) < 0)
			return -1;
		v6_trace_token(V6_TOKEN_FORWARDED, tokens[i], "message queue");
	}
	snprintf(count, sizeof(count), "%d", n);
	return send_msg(id, V6_MSG_END, count, deadline_ms);
}

/* Wait for the queue to appear (the IPv6 server may not have started yet). */
static int open_when_there(key_t key, int64_t deadline_ms, int watch_fd)
{
	bool told = false;
	for (;;) {
		int id = Msgget(key, 0);
		if (id >= 0 || errno != ENOENT)
			return id;
		if (now_ms() >= deadline_ms) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (readable_now(watch_fd)) {
			errno = ECANCELED;
			return -1;
		}
		if (!told) {
			warnx_("waiting for the IPv6 server to create message queue key 0x%08x",
			       (unsigned)key);
			told = true;
		}
		usleep(50 * 1000);
	}
}

int queue_take_tokens(key_t key, token_t tokens[], int max, int64_t deadline_ms, int watch_fd,
		      char *err, size_t errsz)
{
	int id = open_when_there(key, deadline_ms, watch_fd);
	if (id < 0) {
		int e = errno;
		if (e == ETIMEDOUT)
			snprintf(err, errsz, "no message queue key 0x%08x appeared in time: is the "
				 "IPv6 server running, with the same port or --queue-key?", (unsigned)key);
		else if (e == ECANCELED)
			snprintf(err, errsz, "the course server answered before the tokens came (no "
				 "message queue key 0x%08x yet)", (unsigned)key);
		else
			snprintf(err, errsz, "msgget key 0x%08x: %s", (unsigned)key, strerror(e));
		errno = e;
		return -1;
	}
	int n = 0, ignored = 0;
	for (;;) {
		struct token_msg m;
		/* Wake up now and then to see whether watch_fd spoke first. */
		arm_alarm(deadline_ms, 250);
		/* MSG_NOERROR: a message too big for us (not ours) is cut, not left blocking
		 * the queue with E2BIG. */
		ssize_t r = Msgrcv(id, &m, MSG_TEXT_SIZE, 0, MSG_NOERROR);
		int e = errno;
		disarm_alarm();
		if (r < 0) {
			if (e == EINTR && readable_now(watch_fd))
				e = ECANCELED;
			else if (e == EINTR && now_ms() < deadline_ms)
				continue;
			if (e == EIDRM) { /* replaced by a restarted server: follow it */
				if ((id = open_when_there(key, deadline_ms, watch_fd)) >= 0)
					continue;
				e = errno;
			}
			if (e == ECANCELED) {
				snprintf(err, errsz, "the course server answered before the tokens "
					 "came (%d token(s) on queue key 0x%08x)", n, (unsigned)key);
				errno = ECANCELED;
				return -1;
			}
			if (e == EINTR)
				snprintf(err, errsz, "timed out with %d token(s) from queue key 0x%08x: "
					 "did all the course clients reach your IPv6 server?", n,
					 (unsigned)key);
			else
				snprintf(err, errsz, "msgrcv (%d token(s) so far) from queue key 0x%08x: %s",
					 n, (unsigned)key, strerror(e));
			return -1;
		}
		/* Never trust the sender to terminate it: the text ends where the message does. */
		m.text[(size_t)r < sizeof(m.text) ? (size_t)r : sizeof(m.text) - 1] = '\0';
		if (m.mtype == V6_MSG_END)
			break;
		if (m.mtype != V6_MSG_TOKEN || !token_valid(m.text, strlen(m.text))) {
			ignored++; /* a full queue of junk would otherwise print a line each */
			continue;
		}
		if (n == max) {
			warnx_("ignoring token beyond the %d expected: %s", max, m.text);
			continue;
		}
		memcpy(tokens[n++], m.text, V6_TOKEN_LEN + 1);
	}
	if (ignored)
		warnx_("ignored %d message(s) on queue key 0x%08x that were not tokens", ignored,
		       (unsigned)key);
	/* Our job is done with it: remove it, or it outlives us (ipcs -q shows it). */
	if (Msgctl(id, IPC_RMID, NULL) < 0)
		warnx_("removing queue id %d: %s", id, strerror(errno));
	return n;
}
