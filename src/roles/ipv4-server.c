/* SPDX-License-Identifier: MIT */
/*
 * ipv4-server: the course side.
 *
 *   listen on 0.0.0.0:50000
 *   loop: accept a student -> fork a session, so no student waits for another
 *   session:  banner and six questions, each as the colour packet then its text (answers
 *             validated; a student id or a target another running session holds is not)
 *             -> N course IPv6 clients connect concurrently to the student's IPv6 server,
 *                each sends one token
 *             -> wait for the reply "t1,...,tN\n" -> verdict PASS/FAIL -> grade log
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "v6lab/course.h"
#include "v6lab/grades.h"
#include "v6lab/io.h"
#include "v6lab/net.h"
#include "v6lab/proto.h"
#include "v6lab/segments.h"
#include "v6lab/sessions.h"
#include "v6lab/targets.h"
#include "v6lab/util.h"
#include "v6lab/verdict.h"
#include "v6lab/wrap.h"

#define MAX_ALLOW 16

struct options {
	const char *bind;
	uint16_t port;
	int clients;
	int reply_timeout_ms, answer_timeout_ms, questions_timeout_ms, stagger_ms;
	struct prefix6 allow[MAX_ALLOW];
	size_t nallow;
	const char *grades;
	bool once;
	int max_sessions, max_per_peer;
	enum framing framing;
	bool teredo_check;
	struct sockaddr_storage own; /* where it listens (--port 0: the port it got) */
};

/* What the running sessions hold, shared by them all (sessions.h): a student id and a
 * target each, so that one student runs one session at a time and no two sessions test the
 * same IPv6 server. */
static struct session_table *claims;

/* One student's session. */
struct session {
	const struct options *o;
	int fd;
	struct rbuf in;
	char peer[V6_ADDRSTR_LEN];
	struct target_rules rules; /* what the student may name (targets.h) */
	struct answers a;
	struct verdict v;
	int64_t start_ms;
	int wrong_answers;
};

static _Noreturn void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: ipv4-server [--bind A] [--port P] [--clients N] [--reply-timeout S]\n"
		"                   [--allow PREFIX]... [--grades FILE] [--once]\n"
		"  --bind A            IPv4 address to listen on (default 0.0.0.0)\n"
		"  --port P            port (default 50000; 0 = any free port, printed)\n"
		"  --clients N         course IPv6 clients per student, 1..%d (default 5)\n"
		"  --reply-timeout S   how long to wait for the tokens back (default 60)\n"
		"  --answer-timeout S  how long to wait for each answer (default 120)\n"
		"  --questions-timeout S  how long all six may take, tries included (default 300)\n"
		"  --stagger-ms MS     gap between the clients' tokens (default 200)\n"
		"  --allow PREFIX      IPv6 prefix the clients may connect to, repeatable\n"
		"                      (default ::1/128, 2001::/32 (Teredo), 2001:db8::/32)\n"
		"  --grades FILE       grade log, one JSON line per session (default grades.jsonl)\n"
		"  --max-sessions N    students served at once (default 256)\n"
		"  --max-per-peer N    sessions at once from one IPv4 address or IPv6 /64\n"
		"                      (default 32; never more than half of --max-sessions)\n"
		"  --no-teredo-check   accept a Teredo target that does not embed the student's\n"
		"                      own public IPv4 address (unusual set-ups)\n"
		"  --framing F         how questions are cut into segments: 2021 (default: the\n"
		"                      colour packet, then the text, as the 2021 clients read\n"
		"                      them), merged (one write each) or bytes (one byte each)\n"
		"  --once              serve one student, exit 0 on PASS, 1 on FAIL\n",
		V6_MAX_CLIENTS);
	fputs("--help and --version print this help and the version.\n", status ? stderr : stdout);
	exit(status);
}

