/* SPDX-License-Identifier: MIT */
/* Address, port and prefix parsing; a dual-stack listener. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "v6lab/net.h"
#include "v6lab/targets.h"

static void ports(void **state)
{
	(void)state;
	uint16_t p;
	assert_true(parse_port("50000", false, &p) && p == 50000);
	assert_true(parse_port("0", true, &p) && p == 0);
	assert_false(parse_port("0", false, &p));
	assert_false(parse_port("65536", false, &p));
	assert_false(parse_port("99999999999999999999", false, &p));
	assert_false(parse_port("12x", false, &p));
	assert_false(parse_port("-5", false, &p));
	assert_false(parse_port("", false, &p));
	assert_false(parse_port(NULL, false, &p));
}

static void addresses_in_network_order(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	char buf[V6_ADDRSTR_LEN];
	assert_true(parse_addr("::1", 7002, &ss, &len));
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	/* the classic bug: sin6_port = atoi(...) without htons */
	assert_int_equal(((struct sockaddr_in6 *)&ss)->sin6_port, htons(7002));
	assert_string_equal(sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf)), "[::1]:7002");
	assert_true(parse_addr("127.0.0.1", 50000, &ss, &len));
	assert_string_equal(sockaddr_text((struct sockaddr *)&ss, buf, sizeof(buf)),
			    "127.0.0.1:50000");
	assert_false(parse_addr("localhost", 1, &ss, &len));
	assert_false(parse_addr("::1%lo", 1, &ss, &len));
}

static void prefixes(void **state)
{
	(void)state;
	struct prefix6 p;
	struct in6_addr a;
	assert_true(parse_prefix6("2001::/32", &p) && p.len == 32);
	inet_pton(AF_INET6, "2001:0:53aa:64c::1", &a);
	assert_true(prefix6_contains(&p, &a));
	inet_pton(AF_INET6, "2001:db8::1", &a);
	assert_false(prefix6_contains(&p, &a)); /* 2001:0db8 is not Teredo's 2001:0000 */
	assert_true(parse_prefix6("2001:db8::/33", &p));
	inet_pton(AF_INET6, "2001:db8:7fff::1", &a);
	assert_true(prefix6_contains(&p, &a));
	inet_pton(AF_INET6, "2001:db8:8000::1", &a);
	assert_false(prefix6_contains(&p, &a));
	assert_true(parse_prefix6("::1", &p) && p.len == 128);
	assert_true(parse_prefix6("::/0", &p) && prefix6_contains(&p, &a));
	assert_false(parse_prefix6("2001::/129", &p));
	assert_false(parse_prefix6("2001::/", &p));
	assert_false(parse_prefix6("10.0.0.0/8", &p));
	assert_false(parse_prefix6("/32", &p));
}

