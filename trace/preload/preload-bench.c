/* SPDX-License-Identifier: MIT */
/*
 * The cost of one interposed call, for scripts/bench-preload (not installed, not a test): a
 * plain-libc loop of write + read of a 30-byte token over a pipe, after one IPv6 socket (the
 * call that makes the preload start recording). Usage: v6lab-preload-bench [LOOPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long loops = argc > 1 ? atol(argv[1]) : 200000;
	static const char token[] = "client1:abcdefghij0123456789\r\n";
	char buf[64];
	int p[2];
	struct timespec t0, t1;

	int s = socket(AF_INET6, SOCK_STREAM, 0);
	if (s < 0 || pipe(p) < 0 || loops <= 0)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < loops; i++)
		if (write(p[1], token, 30) != 30 || read(p[0], buf, sizeof(buf)) != 30)
			return 1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / loops;
	printf("write+read %.0f ns\n", ns);
	close(s);
	return 0;
}