static struct options parse_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bind", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ "clients", required_argument, NULL, 'n' },
		{ "reply-timeout", required_argument, NULL, 'r' },
		{ "answer-timeout", required_argument, NULL, 'a' },
		{ "questions-timeout", required_argument, NULL, 'Q' },
		{ "stagger-ms", required_argument, NULL, 's' },
		{ "allow", required_argument, NULL, 'A' },
		{ "grades", required_argument, NULL, 'g' },
		{ "max-sessions", required_argument, NULL, 'm' },
		{ "max-per-peer", required_argument, NULL, 'M' },
		{ "framing", required_argument, NULL, 'f' },
		{ "no-teredo-check", no_argument, NULL, 'T' },
		{ "once", no_argument, NULL, '1' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct options o = { .bind = "0.0.0.0", .port = 50000, .clients = 5,
			     .reply_timeout_ms = 60000, .answer_timeout_ms = 120000,
			     .questions_timeout_ms = 300000,
			     .stagger_ms = 200, .grades = "grades.jsonl", .max_sessions = 256,
			     .max_per_peer = 32, .teredo_check = true };
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'b': o.bind = optarg; break;
		case 'p':
			if (!parse_port(optarg, true, &o.port))
				die("--port '%s': give a number from 0 to 65535", optarg);
			break;
		case 'n': o.clients = option_int("--clients", optarg, 1, V6_MAX_CLIENTS); break;
		case 'r': o.reply_timeout_ms = 1000 * option_int("--reply-timeout", optarg, 1, 3600); break;
		case 'a': o.answer_timeout_ms = 1000 * option_int("--answer-timeout", optarg, 1, 3600); break;
		case 'Q':
			o.questions_timeout_ms = 1000 * option_int("--questions-timeout", optarg, 1, 3600);
			break;
		case 's': o.stagger_ms = option_int("--stagger-ms", optarg, 1, 10000); break;
		case 'A':
			if (o.nallow == MAX_ALLOW)
				die("--allow: at most %d prefixes", MAX_ALLOW);
			if (!parse_prefix6(optarg, &o.allow[o.nallow++]))
				die("--allow '%s': give an IPv6 prefix such as 2001:db8::/32", optarg);
			break;
		case 'g': o.grades = optarg; break;
		case 'm': o.max_sessions = option_int("--max-sessions", optarg, 1, 10000); break;
		case 'M': o.max_per_peer = option_int("--max-per-peer", optarg, 1, 10000); break;
		case 'f':
			if (!framing_parse(optarg, &o.framing))
				die("--framing '%s': give 2021, merged or bytes", optarg);
			break;
		case 'T': o.teredo_check = false; break;
		case '1': o.once = true; break;
		case 'h': usage(0);
		case 'V': print_version();
		default: usage(V6_EXIT_ERROR);
		}
	}
	if (optind < argc)
		die("unexpected argument '%s' (see --help)", argv[optind]);
	if (o.nallow == 0) {
		static const char *const defaults[] = { "::1/128", "2001::/32", "2001:db8::/32" };
		for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
			parse_prefix6(defaults[i], &o.allow[o.nallow++]);
	}
	return o;
}

/* A NUL byte inside a line would cut it short for the string functions that check it:
 * make it a visible '?' so that the line is judged whole. */
static void mark_nuls(char *line, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (line[i] == '\0')
			line[i] = '?';
}

/* Ask question q until it gets a valid answer. False: the session FAILs (s->v says why).
 * Every question is one message after the colour packet: the banner goes with question 1,
 * the reason why an answer was refused with the question asked again. */
