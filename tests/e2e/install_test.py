#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""v6lab installed, not in its source tree.

    install_test.py BUILD_DIR SCENARIO

prefix   `cmake --install BUILD --prefix P`: P/bin/v6lab and the programs, the libraries, the
         headers, pkg-config and CMake package files, the docs and man pages are there; the
         installed `v6lab` answers --version/--help, refuses an unknown subcommand in one line,
         and runs the exercise, the traced demo (its tokens and lint), and `check` on a
         student-style pair; then the whole prefix is moved elsewhere and still works (its
         parts are found relative to where it is, never in a source tree).
link     a student's own program, built against the installed libv6lab with
         `pkg-config --cflags --libs v6lab` and with CMake's `find_package(v6lab CONFIG)`
         (v6lab::v6lab), runs, and its wrapper calls are in its trace (v6lab_sockets events).
deb      `cpack -G DEB`: the package lists usr/bin/v6lab and the rest at /usr, depends on Debian
         12 packages that exist here, and, unpacked into a directory, runs the exercise.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import v6test  # noqa: E402
from v6test import check, skip  # noqa: E402

BUILD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(v6test.TOP, "build")
with open(os.path.join(v6test.TOP, "CMakeLists.txt")) as _f:
    import re
    VERSION = re.search(r"project\(v6lab VERSION ([0-9.]+)", _f.read()).group(1)
# The sanitizer build's libraries need their runtime in whatever links them.
with open(os.path.join(BUILD, "CMakeCache.txt")) if os.path.exists(os.path.join(BUILD, "CMakeCache.txt")) else open(os.devnull) as _f:
    SANITIZE = ["-fsanitize=address,undefined"] if "V6LAB_SANITIZE:BOOL=ON" in _f.read() else []
# Nothing of the source tree or the build may be found through the environment.
ENV = {k: v for k, v in os.environ.items() if not k.startswith("V6LAB_")}


