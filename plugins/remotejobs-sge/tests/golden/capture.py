"""Re-capture the real Grid Engine golden files (not a test). Run as root on the test machine:

    .venv/bin/python plugins/remotejobs-sge/tests/golden/capture.py

It brings the cluster up (tests/cluster/up), submits probe jobs as ``rjalice`` (via
runuser, with the cluster's SGE_ROOT/SGE_CELL), waits for the states it wants to show,
runs the very commands the ``sge`` dialect builds (qsub -terse, qstat -xml -u, qstat -j,
qacct -j, qdel) and writes ``captured/<name>.txt`` verbatim. A probe job's name says what it
is meant to show (``probe-fail3`` exits 3 ...). It takes about a minute.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parents[3]
USER, OTHER = "rjalice", "rjbob"
SCRIPT_DIR = Path("/tmp/remotejobs-sge-capture")


class Result:
    def __init__(self, argv: list[str], proc: subprocess.CompletedProcess[str]) -> None:
        self.argv, self.exit_status, self.stdout, self.stderr = argv, proc.returncode, proc.stdout, proc.stderr


def run(info: dict[str, object], *argv: str, user: str = USER, stdin: str | None = None) -> Result:
    sge = info["sge"]
    assert isinstance(sge, dict)
    env = [f"{k}={v}" for k, v in sge["env"].items()]
    full = ["runuser", "-u", user, "--", "env", *env, f"{sge['bin_dir']}/{argv[0]}", *argv[1:]]
    proc = subprocess.run(full, capture_output=True, text=True, check=False, cwd="/tmp", input=stdin)
    return Result(list(argv), proc)


def save(name: str, result: Result, note: str = "") -> None:
    stamp = datetime.now().strftime("%Y-%m-%d")
    head = [f"# origin: captured from the test cluster (Son of Grid Engine 8.1.9, Debian 12 "
            f"gridengine-* 8.1.9+dfsg-10+b1) on {stamp} by capture.py, as user {USER}"]
    if note:
        head.append(f"# note: {note}")
    head += [f"# command: {shlex.join(result.argv)}", f"# exit_status: {result.exit_status}"]
    (HERE / "captured" / f"{name}.txt").write_text(
        "\n".join(head) + "\n--- stdout\n" + result.stdout + "--- stderr\n" + result.stderr, encoding="utf-8")
    print(f"wrote captured/{name}.txt (exit {result.exit_status})")


def script(name: str, body: str) -> str:
    path = SCRIPT_DIR / f"{name}.sh"
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(0o644)
    return str(path)


def qsub(info: dict[str, object], name: str, body: str, *opts: str) -> Result:
    return run(info, "qsub", "-terse", "-S", "/bin/bash", "-N", name, "-o", "/dev/null", "-e", "/dev/null",
               *opts, script(name, body))


def wait_for(what: str, check: object, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    info = json.loads(subprocess.run([str(ROOT / "tests/cluster/up")], check=True, capture_output=True,
                                     text=True).stdout)
    SCRIPT_DIR.mkdir(mode=0o755, exist_ok=True)
    ok = qsub(info, "probe-ok", "true")
    save("qsub_terse", ok, "qsub -terse prints the job id alone")
    arr = qsub(info, "probe-array", "exit $(( SGE_TASK_ID == 2 ? 3 : 0 ))", "-t", "1-3")
    save("qsub_terse_array", arr, "an array job: <id>.<first>-<last>:<step>")
    save("qsub_stdin", run(info, "qsub", "-terse", "-N", "probe-stdin", "-o", "/dev/null", "-j", "y",
                           stdin="#!/bin/sh\ntrue\n"), "the script on standard input")
    save("qsub_bad_queue", qsub(info, "probe-badq", "true", "-q", "nosuch.q"))
    save("qsub_bad_pe", qsub(info, "probe-badpe", "true", "-pe", "nosuch", "2"))
    ids = {k: r.stdout.strip().split(".")[0] for k, r in (("ok", ok), ("array", arr))}
    for key, body, opts in (
        ("fail3", "exit 3", ()),
        ("timeout", "sleep 60", ("-l", "h_rt=3")),
        ("running", "sleep 60", ()),
        ("cancel", "sleep 60", ()),
        ("suspended", "sleep 60", ()),
        ("held", "true", ("-h",)),
        ("eqw", "true", ("-wd", "/nonexistent/dir")),
        ("pending", "true", ("-l", "h_vmem=900T")),
        ("pe", "sleep 60", ("-pe", "smp", "2", "-l", "h_vmem=100M")),
    ):
        ids[key] = qsub(info, f"probe-{key}", body, *opts).stdout.strip()
    ids["dependent"] = qsub(info, "probe-dependent", "true", "-hold_jid", ids["running"]).stdout.strip()
    ids["pending_array"] = qsub(info, "probe-pending-array", "true", "-t", "1-4:2", "-h").stdout.strip().split(".")[0]

    def states() -> dict[str, str]:
        out = run(info, "qstat", "-u", USER).stdout.splitlines()[2:]
        return {line.split()[0]: line.split()[4] for line in out if len(line.split()) > 4}

    wait_for("running jobs", lambda: all(states().get(ids[k]) == "r"
                                         for k in ("running", "cancel", "suspended", "pe")))
    run(info, "qmod", "-sj", ids["suspended"])
    save("qdel_running", run(info, "qdel", ids["cancel"]))
    save("qstat_xml", run(info, "qstat", "-xml", "-u", USER),
         "probe-running r, probe-cancel qdel'ed (dr), probe-suspended qmod -sj (s), probe-held -h (hqw), "
         "probe-eqw -wd /nonexistent (Eqw), probe-pending h_vmem=900T (qw), probe-dependent -hold_jid "
         "(hqw), probe-pe -pe smp 2, probe-pending-array -t 1-4:2 -h, probe-timeout h_rt=3")
    save("qstat_j_eqw", run(info, "qstat", "-j", ids["eqw"]), "the Eqw job's error reason")
    save("qstat_j_unknown", run(info, "qstat", "-j", "987654"))
    save("qstat_xml_other_user", run(info, "qstat", "-xml", "-u", OTHER), f"{USER} asking about {OTHER}")
    save("qdel_other_user", run(info, "qdel", ids["running"], user=OTHER), f"{OTHER} deleting {USER}'s job")
    save("qdel_unknown", run(info, "qdel", "987654"))
    wait_for("accounting", lambda: all(run(info, "qacct", "-j", ids[k]).exit_status == 0
                                       for k in ("ok", "fail3", "timeout", "cancel", "array")))
    save("qdel_finished", run(info, "qdel", ids["ok"]), "the job ended a few seconds ago")
    save("qacct_ok", run(info, "qacct", "-j", ids["ok"]))
    save("qacct_fail3", run(info, "qacct", "-j", ids["fail3"]))
    save("qacct_timeout", run(info, "qacct", "-j", ids["timeout"]), "sleep 60 with -l h_rt=3")
    save("qacct_cancelled", run(info, "qacct", "-j", ids["cancel"]), "qdel while running")
    save("qacct_array", run(info, "qacct", "-j", ids["array"]), "-t 1-3, task 2 exits 3")
    save("qacct_unknown", run(info, "qacct", "-j", "987654"))
    held = ids["held"]
    run(info, "qdel", held)
    save("qacct_deleted_pending", run(info, "qacct", "-j", held), "qdel'ed while hqw: never accounted")
    for key in ("running", "suspended", "eqw", "pending", "pe", "dependent", "pending_array"):
        run(info, "qdel", ids[key])


if __name__ == "__main__":
    main()
