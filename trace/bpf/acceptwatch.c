// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* acceptwatch: say why accept() did (or did not) fire, from the kernel.
 *
 * The loader: parse the CLI, check what the machine offers (privileges, BTF, tracefs), set the
 * filters, load the classic-tracepoint programs (acceptwatch.bpf.c), attach them one by one (a
 * missing optional tracepoint only loses its events), then either stream the events
 * (aw_print.c) or, with --diagnose, fold them (aw_diagnose.c) until the first accept() returns
 * or time is up, look at the listener in /proc (aw_proc.c) and print one verdict. */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf_tool.h"
#include "acceptwatch.h"
#include "acceptwatch.skel.h"
#include "aw_diagnose.h"
#include "aw_names.h"
#include "aw_print.h"
#include "aw_proc.h"

#define warn(...) fprintf(stderr, "acceptwatch: " __VA_ARGS__)

#define TRACEFS "/sys/kernel/tracing"
#define DEBUGFS_TRACING "/sys/kernel/debug/tracing"
#define VMLINUX_BTF "/sys/kernel/btf/vmlinux"
#define MAX_LISTENERS 256
#define MAX_SOCKET_FDS 256
#define MAX_LINKS 32

struct env {
	bool verbose;
	bool json;
	bool diagnose;
	bool syn;
	bool poll;
	int diag_seconds;
	int duration; /* -d: stream for this many seconds, then exit 0 (0: until Ctrl-C) */
	pid_t pid;
	int family;
	unsigned int netns;
	unsigned short ports[AW_MAX_PORTS];
	int nports;
	bool ports_given; /* -P; without it, -p PID watches the ports that process listens on */
};

/* Everything one run holds: main() has it, and hands it down. */
struct run {
	struct env env;
	const char *tracefs;
	struct aw_enum_names drop_reasons, rst_reasons;
	struct aw_netns_names netns;
	struct acceptwatch_bpf *skel;
	struct bpf_link *links[MAX_LINKS];
	int learn; /* index of sock:sk_data_ready's link in links[], -1 if none */
	/* Listeners that were there before us, not yet known to the BPF side (see
	 * acceptwatch.bpf.c): sock:sk_data_ready stays attached until there are none. */
	struct aw_listener_key unknown[MAX_LISTENERS];
	int nunknown;
	unsigned long long start_ns;
	struct aw_printer printer;
	struct aw_diag diag;
};

/* The one thing a signal handler may touch. */
static volatile sig_atomic_t exiting;

/* ---- command line ---- */

const char *argp_program_version = "acceptwatch (v6lab) " V6LAB_VERSION;
const char argp_program_doc[] =
	"Say why accept() did (or did not) fire, from the kernel.\n"
	"\n"
	"Watches accept()/accept4() (who, which fd, how long it blocked, what it\n"
	"returned), TCP state changes on the port, the listen backlog, SYN-ACK\n"
	"retransmissions, resets, and packets the kernel drops (drop reason named\n"
	"from this kernel's BTF), in every network namespace; with --syn (and always\n"
	"with --diagnose) also every SYN for the port that reaches the host, plain\n"
	"or inside a 6in4 or Teredo tunnel; with --poll (and always with --diagnose)\n"
	"every poll/ppoll/select/pselect6/epoll_wait that waits on the listener.\n"
	"\n"
	"USAGE: acceptwatch [-P PORT]... [-p PID] [-4|-6] [--netns NS] [--json]\n"
	"                   [--syn] [--poll] [-v] [-d SECONDS] [--diagnose [SECONDS]]\n"
	"\n"
	"EXAMPLES:\n"
	"  acceptwatch -P 5000                # stream events for port 5000\n"
	"  acceptwatch -P 5000 -d 10          # the same for 10 seconds\n"
	"  acceptwatch -P 5000 --syn          # and each SYN that reaches the host\n"
	"  acceptwatch -P 5000 --poll         # and each poll() on the listener\n"
	"  acceptwatch -P 5000 --diagnose 10  # wait <= 10 s for accept(): verdict\n"
	"  acceptwatch -P 5000 -P 5001 --json # two ports, one JSON object per event\n"
	"  acceptwatch -p 1234                # accept() of pid 1234, and its ports\n"
	"  acceptwatch -6 -P 5000 --netns srv # IPv6 only, netns /run/netns/srv\n"
	"\n"
	"Needs root (CAP_BPF, CAP_PERFMON), kernel BTF, tracefs (mounted if needed).\n"
	"Exit: 0 accept() returned or tracing ended, 2 --diagnose saw no accept(),\n"
	"1 error.";

