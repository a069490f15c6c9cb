/* SPDX-License-Identifier: MIT */
/*
 * A student's program that starts others, for preload_test.py spawn: posix_spawn,
 * posix_spawnp, system and vfork, each running this program again as a child that makes
 * an IPv6 socket (so that it is recorded) and says which call started it. Plain libc.
 * Usage: v6lab-preload-spawn            (the parent; run it by its absolute path)
 *        v6lab-preload-spawn child HOW  (a child)
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int reap(pid_t pid)
{
	int status = -1;
	return pid > 0 && waitpid(pid, &status, 0) == pid ? status : -1;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "child") == 0) {
		int s = socket(AF_INET6, SOCK_STREAM, 0);
		printf("child of %s: socket %s\n", argv[2], s >= 0 ? "made" : "failed");
		return s < 0;
	}
	if (argc != 1 || argv[0][0] != '/')
		return 2;
	int s = socket(AF_INET6, SOCK_STREAM, 0); /* this program is recorded from here on */
	pid_t pid;

	char *spawned[] = { argv[0], "child", "posix_spawn", NULL };
	int r = posix_spawn(&pid, argv[0], NULL, NULL, spawned, environ);
	printf("posix_spawn %d, child status %d\n", r, r ? -1 : reap(pid));
	fflush(stdout);

	char *spawnedp[] = { argv[0], "child", "posix_spawnp", NULL };
	r = posix_spawnp(&pid, argv[0], NULL, NULL, spawnedp, environ);
	printf("posix_spawnp %d, child status %d\n", r, r ? -1 : reap(pid));
	fflush(stdout);

	char command[4096];
	snprintf(command, sizeof(command), "exec '%s' child system", argv[0]);
	printf("system %d\n", system(command));
	fflush(stdout);

	pid = vfork();
	if (pid == 0) {
		close(s); /* in the child only (its own descriptor table): never the parent's event */
		execl(argv[0], argv[0], "child", "vfork", (char *)NULL);
		_exit(127);
	}
	printf("vfork %s, child status %d\n", pid > 0 ? "ok" : "failed", reap(pid));
	close(s);
	return 0;
}
