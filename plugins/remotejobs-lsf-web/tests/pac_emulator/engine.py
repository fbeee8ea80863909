"""Where the emulated PAC's jobs really run: LSF (the LSF 10.1 emulator over the test
cluster's Slurm, tests/cluster/emulators/lsf) or, as a fallback, Slurm directly.

Every command runs AS the job's user through ``runuser -u <user> --`` with an argv list
(no shell, no user text in a command string). Engines report LSF state words
(PEND RUN DONE EXIT PSUSP USUSP ...), which the service renders as PAC words
(Mantid LSFJobManager.cpp genOutputStatusInfo).
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import subprocess
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"
# Where `tests/cluster/up` of this checkout installed the LSF emulator (per checkout, keyed as
# in tests/cluster/_provision.py:_checkout_key, so that worktrees do not share one copy).
_EMULATOR_SRC = Path(__file__).resolve().parents[4] / "tests" / "cluster" / "emulators"
_KEY = hashlib.sha1(str(_EMULATOR_SRC).encode()).hexdigest()[:12]
LSF_BIN = Path(os.environ.get("PAC_EMULATOR_LSF_BIN", f"/opt/remotejobs-test/checkouts/{_KEY}/lsf/bin"))


@dataclass(frozen=True)
class Submission:
    """One job to start: ``script`` (sh) runs in ``job_dir``; ``stdout``/``stderr`` are
    absolute paths that may contain ``%J`` (the job id)."""

    user: str
    job_dir: str
    script: str
    name: str
    stdout: str
    stderr: str
    ncpu_min: int = 1
    ncpu_max: int = 1
    per_host: int = 1


@dataclass(frozen=True)
class EngineJob:
    id: str
    state: str  # an LSF state word
    exit_code: int | None = None
    queue: str | None = None
    pend_reason: str | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


class EngineError(Exception):
    """A scheduler refused a request; ``str()`` is the scheduler's message."""