static bool ask(struct session *s, int q)
{
	char msg[1024], before[512], answer[V6_ANSWER_MAX + 1], why[384];
	size_t partial;

	snprintf(before, sizeof(before), "%s", q == 1 ? V6_BANNER : "");
	for (int attempt = 1; attempt <= V6_MAX_ATTEMPTS; attempt++) {
		int len = snprintf(msg, sizeof(msg), "%s", before);
		proto_question(q, s->o->clients, msg + len, sizeof(msg) - (size_t)len);
		if (framing_send(s->fd, s->o->framing, V6_COLOUR, msg) < 0) {
			snprintf(why, sizeof(why), "student disconnected (%s)", strerror(errno));
			break;
		}
		v6_trace_message(V6_PROMPT_SENT, q, msg);
		int64_t all_by = s->start_ms + s->o->questions_timeout_ms;
		int64_t deadline = now_ms() + s->o->answer_timeout_ms;
		ssize_t n = read_until(&s->in, "\n", answer, sizeof(answer),
				       deadline < all_by ? deadline : all_by, &partial);
		if (n <= 0) {
			if (n < 0 && errno == ETIMEDOUT && now_ms() >= all_by)
				snprintf(why, sizeof(why), "the questions took longer than %d s",
					 s->o->questions_timeout_ms / 1000);
			else if (n < 0 && errno == EMSGSIZE) /* the line end counts in V6_ANSWER_MAX */
				snprintf(why, sizeof(why), "answer to question %d longer than %d bytes",
					 q, V6_ANSWER_MAX - 1);
			else
				snprintf(why, sizeof(why), n == 0 ? "connection closed before "
								    "answering question %d"
					 : errno == ETIMEDOUT ? "no answer to question %d in time"
							      : "reading the answer to question %d failed",
					 q);
			break;
		}
		mark_nuls(answer, (size_t)n);
		enum answer_check check = proto_check_answer(q, proto_chomp(answer), s->o->allow,
							     s->o->nallow, &s->a, why, sizeof(why));
		if (check == ANSWER_OK && (q == Q_V6_ADDR || q == Q_V6_PORT))
			check = target_check(&s->a.addr, q == Q_V6_PORT ? s->a.port : 0, &s->rules,
					     why, sizeof(why));
		if (check == ANSWER_OK && q == Q_STUDENT_ID)
			check = session_claim_student(claims, s->a.student, why, sizeof(why));
		if (check == ANSWER_OK && q == Q_V6_PORT)
			check = session_claim_target(claims, &s->a.addr, s->a.port, why, sizeof(why));
		v6_trace_answer(q, answer, check, why);
		switch (check) {
		case ANSWER_OK:
			return true;
		case ANSWER_FAIL:
			verdict_fail(&s->v, s->o->clients, CONCURRENCY_UNKNOWN, why);
			return false;
		case ANSWER_RETRY:
			if (++s->wrong_answers > V6_MAX_WRONG_ANSWERS) {
				snprintf(why, sizeof(why), "%d invalid answers in this session",
					 s->wrong_answers);
				verdict_fail(&s->v, s->o->clients, CONCURRENCY_UNKNOWN, why);
				return false;
			}
			snprintf(before, sizeof(before), "error: %s\n", why);
			snprintf(why, sizeof(why), "no valid answer to question %d after %d tries", q,
				 V6_MAX_ATTEMPTS);
			continue;
		}
	}
	verdict_fail(&s->v, s->o->clients, CONCURRENCY_UNKNOWN, why);
	return false;
}

/* Run the course clients against the student's server, then check the reply. */
static void test_student_server(struct session *s)
{
	struct course_client c[V6_MAX_CLIENTS];
	token_t issued[V6_MAX_CLIENTS];
	struct sockaddr_in6 target = { .sin6_family = AF_INET6, .sin6_addr = s->a.addr,
				       .sin6_port = htons(s->a.port) };
	char msg[512], reply[V6_REPLY_MAX + 1];
	size_t partial = 0;

	memset(c, 0, sizeof(c));
	for (int i = 0; i < s->o->clients; i++) {
		c[i].index = i + 1;
		c[i].connect_timeout_ms = 10000;
		c[i].eof_timeout_ms = 10000 + s->o->clients * s->o->stagger_ms;
		if (!token_make(i + 1, c[i].token)) {
			verdict_fail(&s->v, s->o->clients, CONCURRENCY_UNKNOWN,
				     "course server: no randomness");
			return;
		}
		memcpy(issued[i], c[i].token, sizeof(token_t));
	}
	enum concurrency concurrent = course_run_clients(c, s->o->clients, (struct sockaddr *)&target,
						    sizeof(target), s->o->stagger_ms);
	for (int i = 0; i < s->o->clients; i++)
		if (c[i].failed_step) {
			snprintf(msg, sizeof(msg), "course client %d could not %s [%s]:%u (%s)", i + 1,
				 c[i].failed_step, s->a.v6addr, s->a.port, strerror(c[i].error));
			verdict_fail(&s->v, s->o->clients, concurrent, msg);
			return;
		}

	ssize_t n = read_until(&s->in, "\n", reply, sizeof(reply),
			       now_ms() + s->o->reply_timeout_ms, &partial);
	if (n < 0) {
		const char *why = errno == ETIMEDOUT ? "no reply with the tokens in time"
						     : "reading the reply failed";
		if (errno == EMSGSIZE) { /* the line end counts in V6_REPLY_MAX */
			snprintf(msg, sizeof(msg), "reply longer than %d bytes", V6_REPLY_MAX);
			why = msg;
		}
		verdict_fail(&s->v, s->o->clients, concurrent, why);
		return;
	}
	if (n == 0 && partial == 0) {
		verdict_fail(&s->v, s->o->clients, concurrent, "connection closed without a reply");
		return;
	}
	mark_nuls(reply, n > 0 ? (size_t)n : partial);
	verdict_check(reply, issued, s->o->clients, concurrent, &s->v);
}

