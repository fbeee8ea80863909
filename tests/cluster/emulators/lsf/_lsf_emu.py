"""Shared core of the LSF 10.1 CLI emulator: configuration, job records, Slurm state.

Comments name the public source of each message and format (IBM bsub.1/bjobs.1/bkill.1 =
https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_command_ref/<name>.html; more in README.md
"Sources"), and choices no public source shows are marked [emu]/[assumed] and listed under "Assumed".

Ids: the LSF job id is the Slurm job id (array: the Slurm array job id), so ids are
unique, monotonically increasing integers (README.md).

State lives under ``SPOOL`` (default /var/spool/remotejobs-emulators/lsf, mode 1777):
``jobs/<user>/`` is owned by that user (0755) and holds, per job, ``<id>.json`` (the
submit record), ``<id>.script`` (0700) and per element ``<id>.<idx>.{start,end,kill,cleaned}``
(idx 0 for non-array jobs). Every file is written atomically (temporary name, rename)
and only by its owner, so no lock is needed and no user can alter another's jobs.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

SPOOL = os.environ.get("LSF_EMU_SPOOL", "/var/spool/remotejobs-emulators/lsf")
SLURM_BIN = os.environ.get("LSF_EMU_SLURM_BIN", "/usr/bin")
HERE = os.path.dirname(os.path.realpath(__file__))

#: LSF queue -> Slurm partition. ``normal`` is the default queue (assumed: README).
QUEUES = {"normal": "debug", "short": "short", "debug": "debug"}
DEFAULT_QUEUE = "normal"

FINAL = ("DONE", "EXIT")
TERM_OWNER = "TERM_OWNER: job killed by owner"  # IBM 'About job states' / IBM bkill.1
TERM_RUNLIMIT = "TERM_RUNLIMIT: job killed after reaching LSF run time limit"
TERM_MEMLIMIT = "TERM_MEMLIMIT: job killed after reaching LSF memory usage limit"
NEVER = "Dependency condition invalid or never satisfied"  # IBM bsub.1

# Slurm pending reason -> LSF pending reason [emu: usual LSF wordings]
PEND_REASONS = {
    "Dependency": "Job dependency condition not satisfied",
    "DependencyNeverSatisfied": NEVER,
    "JobHeldUser": "The job was suspended by the user while pending",
    "JobHeldAdmin": "The job was suspended by LSF admin or root while pending",
    "Resources": "Not enough job slot(s)",
    "Priority": "Not enough job slot(s)",
}


def caller() -> str:
    """The calling user's name (the emulator runs as that user)."""
    return pwd.getpwuid(os.getuid()).pw_name


def hostname() -> str:
    return socket.gethostname().split(".")[0]


def die(message: str, status: int = 255) -> NoReturn:
    """Print ``message`` on stderr and exit (LSF commands exit 255 on errors, IBM bsub.1)."""
    sys.stderr.write(message.rstrip("\n") + "\n")  # format: lsb_perror, zjma/openlava lsbatch/lib/lsb.err.c
    sys.exit(status)


# -- configuration -------------------------------------------------------------------
def read_conf(name: str) -> dict[str, str]:
    """``KEY = VALUE`` lines of ``SPOOL/<name>`` (lsb.params / lsf.conf style). Like LSF's
    own configuration it belongs to the administrator: a file not owned by root is ignored."""
    values: dict[str, str] = {}
    try:
        with open(os.path.join(SPOOL, name), encoding="utf-8") as handle:
            if os.fstat(handle.fileno()).st_uid != 0:
                return values
            for raw in handle:
                line = raw.split("#", 1)[0].strip()
                if "=" in line:
                    key, _, value = line.partition("=")
                    values[key.strip().upper()] = value.strip().strip('"')
    except OSError:
        pass
    return values


def clean_period() -> int:
    """``CLEAN_PERIOD`` of lsb.params in seconds (IBM bjobs.1: default 3600; 0 allowed)."""
    try:
        return max(0, int(read_conf("lsb.params").get("CLEAN_PERIOD", "3600")))
    except ValueError:
        return 3600