static void dual_stack_listener(void **state)
{
	(void)state;
	char err[256];
	uint16_t port = 0;
	int fd = tcp_listen("::", 0, 4, &port, err, sizeof(err));
	assert_true(fd >= 0);
	assert_true(port > 0);
	struct sockaddr_storage ss;
	socklen_t len;
	parse_addr("127.0.0.1", port, &ss, &len);
	int c = tcp_connect((struct sockaddr *)&ss, len, 2000);
	assert_true(c >= 0); /* an IPv4 client reaches a [::] listener */
	close(c);
	/* a second listener on the same port is refused with advice */
	assert_int_equal(tcp_listen("::", port, 4, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "choose another --port"));
	close(fd);
	assert_int_equal(tcp_listen("bogus", 0, 4, NULL, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a numeric"));
}

/* The public address a Teredo address embeds, and how peers are grouped for the limits. */
static void teredo_and_groups(void **state)
{
	(void)state;
	struct in6_addr a;
	struct in_addr v4;
	char buf[64];
	inet_pton(AF_INET6, "2001:0:c633:640a:2826:1221:39cc:9bfd", &a); /* tutorial 06's */
	assert_true(teredo_client(&a, &v4));
	assert_string_equal(inet_ntop(AF_INET, &v4, buf, sizeof(buf)), "198.51.100.2");
	inet_pton(AF_INET6, "2001:db8::1", &a);
	assert_false(teredo_client(&a, &v4));

	struct sockaddr_storage ss;
	socklen_t len;
	assert_true(parse_addr("2001:db8:1:2:aaaa:bbbb:cccc:dddd", 7, &ss, &len));
	assert_string_equal(peer_group(&ss, buf, sizeof(buf)), "2001:db8:1:2::/64");
	assert_true(parse_addr("::ffff:192.0.2.7", 7, &ss, &len));
	assert_string_equal(peer_group(&ss, buf, sizeof(buf)), "192.0.2.7");
	assert_true(parse_addr("192.0.2.8", 7, &ss, &len));
	assert_string_equal(peer_group(&ss, buf, sizeof(buf)), "192.0.2.8");
}

/* Whom a student may name: loopback only from the course host, never the server's port. */
static void target_rules(void **state)
{
	(void)state;
	struct sockaddr_storage local, remote, dual, v4only;
	socklen_t len;
	struct in6_addr t;
	char why[256];
	parse_addr("127.0.0.1", 40000, &local, &len);
	parse_addr("198.51.100.2", 40000, &remote, &len);
	parse_addr("::", 50000, &dual, &len); /* the course server's listener: --bind :: */
	parse_addr("0.0.0.0", 50000, &v4only, &len);
	struct target_rules on_host = { &local, &dual, true }, away = { &remote, &dual, true };

	inet_pton(AF_INET6, "::1", &t);
	assert_int_equal(target_check(&t, 0, &on_host, why, sizeof(why)), ANSWER_OK);
	assert_int_equal(target_check(&t, 0, &away, why, sizeof(why)), ANSWER_RETRY);
	assert_string_equal(why, "::1 is the course host itself: give the address of your own "
				 "IPv6 server");
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);
	assert_string_equal(why, "[::1]:50000 is this course server itself: give the port of your "
				 "IPv6 server");
	assert_int_equal(target_check(&t, 7002, &on_host, why, sizeof(why)), ANSWER_OK);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &t); /* dual stack: IPv4-mapped reaches [::] */
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);
	inet_pton(AF_INET6, "::", &t); /* connecting to :: is connecting to loopback */
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);

	/* A course server on 0.0.0.0 only: [::1]:50000 is another socket (a student's server
	 * may have that port number), ::ffff:127.0.0.1 and ::ffff:0.0.0.0 are the server. */
	on_host.own = &v4only;
	inet_pton(AF_INET6, "::1", &t);
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_OK);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &t);
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);
	inet_pton(AF_INET6, "::ffff:0.0.0.0", &t);
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);
	parse_addr("127.0.0.1", 50000, &v4only, &len); /* on one address: only that one */
	inet_pton(AF_INET6, "::ffff:127.0.0.2", &t);
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_OK);
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &t);
	assert_int_equal(target_check(&t, 50000, &on_host, why, sizeof(why)), ANSWER_RETRY);
	on_host.own = &dual;

	inet_pton(AF_INET6, "2001:0:c633:640a:2826:1221:39cc:9bfd", &t); /* behind 198.51.100.2 */
	assert_int_equal(target_check(&t, 0, &away, why, sizeof(why)), ANSWER_OK);
	assert_int_equal(target_check(&t, 0, &on_host, why, sizeof(why)), ANSWER_OK);
	parse_addr("203.0.113.9", 40000, &remote, &len);
	assert_int_equal(target_check(&t, 0, &away, why, sizeof(why)), ANSWER_RETRY);
	assert_string_equal(why, "2001:0:c633:640a:2826:1221:39cc:9bfd is the Teredo address of a "
				 "client behind 198.51.100.2, but you connect from 203.0.113.9: give "
				 "your own IPv6 server's address");
	away.teredo_check = false;
	assert_int_equal(target_check(&t, 0, &away, why, sizeof(why)), ANSWER_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ports),
		cmocka_unit_test(addresses_in_network_order),
		cmocka_unit_test(prefixes),
		cmocka_unit_test(dual_stack_listener),
		cmocka_unit_test(teredo_and_groups),
		cmocka_unit_test(target_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