static bool run_session(const struct options *o, int fd, const struct sockaddr_storage *ss,
			const char *peer)
{
	struct session s = { .o = o, .fd = fd, .start_ms = now_ms(),
			     .rules = { .peer = ss, .own = &o->own,
					.teredo_check = o->teredo_check } };
	char msg[V6_VERDICT_LINE_MAX];

	snprintf(s.peer, sizeof(s.peer), "%s", peer);
	rbuf_init(&s.in, fd);

	framing_begin(fd);
	bool answered = true;
	for (int q = 1; q <= V6_QUESTIONS && answered; q++)
		answered = ask(&s, q);
	if (answered) {
		proto_start_message(&s.a, o->clients, msg, sizeof(msg));
		framing_send(fd, o->framing, NULL, msg);
		test_student_server(&s);
	}
	session_release(claims, getpid()); /* a student who has the verdict may start again */
	verdict_line(&s.v, msg, sizeof(msg));
	v6_trace_verdict(s.v.pass, s.v.ok, s.v.expected, concurrency_word(s.v.concurrent),
			 s.v.reason);
	char last[sizeof(msg) + sizeof(V6_COLOUR_RESET)];
	snprintf(last, sizeof(last), "%s" V6_COLOUR_RESET, msg); /* one write: one read gets it */
	framing_send(fd, o->framing, NULL, last);

	struct grade g = { .student = s.a.student, .peer = peer, .v6addr = s.a.v6addr,
			   .v6port = s.a.port, .verdict = &s.v,
			   .elapsed_ms = now_ms() - s.start_ms };
	if (grades_append(o->grades, &g) < 0)
		warnx_("grade log %s: %s (verdict was: %s)", o->grades, strerror(errno), msg);
	printf("session %s student %s -> [%s]:%u: %s", peer, s.a.student[0] ? s.a.student : "?",
	       s.a.v6addr[0] ? s.a.v6addr : "?", s.a.port, msg);
	fflush(stdout); /* the session process ends with _exit(), which flushes nothing */
	return s.v.pass;
}

/* The sessions running, with the student's address (peer_group(): an IPv4 address or an
 * IPv6 /64): one address may not take them all (--max-per-peer, and never more than half
 * of --max-sessions), or a student who opens hundreds of idle connections locks the whole
 * class out until they time out. */
struct running {
	pid_t pid; /* 0: free slot */
	char host[INET6_ADDRSTRLEN + 4];
};
static struct running *running;
static int live_sessions;

static void on_sigchld(int sig)
{
	(void)sig; /* only wakes ppoll() so that the loop reaps */
}

static void reap_sessions(int max)
{
	pid_t pid;
	while (live_sessions > 0 && (pid = Waitpid(-1, NULL, WNOHANG)) > 0)
		for (int i = 0; i < max; i++)
			if (running[i].pid == pid) {
				running[i].pid = 0;
				live_sessions--;
				session_release(claims, pid); /* killed before its verdict, say */
			}
}

