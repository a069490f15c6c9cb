#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""trace/tracecompass/v6lab-process-states.xml, without a Trace Compass (no GUI here).

schema:    it validates against Trace Compass's own XML schema (../shared/data/
           tracecompass-xsd/, EPL-2.0: used from there, not copied; a clone without that
           folder skips this check, with the reason).
semantics: against a real trace of the exercise: every event it handles, every field it
           reads and every value it compares exist in the trace's own metadata (an enum
           field is compared with one of its labels: Trace Compass hands an enum over as its
           label); then the state provider is played over the trace the way Trace Compass
           runs it (attributes, locations, conditions, the defined values), and the rows are
           what README.md says: a row per thread (the course server's five course clients
           apart), the children's pipe writes as WRITING_PIPE, a reaped child's rows ended.
readme:    README.md's table of states is the handlers' own (state -> the events that set
           it), so the documentation cannot drift from the XML.

Usage: tracecompass_test.py schema|semantics|readme
"""
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from v6test import TOP, check, main, skip  # noqa: E402

XML = os.path.join(TOP, "trace", "tracecompass", "v6lab-process-states.xml")
README = os.path.join(TOP, "trace", "tracecompass", "README.md")
XSD_DIR = os.path.normpath(os.path.join(TOP, "..", "shared", "data", "tracecompass-xsd"))
TRACE = os.path.join(TOP, "scripts", "trace")


def schema():
    xsd = os.path.join(XSD_DIR, "xmlDefinition.xsd")
    if not os.path.isfile(xsd):
        skip(f"no Trace Compass schema at {XSD_DIR} (the shared data folder beside the "
             "clone): the schema check needs it")
    if not shutil.which("xmllint"):
        skip("xmllint is not installed (apt-get install libxml2-utils)")
    r = subprocess.run(["xmllint", "--noout", "--schema", xsd, XML], capture_output=True,
                       text=True)
    check(r.returncode == 0 and "validates" in r.stderr, f"xmllint: {r.stderr}")


class Provider:
    """The state provider of the XML, as Trace Compass runs it: definedValues, locations,
    event handlers of stateChanges (with if/then/else on conditions)."""

    def __init__(self, path):
        root = ET.parse(path).getroot()
        sp = root.find("stateProvider")
        self.defined = {d.get("name"): int(d.get("value")) for d in sp.findall("definedValue")}
        self.view_defined = {d.get("name"): int(d.get("value"))
                             for d in root.find("timeGraphView").findall("definedValue")}
        self.locations = {loc.get("id"): loc.findall("stateAttribute")
                          for loc in sp.findall("location")}
        self.handlers = collections.defaultdict(list)
        for h in sp.findall("eventHandler"):
            self.handlers[h.get("eventName")] += h.findall("stateChange")
        self.view = root.find("timeGraphView")

    def fields(self, name):
        """The fields (payload names, or context._X) the handlers of one event read, and
        the conditions: (field, stateValue element)."""
        reads, conds = set(), []
        for sc in self.handlers[name]:
            for el in sc.iter():
                if el.tag in ("stateAttribute", "stateValue") and el.get("type") == "eventField":
                    reads.add(el.get("value"))
                elif el.tag == "condition":
                    f, v = el.find("field"), el.find("stateValue")
                    if f is not None:
                        reads.add(f.get("name"))
                        conds.append((f.get("name"), v))
            for el in sc.iter("stateAttribute"):
                if el.get("type") == "location":
                    for a in self.locations[el.get("value")]:
                        if a.get("type") == "eventField":
                            reads.add(a.get("value"))
        return reads, conds

    def states_set_by(self):
        """State name -> the events whose handlers set it (every branch)."""
        names = {v: k for k, v in self.defined.items()}
        out = collections.defaultdict(set)
        for ev, scs in self.handlers.items():
            for sc in scs:
                for v in sc.iter("stateValue"):
                    if v.get("type") == "int" and v.get("value", "").startswith("$"):
                        out[names[self.defined[v.get("value")[1:]]]].add(ev)
        return out


def event_fields(ev):
    """What Trace Compass sees of an event: payload fields by name, contexts as context._X;
    an enum as its label, an integer as a number, a string as text."""
    import bt2
    out = {}

    def value(f):
        if isinstance(f, (bt2._SignedEnumerationFieldConst, bt2._UnsignedEnumerationFieldConst)):
            return f.labels[0] if f.labels else int(f)
        if isinstance(f, bt2._IntegerFieldConst):
            return int(f)
        return str(f)
    if ev.payload_field is not None:
        for k, f in ev.payload_field.items():
            out[k] = value(f)
    if ev.common_context_field is not None:
        for k, f in ev.common_context_field.items():
            out["context._" + k] = value(f)
    return out


class Play:
    """The state system: attribute path -> [(ts, value)], values changing over time."""

    def __init__(self, provider):
        self.p, self.ss, self.problems = provider, collections.defaultdict(list), []

    def path(self, attrs, fields):
        out = []
        for a in attrs:
            t = a.get("type")
            if t == "constant":
                out.append(a.get("value"))
            elif t == "eventField":
                out.append(str(fields[a.get("value")]))
            elif t == "location":
                out += self.path(self.p.locations[a.get("value")], fields)
            else:
                raise AssertionError(f"stateAttribute type {t!r}: not played by this test")
        return tuple(out)

    def value(self, v, fields):
        t, s = v.get("type"), v.get("value")
        if t == "null":
            return None
        if t in ("int", "long"):
            return self.p.defined[s[1:]] if s.startswith("$") else int(s)
        if t == "string":
            return s
        if t == "eventField":
            return fields[s]
        raise AssertionError(f"stateValue type {t!r}: not played by this test")

    def holds(self, cond, fields, name):
        f, v = cond.find("field"), cond.find("stateValue")
        a, b = fields[f.get("name")], self.value(v, fields)
        if type(a) is not type(b):
            self.problems.append(f"{name}: the condition compares field {f.get('name')} "
                                 f"({type(a).__name__} {a!r}) with a {v.get('type')} "
                                 f"({b!r}): never equal")
            return False
        op = cond.get("operator", "eq")
        return {"eq": a == b, "ne": a != b, "gt": a > b, "ge": a >= b, "lt": a < b,
                "le": a <= b}[op]

    def change(self, sc, fields, ts, name):
        cond = sc.find("if")
        body = sc
        if cond is not None:
            body = sc.find("then") if self.holds(cond.find("condition"), fields, name) \
                else sc.find("else")
            if body is None:
                return
        attrs = body.findall("stateAttribute")
        self.ss[self.path(attrs, fields)].append((ts, self.value(body.find("stateValue"),
                                                                 fields)))

    def event(self, name, ts, fields):
        for sc in self.p.handlers.get(name, ()):
            self.change(sc, fields, ts, name)


def capture():
    """A trace of scripts/exercise (PASS), in a scratch directory; the trace's path."""
    if not shutil.which("lttng"):
        skip("lttng (lttng-tools) is not installed")
    try:
        import bt2  # noqa: F401
    except ImportError:
        skip("no bt2 (python3-bt2) in /usr/bin/python3")
    tmp = tempfile.mkdtemp(prefix="v6lab-tc-")
    import atexit
    atexit.register(shutil.rmtree, tmp, True)
    d = os.path.join(tmp, "trace")
    r = subprocess.run([TRACE, "-o", d, "--", os.path.join(TOP, "scripts", "exercise")],
                       capture_output=True, text=True, timeout=150)
    check(r.returncode == 0 and "PASS: 5/5" in r.stdout, f"the exercise: {r.stdout}{r.stderr}")
    return d


