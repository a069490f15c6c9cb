// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tunnelwatch: the IPv6 packets inside the IPv4 tunnels (Teredo, 6in4, VXLAN) on one
 * interface, live, from the kernel.
 *
 * The loader: parse the CLI, enter the network namespace (--netns), find the interface and
 * whether it has an Ethernet header, load the tc programs (tunnelwatch.bpf.c), attach them to
 * its clsact ingress and egress, print each decoded packet (tw_print.c) and fold it into the
 * flow and mapping tables (tw_flows.c), print the tables every --interval and at the end, then
 * detach.
 *
 * Detaching: each run's filters have its pid as handle, and a marker file in
 * /run/v6lab/tunnelwatch says the run is there and whether the clsact qdisc is its to remove
 * (it made it: the qdisc may be someone else's). A run killed with SIGKILL cannot clean up; the
 * next run on the interface (or `tunnelwatch --detach -i IFACE`) finds its marker, sees its pid
 * gone, and removes its filters, and its qdisc at the end. */
#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpf_tool.h"
#include "tunnelwatch.h"
#include "tunnelwatch.skel.h"
#include "tw_flows.h"
#include "tw_print.h"

#define warn(...) fprintf(stderr, "tunnelwatch: " __VA_ARGS__)

#define TW_TC_PRIO 0x7477
#define MARKER_DIR "/run/v6lab/tunnelwatch"

struct env {
	const char *iface;
	const char *netns;
	bool json;
	bool native;
	bool verbose;
	bool detach;
	int duration; /* -d: seconds, 0 until Ctrl-C */
	int interval; /* --interval: seconds between tables, 0 none */
};

/* The interface, once found in its namespace. */
struct target {
	int ifindex;
	bool l2;                 /* Ethernet header: veth, bridge port, lo; not TUN */
	char marker_prefix[48];  /* "<netns inode>-<ifindex>": this interface's marker files */
};

static volatile sig_atomic_t exiting;

/* ---- command line ---- */

const char *argp_program_version = "tunnelwatch (v6lab) " V6LAB_VERSION;
const char argp_program_doc[] =
	"Show the IPv6 packets inside IPv4 tunnels on one interface, from the kernel.\n"
	"\n"
	"A tc program on the interface's ingress and egress decodes Teredo (IPv4 UDP,\n"
	"port 3544 or any port by the Teredo shape: relays use others), 6in4 (IPv4\n"
	"protocol 41) and VXLAN (UDP 4789) down to the inner IPv6 and its TCP or\n"
	"ICMPv6 header, and names Teredo bubbles. One line (or JSON object) per\n"
	"packet; at the end and every --interval, a table per inner flow (packets,\n"
	"bytes, SYN / SYN-ACK / RST, first and last seen) and the outer mappings:\n"
	"which IPv4 address and port carried which inner IPv6 address (a Teredo\n"
	"client's NAT mapping). Malformed or truncated tunnel packets are counted by\n"
	"the layer where they broke, never shown as decoded. On an interface without\n"
	"an Ethernet header (a TUN such as miredo's 'teredo') it shows the plain\n"
	"IPv6 that goes in and out of the tunnel; --native does so on any interface.\n"
	"\n"
	"USAGE: tunnelwatch -i IFACE [--netns NS] [--json] [-d SECONDS] [--interval S]\n"
	"                   [--native] [-v]\n"
	"       tunnelwatch --detach -i IFACE [--netns NS]\n"
	"\n"
	"EXAMPLES:\n"
	"  tunnelwatch -i eth0                          # until Ctrl-C\n"
	"  tunnelwatch -i wan0 --netns v6lab-lab-nat    # the lab's NAT router, WAN side\n"
	"  tunnelwatch -i wan0 --netns v6lab-lab-nat -d 10 --json\n"
	"  tunnelwatch -i teredo --netns v6lab-lab-srv  # miredo's TUN: the tunnel's inside\n"
	"  tunnelwatch -i eth0 --interval 5             # the tables every 5 s\n"
	"\n"
	"Leaves nothing behind: its tc filters go at the end, and the clsact qdisc too\n"
	"if tunnelwatch made it. A run killed with SIGKILL cannot clean up: the next\n"
	"run on the interface removes what it left, or 'tunnelwatch --detach -i IFACE'\n"
	"does at once. Several runs can watch one interface.\n"
	"\n"
	"Needs root (CAP_BPF and CAP_NET_ADMIN). Exit: 0 done, 1 error.";

enum { OPT_NETNS = 256, OPT_INTERVAL, OPT_NATIVE, OPT_DETACH };

static const struct argp_option opts[] = {
	{ "interface", 'i', "IFACE", 0, "Watch this interface (required)", 0 },
	{ "netns", OPT_NETNS, "NS", 0, "The interface is in this network namespace: a name in /run/netns or a path such as /proc/PID/ns/net", 0 },
	{ "json", 'j', NULL, 0, "One JSON object per packet, and one per table", 0 },
	{ "duration", 'd', "SECONDS", 0, "Watch for SECONDS, then print the tables and exit (default: until Ctrl-C)", 0 },
	{ "interval", OPT_INTERVAL, "S", 0, "Also print the tables every S seconds", 0 },
	{ "native", OPT_NATIVE, NULL, 0, "Also show plain IPv6 on an Ethernet interface", 0 },
	{ "detach", OPT_DETACH, NULL, 0, "Remove what a killed tunnelwatch left on IFACE, then exit", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's own messages (verifier log, attach details)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	struct env *env = state->input;

	switch (key) {
	case 'i':
		if (!*arg || strlen(arg) >= IF_NAMESIZE || strchr(arg, '/'))
			argp_failure(state, 1, 0, "-i '%s': not an interface name", arg);
		env->iface = arg;
		break;
	case OPT_NETNS:
		env->netns = arg;
		break;
	case 'j':
		env->json = true;
		break;
	case 'd':
		env->duration = tool_parse_num(arg, 1, 86400, "-d seconds", state);
		break;
	case OPT_INTERVAL:
		env->interval = tool_parse_num(arg, 1, 86400, "--interval seconds", state);
		break;
	case OPT_NATIVE:
		env->native = true;
		break;
	case OPT_DETACH:
		env->detach = true;
		break;
	case 'v':
		env->verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		argp_failure(state, 1, 0, "unexpected argument '%s'", arg);
		break;
	case ARGP_KEY_END:
		if (!env->iface)
			argp_failure(state, 1, 0, "which interface? give -i IFACE (ip link lists them)");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int parse_command_line(int argc, char **argv, struct env *env)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = argp_program_doc,
	};

	argp_err_exit_status = 1;
	return argp_parse(&argp, argc, argv, 0, NULL, env) ? -1 : 0;
}

/* ---- the machine and the interface ---- */

/* Enter the namespace NS (a name in /run/netns, or a path): the interface, tc and the marker
 * are all seen from there. */
static int enter_netns(const char *ns)
{
	char path[PATH_MAX];
	int fd, err;

	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		warn("--netns %s: cannot open %s (%s): ip netns list shows the names\n", ns, path,
		     strerror(errno));
		return -1;
	}
	err = setns(fd, CLONE_NEWNET);
	if (err)
		warn("--netns %s: %s is not a network namespace (%s)\n", ns, path, strerror(errno));
	close(fd);
	return err ? -1 : 0;
}

/* The interface's index and whether its packets start with an Ethernet header. */
static int find_interface(const struct env *env, struct target *t)
{
	struct ifreq ifr;
	struct stat st;
	int fd, type;

	t->ifindex = if_nametoindex(env->iface);
	if (!t->ifindex) {
		warn("no interface '%s' in %s%s (ip%s%s link lists them)\n", env->iface,
		     env->netns ? "network namespace " : "this network namespace",
		     env->netns ? env->netns : "", env->netns ? " -n " : "",
		     env->netns ? env->netns : "");
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", env->iface);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr)) {
		warn("cannot read the link type of %s: %s\n", env->iface, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	type = ifr.ifr_hwaddr.sa_family;
	t->l2 = type == ARPHRD_ETHER || type == ARPHRD_LOOPBACK;
	if (!t->l2 && type != ARPHRD_NONE && type != ARPHRD_TUNNEL && type != ARPHRD_SIT &&
	    type != ARPHRD_IPGRE && type != ARPHRD_TUNNEL6 && type != ARPHRD_VOID) {
		warn("%s: link type %d is neither Ethernet nor a plain IP (TUN) link\n", env->iface,
		     type);
		return -1;
	}
	if (stat("/proc/self/ns/net", &st))
		st.st_ino = 0;
	snprintf(t->marker_prefix, sizeof(t->marker_prefix), "%lu-%d", (unsigned long)st.st_ino,
		 t->ifindex);
	return 0;
}

/* ---- tc: attach and detach ----
 * Each run's filters have its pid as their handle, so that runs on one interface do not
 * replace each other's, and a marker file MARKER_DIR/<netns inode>-<ifindex>-<pid> says that
 * the run is there and whether it owns the clsact qdisc (it made it, or inherited it from a
 * run that was killed or that ended before it). */

static struct bpf_tc_hook hook_for(const struct target *t, enum bpf_tc_attach_point where)
{
	struct bpf_tc_hook h;

	memset(&h, 0, sizeof(h));
	h.sz = sizeof(h);
	h.ifindex = t->ifindex;
	h.attach_point = where;
	return h;
}

static struct bpf_tc_opts filter_of(pid_t pid, int prog_fd)
{
	struct bpf_tc_opts o;

	memset(&o, 0, sizeof(o));
	o.sz = sizeof(o);
	o.handle = pid;
	o.priority = TW_TC_PRIO;
	o.prog_fd = prog_fd;
	return o;
}

/* Remove run pid's filters; how many there were. */
static int detach_filters(const struct target *t, pid_t pid)
{
	static const enum bpf_tc_attach_point where[] = { BPF_TC_INGRESS, BPF_TC_EGRESS };
	int i, n = 0;

	for (i = 0; i < 2; i++) {
		struct bpf_tc_hook h = hook_for(t, where[i]);
		struct bpf_tc_opts q = filter_of(pid, 0);
		struct bpf_tc_opts o = filter_of(pid, 0);

		if (!bpf_tc_query(&h, &q) && !bpf_tc_detach(&h, &o))
			n++;
	}
	return n;
}

static void marker_path(const struct target *t, pid_t pid, char *buf, size_t n)
{
	snprintf(buf, n, MARKER_DIR "/%s-%d", t->marker_prefix, (int)pid);
}

static void write_marker(const struct target *t, pid_t pid, bool owns_qdisc)
{
	char path[PATH_MAX];
	FILE *fp;

	mkdir("/run/v6lab", 0755);
	mkdir(MARKER_DIR, 0755);
	marker_path(t, pid, path, sizeof(path));
	fp = fopen(path, "we");
	if (!fp) {
		warn("cannot write %s (%s): a SIGKILL now would leave the filters\n", path,
		     strerror(errno));
		return;
	}
	fputs(owns_qdisc ? "qdisc\n" : "\n", fp);
	fclose(fp);
}

static bool marker_owns_qdisc(const char *path)
{
	char line[16] = "";
	FILE *fp = fopen(path, "re");

	if (!fp)
		return false;
	if (!fgets(line, sizeof(line), fp))
		line[0] = 0;
	fclose(fp);
	return !strncmp(line, "qdisc", 5);
}

static bool is_tunnelwatch(pid_t pid)
{
	char path[64], comm[32] = "";
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fp = fopen(path, "re");
	if (!fp)
		return false;
	if (!fgets(comm, sizeof(comm), fp))
		comm[0] = 0;
	fclose(fp);
	return !strcmp(comm, "tunnelwatch\n");
}

/* The other runs on this interface: the live ones are counted (and the first one's pid kept);
 * a dead one's filters and marker are removed, and its qdisc, if it owned it, passes to us. */
struct others {
	int live, removed;
	pid_t a_live;
	bool inherited_qdisc;
};

static struct others scan_others(const struct target *t)
{
	struct others o = { 0 };
	char prefix[64], path[PATH_MAX];
	struct dirent *d;
	DIR *dir = opendir(MARKER_DIR);
	size_t plen;

	if (!dir)
		return o;
	snprintf(prefix, sizeof(prefix), "%s-", t->marker_prefix);
	plen = strlen(prefix);
	while ((d = readdir(dir))) {
		char *end;
		long pid;

		if (strncmp(d->d_name, prefix, plen))
			continue;
		pid = strtol(d->d_name + plen, &end, 10);
		if (*end || pid <= 0 || pid == getpid())
			continue;
		if (is_tunnelwatch(pid)) {
			if (!o.live++)
				o.a_live = pid;
			continue;
		}
		marker_path(t, pid, path, sizeof(path));
		o.removed += detach_filters(t, pid);
		o.inherited_qdisc |= marker_owns_qdisc(path);
		unlink(path);
	}
	closedir(dir);
	return o;
}

/* Attach both programs (handle: our pid), after removing what killed runs left. */
static int attach_all(const struct env *env, const struct target *t, struct tunnelwatch_bpf *skel)
{
	struct bpf_tc_hook h = hook_for(t, BPF_TC_INGRESS | BPF_TC_EGRESS);
	const struct {
		enum bpf_tc_attach_point where;
		struct bpf_program *prog;
		const char *name;
	} dirs[] = {
		{ BPF_TC_INGRESS, skel->progs.tw_ingress, "ingress" },
		{ BPF_TC_EGRESS, skel->progs.tw_egress, "egress" },
	};
	struct others o;
	bool made;
	int err, i;

	err = bpf_tc_hook_create(&h);
	if (err && err != -EEXIST) {
		warn("cannot add a clsact qdisc to %s: %s\n", env->iface, strerror(-err));
		return -1;
	}
	made = !err;
	o = scan_others(t);
	if (o.removed)
		warn("removed %d filter%s that a tunnelwatch killed earlier left on %s\n", o.removed,
		     o.removed == 1 ? "" : "s", env->iface);
	write_marker(t, getpid(), made || o.inherited_qdisc);
	for (i = 0; i < 2; i++) {
		struct bpf_tc_hook hd = hook_for(t, dirs[i].where);
		struct bpf_tc_opts f = filter_of(getpid(), bpf_program__fd(dirs[i].prog));

		err = bpf_tc_attach(&hd, &f);
		if (err) {
			warn("cannot attach to %s %s: %s\n", env->iface, dirs[i].name, strerror(-err));
			return -1;
		}
	}
	return 0;
}

/* Our filters go; the qdisc too if it is ours and no other run uses it (else it passes to
 * one of them). */
static void detach_all(const struct target *t)
{
	char path[PATH_MAX];
	struct others o;

	detach_filters(t, getpid());
	marker_path(t, getpid(), path, sizeof(path));
	o = scan_others(t);
	if (marker_owns_qdisc(path) || o.inherited_qdisc) {
		if (o.live) {
			write_marker(t, o.a_live, true);
		} else {
			struct bpf_tc_hook h = hook_for(t, BPF_TC_INGRESS | BPF_TC_EGRESS);

			bpf_tc_hook_destroy(&h);
		}
	}
	unlink(path);
}

/* --detach: what killed runs left; live runs are left alone. */
static void detach_leftovers(const struct env *env, const struct target *t)
{
	struct others o = scan_others(t);

	if (o.inherited_qdisc && !o.live) {
		struct bpf_tc_hook h = hook_for(t, BPF_TC_INGRESS | BPF_TC_EGRESS);

		bpf_tc_hook_destroy(&h);
	}
	printf("tunnelwatch: removed %d filter%s left on %s by killed runs%s", o.removed,
	       o.removed == 1 ? "" : "s", env->iface, o.inherited_qdisc && !o.live ? ", and their clsact qdisc" : "");
	if (o.live)
		printf("; %d running tunnelwatch left alone (pid %d%s)", o.live, (int)o.a_live,
		       o.live > 1 ? ", ..." : "");
	printf("\n");
}

/* ---- watching ---- */

struct run {
	struct env env;
	struct tw_tables tables;
	struct tunnelwatch_bpf *skel;
	unsigned long long start_ns;
};

static int on_packet(void *ctx, void *data, size_t size)
{
	struct run *r = ctx;
	const struct tw_event *e = data;

	if (size < sizeof(*e))
		return 0;
	tw_print_packet(stdout, e, r->start_ns, r->env.json);
	tw_tables_add(&r->tables, e);
	return 0;
}

static void print_tables(struct run *r, bool final)
{
	struct tw_counters c = r->skel->bss->counters;

	fflush(stdout);
	tw_print_tables(stdout, &r->tables, &c, r->start_ns, tool_mono_ns(), r->env.json, final);
}

static void on_signal(int sig)
{
	(void)sig;
	exiting = 1;
}

static int watch(struct run *r)
{
	struct ring_buffer *rb;
	unsigned long long end, next_table;
	int err = 0;

	rb = ring_buffer__new(bpf_map__fd(r->skel->maps.events), on_packet, r, NULL);
	if (!rb) {
		warn("cannot open the ring buffer: %s\n", strerror(errno));
		return -1;
	}
	end = r->env.duration ? r->start_ns + r->env.duration * 1000000000ULL : 0;
	next_table = r->env.interval ? r->start_ns + r->env.interval * 1000000000ULL : 0;
	while (!exiting) {
		unsigned long long now;

		err = ring_buffer__poll(rb, 50);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0) {
			warn("reading the ring buffer: %s\n", strerror(-err));
			break;
		}
		err = 0;
		fflush(stdout);
		now = tool_mono_ns();
		if (next_table && now >= next_table) {
			print_tables(r, false);
			next_table += r->env.interval * 1000000000ULL;
		}
		if (end && now >= end)
			break;
	}
	ring_buffer__consume(rb);
	ring_buffer__free(rb);
	return err ? -1 : 0;
}

int main(int argc, char **argv)
{
	static struct run r; /* the tables are large: not on the stack */
	struct target t;
	int err;

	if (parse_command_line(argc, argv, &r.env))
		return 1;
	if (!(tool_has_cap(TOOL_CAP_NET_ADMIN) &&
	      (tool_has_cap(TOOL_CAP_BPF) || tool_has_cap(TOOL_CAP_SYS_ADMIN)))) {
		warn("needs root (CAP_BPF and CAP_NET_ADMIN, to attach tc programs): run it with sudo\n");
		return 1;
	}
	if (r.env.netns && enter_netns(r.env.netns))
		return 1;
	if (find_interface(&r.env, &t))
		return 1;
	if (r.env.detach) {
		detach_leftovers(&r.env, &t);
		return 0;
	}
	libbpf_set_print(r.env.verbose ? tool_libbpf_print : NULL);

	r.skel = tunnelwatch_bpf__open();
	if (!r.skel) {
		warn("cannot open the BPF object: %s\n", strerror(errno));
		return 1;
	}
	r.skel->rodata->l2 = t.l2;
	r.skel->rodata->show_native = r.env.native;
	r.skel->rodata->wakeup_bytes = 64 * 1024;
	err = tunnelwatch_bpf__load(r.skel);
	if (err) {
		warn("loading the tc programs failed (%s): -v shows the verifier's log\n",
		     strerror(-err));
		tunnelwatch_bpf__destroy(r.skel);
		return 1;
	}
	tw_tables_init(&r.tables);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (attach_all(&r.env, &t, r.skel)) {
		detach_all(&t);
		tunnelwatch_bpf__destroy(r.skel);
		return 1;
	}
	r.start_ns = tool_mono_ns();
	warn("watching %s%s%s (%s, in and out)%s\n", r.env.iface, r.env.netns ? " in " : "",
	     r.env.netns ? r.env.netns : "", t.l2 ? "Ethernet" : "no link header",
	     r.env.duration ? "" : "; Ctrl-C to stop");
	err = watch(&r);
	detach_all(&t);
	print_tables(&r, true);
	tunnelwatch_bpf__destroy(r.skel);
	return err ? 1 : 0;
}