enum { OPT_NETNS = 256, OPT_DIAGNOSE, OPT_SYN, OPT_POLL };

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
	{ "poll", OPT_POLL, NULL, 0, "Also show each poll/select/epoll_wait call that waits on a watched listener (probes on every such call; always on with --diagnose)", 0 },
	{ "verbose", 'v', NULL, 0, "Show libbpf's own messages (verifier log, attach details)", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
	{},
};

#define NSFS_MAGIC_NUMBER 0x6e736673 /* linux/magic.h NSFS_MAGIC */

/* A netns is named by the inode of its nsfs file: a number, /run/netns/NAME, or any path to
 * a namespace file (not any file: /etc/passwd would filter out everything, silently). */
static int resolve_netns(const char *arg, unsigned int *ino)
{
	char path[PATH_MAX];
	struct statfs sfs;
	struct stat st;

	if (aw_all_digits(arg)) {
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
	struct env *env = state->input;

	switch (key) {
	case 'P':
		if (env->nports >= AW_MAX_PORTS)
			argp_failure(state, 1, 0, "too many ports (at most %d)", AW_MAX_PORTS);
		env->ports[env->nports++] = tool_parse_num(arg, 1, 65535, "port", state);
		env->ports_given = true;
		break;
	case 'p':
		env->pid = tool_parse_num(arg, 1, INT_MAX, "pid", state);
		break;
	case '4':
	case '6':
		if (env->family)
			argp_failure(state, 1, 0, "-4 and -6 exclude each other");
		env->family = key == '4' ? AF_INET : AF_INET6;
		break;
	case OPT_NETNS:
		if (resolve_netns(arg, &env->netns))
			argp_failure(state, 1, 0, "--netns %s: not a netns inode, a name in /run/netns or a path to a namespace file", arg);
		break;
	case 'j':
		env->json = true;
		break;
	case 'd':
		env->duration = tool_parse_num(arg, 1, 86400, "-d seconds", state);
		break;
	case OPT_DIAGNOSE:
		env->diagnose = true;
		if (arg)
			env->diag_seconds = tool_parse_num(arg, 1, 86400, "--diagnose seconds", state);
		break;
	case OPT_SYN:
		env->syn = true;
		break;
	case OPT_POLL:
		env->poll = true;
		break;
	case 'v':
		env->verbose = true;
		break;
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		/* Allow "--diagnose 10" as well as "--diagnose=10". */
		if (env->diagnose && aw_all_digits(arg))
			env->diag_seconds = tool_parse_num(arg, 1, 86400, "--diagnose seconds", state);
		else
			argp_failure(state, 1, 0, "unexpected argument '%s'", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

/* The command line, checked; -1 after saying what is wrong. */
static int parse_command_line(int argc, char **argv, struct env *env)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = argp_program_doc,
	};

	argp_err_exit_status = 1; /* a bad command line exits 1, like every other error */
	if (argp_parse(&argp, argc, argv, 0, NULL, env))
		return -1;
	if (env->diagnose && !env->nports && !env->pid) {
		warn("--diagnose needs the port to watch: add -P PORT (or -p PID)\n");
		return -1;
	}
	if (env->diagnose && env->nports > 1) {
		warn("--diagnose gives one verdict for one port: give a single -P PORT\n");
		return -1;
	}
	if (env->pid && kill(env->pid, 0) && errno == ESRCH) {
		warn("-p %d: no such process\n", env->pid);
		return -1;
	}
	return 0;
}

/* ---- what the machine offers ---- */

/* libbpf finds tracepoint ids in tracefs: mount it if nobody did. Where it is, or NULL. */
static const char *ensure_tracefs(bool verbose)
{
	if (!access(TRACEFS "/events", F_OK))
		return TRACEFS;
	if (!access(DEBUGFS_TRACING "/events", F_OK))
		return DEBUGFS_TRACING;
	if (mount("nodev", TRACEFS, "tracefs", 0, NULL)) {
		warn("tracefs is not mounted and mounting it failed (%s): run: mount -t tracefs nodev %s\n",
		     strerror(errno), TRACEFS);
		return NULL;
	}
	if (verbose)
		warn("mounted tracefs on %s\n", TRACEFS);
	return TRACEFS;
}

static bool tracepoint_exists(const char *tracefs, const char *category, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/events/%s/%s", tracefs, category, name);
	return !access(path, F_OK);
}

/* enum skb_drop_reason grows every release: read it from this kernel's BTF. */
static void read_kernel_enum(const struct btf *btf, const char *type, const char *prefix,
			     struct aw_enum_names *out)
{
	const struct btf_type *t;
	const struct btf_enum *e;
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
	if (aw_enum_init(out, max))
		return;
	for (i = 0; i < btf_vlen(t); i++)
		aw_enum_set(out, e[i].val, btf__name_by_offset(btf, e[i].name_off), prefix);
}

/* Root, BTF, tracefs, and the kernel's names; -1 after saying what is missing. */
static int check_machine(struct run *run)
{
	struct btf *vmlinux;

	if (!(tool_has_cap(TOOL_CAP_SYS_ADMIN) ||
	      (tool_has_cap(TOOL_CAP_BPF) && tool_has_cap(TOOL_CAP_PERFMON)))) {
		warn("needs root (CAP_BPF and CAP_PERFMON) to load eBPF programs: run it with sudo\n");
		return -1;
	}
	if (access(VMLINUX_BTF, R_OK)) {
		warn("kernel BTF %s not found: this kernel lacks CONFIG_DEBUG_INFO_BTF=y, acceptwatch cannot run\n",
		     VMLINUX_BTF);
		return -1;
	}
	if (!(run->tracefs = ensure_tracefs(run->env.verbose)))
		return -1;
	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux) {
		warn("cannot read kernel BTF %s: %s\n", VMLINUX_BTF, strerror(errno));
		return -1;
	}
	read_kernel_enum(vmlinux, "skb_drop_reason", "SKB_DROP_REASON_", &run->drop_reasons);
	read_kernel_enum(vmlinux, "sk_rst_reason", "SK_RST_REASON_", &run->rst_reasons);
	btf__free(vmlinux);
	return 0;
}

/* ---- configure: filters, and what to load ---- */

/* -p PID without -P: the ports PID already listens on (its own sockets: a listener it shares
 * with a parent or a socket-activating init counts too). */
static void add_ports_of_pid(struct env *env)
{
	struct aw_listener_filter f = { .holder = env->pid };
	struct aw_listener ls[MAX_LISTENERS];
	int n = aw_proc_listeners(&f, ls, MAX_LISTENERS);

	for (int i = 0; i < n; i++) {
		bool dup = false;

		for (int j = 0; j < env->nports; j++)
			dup |= env->ports[j] == ls[i].port;
		if (!dup && env->nports < AW_MAX_PORTS)
			env->ports[env->nports++] = ls[i].port;
	}
}

/* The listeners on watched ports now, in every network namespace, within the scope the BPF
 * side watches (--netns, -4/-6: a listener out of scope would never be learnt). */
static int existing_listeners(const struct env *env, struct aw_listener *ls, int max)
{
	struct aw_listener_filter f = {
		.netns = env->netns,
		.family = env->family,
		/* neither -P nor -p: every port */
		.ports = env->ports_given || env->pid ? env->ports : NULL,
		.nports = env->nports,
	};

	return aw_proc_listeners(&f, ls, max);
}

static void note_unknown(struct run *run, const struct aw_listener *ls, int n)
{
	for (int i = 0; i < n && run->nunknown < MAX_LISTENERS; i++) {
		struct aw_listener_key key = { .netns = ls[i].netns, .port = ls[i].port };
		bool dup = false;

		for (int k = 0; k < run->nunknown; k++)
			dup |= !memcmp(&run->unknown[k], &key, sizeof(key));
		if (!dup)
			run->unknown[run->nunknown++] = key;
	}
}

/* The descriptors of these listeners, in every process (-p: in that one only). */
static int listener_fds(const struct env *env, const struct aw_listener *ls, int n,
			struct aw_socket_fd *fds, int max)
{
	unsigned long inodes[MAX_LISTENERS];
	int nfds, k = 0;

	for (int i = 0; i < n; i++)
		inodes[i] = ls[i].inode;
	nfds = aw_proc_socket_fds(inodes, n, fds, max);
	for (int i = 0; i < nfds; i++)
		if (!env->pid || fds[i].pid == env->pid)
			fds[k++] = fds[i];
	return k;
}

/* epoll_wait() names only its set: tell the BPF side the sets that watch a listener already
 * (those made from now on, it learns from epoll_ctl()). */
static void tell_epoll_sets(struct run *run, const struct aw_listener *ls, int n)
{
	struct aw_socket_fd fds[MAX_SOCKET_FDS];
	struct aw_epoll_fd eps[64];
	int nfds = listener_fds(&run->env, ls, n, fds, MAX_SOCKET_FDS);
	int neps = aw_proc_epolls(fds, nfds, eps, 64);

	for (int i = 0; i < neps; i++) {
		struct aw_epoll_key key = { .tgid = eps[i].pid, .epfd = eps[i].epfd };

		bpf_map__update_elem(run->skel->maps.epolls, &key, sizeof(key), &eps[i].fd,
				     sizeof(eps[i].fd), 0);
	}
}

/* The programs on poll(), select(), epoll_wait() and their sys_exit: one more probe on every
 * such call of every process, for --poll and --diagnose only. */
static void load_poll_programs(const struct acceptwatch_bpf *skel, bool on)
{
	struct bpf_program *const progs[] = {
		skel->progs.aw_enter_poll, skel->progs.aw_enter_ppoll, skel->progs.aw_enter_select,
		skel->progs.aw_enter_pselect6, skel->progs.aw_enter_epoll_wait,
		skel->progs.aw_enter_epoll_pwait, skel->progs.aw_enter_epoll_pwait2,
		skel->progs.aw_enter_epoll_ctl, skel->progs.aw_exit_poll,
	};

	for (size_t i = 0; i < sizeof(progs) / sizeof(progs[0]); i++)
		bpf_program__set_autoload(progs[i], on);
}

/* Open the BPF object, set its filters, load it; -1 after saying why not. */
static int configure(struct run *run)
{
	const struct env *env = &run->env;
	struct aw_listener ls[MAX_LISTENERS];
	bool polling = env->poll || env->diagnose;
	int nls, err;

	run->skel = acceptwatch_bpf__open();
	if (!run->skel) {
		warn("cannot open the BPF object: %s\n", strerror(errno));
		return -1;
	}
	run->skel->rodata->targ_tgid = env->pid;
	run->skel->rodata->targ_family = env->family;
	run->skel->rodata->targ_netns = env->netns;
	run->skel->rodata->filter_ports = env->ports_given || env->pid;
	run->skel->rodata->accept_by_port = env->ports_given && !env->pid;
	/* -p alone: the ports it listens on now (add_ports_of_pid) and those it will listen on */
	run->skel->rodata->follow_listen = env->pid && !env->ports_given;
	/* Streaming under load: drain on the poll timeout instead of a wake-up per event. */
	run->skel->rodata->wakeup_bytes = env->diagnose ? 0 : 64 * 1024;
	/* The per-packet, per-segment and per-poll probes only when needed (see acceptwatch.bpf.c). */
	bpf_program__set_autoload(run->skel->progs.aw_receive, env->syn || env->diagnose);
	load_poll_programs(run->skel, polling);
	nls = existing_listeners(env, ls, MAX_LISTENERS);
	note_unknown(run, ls, nls);
	bpf_program__set_autoload(run->skel->progs.aw_data_ready, run->nunknown > 0);
	run->skel->bss->learning_listeners = run->nunknown > 0;

	err = acceptwatch_bpf__load(run->skel);
	if (err) {
		if (err == -EPERM)
			warn("the kernel refused to load the BPF programs (%s): run as root (CAP_BPF and CAP_PERFMON)\n",
			     strerror(-err));
		else
			warn("cannot load the BPF programs: %s (rerun with -v for libbpf's log)\n",
			     strerror(-err));
		return -1;
	}
	for (int i = 0; i < env->nports; i++) {
		__u32 port = env->ports[i];
		__u8 one = 1;

		if (bpf_map__update_elem(run->skel->maps.ports, &port, sizeof(port), &one, sizeof(one), 0)) {
			warn("cannot set the port filter: %s\n", strerror(errno));
			return -1;
		}
	}
	if (polling)
		tell_epoll_sets(run, ls, nls);
	return 0;
}

/* ---- attach ---- */

struct hook {
	struct bpf_program *prog;
	const char *category, *name;
	const char *lost; /* what is missing without it; NULL = required */
};

/* Attach every program that is loaded, to each of its tracepoints, into run->links[]; 0, or -1
 * when a required tracepoint is missing. */
static int attach_all(struct run *run)
{
	const struct acceptwatch_bpf *skel = run->skel;
	const char *polls = "waits in poll()/select()/epoll_wait() on the listener";
	const struct hook hooks[] = {
		{ skel->progs.aw_enter_accept, "syscalls", "sys_enter_accept", "accept() wait times" },
		{ skel->progs.aw_enter_accept4, "syscalls", "sys_enter_accept4", "accept4() wait times" },
		{ skel->progs.aw_exit_accept, "syscalls", "sys_exit_accept", NULL },
		{ skel->progs.aw_exit_accept4, "syscalls", "sys_exit_accept4", NULL },
		{ skel->progs.aw_set_state, "sock", "inet_sock_set_state", "TCP state changes" },
		{ skel->progs.aw_data_ready, "sock", "sk_data_ready",
		  "accept queue lengths of listeners that were there before acceptwatch, until they accept()" },
		{ skel->progs.aw_receive, "net", "netif_receive_skb", "SYN arrivals" },
		{ skel->progs.aw_kfree_skb, "skb", "kfree_skb", "drops and drop reasons" },
		{ skel->progs.aw_retransmit_synack, "tcp", "tcp_retransmit_synack", "SYN-ACK retransmissions" },
		{ skel->progs.aw_send_reset, "tcp", "tcp_send_reset", "resets sent" },
		{ skel->progs.aw_receive_reset, "tcp", "tcp_receive_reset", "resets received" },
		{ skel->progs.aw_enter_poll, "syscalls", "sys_enter_poll", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_poll", polls },
		{ skel->progs.aw_enter_ppoll, "syscalls", "sys_enter_ppoll", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_ppoll", polls },
		{ skel->progs.aw_enter_select, "syscalls", "sys_enter_select", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_select", polls },
		{ skel->progs.aw_enter_pselect6, "syscalls", "sys_enter_pselect6", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_pselect6", polls },
		{ skel->progs.aw_enter_epoll_wait, "syscalls", "sys_enter_epoll_wait", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_epoll_wait", polls },
		{ skel->progs.aw_enter_epoll_pwait, "syscalls", "sys_enter_epoll_pwait", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_epoll_pwait", polls },
		{ skel->progs.aw_enter_epoll_pwait2, "syscalls", "sys_enter_epoll_pwait2", polls },
		{ skel->progs.aw_exit_poll, "syscalls", "sys_exit_epoll_pwait2", polls },
		{ skel->progs.aw_enter_epoll_ctl, "syscalls", "sys_enter_epoll_ctl",
		  "epoll sets made after start that watch the listener" },
	};
	const int n = sizeof(hooks) / sizeof(hooks[0]);

	_Static_assert(sizeof(hooks) / sizeof(hooks[0]) <= MAX_LINKS, "raise MAX_LINKS");
	for (int i = 0; i < n; i++) {
		const struct hook *h = &hooks[i];

		if (!bpf_program__autoload(h->prog))
			continue; /* not needed this time (see configure) */
		if (h->prog == skel->progs.aw_data_ready)
			run->learn = i;
		if (!tracepoint_exists(run->tracefs, h->category, h->name)) {
			if (!h->lost) {
				warn("tracepoint %s:%s does not exist on this kernel: accept() cannot be watched here\n",
				     h->category, h->name);
				return -1;
			}
			warn("tracepoint %s:%s does not exist on this kernel: no %s\n", h->category,
			     h->name, h->lost);
			continue;
		}
		run->links[i] = bpf_program__attach_tracepoint(h->prog, h->category, h->name);
		if (run->links[i])
			continue;
		if (!h->lost) {
			warn("cannot attach to tracepoint %s:%s (%s): accept() cannot be watched on this kernel\n",
			     h->category, h->name, strerror(errno));
			return -1;
		}
		warn("tracepoint %s:%s unavailable (%s): no %s\n", h->category, h->name,
		     strerror(errno), h->lost);
	}
	if (run->nunknown && (run->learn < 0 || !run->links[run->learn])) {
		run->nunknown = 0; /* sk_data_ready is not there: nothing will learn them */
		run->skel->bss->learning_listeners = false;
	}
	if (run->env.verbose)
		warn("%s; net:netif_receive_skb %s; poll/select/epoll_wait calls %s\n",
		     run->nunknown ? "sock:sk_data_ready attached until the listeners that were there before start are known"
				   : "sock:sk_data_ready not needed (no listener on the watched ports before start)",
		     run->env.syn || run->env.diagnose ? "attached (SYNs)" : "not attached (no --syn)",
		     run->env.poll || run->env.diagnose ? "watched" : "not watched (no --poll)");
	return 0;
}

static void *destroy_link(void *link)
{
	bpf_link__destroy(link);
	return NULL;
}

/* Detaching a tracepoint waits for an RCU grace period (tens of ms), and one after the other
 * the 26 of --diagnose take a second or two: each in a thread of its own, they wait together. */
static void detach_all(struct bpf_link **links, int n)
{
	pthread_t threads[MAX_LINKS];
	bool started[MAX_LINKS] = {};

	for (int i = 0; i < n && i < MAX_LINKS; i++) {
		if (!links[i])
			continue;
		started[i] = !pthread_create(&threads[i], NULL, destroy_link, links[i]);
		if (!started[i])
			bpf_link__destroy(links[i]);
		links[i] = NULL;
	}
	for (int i = 0; i < n && i < MAX_LINKS; i++)
		if (started[i])
			pthread_join(threads[i], NULL);
}

/* Forget the listeners the BPF side knows now; once none is left, detach sk_data_ready. */
static void check_learnt(struct run *run)
{
	int fd = bpf_map__fd(run->skel->maps.listeners);
	__u64 sk;

	for (int i = 0; i < run->nunknown;) {
		if (!bpf_map_lookup_elem(fd, &run->unknown[i], &sk))
			run->unknown[i] = run->unknown[--run->nunknown];
		else
			i++;
	}
	if (run->nunknown)
		return;
	run->skel->bss->learning_listeners = false;
	bpf_link__destroy(run->links[run->learn]);
	run->links[run->learn] = NULL;
	if (run->env.verbose)
		warn("all listeners that were there before start are known: sock:sk_data_ready detached\n");
}

/* ---- dispatch, and the poll loop ---- */

/* A record holds one event, or several that happened back to back on one CPU (the
 * handshake's final ACK: SYN_RECV, ESTABLISHED, queued): each is handled on its own. */
static int handle_event(void *ctx, void *data, size_t size)
{
	struct run *run = ctx;
	const struct aw_event *e = data;

	for (; size >= sizeof(*e); size -= sizeof(*e), e++) {
		if (!e->type || e->type > AW_EVENT_MAX)
			continue;
		if (run->env.diagnose)
			aw_diag_fold(&run->diag, e, &run->drop_reasons);
		else
			aw_print_event(&run->printer, e);
	}
	return 0;
}

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

/* "port 5000,5001, pid 42", or "all TCP ports" */
static void describe_watch(const struct env *env, char *what, size_t size)
{
	int n = 0;

	what[0] = '\0';
	for (int i = 0; i < env->nports; i++)
		n += snprintf(what + n, size - n, "%s%u", i ? "," : "port ", env->ports[i]);
	if (env->pid)
		snprintf(what + n, size - n, "%spid %d", n ? ", " : "", env->pid);
	if (!what[0])
		snprintf(what, size, "all TCP ports");
}

/* Read events until Ctrl-C, the deadline, or (--diagnose) the first accept(); -1 on error. */
static int watch(struct run *run)
{
	const struct env *env = &run->env;
	unsigned long long deadline = 0;
	struct ring_buffer *rb;
	char what[256];
	int err = 0;

	rb = ring_buffer__new(bpf_map__fd(run->skel->maps.events), handle_event, run, NULL);
	if (!rb) {
		warn("cannot create the ring buffer: %s\n", strerror(errno));
		return -1;
	}
	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	run->start_ns = run->printer.start_ns = tool_mono_ns();
	describe_watch(env, what, sizeof(what));
	if (env->diagnose) {
		deadline = run->start_ns + env->diag_seconds * 1000000000ULL;
		warn("watching %s for up to %d s, until accept() returns\n", what, env->diag_seconds);
	} else {
		if (env->duration) {
			deadline = run->start_ns + env->duration * 1000000000ULL;
			warn("tracing %s for %d s\n", what, env->duration);
		} else {
			warn("tracing %s; Ctrl-C to end\n", what);
		}
		if (!env->json)
			aw_print_header(&run->printer);
	}
	while (!exiting) {
		err = ring_buffer__poll(rb, 50);
		if (err >= 0)
			err = ring_buffer__consume(rb);
		if (err < 0 && err != -EINTR) {
			warn("reading events failed: %s\n", strerror(-err));
			break;
		}
		err = 0;
		fflush(stdout);
		if (run->nunknown)
			check_learnt(run);
		if (env->diagnose && aw_diag_finished(&run->diag))
			break;
		if ((env->diagnose || env->duration) && tool_mono_ns() >= deadline)
			break;
	}
	ring_buffer__consume(rb); /* what came after the last poll */
	ring_buffer__free(rb);
	return err ? -1 : 0;
}

/* ---- the verdict ---- */

/* What /proc says now, then the verdict; the exit status (0: accept() returned, 2: not). */
static int give_verdict(struct run *run)
{
	const struct env *env = &run->env;
	const struct aw_event *rst = aw_diag_rst(&run->diag);
	unsigned short port = env->nports ? env->ports[0] : run->diag.syn.lport;
	struct aw_listener_filter here = { .netns = env->netns, .port = port };
	struct aw_listener ls[MAX_LISTENERS];
	struct aw_owned_listener owned[MAX_LISTENERS];
	struct aw_socket_fd fds[MAX_SOCKET_FDS];
	struct aw_waiter waiters[16];
	struct aw_diag_facts f = {
		.port = port,
		.start_ns = run->start_ns,
		.end_ns = tool_mono_ns(),
		.netns_filter = env->netns,
		.lost_events = run->skel->bss->lost_events,
		.drop_reasons = &run->drop_reasons,
		.rst_reasons = &run->rst_reasons,
		.netns_names = &run->netns,
		.rst_listeners = owned,
		.listeners = ls,
		.waiters = waiters,
	};
	struct aw_report r;
	int nfds;

	aw_netns_refresh(&run->netns);
	if (rst) {
		/* "nothing listens on A:P": what does listen on P in that namespace? */
		struct aw_listener_filter there = { .netns = rst->netns, .port = rst->lport };
		struct aw_listener rls[MAX_LISTENERS];
		unsigned long inodes[MAX_LISTENERS];
		int n;

		f.rst_netns_has_process = aw_proc_pid_in_netns(rst->netns) != 0;
		n = f.rst_netns_has_process ? aw_proc_listeners(&there, rls, MAX_LISTENERS) : 0;
		for (int i = 0; i < n; i++)
			inodes[i] = rls[i].inode;
		nfds = aw_proc_socket_fds(inodes, n, fds, MAX_SOCKET_FDS);
		for (int i = 0; i < n; i++) {
			owned[i] = (struct aw_owned_listener){ .l = rls[i] };
			for (int j = 0; j < nfds && !owned[i].pid; j++)
				if (fds[j].inode == rls[i].inode) {
					owned[i].pid = fds[j].pid;
					memcpy(owned[i].comm, fds[j].comm, sizeof(owned[i].comm));
				}
		}
		f.n_rst_listeners = n;
	}
	/* Who waits on the port's listeners now: a server in accept() or poll() is ready. */
	f.nlisteners = aw_proc_listeners(&here, ls, MAX_LISTENERS);
	nfds = listener_fds(env, ls, f.nlisteners, fds, MAX_SOCKET_FDS);
	f.nwaiters = aw_proc_waiters(fds, nfds, waiters, 16);

	aw_diag_verdict(&run->diag, &f, &r);
	aw_print_report(&run->printer, &r, &run->diag, port);
	return run->diag.accepted ? 0 : 2;
}

int main(int argc, char **argv)
{
	struct run run = { .env = { .diag_seconds = 30 }, .learn = -1 };
	int status = 1;

	if (parse_command_line(argc, argv, &run.env))
		return 1;
	/* Line-buffered on a terminal; piped or redirected, one write per ring-buffer batch (the
	 * loop flushes after each poll), not one per event: an accept loop makes 6 events per
	 * connection, and every write is a syscall competing with the traced server. */
	if (isatty(STDOUT_FILENO))
		setvbuf(stdout, NULL, _IOLBF, 0);
	else
		setvbuf(stdout, NULL, _IOFBF, 64 * 1024);
	libbpf_set_print(run.env.verbose ? tool_libbpf_print : NULL);
	if (check_machine(&run))
		goto cleanup;
	if (run.env.pid && !run.env.ports_given)
		add_ports_of_pid(&run.env);
	if (run.env.diagnose && !run.env.nports)
		warn("pid %d listens on no TCP port yet: watching the ports it will listen on\n",
		     run.env.pid);
	run.printer = (struct aw_printer){ .json = run.env.json, .drop_reasons = &run.drop_reasons,
					   .rst_reasons = &run.rst_reasons, .netns = &run.netns };
	if (configure(&run) || attach_all(&run) || watch(&run))
		goto cleanup;
	status = run.env.diagnose ? give_verdict(&run) : 0;
	fflush(stdout);
	if (run.skel->bss->lost_events)
		warn("%llu events were lost: the ring buffer was full (the reader fell behind; --json and a slow terminal are the slowest outputs)\n",
		     (unsigned long long)run.skel->bss->lost_events);
cleanup:
	detach_all(run.links, MAX_LINKS);
	acceptwatch_bpf__destroy(run.skel);
	aw_enum_free(&run.drop_reasons);
	aw_enum_free(&run.rst_reasons);
	return status;
}