def semantics():
    import bt2
    p = Provider(XML)
    check(p.defined == p.view_defined, "the view's states are the provider's")
    trace = capture()
    classes, play, reaped = {}, Play(p), set()
    for msg in bt2.TraceCollectionMessageIterator(trace):
        if type(msg) is bt2._StreamBeginningMessageConst:
            sc = msg.stream.cls
            ctx = sc.event_common_context_field_class
            for ec in sc.values():
                fc = ec.payload_field_class
                kinds = {}
                for k in (fc.keys() if fc is not None else ()):
                    t = fc[k].field_class
                    kinds[k] = [m for m in t] if isinstance(t, bt2._EnumerationFieldClassConst) \
                        else type(t).__name__
                for k in (ctx.keys() if ctx is not None else ()):
                    kinds["context._" + k] = type(ctx[k].field_class).__name__
                classes[ec.name] = kinds
        elif type(msg) is bt2._EventMessageConst:
            ev = msg.event
            if ev.name in p.handlers:
                fields = event_fields(ev)
                play.event(ev.name, msg.default_clock_snapshot.ns_from_origin, fields)
                if ev.name == "v6lab_process:waitpid" and fields["ret"] > 0:
                    reaped.add(str(fields["ret"]))
    # what the XML names, against the trace's own metadata
    problems = []
    for name in p.handlers:
        if name not in classes:
            problems.append(f"no event {name} in the trace's metadata")
            continue
        reads, conds = p.fields(name)
        for f in sorted(reads):
            if f not in classes[name]:
                problems.append(f"{name}: no field {f} (it has {sorted(classes[name])})")
        for f, v in conds:
            kind = classes[name].get(f)
            if isinstance(kind, list):  # an enum: compared with one of its labels
                if v.get("type") != "string" or v.get("value") not in kind:
                    problems.append(f"{name}: enum field {f} compared with {v.get('type')} "
                                    f"{v.get('value')!r}, not one of its labels {kind}")
            elif kind is not None and v.get("type") not in ("int", "long"):
                problems.append(f"{name}: integer field {f} compared with a {v.get('type')}")
    check(not problems and not play.problems, "\n".join(problems + play.problems[:5]))
    ss = play.ss
    # rows: Processes/<vpid>/Name and Processes/<vpid>/Threads/<vtid>/State
    names = {k[1]: v for k, v in ss.items() if len(k) == 3 and k[2] == "Name"}
    threads = collections.defaultdict(dict)
    for k, v in ss.items():
        if len(k) == 5 and k[2] == "Threads" and k[4] == "State":
            threads[k[1]][k[3]] = v
    state = {v: k for k, v in p.defined.items()}

    def seen(changes):
        return {state.get(x) for _, x in changes}
    by_name = collections.defaultdict(list)
    for vpid, ch in names.items():
        by_name[next((x for _, x in ch if x is not None), None)].append(vpid)
    check(by_name.get("ipv6-server") and by_name.get("ipv4-server") and
          by_name.get("ipv4-client"), f"process rows: {dict(by_name)}")
    # the course server: its main thread and a row for each of its course clients
    course = [v for v in by_name["ipv4-server"] if len(threads[v]) >= 6]
    check(course, f"no ipv4-server with 6 thread rows: "
          f"{[(v, sorted(threads[v])) for v in by_name['ipv4-server']]}")
    clients = [t for t, ch in threads[course[0]].items() if t != course[0]]
    check(len(clients) >= 5 and all({"CONNECTING", "WRITING"} <= seen(threads[course[0]][t])
                                    for t in clients),
          f"course client threads: {[(t, seen(threads[course[0]][t])) for t in clients]}")
    # the IPv6 server's children: reading the token, writing the pipe; reaped: rows end
    # (the session records every v6lab program of the host: other tests' too, maybe cut
    # short by the trace's end, so only the children seen reaped are held to that)
    children = [v for v in by_name["ipv6-server"] if v in reaped and "WRITING_PIPE" in
                seen(threads[v].get(v, []))]
    check(len(children) >= 5, f"reaped ipv6-server processes that wrote the pipe: {children} "
          f"of {[(v, seen(threads[v].get(v, []))) for v in by_name['ipv6-server']]}")
    for c in children:
        ch = threads[c][c]
        check("READING" in seen(ch) and ch[-1][1] is None and names[c][-1][1] is None,
              f"child {c}: its row does not end when its parent reaps it: {ch[-3:]}")
    parent = [v for v in by_name["ipv6-server"] if v not in children]
    check(any({"LISTENING", "ACCEPTING", "WAITING_CHILD"} <= seen(threads[v].get(v, []))
              for v in parent), f"the listening parent: {[seen(threads[v].get(v, [])) for v in parent]}")
    print(f"OK: {len(p.handlers)} handlers against the trace's metadata; rows of "
          f"{len(names)} processes, {sum(len(t) for t in threads.values())} threads")


def readme():
    p = Provider(XML)
    with open(README) as f:
        text = f.read()
    table = {}
    for line in text.splitlines():
        m = re.match(r"\|\s*([A-Z_]+(?:\s*/\s*[A-Z_]+)?)\s*\|(.*)\|(.*)\|\s*$", line)
        if m and m.group(1) not in ("state",):
            for st in re.split(r"\s*/\s*", m.group(1)):
                table[st] = set(re.findall(r"`(v6lab_[a-z]+:[a-z_]+)`", m.group(2)))
    got = p.states_set_by()
    check(set(table) == set(p.defined), f"README's states {sorted(table)} != the XML's "
          f"{sorted(p.defined)}")
    for st, evs in got.items():
        check(table[st] == evs, f"README: {st} from {sorted(table[st])}; the XML: {sorted(evs)}")


if __name__ == "__main__":
    main({f.__name__: f for f in (schema, semantics, readme)})
