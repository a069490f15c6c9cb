/* SPDX-License-Identifier: MIT */
/* The IPv6 servers' listening socket, as every 2021 server made it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "student.h"

int listen6(const struct sockaddr_in6 *addr)
{
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	int on = 1;

	if (fd < 0) {
		perror("socket");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (const struct sockaddr *)addr, sizeof(*addr)) < 0) {
		perror("bind");
		exit(1);
	}
	if (listen(fd, 5) < 0) {
		perror("listen");
		exit(1);
	}
	return fd;
}
