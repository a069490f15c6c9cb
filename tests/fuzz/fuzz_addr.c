/* SPDX-License-Identifier: MIT */
/* The command-line and answer parsers of addresses, ports, prefixes and queue keys. */
#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "fuzz.h"
#include "v6lab/net.h"
#include "v6lab/queue.h"

/* What parse_port must accept: 1 to 5 digits, value 1..65535 (or 0 when allowed). */
static bool port_ok(const char *s, bool allow_zero, unsigned *v)
{
	size_t n = strlen(s);
	*v = 0;
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return *v <= 65535 && (*v > 0 || allow_zero);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[257], text[V6_ADDRSTR_LEN];
	if (size > 256)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	for (int z = 0; z < 2; z++) {
		uint16_t port = 0;
		unsigned want;
		bool ok = parse_port(s, z, &port);
		FUZZ_CHECK(ok == port_ok(s, z, &want));
		FUZZ_CHECK(!ok || port == want);
	}

	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_addr(s, 7002, &ss, &len)) {
		FUZZ_CHECK(ss.ss_family == AF_INET || ss.ss_family == AF_INET6);
		sockaddr_text((struct sockaddr *)&ss, text, sizeof(text));
		/* the text names the same address: "[a]:7002" or "a:7002" */
		char host[V6_ADDRSTR_LEN];
		size_t hl = strlen(text) - strlen(":7002");
		FUZZ_CHECK(strcmp(text + hl, ":7002") == 0);
		int off = ss.ss_family == AF_INET6;
		memcpy(host, text + off, hl - 2 * off);
		host[hl - 2 * off] = '\0';
		struct sockaddr_storage again;
		FUZZ_CHECK(parse_addr(host, 7002, &again, &len));
		FUZZ_CHECK(memcmp(&again, &ss, len) == 0);
	}

	struct prefix6 p;
	if (parse_prefix6(s, &p)) {
		FUZZ_CHECK(p.len >= 0 && p.len <= 128);
		FUZZ_CHECK(prefix6_contains(&p, &p.addr));
		struct in6_addr other = p.addr;
		if (p.len > 0) { /* flip the prefix's last bit: outside */
			other.s6_addr[(p.len - 1) / 8] ^= (uint8_t)(0x80 >> ((p.len - 1) % 8));
			FUZZ_CHECK(!prefix6_contains(&p, &other));
		}
	}

	key_t key;
	if (parse_queue_key(s, &key))
		FUZZ_CHECK(key > 0);
	return 0;
}
