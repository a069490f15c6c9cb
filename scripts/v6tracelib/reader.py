# SPDX-License-Identifier: MIT
"""Reading a v6lab trace with babeltrace2's Python bindings (bt2), fast.

bt2's convenient API (TraceCollectionMessageIterator, msg.event.payload_field[...]) wraps
every message, event, field and clock snapshot in a Python object and runs the graph once
per message: about 8 µs an event, several times `babeltrace2 TRACE >/dev/null`. Here the
graph is the same (source.ctf.fs per trace -> filter.utils.muxer -> our sink) but the sink
takes the messages in batches and reads them through bt2's native layer (the SWIG
functions under the wrappers): the event's name is looked up once per event class, and an
event whose name is not wanted costs a few native calls, no Python object.
"""
import json
import operator
import os
import pickle
import struct
import tempfile

import bt2
from bt2 import event_class as _bt2_event_class
from bt2 import message as _bt2_message
from bt2 import _native_bt as N
from bt2 import utils as _bt2_utils

# Enum fields of the v6lab providers (trace/README.md): value -> label, as babeltrace2 prints.
ENUMS = {
    "role": {0: "other", 1: "ipv4-server", 2: "ipv4-client", 3: "ipv6-server", 4: "ipv6-client"},
    "kind": {0: "closed", 1: "socket", 2: "pipe", 3: "tty", 4: "file", 5: "other"},
    "family": {0: "AF_UNSPEC", 1: "AF_UNIX", 2: "AF_INET", 10: "AF_INET6"},
    "outcome": {0: "failed", 1: "created", 2: "existing"},
    "cmd": {0: "IPC_RMID", 1: "IPC_SET", 2: "IPC_STAT", 3: "IPC_INFO"},
}


class Event:
    """One event: ts (ns from origin), vpid, vtid, procname, name ('v6lab_io:read'), f
    (payload: field name -> int or str, enums as their label)."""
    __slots__ = ("ts", "vpid", "vtid", "procname", "name", "f")

    def __init__(self, ts, vpid, vtid, procname, name, f):
        self.ts, self.vpid, self.vtid, self.procname, self.name, self.f = \
            ts, vpid, vtid, procname, name, f

    @property
    def short(self):
        """'read' for 'v6lab_io:read'."""
        return self.name.split(":", 1)[1]

    def __repr__(self):
        return f"Event({self.ts}, {self.vpid}, {self.name}, {self.f})"


# Written by `scripts/trace -o DIR -- COMMAND` next to the CTF trace: {"command_pid": N}.
COMMAND_FILE = "v6lab-command.json"


def command_pid(path):
    """The traced command's pid from path/COMMAND_FILE, or None (no file, or unreadable)."""
    try:
        with open(os.path.join(path, COMMAND_FILE)) as f:
            pid = json.load(f).get("command_pid")
    except (OSError, ValueError, AttributeError):
        return None
    return pid if isinstance(pid, int) and pid > 0 else None