static int sessions_from(const char *host, int max)
{
	int n = 0;
	for (int i = 0; i < max; i++)
		n += running[i].pid != 0 && strcmp(running[i].host, host) == 0;
	return n;
}

static void session_started(pid_t pid, const char *host, int max)
{
	for (int i = 0; i < max; i++)
		if (running[i].pid == 0) {
			running[i].pid = pid;
			snprintf(running[i].host, sizeof(running[i].host), "%s", host);
			live_sessions++;
			return;
		}
}

/* Refused students' connections, closed once the student has closed too (or after 1 s), as
 * close_lingering() closes a session's: closing while their answers still arrive would
 * answer with a reset, which can destroy the FAIL line unread. The main loop waits on them
 * with the listening socket, so a refusal never holds it up. */
static struct lingering refused;

/* Turn a student away without a session: one FAIL line that says why. */
static void refuse(int fd, const char *peer, const char *why)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "FAIL: 0/0 tokens, concurrent: unknown; %s\n", why);
	write_str(fd, msg);
	lingering_add(&refused, fd, 1000);
	printf("refused %s: %s\n", peer, why);
}

int main(int argc, char **argv)
{
	v6_set_progname(argv[0]);
	v6_set_role(V6_ROLE_IPV4_SERVER);
	struct options o = parse_options(argc, argv);
	char err[256], peer[V6_ADDRSTR_LEN], host[INET6_ADDRSTRLEN + 4];
	uint16_t port;
	sigset_t wait_mask; /* SIGCHLD wakes ppoll() only, however late it comes */

	ignore_sigpipe();
	on_signal(SIGCHLD, on_sigchld);
	block_signal(SIGCHLD, &wait_mask);
	running = calloc((size_t)o.max_sessions, sizeof(*running));
	claims = session_table_create(o.max_sessions);
	if (!running || !claims)
		die("out of memory for %d sessions", o.max_sessions);
	setvbuf(stdout, NULL, _IOLBF, 0);

	int listen_fd = tcp_listen(o.bind, o.port, 256, &port, err, sizeof(err));
	if (listen_fd < 0)
		die("%s", err);
	socklen_t own_len = sizeof(o.own);
	if (getsockname(listen_fd, (struct sockaddr *)&o.own, &own_len) < 0)
		die("getsockname: %s", strerror(errno));
	int per_peer = o.max_per_peer < o.max_sessions / 2 ? o.max_per_peer : o.max_sessions / 2;
	if (per_peer < 1)
		per_peer = 1;
	printf("listening on %s:%u, %d clients per student, grades in %s\n", o.bind, port,
	       o.clients, o.grades);

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		reap_sessions(o.max_sessions);
		if (!lingering_wait(&refused, listen_fd, &wait_mask))
			continue; /* EINTR: a session ended, reap it; or a refused student's turn */
		int fd = Accept(listen_fd, (struct sockaddr *)&ss, &len);
		if (fd < 0) {
			if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN)
				warnx_("accept: %s", strerror(errno));
			if (errno == EMFILE || errno == ENFILE)
				sleep(1); /* out of descriptors: let sessions finish */
			continue;
		}
		sockaddr_text((struct sockaddr *)&ss, peer, sizeof(peer));
		if (o.once) {
			Close(listen_fd);
			bool pass = run_session(&o, fd, &ss, peer);
			close_lingering(fd, 1000);
			return pass ? 0 : 1;
		}
		peer_group(&ss, host, sizeof(host));
		if (live_sessions >= o.max_sessions) {
			refuse(fd, peer, "server busy, try again in a minute");
			continue;
		}
		if (sessions_from(host, o.max_sessions) >= per_peer) {
			refuse(fd, peer, "too many sessions from your address at once: finish them first");
			continue;
		}
		pid_t pid = Fork();
		if (pid == 0) {
			Close(listen_fd);
			lingering_forget(&refused);
			bool pass = run_session(&o, fd, &ss, peer);
			close_lingering(fd, 1000);
			_exit(pass ? 0 : 1);
		}
		if (pid < 0)
			warnx_("fork for %s: %s", peer, strerror(errno));
		else
			session_started(pid, host, o.max_sessions);
		Close(fd);
	}
}
