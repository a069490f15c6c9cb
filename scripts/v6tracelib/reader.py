# SPDX-License-Identifier: MIT
"""Reading a v6lab trace with babeltrace2's Python bindings (bt2), fast: one pipeline.

bt2's convenient API (TraceCollectionMessageIterator, msg.event.payload_field[...]) wraps
every message, event, field and clock snapshot in a Python object and runs the graph once
per message: about 8 µs an event, several times `babeltrace2 TRACE >/dev/null`. Here the
graph is the same (source.ctf.fs per trace -> filter.utils.muxer -> our sink) but the sink
takes the messages in batches and reads them through bt2's native layer (the SWIG
functions under the wrappers), with code generated once per event class: the fields asked
for, in the order asked, an early exit on a "positive" field (ntokens: an io event with no
token in its bytes costs two native calls), and enum fields read as their labels, which
come from the trace's own metadata (the providers' enum lists: no copy of them here). An
event class nobody asked for costs a dict lookup.

Everything goes through scan(): rows (ts, tag, context..., field...) for the token flow,
and events() (every field of every event, as Event objects) for the other commands, on the
same graph. A big trace's stream files are split across two processes (one half of each
stream's packets each) and the rows merged by time."""
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

from .state import Event  # noqa: F401 (reader.Event: what events() returns)

ALL = "*"  # Want(fields=ALL): every payload field; spec key ALL: every other event class
CONTEXT = ("vpid", "vtid")