def trace_dirs(path):
    """The CTF traces under path (directories holding a 'metadata' file)."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such trace directory")
    found = []
    for root, _, files in os.walk(path):
        if "metadata" in files:
            found.append(root)
    if not found:
        raise ValueError(f"{path}: no CTF trace under it (no 'metadata' file): "
                         "capture one with scripts/trace -o DIR -- COMMAND")
    return sorted(found)


class _Enum(dict):
    """value -> label, or the value itself when it has no label."""
    def __missing__(self, v):
        return v


def _decoder(field_class, only=None):
    """A function reading the members of a structure field (all, or those named in only)
    into a dict: straight-line code made once per event class, since it runs per event."""
    if field_class is None:
        return None
    lines, env = [], {"B": N.field_structure_borrow_member_field_by_index_const}
    for i, (name, member) in enumerate(field_class.items()):
        if only is not None and name not in only:
            continue
        fc = member.field_class
        if isinstance(fc, bt2._SignedIntegerFieldClassConst):
            get = "N.field_integer_signed_get_value"
        elif isinstance(fc, bt2._UnsignedIntegerFieldClassConst):
            get = "N.field_integer_unsigned_get_value"
        elif isinstance(fc, bt2._StringFieldClassConst):
            get = "N.field_string_get_value"
        else:
            continue  # not used by v6lab
        g = f"g{i}"
        env[g] = eval(get, {"N": N})
        value = f"{g}(B(p, {i}))"
        if name in ENUMS:
            env[f"E{i}"] = _Enum(ENUMS[name])
            value = f"E{i}[{value}]"
        lines.append(f"{name!r}: {value}")
    src = "def decode(p):\n    return {" + ", ".join(lines) + "}\n"
    exec(src, env)
    return env["decode"]


class _Class:
    """What we know of one event class: its name, and how to read it."""
    __slots__ = ("name", "payload", "context")

    def __init__(self, ptr, fields):
        ec = _bt2_event_class._EventClassConst._create_from_ptr_and_get_ref(ptr)
        self.name = ec.name
        only = fields.get(self.name) if fields else None
        self.payload = _decoder(ec.payload_field_class, only)
        self.context = _decoder(ec.stream_class.event_common_context_field_class,
                                ("vpid", "vtid") if fields else None)


class Stats:
    """Counted while reading: events, events per name, discarded events."""

    def __init__(self):
        self.events = 0
        self.by_name = {}
        self.discarded = 0
        self.first_ts = None  # time of the first event (decoded or not)


class _Sink(bt2._UserSinkComponent):
    def __init__(self, config, params, job):
        self._job = job
        self._add_input_port("in")

    def _user_graph_is_configured(self):
        self._it = self._create_message_iterator(self._input_ports["in"])

    def _user_consume(self):
        status, msgs = N.bt2_self_component_port_input_get_msg_range(self._it._ptr)
        _bt2_utils._handle_func_status(status, "cannot read the trace")
        self._job.take(msgs)


class _Job:
    def __init__(self, want, on_event, stats):
        self.want, self.on_event, self.stats = want, on_event, stats
        # want as a dict: event name -> the payload fields to decode (a speed-up)
        self.fields = want if isinstance(want, dict) else None
        self.classes = {}  # event class pointer (int) -> _Class

    def _new_class(self, cp, ptr):
        c = _Class(ptr, self.fields)
        want = self.want is None or c.name in self.want
        entry = self.classes[cp] = [0, c.name, want, c.context, c.payload]
        return entry

    def take(self, msgs):
        EVENT = N.MESSAGE_TYPE_EVENT
        DISCARDED = N.MESSAGE_TYPE_DISCARDED_EVENTS
        get_type, put = N.message_get_type, N.message_put_ref
        borrow_event = N.message_event_borrow_event_const
        borrow_class = N.event_borrow_class_const
        borrow_cs = N.message_event_borrow_default_clock_snapshot_const
        ns = N.clock_snapshot_get_ns_from_origin
        payload, context = N.event_borrow_payload_field_const, N.event_borrow_common_context_field_const
        classes, on_event, stats = self.classes, self.on_event, self.stats
        if stats.first_ts is None:
            for m in msgs:
                if get_type(m) == EVENT:
                    stats.first_ts = ns(borrow_cs(m))[1]
                    break
        for m in msgs:
            t = get_type(m)
            if t == EVENT:
                ev = borrow_event(m)
                cp = int(borrow_class(ev))
                c = classes.get(cp) or self._new_class(cp, borrow_class(ev))
                c[0] += 1
                if c[2]:
                    ctx = c[3](context(ev)) if c[3] else {}
                    on_event(Event(ns(borrow_cs(m))[1], ctx.get("vpid", 0), ctx.get("vtid", 0),
                                   ctx.get("procname", ""), c[1],
                                   c[4](payload(ev)) if c[4] else {}))
            elif t == DISCARDED:
                mo = _bt2_message._DiscardedEventsMessageConst._create_from_ptr_and_get_ref(m)
                stats.discarded += mo.count or 0
            put(m)

    def finish(self):
        for count, name, *_ in self.classes.values():
            self.stats.by_name[name] = self.stats.by_name.get(name, 0) + count
        self.stats.events = sum(self.stats.by_name.values())


def read(path, want=None, on_event=None):
    """Read every trace under path in time order. want: the event names to decode (None:
    all; a dict name -> field names decodes only those fields, and only vpid and vtid);
    on_event(Event) is called for each (default: collect them).
    Returns (events or None, Stats)."""
    events = [] if on_event is None else None
    stats = Stats()
    job = _Job(want, on_event or events.append, stats)
    _run(trace_dirs(path), job)
    job.finish()
    return events, stats


# --- rows: the fast path (v6trace tokens) -----------------------------------------------
#
# read() makes an Event (and a dict of fields) for every wanted event. scan() makes one
# tuple per event that can matter, (ts, tag, vpid, vtid, field...), with code generated per
# event class: the fields it asks for, in its order, and an early exit on a "positive" field
# (ntokens: an io event with no token in its bytes costs two native calls). Event classes it
# does not ask for cost a dict lookup. The trace's stream files can be split across two
# processes (one CPU's file each, say) and the rows merged by time.

def _getter(fc):
    if isinstance(fc, bt2._SignedIntegerFieldClassConst):
        return N.field_integer_signed_get_value
    if isinstance(fc, bt2._UnsignedIntegerFieldClassConst):
        return N.field_integer_unsigned_get_value
    if isinstance(fc, bt2._StringFieldClassConst):
        return N.field_string_get_value
    return None


def _row_maker(ec, tag, fields, positive, append):
    """f(ev, ts): append (ts, tag, vpid, vtid, *fields) for an event of class ec, or
    nothing when the field `positive` is <= 0. Enum fields read as their label."""
    env = {"B": N.field_structure_borrow_member_field_by_index_const, "A": append,
           "P": N.event_borrow_payload_field_const, "C": N.event_borrow_common_context_field_const}
    ctx_fc = ec.stream_class.event_common_context_field_class
    names = list(ctx_fc.keys()) if ctx_fc is not None else []
    ctx = []
    for cname in ("vpid", "vtid"):
        if cname in names:
            i = names.index(cname)
            env[f"c{i}"] = _getter(ctx_fc[cname].field_class)
            ctx.append(f"c{i}(B(c, {i}))")
        else:
            ctx.append("0")
    pfc = ec.payload_field_class
    members = list(pfc.keys()) if pfc is not None else []
    body, values = ["    p = P(ev)"], []
    if positive is not None and positive in members:
        i = members.index(positive)
        env["gp"] = _getter(pfc[positive].field_class)
        body += [f"    n = gp(B(p, {i}))", "    if n <= 0:", "        return"]
    for name in fields:
        if name not in members:
            values.append("None")
            continue
        i = members.index(name)
        if name == positive:
            values.append("n")
            continue
        g = _getter(pfc[name].field_class)
        if g is None:
            values.append("None")
            continue
        env[f"g{i}"] = g
        value = f"g{i}(B(p, {i}))"
        if name in ENUMS:
            env[f"E{i}"] = _Enum(ENUMS[name])
            value = f"E{i}[{value}]"
        values.append(value)
    body.append("    c = C(ev)")
    body.append(f"    A((ts, {tag!r}, {ctx[0]}, {ctx[1]}" + "".join(f", {v}" for v in values) + "))")
    src = "def row(ev, ts):\n" + "\n".join(body) + "\n"
    exec(src, env)
    return env["row"]


class _RowJob:
    def __init__(self, spec, side, stats):
        self.spec, self.side_names, self.stats = spec, side, stats
        self.rows, self.side = [], []
        self.makers = {}  # event class pointer (int) -> row maker, or None (not asked for)
        self.names = {}   # event class pointer -> name

    def _new_class(self, cp, ptr):
        ec = _bt2_event_class._EventClassConst._create_from_ptr_and_get_ref(ptr)
        self.names[cp] = ec.name
        s = self.spec.get(ec.name)
        out = self.side if ec.name in self.side_names else self.rows
        mk = self.makers[cp] = None if s is None else _row_maker(ec, *s, out.append)
        return mk

    def take(self, msgs):
        EVENT = N.MESSAGE_TYPE_EVENT
        get_type, put = N.message_get_type, N.message_put_ref
        borrow_event = N.message_event_borrow_event_const
        borrow_class = N.event_borrow_class_const
        borrow_cs = N.message_event_borrow_default_clock_snapshot_const
        ns = N.clock_snapshot_get_ns_from_origin
        get, new, missing = self.makers.get, self._new_class, self
        if self.stats.first_ts is None:
            for m in msgs:
                if get_type(m) == EVENT:
                    self.stats.first_ts = ns(borrow_cs(m))[1]
                    break
        n = 0
        for m in msgs:
            if get_type(m) == EVENT:
                n += 1
                ev = borrow_event(m)
                c = borrow_class(ev)
                mk = get(int(c), missing)
                if mk is missing:
                    mk = new(int(c), c)
                if mk is not None:
                    mk(ev, ns(borrow_cs(m))[1])
            elif get_type(m) == N.MESSAGE_TYPE_DISCARDED_EVENTS:
                mo = _bt2_message._DiscardedEventsMessageConst._create_from_ptr_and_get_ref(m)
                self.stats.discarded += mo.count or 0
            put(m)
        self.stats.events += n


def _run(inputs, job):
    """Run source.ctf.fs on each input -> muxer -> job (a _RowJob or _Job)."""
    graph = bt2.Graph()
    fs = bt2.find_plugin("ctf").source_component_classes["fs"]
    mux = graph.add_component(bt2.find_plugin("utils").filter_component_classes["muxer"], "mux")
    n = 0
    for i, d in enumerate(inputs):
        src = graph.add_component(fs, f"src{i}", {"inputs": [d]})
        for port in src.output_ports.values():
            graph.connect_ports(port, mux.input_ports[f"in{n}"])
            n += 1
    sink = graph.add_component(_Sink, "sink", obj=job)
    graph.connect_ports(mux.output_ports["out"], sink.input_ports["in"])
    graph.run()


def _scan_one(inputs, spec, side):
    stats = Stats()
    job = _RowJob(spec, side, stats)
    _run(inputs, job)
    return job.rows, job.side, stats


def _packets(trace, stream):
    """[(offset, size in bytes, events_discarded)] of a stream file, from the LTTng index
    (index/STREAM.idx), or None."""
    try:
        with open(os.path.join(trace, "index", stream + ".idx"), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if len(data) < 16:
        return None
    magic, _, _, size = struct.unpack(">IIII", data[:16])
    if magic != 0xC1F1DCC1 or size < 48:
        return None
    out = []
    for at in range(16, len(data) - size + 1, size):
        off, bits, _, _, _, discarded = struct.unpack(">6Q", data[at:at + 48])
        out.append((off, bits // 8, discarded))
    return out


def _copy_range(f, out, start, end):
    """Bytes [start, end) of file f to out: in the kernel if it can, else read and write."""
    try:
        at = start
        while at < end:
            n = os.copy_file_range(f.fileno(), out.fileno(), end - at, at)
            if n <= 0:
                break
            at += n
        if at == end:
            return
    except OSError:
        pass
    out.seek(0)
    out.truncate()
    f.seek(start)
    left = end - start
    while left > 0:
        chunk = f.read(min(left, 1 << 20))
        if not chunk:
            raise OSError(f"{f.name}: shorter than its index says")
        out.write(chunk)
        left -= len(chunk)


def _split(dirs, tmp):
    """Two sets of trace directories under tmp holding each half of the packets of
    every stream (packets are self-contained: a packet range is a valid stream file), and
    the events the second half's first packets had discarded before them (their counter
    is cumulative). None when the trace does not split (no index, too small)."""
    halves = ([], [])
    extra = 0
    total = 0
    for i, d in enumerate(dirs):
        a, b = os.path.join(tmp, "a", str(i)), os.path.join(tmp, "b", str(i))
        os.makedirs(a)
        os.makedirs(b)
        for h in (a, b):
            os.symlink(os.path.join(d, "metadata"), os.path.join(h, "metadata"))
        halves[0].append(a)
        halves[1].append(b)
        for name in sorted(os.listdir(d)):
            src = os.path.join(d, name)
            if name == "metadata" or name.startswith(".") or not os.path.isfile(src):
                continue
            pk = _packets(d, name)
            if pk is None:
                return None
            size = os.path.getsize(src)
            total += size
            k = 0
            while k < len(pk) and pk[k][0] < size // 2:
                k += 1
            if len(pk) < 2 or k in (0, len(pk)):
                os.symlink(src, os.path.join(a, name))  # one packet: all to the first half
                continue
            cut = pk[k][0]
            extra += pk[k][2] - pk[k - 1][2]
            with open(src, "rb") as f:
                for h, start, end in ((a, 0, cut), (b, cut, size)):
                    with open(os.path.join(h, name), "wb") as out:
                        _copy_range(f, out, start, end)
    if total < SPLIT_MIN_BYTES:
        return None
    return halves, extra


SPLIT_MIN_BYTES = 16 << 20  # below this, a second process costs more than it saves


def _workers(workers):
    if workers:
        return workers
    env = os.environ.get("V6TRACE_WORKERS")
    if env and env.isdigit():
        return int(env)
    return 2 if len(os.sched_getaffinity(0)) >= 2 else 1


def scan(path, spec, side=(), workers=0):
    """Rows (ts, tag, vpid, vtid, field...) of the events named in spec, in time order.
    spec: event name -> (tag, field names, positive field name or None); the rows of the
    events named in side go to a list of their own. Returns (rows, side rows, Stats);
    Stats.by_name is left empty. workers: 1, or 2 (default when 2 CPUs are there, or
    $V6TRACE_WORKERS): each half of every stream's packets read by a process of its own,
    the rows merged by time."""
    dirs, side = trace_dirs(path), frozenset(side)
    if _workers(workers) < 2:
        return _scan_one(dirs, spec, side)
    with tempfile.TemporaryDirectory(prefix="v6trace-") as tmp:
        split = _split(dirs, tmp)
        if split is None:
            return _scan_one(dirs, spec, side)
        (a, b), extra = split
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second half, in a child
            os.close(r)
            code = 0
            try:
                rows, srows, st = _scan_one(b, spec, side)
                data = pickle.dumps((rows, srows, st.events, st.discarded, st.first_ts),
                                    protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as e:  # noqa: BLE001 (reported by the parent)
                data, code = pickle.dumps(e), 1
            with os.fdopen(w, "wb") as f:
                f.write(data)
            os._exit(code)
        os.close(w)
        try:
            rows, srows, stats = _scan_one(a, spec, side)
        finally:
            with os.fdopen(r, "rb") as f:
                data = f.read()
            _, status = os.waitpid(pid, 0)
        got = pickle.loads(data)
        if os.waitstatus_to_exitcode(status) != 0:
            raise got if isinstance(got, Exception) else RuntimeError("v6trace worker failed")
    brows, bside, events, discarded, first = got
    stats.events += events
    stats.discarded += discarded + extra
    if first is not None and (stats.first_ts is None or first < stats.first_ts):
        stats.first_ts = first
    key = operator.itemgetter(0)
    rows += brows  # two runs, each in time order: the sort merges them
    rows.sort(key=key)
    srows += bside
    srows.sort(key=key)
    return rows, srows, stats
