// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch: say why accept() did (or did not) fire, from the kernel.
 *
 * Loader side: parse the CLI, check what the machine offers (privileges, BTF, tracefs), set the
 * filters, load the classic-tracepoint programs, attach them one by one (a missing optional
 * tracepoint only loses its events), then either stream events or, with --diagnose, collect
 * evidence until the first accept() returns or time is up and print one verdict. */
#include <argp.h>
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "acceptwatch.h"
#include "acceptwatch.skel.h"

#define warn(...) fprintf(stderr, "acceptwatch: " __VA_ARGS__)

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define TCP_LISTEN_STATE 10
#define MAX_LISTENERS 64

static struct env {
	bool verbose;
	bool json;
	bool diagnose;
	bool syn;
	int diag_seconds;
	int duration; /* -d: stream for this many seconds, then exit 0 (0: until Ctrl-C) */
	pid_t pid;
	int family;
	unsigned int netns;
	unsigned short ports[AW_MAX_PORTS];
	int nports;
	bool ports_given; /* -P; without it, -p PID watches the ports that process listens on */
} env = { .diag_seconds = 30 };

static volatile sig_atomic_t exiting;
static unsigned long long start_ns;

/* ---- command line ---- */

const char *argp_program_version = "acceptwatch 0.1 (v6lab)";
const char argp_program_doc[] =
	"Say why accept() did (or did not) fire, from the kernel.\n"
	"\n"
	"Watches accept()/accept4() (who, which fd, how long it blocked, what it\n"
	"returned), TCP state changes on the port, the listen backlog, SYN-ACK\n"
	"retransmissions, resets, and packets the kernel drops (drop reason named\n"
	"from this kernel's BTF), in every network namespace; with --syn (and always\n"
	"with --diagnose) also every SYN for the port that reaches the host, plain\n"
	"or inside a 6in4 or Teredo tunnel.\n"
	"\n"
	"USAGE: acceptwatch [-P PORT]... [-p PID] [-4|-6] [--netns NS] [--json]\n"
	"                   [--syn] [-v] [-d SECONDS] [--diagnose [SECONDS]]\n"
	"\n"
	"EXAMPLES:\n"
	"  acceptwatch -P 5000                # stream events for port 5000\n"
	"  acceptwatch -P 5000 -d 10          # the same for 10 seconds\n"
	"  acceptwatch -P 5000 --syn          # and each SYN that reaches the host\n"
	"  acceptwatch -P 5000 --diagnose 10  # wait <= 10 s for accept(): verdict\n"
	"  acceptwatch -P 5000 -P 5001 --json # two ports, one JSON object per event\n"
	"  acceptwatch -p 1234                # accept() of pid 1234, and its ports\n"
	"  acceptwatch -6 -P 5000 --netns srv # IPv6 only, netns /run/netns/srv\n"
	"\n"
	"Needs root (CAP_BPF, CAP_PERFMON), kernel BTF, tracefs (mounted if needed).\n"
	"Exit: 0 accept() returned or tracing ended, 2 --diagnose saw no accept(),\n"
	"1 error.";

enum { OPT_NETNS = 256, OPT_DIAGNOSE, OPT_SYN };