class Want:
    """What to read of one event class: tag (the row's second item; None: the event's
    name), fields (names, or ALL), positive (a field: no row when it is <= 0), once (a row
    only the first time a process shows these field values), as_dict (the fields as one
    dict, name -> value, instead of one item each). entry_of: this class is the X_entry of
    event class entry_of: no row of its own, its time goes at the end of the next entry_of
    row of the same thread (None if none came first): when the call began."""
    __slots__ = ("tag", "fields", "positive", "once", "as_dict", "entry_of")

    def __init__(self, tag=None, fields=(), positive=None, once=False, as_dict=False,
                 entry_of=None):
        self.tag, self.fields, self.positive, self.once, self.as_dict, self.entry_of = \
            tag, fields, positive, once, as_dict, entry_of


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
    """The CTF traces under path (directories holding a 'metadata' file), absolute."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"{path}: no such trace directory")
    found = []
    for root, _, files in os.walk(os.path.abspath(path)):
        if "metadata" in files:
            found.append(root)
    if not found:
        raise ValueError(f"{path}: no CTF trace under it (no 'metadata' file): "
                         "capture one with scripts/trace -o DIR -- COMMAND")
    return sorted(found)


def declares(path, name):
    """Does the trace's metadata declare event class `name` (even if none was recorded)?
    LTTng writes the metadata as text, packetized or not: the name appears as such."""
    needle = f'"{name}"'.encode()
    for d in trace_dirs(path):
        try:
            with open(os.path.join(d, "metadata"), "rb") as f:
                if needle in f.read():
                    return True
        except OSError:
            pass
    return False


class _Labels(dict):
    """An enum's value -> label, from its field class's mappings (the trace's metadata); a
    value outside every mapping reads as itself."""

    def __init__(self, fc):
        super().__init__()
        self.ranges = []
        for label, mapping in fc.items():
            for r in mapping.ranges:
                if r.upper - r.lower < 64:
                    for v in range(r.lower, r.upper + 1):
                        self.setdefault(v, label)
                else:
                    self.ranges.append((r.lower, r.upper, label))

    def __missing__(self, v):
        for lo, hi, label in self.ranges:
            if lo <= v <= hi:
                self[v] = label
                return label
        return v


def _getter(fc):
    if isinstance(fc, bt2._SignedIntegerFieldClassConst):
        return N.field_integer_signed_get_value
    if isinstance(fc, bt2._UnsignedIntegerFieldClassConst):
        return N.field_integer_unsigned_get_value
    if isinstance(fc, bt2._StringFieldClassConst):
        return N.field_string_get_value
    return None  # no v6lab field is of another class


def _row_maker(ec, want, context, append, entries, paired, marks=None):
    """f(ev, ts): append the row of an event of class ec (see Want), or nothing. entries:
    (vtid, event name) -> time of an X_entry not yet paired; paired: whether the rows of ec
    end with the time of their X_entry. marks: None, or (a half of a split trace) a list
    that gets (ts, vtid, event name) of every X_entry instead: its X is paired by _pair."""
    env = {"B": N.field_structure_borrow_member_field_by_index_const, "A": append,
           "P": N.event_borrow_payload_field_const, "C": N.event_borrow_common_context_field_const,
           "D": entries}
    ctx_fc = ec.stream_class.event_common_context_field_class
    cnames = list(ctx_fc.keys()) if ctx_fc is not None else []
    ctx = []
    for cname in context:
        if cname in cnames:
            i = cnames.index(cname)
            env[f"c{i}"] = _getter(ctx_fc[cname].field_class)
            ctx.append(f"c{i}(B(c, {i}))")
        else:
            ctx.append("0" if cname != "procname" else "''")
    if want.entry_of is not None:  # an X_entry: remembered for its X, no row
        tid = ctx[1] if len(ctx) > 1 else 0
        if marks is not None:  # a half of a split trace: paired after the merge
            env["M"] = marks.append
            src = f"def row(ev, ts):\n    c = C(ev)\n    M((ts, {tid}, {want.entry_of!r}))\n"
        else:
            src = f"def row(ev, ts):\n    c = C(ev)\n    D[({tid}, {want.entry_of!r})] = ts\n"
        exec(src, env)
        return env["row"]
    pfc = ec.payload_field_class
    members = list(pfc.keys()) if pfc is not None else []
    fields = members if want.fields == ALL else list(want.fields)
    body, values = ["    p = P(ev)"], []
    if paired:  # the X: its X_entry's time, whether or not it makes a row
        body = ["    c = C(ev)", f"    e = D.pop(({ctx[1]}, {ec.name!r}), None)", "    p = P(ev)"]
    positive = want.positive
    if positive is not None and positive in members:
        i = members.index(positive)
        env["gp"] = _getter(pfc[positive].field_class)
        body += [f"    n = gp(B(p, {i}))", "    if n <= 0:", "        return"]
    for name in fields:
        if name not in members:
            values.append((name, "None"))
            continue
        i = members.index(name)
        if name == positive:
            values.append((name, "n"))
            continue
        fc = pfc[name].field_class
        g = _getter(fc)
        if g is None:
            values.append((name, "None"))
            continue
        env[f"g{i}"] = g
        value = f"g{i}(B(p, {i}))"
        if isinstance(fc, bt2._EnumerationFieldClassConst):
            env[f"E{i}"] = _Labels(fc)
            value = f"E{i}[{value}]"
        values.append((name, value))
    if not paired:
        body.append("    c = C(ev)")
    else:
        values.append(("entry", "e"))
    tag = ec.name if want.tag is None else want.tag
    if want.as_dict:
        items = ", {" + ", ".join(f"{n!r}: {v}" for n, v in values) + "}"
    else:
        items = "".join(f", {v}" for _, v in values)
    head = ", ".join(ctx)
    if want.once:  # (not with as_dict: the key must be hashable)
        env["S"] = set()
        body.append(f"    k = ({head}{items})")
        body += ["    if k in S:", "        return", "    S.add(k)"]
        body.append(f"    A((ts, {tag!r}) + k)")
    else:
        body.append(f"    A((ts, {tag!r}, {head}{items}))")
    src = "def row(ev, ts):\n" + "\n".join(body) + "\n"
    exec(src, env)
    return env["row"]


class Stats:
    """Counted while reading: events, discarded events, the first event's time."""

    def __init__(self):
        self.events = 0
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
    def __init__(self, spec, side, context, stats, marks=None):
        self.spec, self.side_names, self.context, self.stats = spec, side, context, stats
        self.marks = marks  # a half of a split trace: X_entry times, paired after the merge
        self.rows, self.side = [], []
        self.makers = {}  # event class pointer (int) -> row maker, or None (not asked for)
        self.entries = {}  # (vtid, event name) -> time of its X_entry, not yet paired
        self.paired = {w.entry_of for w in spec.values() if w.entry_of}

    def _new_class(self, cp, ptr):
        ec = _bt2_event_class._EventClassConst._create_from_ptr_and_get_ref(ptr)
        want = self.spec.get(ec.name) or self.spec.get(ALL)
        out = self.side if ec.name in self.side_names else self.rows
        mk = self.makers[cp] = None if want is None else \
            _row_maker(ec, want, self.context, out.append, self.entries,
                       ec.name in self.paired, self.marks)
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
    """Run source.ctf.fs on each input -> muxer -> job."""
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


def _scan_one(inputs, spec, side, context, marks=None):
    stats = Stats()
    job = _Job(spec, side, context, stats, marks)
    _run(inputs, job)
    return job.rows, job.side, stats


def _pair(rows, names, marks):
    """Rows in time order (the two halves merged) with the time of their X_entry: the last
    one of the same thread and call before the row, from marks (ts, vtid, event name; in
    time order). names: row tag -> event name, for the paired events. A thread's calls are
    paired in the whole trace's time order, not in a half's: its events go to whichever
    CPU's stream it ran on, and the halves cut each stream at its own middle."""
    if not names:
        return rows
    out, pending, i, n = [], {}, 0, len(marks)
    for r in rows:
        while i < n and marks[i][0] <= r[0]:
            pending[marks[i][1:]] = marks[i][0]
            i += 1
        name = names.get(r[1])
        if name is not None:
            r = r[:-1] + (pending.pop((r[3], name), None),)
        out.append(r)
    return out


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


def scan(path, spec, side=(), workers=0, context=CONTEXT):
    """Rows (ts, tag, context..., field...) of the events spec names, in time order.
    spec: event name (or ALL: any other) -> Want; the rows of the events named in side go
    to a list of their own. context: the context fields each row starts with (vpid, vtid;
    procname too if asked). Returns (rows, side rows, Stats). workers: 1, or 2 (default
    when 2 CPUs are there, or $V6TRACE_WORKERS): each half of every stream's packets read by
    a process of its own, the rows merged by time."""
    dirs, side = trace_dirs(path), frozenset(side)
    if _workers(workers) < 2:
        return _scan_one(dirs, spec, side, context)
    with tempfile.TemporaryDirectory(prefix="v6trace-") as tmp:
        split = _split(dirs, tmp)
        if split is None:
            return _scan_one(dirs, spec, side, context)
        (a, b), extra = split
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the second half, in a child
            os.close(r)
            code = 0
            try:
                marks = []
                rows, srows, st = _scan_one(b, spec, side, context, marks)
                data = pickle.dumps((rows, srows, st.events, st.discarded, st.first_ts, marks),
                                    protocol=pickle.HIGHEST_PROTOCOL)
            except BaseException as e:  # noqa: BLE001 (reported by the parent)
                data, code = pickle.dumps(RuntimeError(f"v6trace worker: {e}")), 1
            with os.fdopen(w, "wb") as f:
                f.write(data)
            os._exit(code)
        os.close(w)
        try:
            marks = []
            rows, srows, stats = _scan_one(a, spec, side, context, marks)
        finally:
            with os.fdopen(r, "rb") as f:
                data = f.read()
            _, status = os.waitpid(pid, 0)
        got = pickle.loads(data)
        if os.waitstatus_to_exitcode(status) != 0:
            raise got if isinstance(got, Exception) else RuntimeError("v6trace worker failed")
    brows, bside, events, discarded, first, bmarks = got
    stats.events += events
    stats.discarded += discarded + extra
    if first is not None and (stats.first_ts is None or first < stats.first_ts):
        stats.first_ts = first
    key = operator.itemgetter(0)
    rows += brows  # two runs, each in time order: the sort merges them
    rows.sort(key=key)
    srows += bside
    srows.sort(key=key)
    marks += bmarks
    marks.sort(key=key)
    # a call's X_entry and X can be in different halves, and other calls of the thread
    # between them in the other half: pair them in the merged order, not in each half
    names = {w.tag or n: n for n, w in spec.items() if n in {x.entry_of for x in spec.values()}}
    return _pair(rows, names, marks), _pair(srows, names, marks), stats


EVENT_CONTEXT = ("vpid", "vtid", "procname")


def events(path, names=None, workers=0):
    """Every event of the trace (or those named), every field, as Events in time order;
    and the Stats. The same pipeline as scan()."""
    want = Want(None, ALL, as_dict=True)
    spec = {ALL: want} if names is None else {n: want for n in names}
    rows, _, stats = scan(path, spec, workers=workers, context=EVENT_CONTEXT)
    return [Event(r[0], r[2], r[3], r[4], r[1], r[5]) for r in rows], stats


def as_events(rows, fields):
    """Rows of scan() (context vpid, vtid) as Events; fields: tag -> (event name, field
    names) of the spec that made them."""
    out = []
    for r in rows:
        name, names = fields[r[1]]
        out.append(Event(r[0], r[2], r[3], "", name, dict(zip(names, r[4:]))))
    return out
