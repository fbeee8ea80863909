"""PBS Professional / OpenPBS emulator core: ids, server settings, records, Slurm queries.

The emulator speaks PBS Pro / OpenPBS on the outside and runs every job on the real Slurm
underneath. Sources (cited as ``openpbs:<path>`` = github.com/openpbs/openpbs, master):

- ids ``N.<server>``, arrays ``N[].<server>``, subjobs ``N[i].<server>``
  (openpbs:src/lib/Libcmds/parse_jobid.c; doc/man1/qsub.1B); N is the Slurm job id (array:
  the Slurm array job id); the server name is the short host name [assumed: a real server
  is named by PBS_SERVER in pbs.conf, usually the host name];
- states Q H W R E S F, B for a begun array, X for a finished subjob
  (openpbs:doc/man1/qstat.1B); a job waiting on a dependency is H with Hold_Types s
  (AiiDA's PBS Pro 12 capture, jobs 69302/74165: ``depend = afterok:...``, ``job_state = H``,
  ``Hold_Types = s``);
- ``Exit_status``: the script's exit status, 256+N when killed by signal N
  (openpbs:src/resmom/linux/mom_start.c ``WTERMSIG(statloc) + 0x100``), -29 when killed for
  its walltime (openpbs:src/include/job.h JOB_EXEC_KILL_WALLTIME, src/resmom/mom_main.c),
  -27 for memory (JOB_EXEC_KILL_MEM);
- finished jobs stay visible to ``qstat -x`` for ``job_history_duration`` (default two
  weeks) when ``job_history_enable`` is set (PBS Reference Guide, server attributes);
  without it they are forgotten at once (qstat: ``Unknown Job Id``);
- command exit status: the PBS error number & 0xFF (openpbs:src/cmds/qstat.c
  ``exit(any_failed)`` with ``any_failed = pbs_errno``; openpbs:src/include/pbs_error.h).

State lives in ``/var/spool/remotejobs-emulators/pbs`` (``PBS_EMU_SPOOL`` overrides):
``server.conf`` (qmgr-like ``set server job_history_enable = False`` /
``set server job_history_duration = 0``, only trusted when root owns it), ``jobs/<N>.json``
(what qsub was asked, plus final facts cached once seen), ``scripts/<user>/`` (spooled job
scripts). Slurm is read with ``squeue --json -t all``.
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

SPOOL = os.environ.get("PBS_EMU_SPOOL", "/var/spool/remotejobs-emulators/pbs")
SLURM_BIN = os.environ.get("PBS_EMU_SLURM_BIN", "/usr/bin")
DEFAULT_QUEUE = "workq"  # OpenPBS's default queue (buildtest's and baw-server's captures: workq)
HISTORY_DURATION = 1209600  # job_history_duration default: two weeks (PBS Reference Guide)

# openpbs:src/include/pbs_error.h
PBSE_UNKJOBID = 15001
PBSE_PERM = 15007
PBSE_BADSTATE = 15016
PBSE_UNKQUE = 15018
PBSE_HISTJOBID = 15139
PBSE_NOHISTARRAYSUBJOB = 15159
# openpbs:src/include/job.h
JOB_EXEC_FAIL1 = -1
JOB_EXEC_KILL_MEM = -27
JOB_EXEC_KILL_WALLTIME = -29

_ID = re.compile(r"^(\d+)(\[(\d*)\])?(?:\.([A-Za-z0-9][A-Za-z0-9_.-]*))?$")
FINAL_SLURM = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
               "BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY"}


def exit_code(error: int) -> int:
    """The process exit status of a command failing with PBS error ``error``."""
    return error & 0xFF


def server_name() -> str:
    return socket.gethostname().split(".")[0]


def me() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def fail(program: str, message: str, status: int) -> int:
    sys.stderr.write(f"{program}: {message}\n")  # format: openpbs:src/cmds/qdel.c, qstat.c ("<cmd>: <text>")
    return status


class JobId:
    """A parsed id: ``seq`` (N) and ``index`` (None, '' for the array, or the subjob index)."""

    def __init__(self, seq: int, index: str | None) -> None:
        self.seq = seq
        self.index = index

    @classmethod
    def parse(cls, text: str) -> JobId | None:
        """None when illegally formed (qstat/qdel: ``illegally formed job identifier``)."""
        match = _ID.match(text.strip())
        if not match:
            return None
        return cls(int(match.group(1)), match.group(3) if match.group(2) else None)

    def full(self) -> str:
        bracket = "" if self.index is None else f"[{self.index}]"
        return f"{self.seq}{bracket}.{server_name()}"


# --------------------------------------------------------------------------- config, records


def _server_conf() -> dict[str, str]:
    path = os.path.join(SPOOL, "server.conf")
    try:
        if os.stat(path).st_uid != 0:
            return {}  # only the administrator (root) configures the server
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return {}
    conf = {}
    for line in lines:
        words = line.replace("=", " = ").split()
        if len(words) == 5 and words[:2] == ["set", "server"] and words[3] == "=":
            conf[words[2]] = words[4]
    return conf


def history_duration() -> int | None:
    """Seconds finished jobs stay visible to ``qstat -x``; None without job history."""
    conf = _server_conf()
    if conf.get("job_history_enable", "True").lower() in ("false", "0", "f"):
        return None
    try:
        return int(conf.get("job_history_duration", HISTORY_DURATION))
    except ValueError:
        return HISTORY_DURATION


def ensure_spool() -> None:
    for sub in ("", "jobs", "scripts"):
        path = os.path.join(SPOOL, sub) if sub else SPOOL
        with contextlib.suppress(FileExistsError):
            os.mkdir(path)
        info = os.stat(path)
        if info.st_uid == os.getuid() and info.st_mode & 0o7777 != 0o1777 and sub:
            os.chmod(path, 0o1777)


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
    """Write atomically; skipped when the caller may not (another user's job)."""
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


def pbs_state(job: dict[str, Any]) -> str:
    """Slurm state -> PBS letter (F for any finished job; the view makes subjobs X)."""
    state = str(job.get("job_state", ""))
    reason = str(job.get("state_reason", ""))
    if state in FINAL_SLURM:
        return "F"
    if state in ("RUNNING", "CONFIGURING"):
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


def pbs_exit(job: dict[str, Any]) -> int | None:
    """``Exit_status`` once the job finished; None while it runs, and for a job deleted
    before it started [assumed: no source shows one for it]."""
    state = str(job.get("job_state", ""))
    if state not in FINAL_SLURM:
        return None
    if state == "TIMEOUT":
        return JOB_EXEC_KILL_WALLTIME
    if state == "OUT_OF_MEMORY":
        return JOB_EXEC_KILL_MEM
    if state in ("NODE_FAIL", "BOOT_FAIL"):
        return JOB_EXEC_FAIL1  # assumed: the closest JOB_EXEC code
    raw = int(job.get("exit_code") or 0)
    if state == "CANCELLED" and raw == 0:
        return None  # deleted before its shell reported anything
    signal = raw & 0x7F
    return 0x100 + signal if signal else (raw >> 8) & 0xFF
