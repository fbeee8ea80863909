"""Re-capture the real-cluster golden files (not a test). Run as root on the test machine:

    .venv/bin/python plugins/remotejobs-slurm/tests/golden/capture.py

It brings the cluster up (tests/cluster/up), submits probe jobs as ``rjalice`` (via
runuser), waits for them to reach the wanted states (a TIMEOUT takes 1-2 minutes), runs
the very commands :class:`SlurmDialect` builds and writes ``captured_*.txt`` here. The
probe job's name says what it is meant to show (``probe-fail3`` exits 3, ...). Files
named ``handwritten_*.txt`` are NOT touched: they hold states this cluster cannot produce.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from remotejobs_slurm.dialect import SlurmDialect

from remotejobs.transport.base import CommandResult

HERE = Path(__file__).parent
ROOT = HERE.parents[3]
USER, OTHER = "rjalice", "rjbob"
D = SlurmDialect()


def run(argv: list[str], user: str = USER) -> CommandResult:
    full = ["runuser", "-u", user, "--", *argv] if user != "root" else argv
    done = subprocess.run(full, capture_output=True, text=True, check=False, cwd="/tmp")
    return CommandResult(argv=tuple(argv), exit_status=done.returncode, stdout=done.stdout, stderr=done.stderr)


def save(name: str, result: CommandResult, note: str = "") -> None:
    stamp = datetime.now().strftime("%Y-%m-%d")
    head = [f"# origin: captured from the test cluster (Slurm 22.05.8, Debian 12) on {stamp} by capture.py"]
    if note:
        head.append(f"# note: {note}")
    head += [f"# command: {shlex.join(result.argv)}", f"# exit_status: {result.exit_status}"]
    stdout = result.stdout if not result.stdout or result.stdout.endswith("\n") else result.stdout + "\n"
    (HERE / f"captured_{name}.txt").write_text(
        "\n".join(head) + "\n--- stdout\n" + stdout + "--- stderr\n" + result.stderr, encoding="utf-8")
    print(f"wrote captured_{name}.txt (exit {result.exit_status})")


def sbatch(name: str, script: str, *opts: str) -> str:
    result = run(["sbatch", "--parsable", "-J", name, "-o", "/dev/null", *opts, "--wrap", script])
    if name == "probe-ok":
        save("sbatch_ok", result, "sbatch --parsable prints the job id alone")
    return D.parse_submit(result)


def states(ids: list[str]) -> dict[str, str]:
    rows = run(list(D.status_command(ids).argv)).stdout.splitlines()
    return {r.split("|")[0]: r.split("|")[2] for r in rows if "|" in r}


def wait_for(what: str, check: object, limit: float = 200.0) -> None:
    deadline = time.monotonic() + limit
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(1)


def main() -> None:
    subprocess.run([str(ROOT / "tests/cluster/up")], check=True, stdout=subprocess.DEVNULL)
    ids = {
        "ok": sbatch("probe-ok", "true"),
        "fail3": sbatch("probe-fail3", "exit 3"),
        "kill9": sbatch("probe-kill9", "kill -9 $$"),
        "cancel": sbatch("probe-cancel", "sleep 300"),
        "held": sbatch("probe-held", "true", "--hold"),
        "array": sbatch("probe array|pipe", "exit $SLURM_ARRAY_TASK_ID", "--array=0-2"),
        "heldarray": sbatch("probe-held-array", "true", "--hold", "--array=1-2"),
        "timeout": sbatch("probe-timeout", "sleep 300", "--time=1"),
        "running": sbatch("probe-running", "sleep 300"),
        "suspended": sbatch("probe-suspended", "sleep 300"),
        "adminheld": sbatch("probe-adminheld", "true", "--begin=now+3600"),
        "weird": sbatch('probe we"ird $(x) ünï', "true"),
    }
    ids["dep"] = sbatch("probe-dependency", "true", f"--dependency=afterok:{ids['held']}")
    run(["scontrol", "hold", ids["adminheld"]], user="root")
    all_ids = list(ids.values())
    wait_for("running jobs", lambda: all(
        states(all_ids).get(ids[k]) == "RUNNING" for k in ("cancel", "running", "suspended", "timeout")))
    run(["scontrol", "suspend", ids["suspended"]], user="root")
    save("scancel_running", run(list(D.cancel_command(ids["cancel"]).argv)))
    save("scancel_other_user", run(list(D.cancel_command(ids["running"]).argv), user=OTHER),
         f"{OTHER} cancelling {USER}'s running job")
    wait_for("TIMEOUT", lambda: states(all_ids).get(ids["timeout"]) == "TIMEOUT")
    wait_for("finished jobs", lambda: all(
        states(all_ids).get(ids[k]) not in (None, "PENDING", "RUNNING", "COMPLETING")
        for k in ("ok", "fail3", "kill9", "weird", "cancel")))
    save("squeue_status", run(list(D.status_command([*all_ids, ids["array"] + "_1"]).argv)),
         "names: probe-ok exits 0, probe-fail3 exit 3, probe-kill9 SIGKILL, probe-cancel scancel'ed "
         "while running, probe-held --hold, probe-adminheld scontrol hold, probe-suspended scontrol "
         "suspend, probe-timeout --time=1, array 0-2 exits with its index")
    save("squeue_jobs", run(list(D.jobs_command(USER).argv)), "jobs listing of one user")
    save("squeue_one_unknown", run(list(D.status_command(["987654321"]).argv)),
         "squeue fails when its only id is unknown")
    save("squeue_two_unknown", run(list(D.status_command(["987654321", "987654322"]).argv)),
         "with several ids squeue prints the known ones and exits 0")
    save("squeue_mixed_unknown", run(list(D.status_command([ids["ok"], "987654321"]).argv)),
         "one known id, one unknown")
    save("scancel_unknown", run(list(D.cancel_command("987654321").argv)))
    save("scancel_completed", run(list(D.cancel_command(ids["ok"]).argv)))
    save("scancel_malformed", run(list(D.cancel_command("abc").argv)))
    history = D.history_command([ids["ok"]])
    assert history is not None
    save("sacct_disabled", run(list(history.argv)), "accounting_storage/none on the test cluster")
    save("sbatch_bad_partition", run(["sbatch", "--parsable", "-p", "nosuch", "--wrap", "true"]))
    save("sbatch_bad_memory", run(["sbatch", "--parsable", "--mem=99999999", "--wrap", "true"]))
    run(["scontrol", "resume", ids["suspended"]], user="root")
    run(["scancel", *all_ids], user="root")


if __name__ == "__main__":
    main()
