"""Torque emulator core: server state, Slurm queries and the Torque view of a job.

The emulator speaks Torque 6 (Adaptive Computing) on the outside and runs every job on
the real Slurm underneath. Sources: github.com/adaptivecomputing/torque (``src/cmds/qsub_functions.c``,
``src/cmds/qstat.c``, ``src/include/pbs_job.h``) and the real outputs listed in README.md
("Sources"); what none shows is listed under "Assumed":

- ids are ``N.<server>`` (arrays ``N[].<server>``, elements ``N[i].<server>``) (qsub_functions.c, qstat.c);
  N is the Slurm job id (array: the Slurm array job id), the server the short hostname;
- states C/E/H/Q/R/S/W (``pbs_job.h``), ``exit_status`` once a job completes (real outputs);
- finished jobs stay in C for ``keep_completed`` seconds, then qstat answers
  "Unknown Job Id" (Torque's ``keep_completed`` server attribute); 0 makes them vanish at once;
- a job killed for its walltime reports ``exit_status = -11`` (JOB_EXEC_OVERLIMIT_WT,
  Torque 6.1.2 "Job Exit Status" page / Adaptive Computing KB "exit codes"), a job whose
  shell died of signal S reports 256+S (# assumed: listed in README.md "Assumed").

State lives in ``/var/spool/remotejobs-emulators/torque`` (``TORQUE_EMU_SPOOL`` overrides):

- ``server.conf``: optional, qmgr-like lines ``set server keep_completed = 300`` and
  ``set queue <name> keep_completed = 0`` (queue value wins, as in Torque);
- ``jobs/<N>.json``: one record per job, written by the submitting user (mode 0644): what
  qsub was asked (name, paths, resources, submit_args) plus completion facts cached once
  seen, so a job Slurm has forgotten can still be shown until keep_completed expires;
  the owner's next qstat/qdel deletes the record of a purged job (as Torque purges it);
- ``scripts/<user>/``: the spooled copies of job scripts (Torque's ``.SC`` files), 0700.

Slurm is read with ``squeue --json -t all`` (accounting is off on the test cluster; Slurm
keeps finished jobs for MinJobAge seconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import socket
import subprocess
import sys
from typing import Any

SPOOL = os.environ.get("TORQUE_EMU_SPOOL", "/var/spool/remotejobs-emulators/torque")
SLURM_BIN = os.environ.get("TORQUE_EMU_SLURM_BIN", "/usr/bin")
DEFAULT_KEEP_COMPLETED = 300

# pbs_error.h (Torque src/include/pbs_error.h): exit status = error & 0xFF.
PBSE_UNKJOBID = 15001
PBSE_PERM = 15007
PBSE_BADATVAL = 15014
PBSE_BADSTATE = 15016
PBSE_UNKQUE = 15018

# Special exit values (Torque 6.1.2 "Job Exit Status").
JOB_EXEC_FAIL1 = -1
JOB_EXEC_OVERLIMIT_MEM = -10
JOB_EXEC_OVERLIMIT_WT = -11

_ID = re.compile(r"^(\d+)(\[(\d*)\])?(?:\.(.*))?$")

FINAL_SLURM = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
               "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"}


def exit_code(error: int) -> int:
    """The process exit status Torque commands use for a PBSE error number."""
    return error & 0xFF


def server_name() -> str:
    """The server name in ids: the short hostname."""
    return socket.gethostname().split(".")[0]


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def fail(program: str, message: str, status: int) -> int:
    sys.stderr.write(f"{program}: {message}\n")  # format: torque src/cmds/qdel.c ("<cmd>: <text>")
    return status


# --------------------------------------------------------------------------- ids


class JobId:
    """A parsed Torque id: ``seq`` (N), ``index`` (None, '' for the array parent, or i)."""

    def __init__(self, seq: int, index: str | None) -> None:
        self.seq = seq
        self.index = index

    @classmethod
    def parse(cls, text: str) -> JobId | None:
        """``N``, ``N.server``, ``N[]``, ``N[i].server``; None when illegally formed or the
        suffix names another server."""
        match = _ID.match(text.strip())
        if not match:
            return None
        suffix = match.group(4)
        server = server_name()
        if suffix and not (socket.getfqdn().startswith(suffix) or suffix.startswith(server)):
            return None
        index = match.group(3) if match.group(2) else None
        return cls(int(match.group(1)), index)

    def full(self) -> str:
        bracket = "" if self.index is None else f"[{self.index}]"
        return f"{self.seq}{bracket}.{server_name()}"

    def short(self) -> str:
        return self.full().split(".")[0]


# --------------------------------------------------------------------------- config/records


def ensure_spool() -> None:
    """Create the shared dirs world-writable and sticky (any test user may come first;
    each then only creates and replaces its own files); repair them when we own them."""
    for sub in ("", "jobs", "scripts"):
        path = os.path.join(SPOOL, sub) if sub else SPOOL
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        info = os.stat(path)
        if info.st_uid == os.getuid() and info.st_mode & 0o7777 != 0o1777:
            os.chmod(path, 0o1777)


def keep_completed(queue: str) -> int:
    """Seconds a completed job stays visible in ``queue`` (server.conf, default 300)."""
    server_value, queue_value = DEFAULT_KEEP_COMPLETED, None
    try:
        with open(os.path.join(SPOOL, "server.conf"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        lines = []
    for line in lines:
        words = line.replace("=", " = ").split()
        if len(words) < 5 or words[0] != "set" or "keep_completed" not in words:
            continue
        try:
            value = int(words[-1])
        except ValueError:
            continue
        if words[1] == "server":
            server_value = value
        elif words[1] == "queue" and words[2] == queue:
            queue_value = value
    return server_value if queue_value is None else queue_value


def record_path(seq: int) -> str:
    return os.path.join(SPOOL, "jobs", f"{seq}.json")


def load_record(seq: int) -> dict[str, Any] | None:
    try:
        with open(record_path(seq), encoding="utf-8") as handle:
            data: dict[str, Any] = json.load(handle)
            return data
    except (OSError, ValueError):
        return None


def save_record(record: dict[str, Any]) -> None:
    """Write atomically; silently skipped when the caller may not (another user's job)."""
    path = record_path(int(record["seq"]))
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.fchmod(fd, 0o644)  # server state, whatever the submitter's umask (077 from remotejobs)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record, handle)
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


# --------------------------------------------------------------------------- slurm


def slurm(program: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([os.path.join(SLURM_BIN, program), *args], input=stdin,
                          capture_output=True, text=True, check=False)


def slurm_jobs() -> list[dict[str, Any]]:
    """Every job Slurm still remembers (pending, running, finished < MinJobAge)."""
    done = slurm("squeue", "--json", "-t", "all")
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip() or "squeue failed")
    jobs: list[dict[str, Any]] = json.loads(done.stdout).get("jobs", [])
    return jobs


def torque_state(job: dict[str, Any]) -> str:
    """Slurm state -> Torque letter (2.2 "States")."""
    state = str(job.get("job_state", ""))
    reason = str(job.get("state_reason", ""))
    if state in FINAL_SLURM:
        return "C"
    if state == "RUNNING":
        return "R"
    if state == "SUSPENDED":
        return "S"
    if state == "COMPLETING":
        return "E"
    if state == "PENDING":
        if reason.startswith("JobHeld") or reason in ("Dependency", "DependencyNeverSatisfied"):
            return "H"
        if reason == "BeginTime":
            return "W"
    return "Q"


def torque_exit(job: dict[str, Any]) -> int | None:
    """``exit_status`` as Torque reports it, or None while the job has not completed."""
    state = str(job.get("job_state", ""))
    if state not in FINAL_SLURM:
        return None
    if state == "TIMEOUT":
        return JOB_EXEC_OVERLIMIT_WT
    if state == "OUT_OF_MEMORY":
        return JOB_EXEC_OVERLIMIT_MEM
    if state in ("NODE_FAIL", "BOOT_FAIL"):
        return JOB_EXEC_FAIL1
    raw = int(job.get("exit_code") or 0)
    if state == "CANCELLED" and raw == 0:
        return 271  # deleted before its shell reported anything: 256 + SIGTERM [assumed] (README)
    signal = raw & 0x7F
    return 256 + signal if signal else (raw >> 8) & 0xFF