def unit_for_limits() -> str:
    """``LSF_UNIT_FOR_LIMITS`` of lsf.conf (IBM bsub.1 -M; the LSF 10 installer writes MB)."""
    unit = read_conf("lsf.conf").get("LSF_UNIT_FOR_LIMITS", "MB").upper()
    return unit if unit in ("KB", "MB", "GB", "TB") else "MB"


def max_array_size() -> int:
    try:
        return int(read_conf("lsf.conf").get("MAX_JOB_ARRAY_SIZE", "1000"))
    except ValueError:
        return 1000


# -- files -----------------------------------------------------------------------------
def _ensure_dir(path: str, mode: int) -> None:
    try:
        os.mkdir(path)
        os.chmod(path, mode)
    except FileExistsError:
        pass


def user_dir(user: str, create: bool = False) -> str:
    """``SPOOL/jobs/<user>``; created (with the spool itself) when ``create``."""
    path = os.path.join(SPOOL, "jobs", user)
    if create:
        os.makedirs(os.path.dirname(SPOOL), exist_ok=True)
        _ensure_dir(SPOOL, 0o1777)
        _ensure_dir(os.path.join(SPOOL, "jobs"), 0o1777)
        _ensure_dir(path, 0o755)
    return path


def write_atomic(path: str, text: str, mode: int = 0o644) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    # The server's records must not depend on the submitter's umask (remotejobs submits
    # under umask 077): real LSF keeps job state in mbatchd, readable by every bjobs.
    os.fchmod(fd, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(tmp, path)


def write_json(path: str, data: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(data, sort_keys=True))


def read_json(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


# -- records ---------------------------------------------------------------------------
@dataclass
class Job:
    """One submitted job (an array job is one Job with several indices)."""

    rec: dict[str, Any]
    path: str  # the record file: <user dir>/<id>.json

    @property
    def id(self) -> int:
        return int(self.rec["id"])

    @property
    def user(self) -> str:
        return str(self.rec["user"])

    @property
    def indices(self) -> list[int]:
        return list(self.rec.get("indices") or [0])

    @property
    def is_array(self) -> bool:
        return bool(self.rec.get("indices"))

    def element_file(self, idx: int, kind: str) -> str:
        return os.path.join(os.path.dirname(self.path), f"{self.id}.{idx}.{kind}")

    def element(self, idx: int, kind: str) -> dict[str, Any] | None:
        return read_json(self.element_file(idx, kind))


ARCHIVED = ".cleaned.json"


def all_jobs(user: str | None = None, archived: bool = False) -> list[Job]:
    """Jobs of ``user`` (None: all users), ordered by id; with ``archived`` also those
    whose every element is past CLEAN_PERIOD (in LSF only bhist, not emulated, sees them)."""
    base = os.path.join(SPOOL, "jobs")
    try:
        users = [user] if user else sorted(os.listdir(base))
    except OSError:
        return []
    jobs = []
    for name in users:
        directory = os.path.join(base, name)
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in entries:
            digits = entry[: -len(ARCHIVED)] if entry.endswith(ARCHIVED) else entry[:-5]
            if entry.endswith(".json") and digits.isdigit() and (archived or not entry.endswith(ARCHIVED)):
                path = os.path.join(directory, entry)
                rec = read_json(path)
                if rec is not None:
                    jobs.append(Job(rec, path))
    return sorted(jobs, key=lambda j: j.id)


def find_job(job_id: int, archived: bool = False) -> Job | None:
    """The job with this id, whoever owns it (``archived``: also when cleaned)."""
    base = os.path.join(SPOOL, "jobs")
    try:
        users = os.listdir(base)
    except OSError:
        return None
    for name in users:
        for suffix in (".json", ARCHIVED) if archived else (".json",):
            path = os.path.join(base, name, f"{job_id}{suffix}")
            rec = read_json(path)
            if rec is not None:
                return Job(rec, path)
    return None


_ID = re.compile(r"^(\d+)(?:\[(\d+)\])?$")


def parse_job_ref(text: str) -> tuple[int, int | None] | None:
    """``"123"`` -> (123, None); ``"123[4]"`` -> (123, 4); anything else None."""
    match = _ID.match(text.strip())
    if not match:
        return None
    return int(match.group(1)), (int(match.group(2)) if match.group(2) else None)


# -- Slurm -----------------------------------------------------------------------------
def slurm(argv: list[str], stdin: str | None = None,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [os.path.join(SLURM_BIN, argv[0]), *argv[1:]], input=stdin, capture_output=True,
        text=True, env=env, check=False,
    )


def _slurm_time(text: str) -> float | None:
    try:
        return time.mktime(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None


@dataclass
class SlurmRow:
    state: str
    reason: str
    start: float | None
    end: float | None
    nodes: str


def slurm_rows() -> dict[tuple[int, int], SlurmRow]:
    """Every job Slurm still knows, keyed by (array job id, index or 0). One squeue call."""
    for _attempt in range(3):
        proc = slurm(["squeue", "-h", "-a", "-t", "all", "-r", "-o", "%F|%K|%T|%r|%S|%e|%N"])
        if proc.returncode == 0:
            break
        time.sleep(1)
    else:  # never guess states from a failed query (IBM bsub.1: LSF's retry wording)
        die("Cannot connect to LSF. Please wait ...\nLSF is down. Please wait ...")
    out = proc.stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split("|")
        if len(parts) != 7 or not parts[0].isdigit():
            continue
        idx = int(parts[1]) if parts[1].isdigit() else 0
        rows[(int(parts[0]), idx)] = SlurmRow(
            parts[2], parts[3], _slurm_time(parts[4]), _slurm_time(parts[5]), parts[6]
        )
    return rows


# -- the state of one element ------------------------------------------------------------
@dataclass
class View:
    """What bjobs knows of one element (or of a non-array job, idx 0)."""

    job: Job
    idx: int
    stat: str
    exit_code: int | None = None
    exit_reason: str = ""
    pend_reason: str = ""
    start: float | None = None
    finish: float | None = None
    host: str = ""
    pid: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ref(self) -> str:
        return f"{self.job.id}[{self.idx}]" if self.job.is_array else str(self.job.id)

    @property
    def final(self) -> bool:
        return self.stat in FINAL


_RUNNING = {"RUNNING": "RUN", "COMPLETING": "RUN", "CONFIGURING": "PROV", "SUSPENDED": "USUSP",
            "STOPPED": "USUSP", "SIGNALING": "RUN", "STAGE_OUT": "RUN", "RESIZING": "RUN"}


def view_of(job: Job, idx: int, rows: dict[tuple[int, int], SlurmRow] | None, me: str) -> View:
    """Derive the LSF state of one element from its records and, if unfinished, Slurm.

    The end record (written by the job wrapper) decides DONE/EXIT; a kill record gives
    ``TERM_OWNER``. Jobs Slurm ended without an end record (killed while pending) are
    EXIT; the owner's bjobs then writes a synthesized end record so the outcome survives
    Slurm's MinJobAge.
    """
    start = job.element(idx, "start") or {}
    end = job.element(idx, "end")
    kill = job.element(idx, "kill")
    view = View(job, idx, "PEND", start=start.get("time"), host=start.get("host", ""),
                pid=start.get("pid"))
    if end is not None:
        code = end.get("exit_code")
        view.finish = end.get("time")
        view.exit_code = code
        killed = kill is not None
        view.stat = "DONE" if code == 0 and not killed else "EXIT"
        view.exit_reason = TERM_OWNER if killed else str(end.get("reason") or "")
        return view
    row = (rows or {}).get((job.id, idx))
    if row is None and rows is not None and job.is_array:
        row = rows.get((job.id, 0))
    if row is not None and row.state == "PENDING" and kill is None:
        if job.rec.get("never"):
            view.pend_reason = NEVER
        elif row.reason in ("JobHeldUser", "JobHeldAdmin"):
            view.stat = "PSUSP"
            view.pend_reason = PEND_REASONS[row.reason]
        else:
            view.pend_reason = PEND_REASONS.get(row.reason, "New job is waiting for scheduling")
        return view
    if row is not None and row.state in _RUNNING and kill is None:
        view.stat = _RUNNING[row.state]
        view.start = view.start or row.start
        view.host = view.host or row.nodes
        return view
    if row is None and kill is None and rows is not None and job.rec.get("never"):
        view.pend_reason = NEVER
        return view
    # Ended without an end record: cancelled while pending, or the wrapper was killed.
    view.stat = "EXIT"
    view.finish = (kill or {}).get("time") or (row.end if row else None) or time.time()
    if kill is not None:
        view.exit_reason = TERM_OWNER
    elif row is not None and row.state == "TIMEOUT":
        view.exit_reason = TERM_RUNLIMIT
    elif row is not None and row.state == "OUT_OF_MEMORY":
        view.exit_reason = TERM_MEMLIMIT
    if row is not None and row.state in ("PENDING", *_RUNNING):
        return view  # bkill in progress: do not record yet
    if job.user == me:
        write_json(job.element_file(idx, "end"),
                   {"time": view.finish, "exit_code": None, "reason": view.exit_reason})
    return view


def needs_slurm(job: Job) -> bool:
    """True when some element has no end record (so Slurm must be asked)."""
    return any(not os.path.exists(job.element_file(i, "end")) for i in job.indices)


def views(jobs: list[Job], me: str, include_cleaned: bool = False) -> list[View]:
    """Views of every element of ``jobs``, without those past CLEAN_PERIOD (IBM bjobs.1).

    A finished element older than CLEAN_PERIOD is marked cleaned (by its owner) and then
    stays gone even if CLEAN_PERIOD grows again, as jobs leave mbatchd's memory for good.
    """
    rows = slurm_rows() if any(needs_slurm(j) for j in jobs) else None
    period = clean_period()
    now = time.time()
    result = []
    for job in jobs:
        for idx in job.indices:
            cleaned_file = job.element_file(idx, "cleaned")
            if os.path.exists(cleaned_file) and not include_cleaned:
                continue
            view = view_of(job, idx, rows, me)
            if view.final and view.finish is not None and view.finish + period <= now:
                if job.user == me and not os.path.exists(cleaned_file):
                    write_json(cleaned_file, {"time": now})
                if not include_cleaned:
                    continue
            result.append(view)
        if job.user == me and not job.path.endswith(ARCHIVED) and all(
                os.path.exists(job.element_file(i, "cleaned")) for i in job.indices):
            os.replace(job.path, job.path[: -len(".json")] + ARCHIVED)  # keeps bjobs fast
    return result


# -- formatting helpers ------------------------------------------------------------------
def display_year() -> bool:
    """``LSB_DISPLAY_YEAR`` of lsf.conf (y|Y|n|N, default N): IBM's page
    https://www.ibm.com/docs/en/SSWRJV_10.1.0/lsf_config_ref/lsf.conf.lsb_display_year.5.html
    ("inclusion of the year in the time string displayed by the commands bjobs -l, bacct -l,
    and bhist -l|-b|-t")."""
    return read_conf("lsf.conf").get("LSB_DISPLAY_YEAR", "N").upper() == "Y"


def lsf_time(epoch: float | None, suffix: str = "") -> str:
    """``%b %e %H:%M`` (IBM bjobs.1: no year, space-padded day), or "" when unknown. With
    LSB_DISPLAY_YEAR the year follows (``Jan  1 10:21 2010 L``): the shape BatchEuphoria, a
    client of real LSF, documents for ``bjobs -o`` times (TheRoddyWMS/BatchEuphoria,
    LSFJobManager.groovy parseTime) [assumed: that LSB_DISPLAY_YEAR is the switch for -o;
    IBM's page names only bjobs -l, bacct -l and bhist]."""
    if epoch is None:
        return ""
    stamp = "%b %e %H:%M %Y" if display_year() else "%b %e %H:%M"
    return time.strftime(stamp, time.localtime(epoch)) + suffix
