/* SPDX-License-Identifier: MIT */
/* The wrapper layer (see v6lab/wrap.h). */
#include "v6lab/wrap.h"

#include <sys/wait.h>
#include <unistd.h>

static enum v6_role current_role;

void v6_set_role(enum v6_role role)
{
	current_role = role;
}

enum v6_role v6_role(void)
{
	return current_role;
}

const char *v6_role_name(enum v6_role role)
{
	switch (role) {
	case V6_ROLE_IPV4_SERVER: return "ipv4-server";
	case V6_ROLE_IPV4_CLIENT: return "ipv4-client";
	case V6_ROLE_IPV6_SERVER: return "ipv6-server";
	case V6_ROLE_IPV6_CLIENT: return "ipv6-client";
	default: return "other";
	}
}

int Socket(int domain, int type, int protocol)
{
	return socket(domain, type, protocol);
}

int Setsockopt(int fd, int level, int name, const void *val, socklen_t len)
{
	return setsockopt(fd, level, name, val, len);
}

int Bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	return bind(fd, sa, len);
}

int Listen(int fd, int backlog)
{
	return listen(fd, backlog);
}

int Accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return accept(fd, sa, len);
}

int Connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return connect(fd, sa, len);
}

ssize_t Read(int fd, void *buf, size_t n)
{
	return read(fd, buf, n);
}

ssize_t Write(int fd, const void *buf, size_t n)
{
	return write(fd, buf, n);
}

int Shutdown(int fd, int how)
{
	return shutdown(fd, how);
}

int Close(int fd)
{
	return close(fd);
}

pid_t Fork(void)
{
	return fork();
}

pid_t Waitpid(pid_t pid, int *status, int options)
{
	return waitpid(pid, status, options);
}

int Pipe(int fds[2])
{
	return pipe(fds);
}

int Msgget(key_t key, int flags)
{
	return msgget(key, flags);
}

int Msgsnd(int id, const void *msg, size_t size, int flags)
{
	return msgsnd(id, msg, size, flags);
}

ssize_t Msgrcv(int id, void *msg, size_t size, long type, int flags)
{
	return msgrcv(id, msg, size, type, flags);
}

int Msgctl(int id, int cmd, struct msqid_ds *buf)
{
	return msgctl(id, cmd, buf);
}
