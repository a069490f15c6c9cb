# SPDX-License-Identifier: MIT
"""The System V queues and shared memory segments, and the FIFOs, that the student's programs
made and left: found from the trace (their msgget, shmget and mkfifo events), still there
after the session, and removed so that the machine stays as it was (the lint names them as
a mistake; this only cleans up). Only objects made during this check by its own processes
(vpids: what `scripts/v6trace summary --json` lists) are touched: a trace records every v6lab
program of the host, and another user's or another check's queue is not ours to remove."""
import ctypes
import os
import stat

IPC_RMID = 0
CREATES = {"v6lab_ipc:msgget": "queue", "v6lab_ipc:shmget": "shm", "v6lab_ipc:mkfifo": "fifo"}


def _signed32(v):
    v &= 0xffffffff
    return v - (1 << 32) if v & 0x80000000 else v


def made(trace, vpids):
    """[{"kind", "key" or "path", "id", "vpid"}] the processes vpids created, from the trace."""
    import bt2
    out = []
    for msg in bt2.TraceCollectionMessageIterator(trace):
        if type(msg) is not bt2._EventMessageConst or msg.event.name not in CREATES:
            continue
        ev = msg.event
        vpid = int(ev.common_context_field["vpid"])
        if vpid not in vpids:
            continue
        f = ev.payload_field
        kind = CREATES[ev.name]
        if kind == "fifo":
            if int(f["ret"]) == 0:
                out.append({"kind": kind, "path": str(f["path"]), "vpid": vpid,
                            "procname": str(ev.common_context_field["procname"])})
            continue
        outcome = f["outcome"]
        if "created" in (outcome.labels or ()):
            out.append({"kind": kind, "key": _signed32(int(f["key"])), "id": int(f["id"]),
                        "vpid": vpid, "procname": str(ev.common_context_field["procname"])})
    return out


def _sysv_ids(table):
    """{id: key} of /proc/sysvipc/msg or shm."""
    try:
        with open(f"/proc/sysvipc/{table}") as f:
            rows = [line.split() for line in f.readlines()[1:]]
    except OSError:
        return {}
    return {int(r[1]): int(r[0]) for r in rows if len(r) > 1}


def left_and_removed(objects, cwd, since):
    """Those of objects still there: each removed, with "removed": True or "error": why.
    A FIFO counts only if it is newer than since (a time.time(): the check's start)."""
    libc = ctypes.CDLL(None, use_errno=True)
    out = []
    tables = {"queue": _sysv_ids("msg"), "shm": _sysv_ids("shm")}
    for o in objects:
        o = dict(o)
        if o["kind"] == "fifo":
            path = os.path.join(cwd, o["path"])
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if not stat.S_ISFIFO(st.st_mode) or st.st_ctime < since - 1:
                continue
            o["path"] = os.path.normpath(path)
            try:
                os.unlink(path)
                o["removed"] = True
            except OSError as e:
                o["error"] = e.strerror
        else:
            if tables[o["kind"]].get(o["id"]) != o["key"]:
                continue  # gone (removed by the student's program), or another object now
            rm = libc.msgctl if o["kind"] == "queue" else libc.shmctl
            if rm(o["id"], IPC_RMID, None) == 0:
                o["removed"] = True
            else:
                o["error"] = os.strerror(ctypes.get_errno())
        if o not in out:
            out.append(o)
    return out


def describe(o):
    """'message queue key 0x00001b5a (id 3)', 'FIFO /tmp/f', ..."""
    if o["kind"] == "fifo":
        return f"FIFO {o['path']}"
    what = "message queue" if o["kind"] == "queue" else "shared memory segment"
    return f"{what} key 0x{o['key'] & 0xffffffff:08x} (id {o['id']})"
