/* SPDX-License-Identifier: MIT */
/* Field helpers of the trace layer (see v6lab_trace.h). */
#include "v6lab_trace.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/stat.h>

#include "v6lab_ipc.h"
/* The token's format has one definition, the programs' (include/v6lab/token.h); by a path
 * relative to this file, since the preload is built without v6lab's include directory. */
#include "../include/v6lab/token.h"

#define K_AT (sizeof(V6_TOKEN_PREFIX) - 1) /* where K is: right after the prefix */
_Static_assert(K_AT + 2 == V6_TOKEN_PREFIX_LEN, "the prefix, K and ':' make PREFIX_LEN");
_Static_assert(V6LAB_TP_TOKENS_MAX >= V6_MAX_CLIENTS * (V6_TOKEN_LEN + 1),
	       "room for every client's token in one tokens field");

static int alnum_run(const unsigned char *p, const unsigned char *end)
{
	int n = 0;
	while (p + n < end && n <= V6_TOKEN_RANDOM_LEN && isalnum(p[n]))
		n++;
	return n;
}

int v6lab_tp_tokens(const void *buf, ssize_t n, char *out, size_t outsz)
{
	const unsigned char *p = buf, *end = p + (n > 0 ? n : 0);
	size_t used = 0;
	int found = 0;

	if (outsz)
		out[0] = '\0';
	while (end - p >= V6_TOKEN_LEN) {
		const unsigned char *hit = memmem(p, (size_t)(end - p), V6_TOKEN_PREFIX, K_AT);
		if (!hit || end - hit < V6_TOKEN_LEN)
			break;
		/* Exactly 20 characters: a longer run is not a token (the reader would reject it). */
		if (hit[K_AT] >= '1' && hit[K_AT] <= '0' + V6_MAX_CLIENTS && hit[K_AT + 1] == ':' &&
		    alnum_run(hit + V6_TOKEN_PREFIX_LEN, end) == V6_TOKEN_RANDOM_LEN) {
			if (used + (found ? 1 : 0) + V6_TOKEN_LEN < outsz) {
				if (found)
					out[used++] = ',';
				memcpy(out + used, hit, V6_TOKEN_LEN);
				used += V6_TOKEN_LEN;
				out[used] = '\0';
			}
			found++;
			p = hit + V6_TOKEN_LEN;
		} else {
			p = hit + 1;
		}
	}
	return found;
}

int v6lab_tp_fdkind(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return V6LAB_TP_FDKIND_CLOSED;
	if (S_ISSOCK(st.st_mode))
		return V6LAB_TP_FDKIND_SOCKET;
	if (S_ISFIFO(st.st_mode))
		return V6LAB_TP_FDKIND_PIPE;
	if (S_ISCHR(st.st_mode))
		return V6LAB_TP_FDKIND_TTY;
	if (S_ISREG(st.st_mode))
		return V6LAB_TP_FDKIND_FILE;
	return V6LAB_TP_FDKIND_OTHER;
}

void v6lab_tp_addr(const struct sockaddr *sa, socklen_t len, struct v6lab_tp_addr *out)
{
	out->family = sa && len >= sizeof(sa_family_t) ? sa->sa_family : AF_UNSPEC;
	out->port = 0;
	out->host[0] = '\0';
	if (out->family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
		inet_ntop(AF_INET6, &s6->sin6_addr, out->host, sizeof(out->host));
		out->port = ntohs(s6->sin6_port);
	} else if (out->family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &s4->sin_addr, out->host, sizeof(out->host));
		out->port = ntohs(s4->sin_port);
	}
}

int v6lab_tp_msgget_outcome(int key, int flags, int id)
{
	/* The outcome follows from the call: IPC_PRIVATE, or IPC_CREAT | IPC_EXCL, succeeds
	 * only by creating a queue; without IPC_CREAT a key opens only one that is there.
	 * IPC_CREAT alone on a key could do either and is recorded as "created". */
	if (id < 0)
		return V6LAB_TP_MSGGET_FAILED;
	return (flags & IPC_CREAT) || key == IPC_PRIVATE ? V6LAB_TP_MSGGET_CREATED
							  : V6LAB_TP_MSGGET_EXISTING;
}