def run_as(
    user: str, argv: Sequence[str], *, stdin: bytes | None = None, timeout: float = 60,
    env_extra: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` as ``user`` (root only), in the user's home, with a clean environment."""
    home = pwd.getpwnam(user).pw_dir
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "USER": user, "LOGNAME": user,
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", **(env_extra or {})}
    return subprocess.run(
        [RUNUSER, "-u", user, "--", *argv], input=stdin, capture_output=True, timeout=timeout,
        cwd=home, env=env, check=False,
    )


class Engine(ABC):
    name = ""

    @abstractmethod
    def submit(self, job: Submission) -> str:
        """The new job's id. :raises EngineError: refused."""

    @abstractmethod
    def status(self, user: str, ids: Sequence[str]) -> dict[str, EngineJob]:
        """States of ``ids`` (one scheduler call); ids the scheduler forgot are left out."""

    @abstractmethod
    def kill(self, user: str, job_id: str) -> str:
        """Kill; returns the scheduler's message. :raises EngineError: refused or finished."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the engine made."""


class LsfEngine(Engine):
    """bsub/bjobs/bkill of the LSF emulator (README in tests/cluster/emulators/lsf)."""

    name = "lsf"

    def __init__(self, bin_dir: Path = LSF_BIN, spool_parent: str = "/var/spool/remotejobs-emulators") -> None:
        self.bin = bin_dir
        # A private LSF state dir (LSF_EMU_SPOOL): other suites changing lsb.params (e.g.
        # CLEAN_PERIOD = 0) on the shared spool must not make this PAC's jobs vanish.
        self.spool = tempfile.mkdtemp(prefix="pac-lsf-", dir=spool_parent if os.path.isdir(spool_parent) else None)
        os.chmod(self.spool, 0o1777)
        self.env = {"LSF_EMU_SPOOL": self.spool}

    def close(self) -> None:
        shutil.rmtree(self.spool, ignore_errors=True)

    @classmethod
    def available(cls, bin_dir: Path = LSF_BIN) -> bool:
        return all(os.access(bin_dir / c, os.X_OK) for c in ("bsub", "bjobs", "bkill"))

    def submit(self, job: Submission) -> str:
        ncpu = str(job.ncpu_min) if job.ncpu_min == job.ncpu_max else f"{job.ncpu_min},{job.ncpu_max}"
        argv = [str(self.bin / "bsub"), "-J", _lsf_name(job.name), "-cwd", job.job_dir, "-o", job.stdout,
                "-e", job.stderr, "-n", ncpu, "-R", f"span[ptile={job.per_host}]"]
        done = run_as(job.user, argv, stdin=job.script.encode(), env_extra=self.env)
        match = re.search(rb"Job <(\d+)> is submitted", done.stdout)
        if done.returncode != 0 or not match:
            raise EngineError(_text(done.stderr or done.stdout) or f"bsub failed ({done.returncode})")
        return match.group(1).decode()

    def status(self, user: str, ids: Sequence[str]) -> dict[str, EngineJob]:
        if not ids:
            return {}
        fields = "jobid stat exit_code queue pend_reason submit_time start_time finish_time"
        done = run_as(user, [str(self.bin / "bjobs"), "-a", "-o", fields, "-json", *ids], env_extra=self.env)
        try:
            records = json.loads(done.stdout or b"{}").get("RECORDS", [])
        except ValueError as exc:
            # assumed: emulator diagnostic
            raise EngineError(f"bjobs printed no JSON: {_text(done.stdout + done.stderr)}") from exc
        found = {}
        for raw in records:
            rec = {k.lower(): v for k, v in raw.items()}
            if "error" in rec or not rec.get("jobid"):
                continue
            code = rec.get("exit_code") or ""
            found[rec["jobid"]] = EngineJob(
                id=rec["jobid"], state=rec.get("stat") or "UNKWN",
                exit_code=int(code) if code.lstrip("-").isdigit() else None,
                queue=rec.get("queue") or None, pend_reason=rec.get("pend_reason") or None,
                submit_time=_lsf_time(rec.get("submit_time")), start_time=_lsf_time(rec.get("start_time")),
                end_time=_lsf_time(rec.get("finish_time")),
            )
        return found

    def kill(self, user: str, job_id: str) -> str:
        done = run_as(user, [str(self.bin / "bkill"), job_id], env_extra=self.env)
        if done.returncode != 0:
            raise EngineError(_text(done.stderr or done.stdout))
        return _text(done.stdout)


_SLURM_TO_LSF = {"PENDING": "PEND", "CONFIGURING": "PEND", "RUNNING": "RUN", "COMPLETING": "RUN",
                 "SUSPENDED": "USUSP", "COMPLETED": "DONE"}


class SlurmEngine(Engine):
    """Fallback: sbatch/scontrol/scancel directly (accounting is off on the test cluster,
    so states come from ``scontrol show job`` while slurmctld keeps the job)."""

    name = "slurm"

    def submit(self, job: Submission) -> str:
        argv = ["sbatch", "--parsable", "-J", job.name, "-D", job.job_dir, "-o", job.stdout.replace("%J", "%j"),
                "-e", job.stderr.replace("%J", "%j"), "-n", str(job.ncpu_max),
                f"--ntasks-per-node={job.per_host}"]
        done = run_as(job.user, argv, stdin=job.script.encode())
        if done.returncode != 0:
            raise EngineError(_text(done.stderr) or f"sbatch failed ({done.returncode})")
        return _text(done.stdout).split(";")[0]

    def status(self, user: str, ids: Sequence[str]) -> dict[str, EngineJob]:
        done = subprocess.run(["scontrol", "-o", "show", "job"], capture_output=True, check=False, timeout=30)
        found = {}
        for line in done.stdout.decode("utf-8", "replace").splitlines():
            kv = dict(re.findall(r"(\w+)=(\S*)", line))
            if kv.get("JobId") not in ids:
                continue
            word = kv.get("JobState", "")
            state = _SLURM_TO_LSF.get(word, "EXIT" if word else "UNKWN")
            code, _, sig = kv.get("ExitCode", "").partition(":")
            exit_code = (128 + int(sig) if sig.isdigit() and int(sig) else int(code)) if code.isdigit() else None
            found[kv["JobId"]] = EngineJob(
                id=kv["JobId"], state=state, exit_code=exit_code if state == "EXIT" else None,
                queue=kv.get("Partition"), pend_reason=kv.get("Reason") if state == "PEND" else None,
                submit_time=_iso(kv.get("SubmitTime")), start_time=_iso(kv.get("StartTime")),
                end_time=_iso(kv.get("EndTime")) if state in ("DONE", "EXIT") else None,
            )
        return found

    def kill(self, user: str, job_id: str) -> str:
        job = self.status(user, [job_id]).get(job_id)
        if job is None:
            # zjma/openlava lsbatch/lib/lsb.err.c (1), as PAC relays LSF
            raise EngineError(f"Job <{job_id}>: No matching job found")
        if job.state in ("DONE", "EXIT"):
            # Mantid LSFJobManager.cpp extractPACErrMsg (real answer)
            raise EngineError(f"Job <{job_id}>: Job has already finished")
        done = run_as(user, ["scancel", job_id])
        if done.returncode != 0:
            raise EngineError(f"Job <{job_id}>: {_text(done.stderr)}")  # assumed: LSF refusal relayed
        return f"Job <{job_id}> is being terminated"


def choose_engine() -> Engine:
    """``PAC_EMULATOR_ENGINE`` = lsf | slurm | auto (default: lsf when installed)."""
    wanted = os.environ.get("PAC_EMULATOR_ENGINE", "auto")
    if wanted == "lsf" or (wanted == "auto" and LsfEngine.available()):
        return LsfEngine()
    return SlurmEngine()


def _lsf_name(name: str) -> str:
    return re.sub(r"[\[\]]", "_", name)  # '[' would make bsub -J an array


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace").strip()


def _iso(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text and text not in ("Unknown", "None") else None
    except ValueError:
        return None


def _lsf_time(text: str | None) -> datetime | None:
    """``Nov  2 07:39`` (optionally `` L``) in the current year (ref: LSF README, bjobs)."""
    if not text or text == "-":
        return None
    try:
        return datetime.strptime(f"{datetime.now().year} {text.removesuffix(' L').strip()}", "%Y %b %d %H:%M")
    except ValueError:
        return None
