/* SPDX-License-Identifier: MIT */
#include "v6lab/segments.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#include "v6lab/io.h"
#include "v6lab/util.h"
#include "v6lab/wrap.h"

bool framing_parse(const char *s, enum framing *f)
{
	static const char *const names[] = { [FRAMING_2021] = "2021",
					     [FRAMING_MERGED] = "merged",
					     [FRAMING_BYTES] = "bytes" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0) {
			*f = (enum framing)i;
			return true;
		}
	return false;
}

int framing_begin(int fd)
{
	int on = 1;
	return Setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static int send_bytes(int fd, const char *s)
{
	for (; *s; s++)
		if (writen(fd, s, 1) < 0)
			return -1;
	return 0;
}

int framing_send(int fd, enum framing f, const char *colour, const char *text)
{
	char msg[4096];
	if (!colour)
		colour = "";
	switch (f) {
	case FRAMING_2021:
		if (colour[0]) {
			if (write_str(fd, colour) < 0)
				return -1;
			sleep_until_ms(now_ms() + V6_FRAMING_GAP_MS);
		}
		return write_str(fd, text) < 0 ? -1 : 0;
	case FRAMING_MERGED:
		if ((size_t)snprintf(msg, sizeof(msg), "%s%s", colour, text) >= sizeof(msg)) {
			errno = EMSGSIZE; /* no message of the server's is that long */
			return -1;
		}
		return write_str(fd, msg) < 0 ? -1 : 0;
	case FRAMING_BYTES:
		return send_bytes(fd, colour) < 0 ? -1 : send_bytes(fd, text);
	}
	return -1;
}