static const struct argp_option opts[] = {
	{ "port", 'P', "PORT", 0, "Watch this listening port (repeatable)", 0 },
	{ "pid", 'p', "PID", 0, "Watch accept() in this process, and the ports it listens on", 0 },
	{ "ipv4", '4', NULL, 0, "IPv4 only (packet or socket family)", 0 },
	{ "ipv6", '6', NULL, 0, "IPv6 only (packet or socket family)", 0 },
	{ "netns", OPT_NETNS, "NS", 0, "Only this network namespace: inode number, name in /run/netns, or a path such as /proc/PID/ns/net", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per event (or for the verdict)", 0 },
	{ "duration", 'd', "SECONDS", 0, "Stream events for SECONDS, then exit (default: until Ctrl-C)", 0 },
	{ "diagnose", OPT_DIAGNOSE, "SECONDS", OPTION_ARG_OPTIONAL, "Watch until the first accept() returns or SECONDS (default 30) pass, then print one verdict with the evidence", 0 },
	{ "syn", OPT_SYN, NULL, 0, "Also show each SYN for the port that reaches the host (one more probe on every packet received; always on with --diagnose)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's own messages (verifier log, attach details)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static long parse_num(const char *arg, long min, long max, const char *what, struct argp_state *state)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < min || v > max)
		argp_failure(state, 1, 0, "invalid %s: '%s' (expected %ld..%ld)", what, arg, min, max);
	return v;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

#define NSFS_MAGIC_NUMBER 0x6e736673 /* linux/magic.h NSFS_MAGIC */

/* A netns is named by the inode of its nsfs file: a number, /run/netns/NAME, or any path to
 * a namespace file (not any file: /etc/passwd would filter out everything, silently). */
static int resolve_netns(const char *arg, unsigned int *ino)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (all_digits(arg)) {
		unsigned long v;

		errno = 0;
		v = strtoul(arg, NULL, 10);
		if (errno || v == 0 || v > UINT_MAX)
			return -ERANGE;
		*ino = v;
		return 0;
	}
	if (strchr(arg, '/'))
		snprintf(path, sizeof(path), "%s", arg);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", arg);
	if (stat(path, &st) || statfs(path, &sfs))
		return -errno;
	if ((unsigned long)sfs.f_type != NSFS_MAGIC_NUMBER)
		return -EINVAL;
	*ino = st.st_ino;
	return 0;
}

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 'P':
		if (env.nports >= AW_MAX_PORTS)
			argp_failure(state, 1, 0, "too many ports (at most %d)", AW_MAX_PORTS);
		env.ports[env.nports++] = parse_num(arg, 1, 65535, "port", state);
		env.ports_given = true;
		break;
	case 'p':
		env.pid = parse_num(arg, 1, INT_MAX, "pid", state);
		break;
	case '4':
	case '6':
		if (env.family)
			argp_failure(state, 1, 0, "-4 and -6 exclude each other");
		env.family = key == '4' ? AF_INET : AF_INET6;
		break;
	case OPT_NETNS:
		if (resolve_netns(arg, &env.netns))
			argp_failure(state, 1, 0, "--netns %s: not a netns inode, a name in /run/netns or a path to a namespace file", arg);
		break;
	case 'j':
		env.json = true;
		break;
	case 'd':
		env.duration = parse_num(arg, 1, 86400, "-d seconds", state);
		break;
	case OPT_DIAGNOSE:
		env.diagnose = true;
		if (arg)
			env.diag_seconds = parse_num(arg, 1, 86400, "--diagnose seconds", state);
		break;
	case OPT_SYN:
		env.syn = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		/* Allow "--diagnose 10" as well as "--diagnose=10". */
		if (env.diagnose && all_digits(arg))
			env.diag_seconds = parse_num(arg, 1, 86400, "--diagnose seconds", state);
		else
			argp_failure(state, 1, 0, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* ---- names from the running kernel ---- */

struct enum_names {
	char **names;
	unsigned int n;
};

static struct enum_names drop_reasons, rst_reasons;

/* enum skb_drop_reason grows every release: read it from this kernel's BTF. */
static void load_enum(const struct btf *btf, const char *type, const char *prefix,
		      struct enum_names *out)
{
	const struct btf_type *t;
	const struct btf_enum *e;
	size_t plen = strlen(prefix);
	unsigned int i, max = 0;
	int id;

	id = btf__find_by_name_kind(btf, type, BTF_KIND_ENUM);
	if (id < 0)
		return;
	t = btf__type_by_id(btf, id);
	e = btf_enum(t);
	for (i = 0; i < btf_vlen(t); i++)
		if ((unsigned int)e[i].val > max)
			max = e[i].val;
	if (max > 1 << 20)
		max = 1 << 20; /* subsystem-encoded values live in the high bits: skip those */
	out->names = calloc(max + 1, sizeof(*out->names));
	if (!out->names)
		return;
	out->n = max + 1;
	for (i = 0; i < btf_vlen(t); i++) {
		const char *name = btf__name_by_offset(btf, e[i].name_off);

		if ((unsigned int)e[i].val > max || !name)
			continue;
		if (!strncmp(name, prefix, plen))
			name += plen;
		out->names[e[i].val] = strdup(name);
	}
}

static const char *enum_name(const struct enum_names *en, unsigned int v, char *buf, size_t n)
{
	if (v < en->n && en->names[v])
		return en->names[v];
	snprintf(buf, n, "%u", v);
	return buf;
}

static const char *tcp_state(int s)
{
	static const char *const names[] = {
		"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT",
		"CLOSE", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV",
	};

	return s > 0 && s < (int)(sizeof(names) / sizeof(names[0])) ? names[s] : "?";
}

/* netns inode -> name in /run/netns, refreshed when an unknown inode shows up. */
static struct {
	unsigned int ino;
	char name[NAME_MAX + 1];
} ns_names[64];
static int ns_count;
static time_t ns_scanned;

static const char *netns_name(unsigned int ino)
{
	struct dirent *d;
	DIR *dir;
	int i;

	for (i = 0; i < ns_count; i++)
		if (ns_names[i].ino == ino)
			return ns_names[i].name;
	if (time(NULL) == ns_scanned || !(dir = opendir("/run/netns")))
		return NULL;
	ns_scanned = time(NULL);
	ns_count = 0;
	while ((d = readdir(dir)) && ns_count < 64) {
		char path[PATH_MAX];
		struct stat st;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/run/netns/%s", d->d_name);
		if (stat(path, &st))
			continue;
		ns_names[ns_count].ino = st.st_ino;
		snprintf(ns_names[ns_count].name, sizeof(ns_names[0].name), "%s", d->d_name);
		ns_count++;
	}
	closedir(dir);
	for (i = 0; i < ns_count; i++)
		if (ns_names[i].ino == ino)
			return ns_names[i].name;
	return NULL;
}

static const char *netns_label(unsigned int ino, char *buf, size_t n)
{
	const char *name = netns_name(ino);

	if (name)
		snprintf(buf, n, "%s", name);
	else
		snprintf(buf, n, "%u", ino);
	return buf;
}

/* ---- addresses ---- */

static bool is_v4mapped(int family, const unsigned char *a)
{
	static const unsigned char prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return family == AF_INET6 && !memcmp(a, prefix, sizeof(prefix));
}

static const char *addr_str(int family, const unsigned char *a, char *buf, size_t n)
{
	if (!inet_ntop(family == AF_INET ? AF_INET : AF_INET6, a, buf, n))
		snprintf(buf, n, "?");
	return buf;
}

static const char *endpoint(int family, const unsigned char *a, unsigned short port, char *buf,
			    size_t n)
{
	char s[INET6_ADDRSTRLEN];

	addr_str(family, a, s, sizeof(s));
	if (family == AF_INET)
		snprintf(buf, n, "%s:%u", s, port);
	else
		snprintf(buf, n, "[%s]:%u", s, port);
	return buf;
}

/* "[::ffff:10.0.0.1]:4242 (IPv4-mapped)" for dual-stack sockets. */
static const char *peer_str(const struct aw_event *e, char *buf, size_t n)
{
	char ep[64];

	endpoint(e->family, e->raddr, e->rport, ep, sizeof(ep));
	snprintf(buf, n, "%s%s", ep, is_v4mapped(e->family, e->raddr) ? " (IPv4-mapped)" : "");
	return buf;
}

static const char *duration(unsigned long long ns, char *buf, size_t n)
{
	if (ns < 1000000ULL)
		snprintf(buf, n, "%.1f us", ns / 1e3);
	else if (ns < 1000000000ULL)
		snprintf(buf, n, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, n, "%.2f s", ns / 1e9);
	return buf;
}

static const char *errno_str(int err, char *buf, size_t n)
{
	const char *name = strerrorname_np(err);

	if (name)
		snprintf(buf, n, "-%s", name);
	else
		snprintf(buf, n, "-%d", err);
	return buf;
}

static unsigned long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static const char *const event_names[] = {
	[AW_ACCEPT] = "accept", [AW_ACCEPT_WAIT] = "accept-wait", [AW_LISTEN] = "listen",
	[AW_STATE] = "state", [AW_BACKLOG] = "queued", [AW_SYN] = "syn",
	[AW_SYNACK_RETRANS] = "synack-retrans", [AW_RST_SENT] = "rst-sent",
	[AW_RST_RECV] = "rst-recv", [AW_DROP] = "drop",
};

/* enum aw_tunnel: [0] in JSON, [1] in text and verdicts */
static const char *const tunnel_names[][2] = {
	[AW_TUN_NONE] = { "none", "none" },
	[AW_TUN_6IN4] = { "6in4", "6in4" },
	[AW_TUN_TEREDO] = { "teredo", "Teredo" },
};

static const char *tunnel_name(unsigned int t, bool json)
{
	return tunnel_names[t <= AW_TUN_TEREDO ? t : AW_TUN_NONE][!json];
}

/* Events about a listener (or a call on it) have no peer. */
static bool has_remote(const struct aw_event *e)
{
	return e->family && e->type != AW_ACCEPT_WAIT && e->type != AW_BACKLOG &&
	       e->type != AW_LISTEN;
}

/* "Teredo from 192.0.2.1:3544" / "6in4 from 198.51.100.1": the outer header of a tunnelled
 * packet. */
static const char *tunnel_str(const struct aw_event *e, char *buf, size_t n)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &e->outer_saddr, a, sizeof(a));
	if (e->tunnel == AW_TUN_TEREDO)
		snprintf(buf, n, "%s from %s:%u", tunnel_name(e->tunnel, false), a, e->outer_sport);
	else
		snprintf(buf, n, "%s from %s", tunnel_name(e->tunnel, false), a);
	return buf;
}

static const char *flags_str(unsigned char f, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s%s%s%s", f & AW_TCP_SYN ? "SYN," : "", f & AW_TCP_ACK ? "ACK," : "",
		 f & AW_TCP_RST ? "RST," : "", f & AW_TCP_FIN ? "FIN," : "", f ? "" : "-");
	if (buf[0] && buf[strlen(buf) - 1] == ',')
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* ---- listeners, read from /proc/PID/net/tcp{,6} (the kernel's own table) ---- */

struct listener {
	int family;
	unsigned char addr[16];
	unsigned short port;
	unsigned long inode;
};

static int read_listeners(pid_t pid, unsigned short port, struct listener *out, int max)
{
	static const char *const files[] = { "tcp", "tcp6" };
	int n = 0;

	for (int f = 0; f < 2; f++) {
		char path[64], line[512];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%d/net/%s", pid, files[f]);
		if (!(fp = fopen(path, "r")))
			continue;
		while (fgets(line, sizeof(line), fp) && n < max) {
			char laddr[64];
			unsigned int lport, st;
			unsigned long inode;
			struct listener *l = &out[n];

			if (sscanf(line, " %*d: %63[0-9A-Fa-f]:%x %*x:%*x %x %*x:%*x %*x:%*x %*x %*u %*d %lu",
				   laddr, &lport, &st, &inode) != 4)
				continue;
			if (st != TCP_LISTEN_STATE || (port && lport != port))
				continue;
			memset(l, 0, sizeof(*l));
			l->family = f ? AF_INET6 : AF_INET;
			l->port = lport;
			l->inode = inode;
			/* The address is printed as 32-bit words in host byte order. */
			for (int w = 0; w < (f ? 4 : 1); w++) {
				char word[9] = { 0 };
				unsigned int v;

				memcpy(word, laddr + 8 * w, 8);
				v = strtoul(word, NULL, 16);
				memcpy(l->addr + 4 * w, &v, 4);
			}
			n++;
		}
		fclose(fp);
	}
	return n;
}

/* ---- processes, from /proc ---- */

/* Does process `pid` hold socket inode `inode` (among its open files)? */
static bool pid_has_socket(const char *pid, unsigned long inode)
{
	char path[PATH_MAX], want[64];
	struct dirent *f;
	bool found = false;
	DIR *fds;

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	snprintf(path, sizeof(path), "/proc/%s/fd", pid);
	if (!(fds = opendir(path)))
		return false;
	while (!found && (f = readdir(fds))) {
		char link[PATH_MAX], target[64];
		ssize_t len;

		snprintf(link, sizeof(link), "/proc/%s/fd/%s", pid, f->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		found = !strcmp(target, want);
	}
	closedir(fds);
	return found;
}

/* A process that holds socket inode `inode` (the first in /proc, when several share it), and
 * its name; 0 if none. */
static pid_t socket_owner(unsigned long inode, char *comm, size_t n)
{
	struct dirent *p;
	pid_t found = 0;
	DIR *proc;

	if (!(proc = opendir("/proc")))
		return 0;
	while (!found && (p = readdir(proc)))
		if (all_digits(p->d_name) && pid_has_socket(p->d_name, inode))
			found = atoi(p->d_name);
	closedir(proc);
	if (found) {
		char path[64];
		FILE *fp;

		snprintf(path, sizeof(path), "/proc/%d/comm", found);
		comm[0] = '\0';
		if ((fp = fopen(path, "r"))) {
			if (fgets(comm, n, fp))
				comm[strcspn(comm, "\n")] = '\0';
			fclose(fp);
		}
	}
	return found;
}

/* Every network namespace that has a process in it, once, with one such process (through its
 * /proc/PID/net we read that namespace's sockets). Returns how many, at most max. */
struct netns_pid {
	unsigned int ino;
	pid_t pid;
};

static int list_netns(struct netns_pid *out, int max)
{
	struct dirent *p;
	int n = 0;
	DIR *proc;

	if (!(proc = opendir("/proc")))
		return 0;
	while (n < max && (p = readdir(proc))) {
		char path[PATH_MAX];
		struct stat st;
		int i;

		if (!all_digits(p->d_name))
			continue;
		snprintf(path, sizeof(path), "/proc/%s/ns/net", p->d_name);
		if (stat(path, &st))
			continue;
		for (i = 0; i < n && out[i].ino != st.st_ino; i++)
			;
		if (i == n)
			out[n++] = (struct netns_pid){ .ino = st.st_ino, .pid = atoi(p->d_name) };
	}
	closedir(proc);
	return n;
}

#define MAX_NETNS 1024
static struct netns_pid netns_list[MAX_NETNS];

/* Any process inside netns `ino`; 0 if none. */
static pid_t pid_in_netns(unsigned int ino)
{
	int n = list_netns(netns_list, MAX_NETNS);

	for (int i = 0; i < n; i++)
		if (netns_list[i].ino == ino)
			return netns_list[i].pid;
	return 0;
}

/* -p PID without -P: the ports PID already listens on (its own sockets: a listener it shares
 * with a parent or a socket-activating init counts too). */
static int ports_of_pid(pid_t pid)
{
	struct listener ls[MAX_LISTENERS];
	int n = read_listeners(pid, 0, ls, MAX_LISTENERS);
	char name[16];

	snprintf(name, sizeof(name), "%d", pid);
	for (int i = 0; i < n; i++) {
		bool dup = false;

		if (!pid_has_socket(name, ls[i].inode))
			continue;
		for (int j = 0; j < env.nports; j++)
			dup |= env.ports[j] == ls[i].port;
		if (!dup && env.nports < AW_MAX_PORTS)
			env.ports[env.nports++] = ls[i].port;
	}
	return env.nports;
}

/* ---- listeners that were there before us ----
 * The BPF side reads a listener's accept queue when one of its connections goes ESTABLISHED,
 * which needs the listener's struct sock: it learns that from listen(), accept(), a drop or a
 * SYN-ACK retransmission. A listener that already existed, and has done none of these yet, is
 * learnt from sock:sk_data_ready, a tracepoint hit for every segment of data any socket
 * receives: attached only while such a listener is unknown, detached once all are known. */

static struct aw_listener_key unknown[MAX_LISTENERS];
static int nunknown;

static bool port_watched(unsigned short port)
{
	if (!env.ports_given && !env.pid)
		return true; /* neither -P nor -p: every port */
	for (int i = 0; i < env.nports; i++)
		if (env.ports[i] == port)
			return true;
	return false;
}

/* The listeners on watched ports now, in every network namespace, within the scope the BPF
 * side watches (--netns, -4/-6: a listener out of scope would never be learnt). */
static void find_existing_listeners(void)
{
	int nns = list_netns(netns_list, MAX_NETNS);

	for (int i = 0; i < nns; i++) {
		struct listener ls[MAX_LISTENERS];
		int n;

		if (env.netns && netns_list[i].ino != env.netns)
			continue;
		n = read_listeners(netns_list[i].pid, 0, ls, MAX_LISTENERS);
		for (int j = 0; j < n && nunknown < MAX_LISTENERS; j++) {
			struct aw_listener_key key = { .netns = netns_list[i].ino, .port = ls[j].port };
			bool dup = false;

			if (!port_watched(ls[j].port) || (env.family && ls[j].family != env.family))
				continue;
			for (int k = 0; k < nunknown; k++)
				dup |= !memcmp(&unknown[k], &key, sizeof(key));
			if (!dup)
				unknown[nunknown++] = key;
		}
	}
}

/* Forget the listeners the BPF side knows now; once none is left, detach sk_data_ready. */
static void check_learnt(struct acceptwatch_bpf *skel, struct bpf_link **learn)
{
	int fd = bpf_map__fd(skel->maps.listeners);
	__u64 sk;

	for (int i = 0; i < nunknown;) {
		if (!bpf_map_lookup_elem(fd, &unknown[i], &sk))
			unknown[i] = unknown[--nunknown];
		else
			i++;
	}
	if (nunknown)
		return;
	skel->bss->learning_listeners = false;
	bpf_link__destroy(*learn);
	*learn = NULL;
	if (env.verbose)
		warn("all listeners that were there before start are known: sock:sk_data_ready detached\n");
}

/* ---- streaming output ---- */

static void json_quote(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* ,"key":"value" */
static void json_str(const char *key, const char *s)
{
	printf(",\"%s\":", key);
	json_quote(s);
}

static void print_json(const struct aw_event *e)
{
	char buf[INET6_ADDRSTRLEN], tmp[64];
	const char *ns = netns_name(e->netns);

	printf("{\"time\":%.6f", (long long)(e->ts_ns - start_ns) / 1e9);
	json_str("event", event_names[e->type]);
	printf(",\"netns\":%u", e->netns);
	if (ns)
		json_str("netns_name", ns);
	if (e->pid) {
		printf(",\"pid\":%u,\"tid\":%u", e->pid, e->tid);
		json_str("comm", e->comm);
	}
	if (e->family) {
		json_str("family", e->family == AF_INET ? "ipv4" : "ipv6");
		json_str("local", addr_str(e->family, e->laddr, buf, sizeof(buf)));
		printf(",\"lport\":%u", e->lport);
	}
	if (has_remote(e)) {
		json_str("remote", addr_str(e->family, e->raddr, buf, sizeof(buf)));
		printf(",\"rport\":%u", e->rport);
		if (is_v4mapped(e->family, e->raddr))
			printf(",\"v4mapped\":true");
	}
	switch (e->type) {
	case AW_ACCEPT:
		printf(",\"fd\":%d,\"ret\":%d", e->fd, e->ret);
		if (e->ret < 0)
			json_str("error", errno_str(-e->ret, tmp, sizeof(tmp)) + 1);
		if (e->flags & AW_F_EARLY)
			printf(",\"early\":true,\"blocked_ns_min\":%llu", e->ts_ns - start_ns);
		else
			printf(",\"blocked_ns\":%llu", e->lat_ns);
		break;
	case AW_ACCEPT_WAIT:
		printf(",\"fd\":%d", e->fd);
		break;
	case AW_LISTEN:
	case AW_STATE:
		json_str("oldstate", tcp_state(e->oldstate));
		json_str("newstate", tcp_state(e->newstate));
		break;
	case AW_SYNACK_RETRANS:
		printf(",\"retrans\":%u", e->count);
		break;
	case AW_RST_SENT:
		json_str("reason", enum_name(&rst_reasons, e->reason, tmp, sizeof(tmp)));
		if (e->flags & AW_F_NOSOCK)
			printf(",\"nosock\":true");
		else
			json_str("state", tcp_state(e->oldstate));
		break;
	case AW_RST_RECV:
		json_str("state", tcp_state(e->oldstate));
		break;
	case AW_DROP:
		json_str("reason", enum_name(&drop_reasons, e->reason, tmp, sizeof(tmp)));
		json_str("direction", e->flags & AW_F_OUTBOUND ? "from-port" : "to-port");
		break;
	default:
		break;
	}
	if (e->type == AW_SYN || e->type == AW_DROP)
		json_str("tcpflags", flags_str(e->tcpflags, tmp, sizeof(tmp)));
	if ((e->type == AW_SYN || e->type == AW_DROP) && e->tunnel) {
		json_str("tunnel", tunnel_name(e->tunnel, true));
		json_str("outer_source", inet_ntop(AF_INET, &e->outer_saddr, buf, sizeof(buf)));
		if (e->tunnel == AW_TUN_TEREDO)
			printf(",\"outer_sport\":%u", e->outer_sport);
	}
	if (e->flags & AW_F_LISTENER)
		printf(",\"backlog\":%u,\"max_backlog\":%u", e->backlog, e->max_backlog);
	printf("}\n");
}

static void print_header(void)
{
	printf("%-9s %-14s %-7s %-15s %-12s %-47s %-47s %s\n", "TIME(s)", "EVENT", "PID", "COMM",
	       "NETNS", "LOCAL", "REMOTE", "DETAIL");
}

/* Text lines are built by hand into one buffer: an accept loop makes 6 events per connection,
 * and printf()/snprintf()/inet_ntop() per field cost ~0.9 us per event in this process, which
 * competes for the CPUs with the server being traced. Same columns as print_header(). */
static char *put_str(char *p, const char *s)
{
	size_t n = strlen(s);

	memcpy(p, s, n);
	return p + n;
}

static char *put_uint(char *p, unsigned long long v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = '0' + v % 10;
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

static char *put_int(char *p, long long v)
{
	if (v < 0) {
		*p++ = '-';
		return put_uint(p, -(unsigned long long)v);
	}
	return put_uint(p, v);
}

/* "%-*s ": pad the column that started at `col` to `width`, then one space. */
static char *put_pad(char *p, const char *col, int width)
{
	while (p - col < width)
		*p++ = ' ';
	*p++ = ' ';
	return p;
}

/* Addresses repeat (the listener's, a few clients'): inet_ntop() once per address. */
static const char *addr_cached(int family, const unsigned char *a, size_t *len)
{
	static struct {
		int family;
		unsigned char a[16];
		size_t len;
		char s[INET6_ADDRSTRLEN];
	} cache[16];
	static unsigned int next;
	size_t alen = family == AF_INET ? 4 : 16;
	unsigned int i;

	for (i = 0; i < sizeof(cache) / sizeof(cache[0]); i++)
		if (cache[i].len && cache[i].family == family && !memcmp(cache[i].a, a, alen))
			goto found;
	i = next++ % (sizeof(cache) / sizeof(cache[0]));
	cache[i].family = family;
	memcpy(cache[i].a, a, alen);
	addr_str(family, a, cache[i].s, sizeof(cache[i].s));
	cache[i].len = strlen(cache[i].s);
found:
	*len = cache[i].len;
	return cache[i].s;
}

static char *put_endpoint(char *p, int family, const unsigned char *a, unsigned short port)
{
	size_t n;
	const char *s = addr_cached(family, a, &n);

	if (family != AF_INET)
		*p++ = '[';
	memcpy(p, s, n);
	p += n;
	if (family != AF_INET)
		*p++ = ']';
	*p++ = ':';
	return put_uint(p, port);
}

/* duration() without the floating-point formatting (rounded to the same unit). */
static char *put_duration(char *p, unsigned long long ns)
{
	unsigned long long v;

	if (ns < 1000000ULL) {
		v = (ns + 50) / 100; /* 0.1 us */
		if (v < 10000) {
			p = put_uint(p, v / 10);
			*p++ = '.';
			*p++ = '0' + v % 10;
			return put_str(p, " us");
		}
	} else if (ns < 1000000000ULL) {
		v = (ns + 50000) / 100000; /* 0.1 ms */
		if (v < 10000) {
			p = put_uint(p, v / 10);
			*p++ = '.';
			*p++ = '0' + v % 10;
			return put_str(p, " ms");
		}
	}
	{
		char buf[64];

		return put_str(p, duration(ns, buf, sizeof(buf)));
	}
}

static void print_text(const struct aw_event *e)
{
	char line[1024], tmp[64], *p = line, *col;
	/* Events queued between attaching and start_ns come out a little negative. */
	long long st = (long long)(e->ts_ns - start_ns);
	unsigned long long t = st < 0 ? -(unsigned long long)st : (unsigned long long)st;
	const char *ns;
	bool remote = has_remote(e), queue = e->flags & AW_F_LISTENER;

	/* TIME(s): milliseconds, rounded */
	col = p;
	if (st < 0)
		*p++ = '-';
	if (t < (1ULL << 53)) {
		unsigned long long ms = (t + 500000) / 1000000;

		p = put_uint(p, ms / 1000);
		*p++ = '.';
		*p++ = '0' + ms / 100 % 10;
		*p++ = '0' + ms / 10 % 10;
		*p++ = '0' + ms % 10;
	} else {
		p += snprintf(p, 32, "%.3f", t / 1e9);
	}
	p = put_pad(p, col, 9);
	col = p;
	p = put_str(p, event_names[e->type]);
	p = put_pad(p, col, 14);
	col = p;
	if (e->pid)
		p = put_uint(p, e->pid);
	else
		*p++ = '-';
	p = put_pad(p, col, 7);
	col = p;
	if (e->pid)
		p = put_str(p, e->comm);
	else
		*p++ = '-';
	p = put_pad(p, col, 15);
	col = p;
	ns = netns_name(e->netns);
	p = ns ? put_str(p, ns) : put_uint(p, e->netns);
	p = put_pad(p, col, 12);

	col = p;
	if (e->family)
		p = put_endpoint(p, e->family, e->laddr, e->lport);
	p = put_pad(p, col, 47);
	col = p;
	if (remote) {
		p = put_endpoint(p, e->family, e->raddr, e->rport);
		if (is_v4mapped(e->family, e->raddr))
			p = put_str(p, " (IPv4-mapped)");
	}
	p = put_pad(p, col, 47);

	/* DETAIL */
	col = p;
	switch (e->type) {
	case AW_ACCEPT:
		p = put_str(p, "fd ");
		p = put_int(p, e->fd);
		p = put_str(p, " -> ");
		p = e->ret >= 0 ? put_int(p, e->ret) : put_str(p, errno_str(-e->ret, tmp, sizeof(tmp)));
		if (e->flags & AW_F_EARLY) {
			p = put_str(p, ", blocked since before start (>= ");
			p = put_duration(p, e->ts_ns - start_ns);
			*p++ = ')';
		} else {
			p = put_str(p, ", blocked ");
			p = put_duration(p, e->lat_ns);
		}
		break;
	case AW_ACCEPT_WAIT:
		p = put_str(p, "fd ");
		p = put_int(p, e->fd);
		p = put_str(p, ", queue ");
		p = put_uint(p, e->backlog);
		*p++ = '/';
		p = put_uint(p, e->max_backlog);
		queue = false;
		break;
	case AW_LISTEN:
	case AW_STATE:
		p = put_str(p, tcp_state(e->oldstate));
		p = put_str(p, " -> ");
		p = put_str(p, tcp_state(e->newstate));
		break;
	case AW_SYNACK_RETRANS:
		p = put_str(p, "SYN-ACK retransmission #");
		p = put_uint(p, e->count);
		break;
	case AW_RST_SENT:
		p = put_str(p, "reason ");
		p = put_str(p, enum_name(&rst_reasons, e->reason, tmp, sizeof(tmp)));
		if (e->flags & AW_F_NOSOCK) {
			p = put_str(p, ", no socket matched");
		} else {
			p = put_str(p, ", socket in ");
			p = put_str(p, tcp_state(e->oldstate));
		}
		break;
	case AW_RST_RECV:
		p = put_str(p, "socket in ");
		p = put_str(p, tcp_state(e->oldstate));
		break;
	case AW_DROP:
		p = put_str(p, flags_str(e->tcpflags, tmp, sizeof(tmp)));
		p = put_str(p, e->flags & AW_F_OUTBOUND ? " from port, reason " : " to port, reason ");
		p = put_str(p, enum_name(&drop_reasons, e->reason, tmp, sizeof(tmp)));
		break;
	default:
		break;
	}
	if ((e->type == AW_SYN || e->type == AW_DROP) && e->tunnel) {
		if (p != col)
			p = put_str(p, ", ");
		p = put_str(p, "inside ");
		p = put_str(p, tunnel_str(e, tmp, sizeof(tmp)));
	}
	if (queue) {
		if (p != col)
			p = put_str(p, ", ");
		p = put_str(p, "queue ");
		p = put_uint(p, e->backlog);
		*p++ = '/';
		p = put_uint(p, e->max_backlog);
		if (e->backlog > e->max_backlog)
			p = put_str(p, " FULL");
	}
	*p++ = '\n';
	fwrite_unlocked(line, 1, p - line, stdout);
}

/* ---- diagnosis ---- */

struct diag {
	bool accepted;
	struct aw_event accept;
	unsigned int waits;
	struct aw_event wait;
	unsigned int accept_errors;
	struct aw_event accept_error;
	unsigned int syns, syns_full;
	struct aw_event syn;
	unsigned int syn_netns[8], n_syn_netns; /* where SYNs were seen (routers see them too) */
	unsigned int tunnel_syns, tunnel_drops; /* IPv6 SYNs inside 6in4 / Teredo, and their drops */
	struct aw_event tunnel_syn, tunnel_drop;
	unsigned int synrecv, established;
	bool have_backlog;
	unsigned int backlog, max_backlog, peak_backlog;
	unsigned int synack_retrans, synack_max;
	struct aw_event synack;
	unsigned int rst_sent, rst_recv;
	struct aw_event rst;
	unsigned int drops_syn, drops_nosock, drops_overflow, drops_other;
	struct aw_event drop_syn, drop_other;
	unsigned int listens;
	struct aw_event listen;
} diag;

static bool reason_is(unsigned int reason, const char *name)
{
	char buf[16];

	return !strcmp(enum_name(&drop_reasons, reason, buf, sizeof(buf)), name);
}

/* Errors that mean "try again", not "accept() is broken"; 512..516 are the kernel's
 * ERESTART* codes, seen at sys_exit when a signal interrupts the call. */
static bool soft_accept_error(int err)
{
	return err == EAGAIN || err == EINTR || err == ECONNABORTED || (err >= 512 && err <= 516);
}

/* Remember the network namespace of a SYN, once. */
static void note_syn_netns(struct diag *d, unsigned int netns)
{
	for (unsigned int i = 0; i < d->n_syn_netns; i++)
		if (d->syn_netns[i] == netns)
			return;
	if (d->n_syn_netns < sizeof(d->syn_netns) / sizeof(d->syn_netns[0]))
		d->syn_netns[d->n_syn_netns++] = netns;
}

static void diag_event(const struct aw_event *e)
{
	struct diag *d = &diag;

	if (e->flags & AW_F_LISTENER) {
		d->have_backlog = true;
		d->backlog = e->backlog;
		d->max_backlog = e->max_backlog;
		if (e->backlog > d->peak_backlog)
			d->peak_backlog = e->backlog;
	}
	switch (e->type) {
	case AW_ACCEPT:
		if (e->ret >= 0) {
			d->accepted = true;
			d->accept = *e;
		} else if (!soft_accept_error(-e->ret)) {
			if (!d->accept_errors++)
				d->accept_error = *e;
		}
		break;
	case AW_ACCEPT_WAIT:
		d->waits++;
		d->wait = *e;
		break;
	case AW_LISTEN:
		if (e->newstate == TCP_LISTEN_STATE && !d->listens++)
			d->listen = *e;
		break;
	case AW_STATE:
		if (e->newstate == 3 /* SYN_RECV */)
			d->synrecv++;
		else if (e->newstate == 1 /* ESTABLISHED */ && e->oldstate == 3)
			d->established++;
		break;
	case AW_SYN:
		note_syn_netns(d, e->netns);
		if (e->tunnel) {
			if (!d->tunnel_syns++)
				d->tunnel_syn = *e;
			break;
		}
		if (!d->syns++)
			d->syn = *e;
		if ((e->flags & AW_F_LISTENER) && e->backlog > e->max_backlog)
			d->syns_full++;
		break;
	case AW_SYNACK_RETRANS:
		if (!d->synack_retrans++)
			d->synack = *e;
		if (e->count > d->synack_max)
			d->synack_max = e->count;
		break;
	case AW_RST_SENT:
		if (!d->rst_sent++)
			d->rst = *e;
		break;
	case AW_RST_RECV:
		d->rst_recv++;
		break;
	case AW_DROP:
		if (e->tunnel) {
			/* The outer packet was dropped: the SYN never reached TCP. */
			if (!(e->flags & AW_F_OUTBOUND) && !d->tunnel_drops++)
				d->tunnel_drop = *e;
		} else if (reason_is(e->reason, "NO_SOCKET")) {
			d->drops_nosock++;
		} else if (reason_is(e->reason, "TCP_LISTEN_OVERFLOW")) {
			d->drops_overflow++;
		} else if (!(e->flags & (AW_F_OUTBOUND | AW_F_LISTENER)) &&
			   (e->tcpflags & (AW_TCP_SYN | AW_TCP_ACK)) == AW_TCP_SYN) {
			/* Dropped before any socket saw it (a listener that received a duplicate
			 * SYN and answered it frees it too: that one is not the cause). */
			if (!d->drops_syn++)
				d->drop_syn = *e;
		} else if (!d->drops_other++) {
			d->drop_other = *e;
		}
		break;
	}
}

struct report {
	const char *verdict;
	char message[512];
	char evidence[16][256];
	int n;
};

static void evidence(struct report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= 16)
		return;
	va_start(ap, fmt);
	vsnprintf(r->evidence[r->n++], sizeof(r->evidence[0]), fmt, ap);
	va_end(ap);
}

static const char *drop_hint(unsigned int reason)
{
	if (reason_is(reason, "NETFILTER_DROP"))
		return "a firewall rule on this host drops it: see nft list ruleset / iptables -S";
	if (reason_is(reason, "IP_RPFILTER"))
		return "reverse-path filter: see sysctl net.ipv4.conf.*.rp_filter";
	if (reason_is(reason, "OTHERHOST"))
		return "the packet was not addressed to this host's MAC";
	if (reason_is(reason, "XFRM_POLICY"))
		return "an IPsec policy rejects it";
	return "the kernel discarded it before any socket saw it";
}

/* Why a tunnelled SYN did not come out of its tunnel, from the drop reason if there was one. */
static const char *tunnel_hint(const struct aw_event *e, bool dropped)
{
	if (e->tunnel == AW_TUN_6IN4) {
		if (dropped && reason_is(e->reason, "IP_NOPROTO"))
			return "nothing on this host takes IPv4 protocol 41: there is no 6in4 (sit) tunnel; create it, with this remote, on the host the tunnel broker points to";
		return "the 6in4 (sit) tunnel did not take it: is a tunnel with this remote address configured and up?";
	}
	if (dropped && reason_is(e->reason, "NO_SOCKET"))
		return "nothing receives that UDP port on this host: is the Teredo client (miredo) running?";
	return "the Teredo client (miredo) did not hand it to its tun interface: is miredo running and qualified, with this Teredo address?";
}

/* "nothing listens on A:P": say what does listen on P in that namespace, if anything. */
static void explain_no_listener(struct report *r, const struct aw_event *rst)
{
	struct listener ls[MAX_LISTENERS];
	pid_t inside = pid_in_netns(rst->netns);
	int n;

	if (!inside) {
		evidence(r, "no process runs in that network namespace: no server there at all");
		return;
	}
	n = read_listeners(inside, rst->lport, ls, MAX_LISTENERS);
	if (!n) {
		evidence(r, "no socket listens on port %u in that namespace: wrong port, or the server is not running",
			 rst->lport);
		return;
	}
	for (int i = 0; i < n; i++) {
		char ep[64], comm[32] = "?", owner[64] = "";
		pid_t pid = socket_owner(ls[i].inode, comm, sizeof(comm));
		static const unsigned char any[16];
		bool wildcard = !memcmp(ls[i].addr, any, ls[i].family == AF_INET ? 4 : 16);

		endpoint(ls[i].family, ls[i].addr, ls[i].port, ep, sizeof(ep));
		if (pid)
			snprintf(owner, sizeof(owner), " (pid %d %s)", pid, comm);
		if (wildcard && ls[i].family == AF_INET6 && rst->family == AF_INET)
			evidence(r, "a listener on %s%s is IPv6-only (IPV6_V6ONLY): IPv4 clients are refused",
				 ep, owner);
		else if (wildcard)
			evidence(r, "a listener on %s%s exists but does not cover this %s address",
				 ep, owner, rst->family == AF_INET ? "IPv4" : "IPv6");
		else
			evidence(r, "a listener on port %u is bound to another address: %s%s; bind to the address clients use, or to 0.0.0.0 / ::",
				 ls[i].port, ep, owner);
	}
}

static void build_report(struct report *r, unsigned short port, unsigned long long waited_ns)
{
	struct diag *d = &diag;
	char a[96], b[128], c[64], ns[32];

	memset(r, 0, sizeof(*r));
	if (d->accepted) {
		const struct aw_event *e = &d->accept;

		r->verdict = "accepted";
		if (e->flags & AW_F_EARLY)
			snprintf(b, sizeof(b), "after >= %s (it was already blocked when acceptwatch started)",
				 duration(e->ts_ns - start_ns, c, sizeof(c)));
		else
			snprintf(b, sizeof(b), "after blocking %s", duration(e->lat_ns, c, sizeof(c)));
		snprintf(r->message, sizeof(r->message),
			 "accept() returned fd %d to pid %u (%s) for %s on port %u, %s", e->ret, e->pid,
			 e->comm, peer_str(e, a, sizeof(a)), e->lport, b);
	} else if (d->accept_errors) {
		const struct aw_event *e = &d->accept_error;

		r->verdict = "accept_error";
		snprintf(r->message, sizeof(r->message), "accept() failed in pid %u (%s): %s (%s)",
			 e->pid, e->comm, errno_str(-e->ret, b, sizeof(b)) + 1, strerror(-e->ret));
	} else if (d->drops_syn) {
		const struct aw_event *e = &d->drop_syn;

		r->verdict = "dropped";
		snprintf(r->message, sizeof(r->message),
			 "SYN arrived but was dropped by the kernel: reason %s (%u packet%s to %s, netns %s): %s",
			 enum_name(&drop_reasons, e->reason, b, sizeof(b)), d->drops_syn,
			 d->drops_syn > 1 ? "s" : "", endpoint(e->family, e->laddr, e->lport, a, sizeof(a)),
			 netns_label(e->netns, ns, sizeof(ns)), drop_hint(e->reason));
	} else if (d->established || (d->have_backlog && d->peak_backlog > 0)) {
		unsigned int overflow = d->syns_full + d->drops_overflow;

		r->verdict = overflow ? "overflow" : "not_accepting";
		if (overflow)
			snprintf(r->message, sizeof(r->message),
				 "listen queue overflow: %u connection%s established but never accepted (backlog %u/%u), %u later handshake packet%s ignored or dropped: no process is calling accept() on port %u",
				 d->established, d->established == 1 ? "" : "s", d->peak_backlog,
				 d->max_backlog, overflow, overflow == 1 ? "" : "s", port);
		else
			snprintf(r->message, sizeof(r->message),
				 "connections established but no process is calling accept() on port %u (backlog %u/%u, %u established)",
				 port, d->peak_backlog, d->max_backlog, d->established);
	} else if (d->synack_retrans) {
		const struct aw_event *e = &d->synack;

		r->verdict = "synack_retrans";
		snprintf(r->message, sizeof(r->message),
			 "handshake not completed: SYN-ACK retransmitted %u time%s to %s: the final ACK is not coming back (return path broken: NAT mapping, asymmetric route, firewall on the way back)",
			 d->synack_retrans, d->synack_retrans == 1 ? "" : "s", peer_str(e, a, sizeof(a)));
	} else if (d->rst_sent || d->drops_nosock) {
		const struct aw_event *e = &d->rst;

		r->verdict = "rst_no_listener";
		if (d->rst_sent)
			snprintf(r->message, sizeof(r->message),
				 "RST sent: nothing listens on %s (netns %s): bound to another address? wrong port? v6only?",
				 endpoint(e->family, e->laddr, e->lport, a, sizeof(a)),
				 netns_label(e->netns, ns, sizeof(ns)));
		else
			snprintf(r->message, sizeof(r->message),
				 "SYNs dropped with reason NO_SOCKET: nothing listens on port %u", port);
	} else if (!d->syns && (d->tunnel_syns || d->tunnel_drops)) {
		const struct aw_event *e = d->tunnel_syns ? &d->tunnel_syn : &d->tunnel_drop;

		r->verdict = "tunnel_not_delivered";
		snprintf(r->message, sizeof(r->message),
			 "SYN for port %u arrived inside %s (netns %s) but never came out of the tunnel%s%s: %s",
			 port, tunnel_str(e, a, sizeof(a)), netns_label(e->netns, ns, sizeof(ns)),
			 d->tunnel_drops ? ", dropped with reason " : "",
			 d->tunnel_drops ? enum_name(&drop_reasons, d->tunnel_drop.reason, c, sizeof(c)) : "",
			 tunnel_hint(d->tunnel_drops ? &d->tunnel_drop : e, d->tunnel_drops));
	} else if (d->syns) {
		r->verdict = "syn_unanswered";
		snprintf(r->message, sizeof(r->message),
			 "%u SYN%s reached port %u but no handshake, RST or drop followed", d->syns,
			 d->syns == 1 ? "" : "s", port);
	} else {
		r->verdict = "no_syn";
		snprintf(r->message, sizeof(r->message),
			 "no SYN reached this host for port %u in %.0f s (look upstream: NAT, port forwarding, firewall, tunnel)",
			 port, waited_ns / 1e9);
	}

	/* The evidence: what was seen, whatever the verdict. */
	if (d->syns)
		evidence(r, "%u SYN%s for port %u reached the host; first from %s to %s, netns %s",
			 d->syns, d->syns == 1 ? "" : "s", port, peer_str(&d->syn, a, sizeof(a)),
			 endpoint(d->syn.family, d->syn.laddr, d->syn.lport, b, sizeof(b)),
			 netns_label(d->syn.netns, ns, sizeof(ns)));
	else if (strcmp(r->verdict, "accepted"))
		evidence(r, "no SYN for port %u was received on any interface%s", port,
			 d->tunnel_syns || d->tunnel_drops ? " outside a tunnel" : " (nor inside 6in4 or Teredo)");
	if (d->tunnel_syns)
		evidence(r, "%u SYN%s for port %u arrived inside %s; first from %s to %s, netns %s",
			 d->tunnel_syns, d->tunnel_syns == 1 ? "" : "s", port,
			 tunnel_str(&d->tunnel_syn, c, sizeof(c)), peer_str(&d->tunnel_syn, a, sizeof(a)),
			 endpoint(d->tunnel_syn.family, d->tunnel_syn.laddr, d->tunnel_syn.lport, b, sizeof(b)),
			 netns_label(d->tunnel_syn.netns, ns, sizeof(ns)));
	if (d->tunnel_drops)
		evidence(r, "%u tunnel packet%s carrying a SYN for port %u dropped, reason %s (%s)",
			 d->tunnel_drops, d->tunnel_drops == 1 ? "" : "s", port,
			 enum_name(&drop_reasons, d->tunnel_drop.reason, b, sizeof(b)),
			 tunnel_str(&d->tunnel_drop, c, sizeof(c)));
	if (d->drops_syn)
		evidence(r, "%u SYN%s dropped, reason %s", d->drops_syn, d->drops_syn == 1 ? "" : "s",
			 enum_name(&drop_reasons, d->drop_syn.reason, b, sizeof(b)));
	if (d->drops_other)
		evidence(r, "%u other packet%s of port %u dropped; first: %s %s %s in netns %s, reason %s",
			 d->drops_other, d->drops_other == 1 ? "" : "s", port,
			 flags_str(d->drop_other.tcpflags, c, sizeof(c)),
			 d->drop_other.flags & AW_F_OUTBOUND ? "from" : "to",
			 endpoint(d->drop_other.family, d->drop_other.laddr, d->drop_other.lport, a,
				  sizeof(a)),
			 netns_label(d->drop_other.netns, ns, sizeof(ns)),
			 enum_name(&drop_reasons, d->drop_other.reason, b, sizeof(b)));
	if (d->rst_sent)
		evidence(r, "%u RST%s sent from port %u (reason %s%s)", d->rst_sent,
			 d->rst_sent == 1 ? "" : "s", port,
			 enum_name(&rst_reasons, d->rst.reason, b, sizeof(b)),
			 d->rst.flags & AW_F_NOSOCK ? ", no socket matched" : "");
	if (d->rst_recv)
		evidence(r, "%u RST%s received by sockets of port %u", d->rst_recv,
			 d->rst_recv == 1 ? "" : "s", port);
	if (d->drops_nosock)
		evidence(r, "%u packet%s dropped with reason NO_SOCKET", d->drops_nosock,
			 d->drops_nosock == 1 ? "" : "s");
	if (d->synrecv || d->established)
		evidence(r, "%u handshake%s reached SYN_RECV, %u ESTABLISHED", d->synrecv,
			 d->synrecv == 1 ? "" : "s", d->established);
	if (d->synack_retrans)
		evidence(r, "%u SYN-ACK retransmission%s (highest #%u)", d->synack_retrans,
			 d->synack_retrans == 1 ? "" : "s", d->synack_max);
	if (d->have_backlog)
		evidence(r, "accept queue: %u/%u now, peak %u", d->backlog, d->max_backlog,
			 d->peak_backlog);
	if (d->syns_full)
		evidence(r, "%u SYN%s arrived while the accept queue was full", d->syns_full,
			 d->syns_full == 1 ? "" : "s");
	if (d->drops_overflow)
		evidence(r, "%u packet%s dropped with reason TCP_LISTEN_OVERFLOW", d->drops_overflow,
			 d->drops_overflow == 1 ? "" : "s");
	if (d->listens)
		evidence(r, "pid %u (%s) started listening on %s", d->listen.pid, d->listen.comm,
			 endpoint(d->listen.family, d->listen.laddr, d->listen.lport, a, sizeof(a)));
	if (d->waits)
		evidence(r, "accept() called %u time%s; last by pid %u (%s) on fd %d", d->waits,
			 d->waits == 1 ? "" : "s", d->wait.pid, d->wait.comm, d->wait.fd);
	else if (!d->accepted)
		evidence(r, "no accept() call on port %u was seen", port);
	if (d->n_syn_netns > 1 && !env.netns) {
		char list[200] = "";
		size_t len = 0;

		for (unsigned int i = 0; i < d->n_syn_netns && len < sizeof(list); i++)
			len += snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
					netns_label(d->syn_netns[i], ns, sizeof(ns)));
		evidence(r, "SYNs were seen in %u network namespaces (%s): routers and NATs on this machine see them too; --netns NS keeps to the server's",
			 d->n_syn_netns, list);
	}
	if (!strcmp(r->verdict, "rst_no_listener") && d->rst_sent)
		explain_no_listener(r, &d->rst);
}

static void print_report(const struct report *r, unsigned short port)
{
	char buf[INET6_ADDRSTRLEN];

	if (!env.json) {
		printf("verdict: %s\n", r->message);
		for (int i = 0; i < r->n; i++)
			printf("  - %s\n", r->evidence[i]);
		return;
	}
	printf("{\"verdict\":\"%s\"", r->verdict);
	json_str("message", r->message);
	printf(",\"port\":%u,\"syns\":%u,\"syns_full\":%u,\"drops_syn\":%u,\"drops_other\":%u,"
	       "\"drops_nosock\":%u,\"drops_overflow\":%u,\"rst_sent\":%u,\"rst_recv\":%u,"
	       "\"synrecv\":%u,\"established\":%u,\"synack_retrans\":%u,\"accept_calls\":%u",
	       port, diag.syns, diag.syns_full, diag.drops_syn, diag.drops_other, diag.drops_nosock,
	       diag.drops_overflow, diag.rst_sent, diag.rst_recv, diag.synrecv, diag.established,
	       diag.synack_retrans, diag.waits);
	if (diag.have_backlog)
		printf(",\"backlog\":%u,\"max_backlog\":%u,\"peak_backlog\":%u", diag.backlog,
		       diag.max_backlog, diag.peak_backlog);
	if (diag.drops_syn)
		json_str("drop_reason", enum_name(&drop_reasons, diag.drop_syn.reason, buf, sizeof(buf)));
	if (diag.tunnel_syns || diag.tunnel_drops) {
		const struct aw_event *t = diag.tunnel_syns ? &diag.tunnel_syn : &diag.tunnel_drop;

		printf(",\"tunnel_syns\":%u,\"tunnel_drops\":%u", diag.tunnel_syns, diag.tunnel_drops);
		json_str("tunnel", tunnel_name(t->tunnel, true));
		if (diag.tunnel_drops)
			json_str("tunnel_drop_reason",
				 enum_name(&drop_reasons, diag.tunnel_drop.reason, buf, sizeof(buf)));
	}
	if (diag.drops_other)
		json_str("other_drop_reason",
			 enum_name(&drop_reasons, diag.drop_other.reason, buf, sizeof(buf)));
	if (diag.accepted) {
		const struct aw_event *e = &diag.accept;

		printf(",\"accept\":{\"pid\":%u,\"tid\":%u,\"fd\":%d,\"ret\":%d,\"early\":%s,\"blocked_ns\":%llu",
		       e->pid, e->tid, e->fd, e->ret, e->flags & AW_F_EARLY ? "true" : "false",
		       e->flags & AW_F_EARLY ? e->ts_ns - start_ns : e->lat_ns);
		json_str("comm", e->comm);
		json_str("remote", addr_str(e->family, e->raddr, buf, sizeof(buf)));
		printf(",\"rport\":%u,\"v4mapped\":%s,\"netns\":%u}", e->rport,
		       is_v4mapped(e->family, e->raddr) ? "true" : "false", e->netns);
	}
	printf(",\"evidence\":[");
	for (int i = 0; i < r->n; i++) {
		if (i)
			putchar(',');
		json_quote(r->evidence[i]);
	}
	printf("]}\n");
}

/* ---- ring buffer ---- */

/* A record holds one event, or several that happened back to back on one CPU (the
 * handshake's final ACK: SYN_RECV, ESTABLISHED, queued): each is handled on its own. */
static int handle_event(void *ctx, void *data, size_t size)
{
	const struct aw_event *e = data;

	(void)ctx;
	for (; size >= sizeof(*e); size -= sizeof(*e), e++) {
		if (!e->type || e->type > AW_DROP)
			continue;
		if (env.diagnose)
			diag_event(e);
		else if (env.json)
			print_json(e);
		else
			print_text(e);
	}
	return 0;
}

/* ---- environment ---- */

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	(void)level;
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* CAP_BPF (39) + CAP_PERFMON (38), or CAP_SYS_ADMIN (21) on its own. */
static bool have_bpf_caps(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *fp = fopen("/proc/self/status", "r");

	if (!fp)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(fp);
	return (caps & (1ULL << 21)) || ((caps & (1ULL << 39)) && (caps & (1ULL << 38)));
}

/* libbpf finds tracepoint ids in tracefs: mount it if nobody did. */
static int ensure_tracefs(void)
{
	if (!access(TRACEFS "/events", F_OK) || !access(DEBUGFS_TRACING "/events", F_OK))
		return 0;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
		warn("tracefs is not mounted and mounting it failed (%s): run: mount -t tracefs nodev %s\n",
		     strerror(errno), TRACEFS);
		return -1;
	}
	if (env.verbose)
		warn("mounted tracefs on %s\n", TRACEFS);
	return 0;
}

struct hook {
	struct bpf_program *prog;
	const char *tracepoint;
	const char *lost; /* what is missing without it; NULL = required */
};

/* Attach every program that is loaded, into links[] (at most MAX_LINKS); *learn is the index
 * of the sk_data_ready link there. 0, or -1 when a required tracepoint is missing. */
#define MAX_LINKS 16
static int attach_all(struct acceptwatch_bpf *skel, struct bpf_link **links, int *learn)
{
	const struct hook hooks[] = {
		{ skel->progs.aw_enter_accept, "syscalls:sys_enter_accept", "accept() wait times" },
		{ skel->progs.aw_enter_accept4, "syscalls:sys_enter_accept4", "accept4() wait times" },
		{ skel->progs.aw_exit_accept, "syscalls:sys_exit_accept", NULL },
		{ skel->progs.aw_exit_accept4, "syscalls:sys_exit_accept4", NULL },
		{ skel->progs.aw_set_state, "sock:inet_sock_set_state", "TCP state changes" },
		{ skel->progs.aw_data_ready, "sock:sk_data_ready",
		  "accept queue lengths of listeners that were there before acceptwatch, until they accept()" },
		{ skel->progs.aw_receive, "net:netif_receive_skb", "SYN arrivals" },
		{ skel->progs.aw_kfree_skb, "skb:kfree_skb", "drops and drop reasons" },
		{ skel->progs.aw_retransmit_synack, "tcp:tcp_retransmit_synack", "SYN-ACK retransmissions" },
		{ skel->progs.aw_send_reset, "tcp:tcp_send_reset", "resets sent" },
		{ skel->progs.aw_receive_reset, "tcp:tcp_receive_reset", "resets received" },
	};
	int n = sizeof(hooks) / sizeof(hooks[0]);

	_Static_assert(sizeof(hooks) / sizeof(hooks[0]) <= MAX_LINKS, "raise MAX_LINKS");
	for (int i = 0; i < n; i++) {
		if (!bpf_program__autoload(hooks[i].prog))
			continue; /* not needed this time (see main) */
		links[i] = bpf_program__attach(hooks[i].prog);
		if (hooks[i].prog == skel->progs.aw_data_ready)
			*learn = i;
		if (links[i])
			continue;
		if (!hooks[i].lost) {
			warn("cannot attach to tracepoint %s (%s): accept() cannot be watched on this kernel\n",
			     hooks[i].tracepoint, strerror(errno));
			return -1;
		}
		warn("tracepoint %s unavailable (%s): no %s\n", hooks[i].tracepoint, strerror(errno),
		     hooks[i].lost);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = argp_program_doc,
	};
	struct bpf_link *links[MAX_LINKS] = {};
	struct ring_buffer *rb = NULL;
	struct acceptwatch_bpf *skel;
	struct btf *vmlinux;
	unsigned long long deadline = 0;
	int err, learn = -1, status = 1;

	argp_err_exit_status = 1; /* a bad command line exits 1, like every other error */
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	if (env.diagnose && !env.nports && !env.pid) {
		warn("--diagnose needs the port to watch: add -P PORT (or -p PID)\n");
		return 1;
	}
	if (env.diagnose && env.nports > 1) {
		warn("--diagnose gives one verdict for one port: give a single -P PORT\n");
		return 1;
	}
	if (env.pid && kill(env.pid, 0) && errno == ESRCH) {
		warn("-p %d: no such process\n", env.pid);
		return 1;
	}
	/* Line-buffered on a terminal; piped or redirected, one write per ring-buffer batch (the
	 * loop flushes after each poll), not one per event: an accept loop makes 6 events per
	 * connection, and every write is a syscall competing with the traced server. */
	if (isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	libbpf_set_print(libbpf_print);

	if (!have_bpf_caps()) {
		warn("needs root (CAP_BPF and CAP_PERFMON) to load eBPF programs: run it with sudo\n");
		return 1;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		warn("kernel BTF %s not found: this kernel lacks CONFIG_DEBUG_INFO_BTF=y, acceptwatch cannot run\n",
		     VMLINUX_BTF);
		return 1;
	}
	if (ensure_tracefs())
		return 1;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		warn("cannot read kernel BTF %s: %s\n", VMLINUX_BTF, strerror(errno));
		return 1;
	}
	load_enum(vmlinux, "skb_drop_reason", "SKB_DROP_REASON_", &drop_reasons);
	load_enum(vmlinux, "sk_rst_reason", "SK_RST_REASON_", &rst_reasons);
	btf__free(vmlinux);

	if (env.pid && !env.ports_given)
		ports_of_pid(env.pid);
	if (env.diagnose && !env.nports)
		warn("pid %d listens on no TCP port yet: watching the ports it will listen on\n",
		     env.pid);

	skel = acceptwatch_bpf__open();
	if (!skel) {
		warn("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	skel->rodata->targ_tgid = env.pid;
	skel->rodata->targ_family = env.family;
	skel->rodata->targ_netns = env.netns;
	skel->rodata->filter_ports = env.ports_given || env.pid;
	skel->rodata->accept_by_port = env.ports_given && !env.pid;
	/* -p alone: the ports it listens on now (ports_of_pid) and those it will listen on */
	skel->rodata->follow_listen = env.pid && !env.ports_given;
	/* Streaming under load: drain on the poll timeout instead of a wake-up per event. */
	skel->rodata->wakeup_bytes = env.diagnose ? 0 : 64 * 1024;
	/* The per-packet and per-segment probes only when needed (see acceptwatch.bpf.c). */
	bpf_program__set_autoload(skel->progs.aw_receive, env.syn || env.diagnose);
	find_existing_listeners();
	bpf_program__set_autoload(skel->progs.aw_data_ready, nunknown > 0);
	skel->bss->learning_listeners = nunknown > 0;

	err = acceptwatch_bpf__load(skel);
	if (err) {
		if (err == -EPERM)
			warn("the kernel refused to load the BPF programs (%s): run as root (CAP_BPF and CAP_PERFMON)\n",
			     strerror(-err));
		else
			warn("cannot load the BPF programs: %s (rerun with -v for libbpf's log)\n",
			     strerror(-err));
		goto cleanup;
	}
	for (int i = 0; i < env.nports; i++) {
		__u32 port = env.ports[i];
		__u8 one = 1;

		if (bpf_map__update_elem(skel->maps.ports, &port, sizeof(port), &one, sizeof(one), 0)) {
			warn("cannot set the port filter: %s\n", strerror(errno));
			goto cleanup;
		}
	}
	if (attach_all(skel, links, &learn) < 0)
		goto cleanup;
	if (nunknown && (learn < 0 || !links[learn])) {
		nunknown = 0; /* sk_data_ready is not there: nothing will learn them */
		skel->bss->learning_listeners = false;
	}
	if (env.verbose)
		warn("%s; net:netif_receive_skb %s\n",
		     nunknown ? "sock:sk_data_ready attached until the listeners that were there before start are known"
			      : "sock:sk_data_ready not needed (no listener on the watched ports before start)",
		     env.syn || env.diagnose ? "attached (SYNs)" : "not attached (no --syn)");
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), handle_event, NULL, NULL);
	if (!rb) {
		warn("cannot create the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);

	start_ns = mono_ns();
	{
		char what[256] = "";
		int n = 0;

		for (int i = 0; i < env.nports; i++)
			n += snprintf(what + n, sizeof(what) - n, "%s%u", i ? "," : "port ", env.ports[i]);
		if (env.pid)
			snprintf(what + n, sizeof(what) - n, "%spid %d", n ? ", " : "", env.pid);
		if (!what[0])
			snprintf(what, sizeof(what), "all TCP ports");
		if (env.diagnose) {
			deadline = start_ns + env.diag_seconds * 1000000000ULL;
			warn("watching %s for up to %d s, until accept() returns\n", what, env.diag_seconds);
		} else {
			if (env.duration) {
				deadline = start_ns + env.duration * 1000000000ULL;
				warn("tracing %s for %d s\n", what, env.duration);
			} else {
				warn("tracing %s; Ctrl-C to end\n", what);
			}
			if (!env.json)
				print_header();
		}
	}

	while (!exiting) {
		err = ring_buffer__poll(rb, 50);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			warn("reading events failed: %s\n", strerror(-err));
			goto cleanup;
		}
		fflush(stdout);
		if (nunknown)
			check_learnt(skel, &links[learn]);
		if (env.diagnose && (diag.accepted || diag.accept_errors))
			break;
		if ((env.diagnose || env.duration) && mono_ns() >= deadline)
			break;
	}
	ring_buffer__consume(rb); /* what came after the last poll */
	if (env.diagnose) {
		struct report r;
		unsigned short port = env.nports ? env.ports[0] : diag.syn.lport;

		build_report(&r, port, mono_ns() - start_ns);
		if (skel->bss->lost_events)
			evidence(&r, "%llu events were lost (the ring buffer was full): this verdict may miss some",
				 (unsigned long long)skel->bss->lost_events);
		print_report(&r, port);
		status = diag.accepted ? 0 : 2;
	} else {
		fflush(stdout);
		status = 0;
	}
	if (skel->bss->lost_events)
		warn("%llu events were lost: the ring buffer was full (the reader fell behind; --json and a slow terminal are the slowest outputs)\n",
		     (unsigned long long)skel->bss->lost_events);

cleanup:
	ring_buffer__free(rb);
	for (int i = 0; i < MAX_LINKS; i++)
		bpf_link__destroy(links[i]);
	acceptwatch_bpf__destroy(skel);
	return status;
}
