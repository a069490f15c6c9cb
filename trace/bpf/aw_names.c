// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch's names and formats: see aw_names.h. */
#include <arpa/inet.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "aw_names.h"

/* ---- kernel enums ---- */

int aw_enum_init(struct aw_enum_names *en, unsigned int max)
{
	en->names = calloc((size_t)max + 1, sizeof(*en->names));
	en->n = en->names ? max + 1 : 0;
	return en->names ? 0 : -1;
}

void aw_enum_set(struct aw_enum_names *en, unsigned int v, const char *name, const char *prefix)
{
	size_t plen = strlen(prefix);

	if (v >= en->n || !name)
		return;
	if (!strncmp(name, prefix, plen))
		name += plen;
	free(en->names[v]);
	en->names[v] = strdup(name);
}

void aw_enum_free(struct aw_enum_names *en)
{
	for (unsigned int i = 0; i < en->n; i++)
		free(en->names[i]);
	free(en->names);
	en->names = NULL;
	en->n = 0;
}

const char *aw_enum_name(const struct aw_enum_names *en, unsigned int v, char *buf, size_t n)
{
	if (v < en->n && en->names[v])
		return en->names[v];
	snprintf(buf, n, "%u", v);
	return buf;
}

bool aw_enum_is(const struct aw_enum_names *en, unsigned int v, const char *name)
{
	return v < en->n && en->names[v] && !strcmp(en->names[v], name);
}

/* ---- network namespaces ---- */

void aw_netns_refresh(struct aw_netns_names *t)
{
	struct dirent *d;
	DIR *dir;

	t->scanned = time(NULL);
	t->n = 0;
	if (!(dir = opendir("/run/netns")))
		return;
	while ((d = readdir(dir)) && t->n < AW_NETNS_NAMES) {
		char path[PATH_MAX];
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		if (stat(path, &st))
			continue;
		t->ns[t->n].ino = st.st_ino;
		snprintf(t->ns[t->n].name, sizeof(t->ns[0].name), "%s", d->d_name);
		t->n++;
	}
	closedir(dir);
}

const char *aw_netns_name(const struct aw_netns_names *t, unsigned int ino)
{
	for (int i = 0; i < t->n; i++)
		if (t->ns[i].ino == ino)
			return t->ns[i].name;
	return NULL;
}

const char *aw_netns_lookup(struct aw_netns_names *t, unsigned int ino)
{
	const char *name = aw_netns_name(t, ino);

	if (name || time(NULL) == t->scanned)
		return name;
	aw_netns_refresh(t);
	return aw_netns_name(t, ino);
}

const char *aw_netns_label(const struct aw_netns_names *t, unsigned int ino, char *buf, size_t n)
{
	const char *name = aw_netns_name(t, ino);

	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", ino);
	return buf;
}

/* ---- states, errors, calls ---- */

const char *aw_tcp_state(int s)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return s > 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "?";
}

const char *aw_errno_str(int err, char *buf, size_t n)
{
	const char *name = strerrorname_np(err);

	if (name)
		snprintf(buf, n, "-%s", name);
	else
		snprintf(buf, n, "-%d", err);
	return buf;
}

const char *aw_call_name(unsigned int call)
{
	static const char *const names[] = {
		[AW_CALL_NONE] = "?", [AW_CALL_ACCEPT] = "accept", [AW_CALL_ACCEPT4] = "accept4",
		[AW_CALL_POLL] = "poll", [AW_CALL_PPOLL] = "ppoll", [AW_CALL_SELECT] = "select",
		[AW_CALL_PSELECT6] = "pselect6", [AW_CALL_EPOLL_WAIT] = "epoll_wait",
		[AW_CALL_EPOLL_PWAIT] = "epoll_pwait", [AW_CALL_EPOLL_PWAIT2] = "epoll_pwait2",
	};

	return names[call <= AW_CALL_MAX ? call : AW_CALL_NONE];
}

/* ---- addresses ---- */

bool aw_is_v4mapped(int family, const unsigned char *a)
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return family == AF_INET6 && !memcmp(a, prefix, sizeof(prefix));
}

const char *aw_addr_str(int family, const unsigned char *a, char *buf, size_t n)
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, a, buf, n))
		snprintf(buf, n, "?");
	return buf;
}

const char *aw_endpoint(int family, const unsigned char *a, unsigned short port, char *buf,
			size_t n)
{
	char s[INET6_ADDRSTRLEN];

	aw_addr_str(family, a, s, sizeof(s));
	if (family == AF_INET)
		snprintf(buf, n, "%s:%u", s, port);
	else
		snprintf(buf, n, "[%s]:%u", s, port);
	return buf;
}

const char *aw_peer_str(const struct aw_event *e, char *buf, size_t n)
{
	char ep[64];

	aw_endpoint(e->family, e->raddr, e->rport, ep, sizeof(ep));
	snprintf(buf, n, "%s%s", ep, aw_is_v4mapped(e->family, e->raddr) ? " (IPv4-mapped)" : "");
	return buf;
}

const char *aw_duration(unsigned long long ns, char *buf, size_t n)
{
	if (ns < 1000000ULL)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, n, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}

const char *aw_flags_str(unsigned char f, char *buf, size_t n)
{
	size_t len;

	snprintf(buf, n, "%s%s%s%s%s", f & AW_TCP_SYN ? "SYN," : "", f & AW_TCP_ACK ? "ACK," : "",
		 f & AW_TCP_RST ? "RST," : "", f & AW_TCP_FIN ? "FIN," : "", f ? "" : "-");
	len = strlen(buf);
	if (len && buf[len - 1] == ',')
		buf[len - 1] = '\0';
	return buf;
}

/* ---- tunnels ---- */

const char *aw_tunnel_name(unsigned int t, bool json)
{
	/* [0] in JSON, [1] in text and verdicts */
	static const char *const names[][2] = {
		[AW_TUN_NONE] = { "none", "none" },
		[AW_TUN_6IN4] = { "6in4", "6in4" },
		[AW_TUN_TEREDO] = { "teredo", "Teredo" },
	};

	return names[t <= AW_TUN_TEREDO ? t : AW_TUN_NONE][!json];
}

const char *aw_tunnel_str(const struct aw_event *e, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &e->outer_saddr, a, sizeof(a));
	if (e->tunnel == AW_TUN_TEREDO)
		snprintf(buf, n, "%s from %s:%u", aw_tunnel_name(e->tunnel, false), a, e->outer_sport);
	else
		snprintf(buf, n, "%s from %s", aw_tunnel_name(e->tunnel, false), a);
	return buf;
}