def sh(argv, cwd=None, timeout=180, env=None, ok=True):
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, errors="replace",
                       timeout=timeout, stdin=subprocess.DEVNULL, env=env or ENV)
    if ok:
        check(r.returncode == 0, f"{' '.join(argv)}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def install(prefix):
    sh(["cmake", "--install", BUILD, "--prefix", prefix])


def expect_files(prefix):
    want = ["bin/v6lab", "bin/ipv4-server", "bin/ipv4-client", "bin/ipv6-server", "bin/ipv6-client",
            "lib/libv6lab.a", "lib/libv6lab_trace.a", "lib/v6lab/libv6lab-preload.so",
            "lib/v6lab/libv6lab-preload-probes.so", "lib/pkgconfig/v6lab.pc",
            "lib/cmake/v6lab/v6labConfig.cmake", "lib/cmake/v6lab/v6labTargets.cmake",
            "include/v6lab/wrap.h", "include/v6lab/trace/v6lab_sockets.h",
            "libexec/v6lab/scripts/trace", "libexec/v6lab/scripts/v6tracelib/cli.py",
            "libexec/v6lab/VERSION", "share/doc/v6lab/README.md", "share/doc/v6lab/events.md",
            "share/doc/v6lab/tutorials/01-first-run.md"]
    if os.path.exists(os.path.join(BUILD, "bin", "acceptwatch")):
        want += ["bin/acceptwatch", "bin/tunnelwatch"]
    if shutil.which("help2man"):
        want += ["share/man/man1/v6lab.1", "share/man/man1/ipv6-server.1"]
    else:
        print("  (no help2man here: man pages not checked)")
    missing = [w for w in want if not os.path.exists(os.path.join(prefix, w))]
    check(not missing, f"not installed under {prefix}: {missing}")
    for f in glob.glob(os.path.join(prefix, "**"), recursive=True):
        if os.path.islink(f):
            check(not os.path.isabs(os.readlink(f)),
                  f"{f}: an absolute link ({os.readlink(f)}): the prefix would not move")


def works(prefix, where):
    v6lab = os.path.join(prefix, "bin", "v6lab")
    r = sh([v6lab, "--version"], cwd=where)
    check(r.stdout == f"v6lab (v6lab) {VERSION}\n", f"v6lab --version: {r.stdout!r}")
    r = sh([v6lab, "--help"], cwd=where)
    for sub in ("demo", "exercise", "trace", "check", "analyze", "lab", "acceptwatch", "tunnelwatch"):
        check(f"\n  {sub} " in r.stdout, f"v6lab --help does not list {sub}:\n{r.stdout}")
    r = sh([v6lab, "bogus"], cwd=where, ok=False)
    check(r.returncode == 2 and r.stderr.count("\n") == 1 and "'bogus'" in r.stderr,
          f"v6lab bogus: {r.returncode} {r.stderr!r}")
    r = sh([v6lab, "analyze", "--version"], cwd=where)
    check(r.stdout == f"v6trace (v6lab) {VERSION}\n", f"v6lab analyze --version: {r.stdout!r}")
    r = sh([v6lab, "exercise"], cwd=where)
    check("PASS: 5/5 tokens, concurrent: yes" in r.stdout, f"v6lab exercise:\n{r.stdout}")


def traced(prefix, where):
    v6lab = os.path.join(prefix, "bin", "v6lab")
    trace = os.path.join(where, "demo-trace")
    r = sh([v6lab, "demo", trace], cwd=where, timeout=300)
    check("PASS: 5/5 tokens, concurrent: yes" in r.stdout and "5 complete, 0 lost" in r.stdout,
          f"v6lab demo:\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")
    r = sh([v6lab, "analyze", "tokens", "--json", trace], cwd=where)
    check(json.loads(r.stdout).get("summary", {}).get("complete") == 5, f"analyze tokens --json: {r.stdout[:500]}")
    students = os.path.join(BUILD, "bin", "students")
    out = os.path.join(where, "check-out")
    r = sh([v6lab, "check", "--v6-port", str(v6test.free_port()), "-o", out,
            "--server", f"{students}/eof-server {{v6port}}",
            "--client", f"{students}/read-twice-client {{host}} {{port}}"], cwd=where, timeout=300)
    check("result: PASS" in r.stdout and os.path.exists(os.path.join(out, "trace"))
          and "Tokens, hop by hop" in open(os.path.join(out, "report.html")).read(),
          f"v6lab check:\n{r.stdout[-3000:]}\n{r.stderr[-2000:]}")


def prefix_scenario(tmp):
    prefix = os.path.join(tmp, "p")
    install(prefix)
    expect_files(prefix)
    works(prefix, tmp)
    traced(prefix, tmp)
    moved = os.path.join(tmp, "moved", "elsewhere")
    os.makedirs(os.path.dirname(moved))
    os.rename(prefix, moved)
    works(moved, tmp)
    print(f"  installed in {prefix}, moved to {moved}: v6lab runs the exercise, demo and check")


STUDENT = r"""
#include <netinet/in.h>
#include <stdio.h>
#include <sys/socket.h>
#include "v6lab/wrap.h"
/* A student's own program on the traced wrappers: a listening IPv6 socket, then closed. */
int main(void)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = Socket(AF_INET6, SOCK_STREAM, 0);
	Bind(fd, (struct sockaddr *)&a, sizeof(a));
	Listen(fd, 5);
	Close(fd);
	puts("student program ran");
	return 0;
}
"""


def link_scenario(tmp):
    prefix = os.path.join(tmp, "p")
    install(prefix)
    src = os.path.join(tmp, "student.c")
    with open(src, "w") as f:
        f.write(STUDENT)
    env = dict(ENV, PKG_CONFIG_PATH=os.path.join(prefix, "lib", "pkgconfig"))
    flags = sh(["pkg-config", "--cflags", "--libs", "v6lab"], env=env).stdout.split()
    check(f"-I{prefix}/lib/pkgconfig/../../include" in flags or f"-I{prefix}/include" in flags,
          f"pkg-config --cflags: {flags}")
    exe_pc = os.path.join(tmp, "student-pc")
    sh(["cc", src, "-o", exe_pc, *flags, *SANITIZE], env=env)
    with open(os.path.join(tmp, "CMakeLists.txt"), "w") as f:
        f.write("cmake_minimum_required(VERSION 3.25)\nproject(student C)\n"
                "find_package(v6lab 0.1 CONFIG REQUIRED)\n"
                "add_executable(student-cmake student.c)\n"
                "target_link_libraries(student-cmake PRIVATE v6lab::v6lab)\n")
    sh(["cmake", "-S", tmp, "-B", os.path.join(tmp, "b"), f"-DCMAKE_PREFIX_PATH={prefix}",
        f"-DCMAKE_C_FLAGS={' '.join(SANITIZE)}", f"-DCMAKE_EXE_LINKER_FLAGS={' '.join(SANITIZE)}"], env=env)
    sh(["cmake", "--build", os.path.join(tmp, "b")], env=env)
    exe_cm = os.path.join(tmp, "b", "student-cmake")
    v6lab = os.path.join(prefix, "bin", "v6lab")
    for exe in (exe_pc, exe_cm):
        r = sh([exe])
        check(r.stdout == "student program ran\n", f"{exe}: {r.stdout!r} {r.stderr!r}")
        trace = exe + "-trace"
        sh([v6lab, "trace", "-o", trace, "--", exe], timeout=120)
        events = sh(["babeltrace2", trace]).stdout
        for ev in ("v6lab_sockets:socket", "v6lab_sockets:bind", "v6lab_sockets:listen", "v6lab_io:close"):
            check(ev in events, f"{os.path.basename(exe)}: no {ev} in its trace:\n{events[:2000]}")
    print("  pkg-config and find_package(v6lab): the student's program links the traced wrappers")


def deb_scenario(tmp):
    if not shutil.which("dpkg-deb"):
        skip("no dpkg-deb")
    sh(["cpack", "--config", os.path.join(BUILD, "CPackConfig.cmake"), "-G", "DEB", "-B", tmp], timeout=300)
    debs = glob.glob(os.path.join(tmp, "v6lab_*.deb"))
    check(len(debs) == 1, f"cpack made {debs}")
    listing = sh(["dpkg-deb", "-c", debs[0]]).stdout
    for path in ("./usr/bin/v6lab", "./usr/bin/ipv6-server", "./usr/lib/pkgconfig/v6lab.pc",
                 "./usr/libexec/v6lab/scripts/trace", "./usr/share/doc/v6lab/tutorials/"):
        check(f" {path}" in listing, f"{path} not in the package:\n{listing}")
    depends = sh(["dpkg-deb", "-f", debs[0], "Depends"]).stdout.strip()
    names = [d.strip().split()[0] for d in depends.split(",")]
    check("liblttng-ust1" in names and "python3-bt2" in names, f"Depends: {depends}")
    for n in names:
        r = sh(["apt-cache", "policy", n])
        check("Candidate:" in r.stdout and "Candidate: (none)" not in r.stdout,
              f"Depends names {n}, which this Debian does not have:\n{r.stdout}")
    root = os.path.join(tmp, "root")
    sh(["dpkg-deb", "-x", debs[0], root])
    r = sh([os.path.join(root, "usr", "bin", "v6lab"), "exercise"], cwd=tmp)
    check("PASS: 5/5 tokens, concurrent: yes" in r.stdout, f"the unpacked package's v6lab exercise:\n{r.stdout}")
    print(f"  {os.path.basename(debs[0])}: {len(listing.splitlines())} entries, Depends: {depends}; unpacked, it runs")


SCENARIOS = {"prefix": prefix_scenario, "link": link_scenario, "deb": deb_scenario}


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} BUILD_DIR {'|'.join(SCENARIOS)}", file=sys.stderr)
        sys.exit(2)
    if not os.path.exists(os.path.join(BUILD, "CMakeCache.txt")):
        skip(f"{BUILD} is not a configured build")
    v6test.set_subreaper()
    tmp = tempfile.mkdtemp(prefix="v6lab-install-")
    try:
        SCENARIOS[sys.argv[2]](tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{sys.argv[2]}: ok")


if __name__ == "__main__":
    main()
