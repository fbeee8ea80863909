"""What the emulated PAC does for a logged-in user: applications, jobs, job directories.

Jobs are real (see :mod:`.engine`). Each runs as its user in a fresh job directory
``~/pac_jobs/<JOB_NAME>_<epoch-ms><5 random chars>`` (the SCARF pattern, Mantid LSFJobManager.cpp getAllJobFiles) with
``OUTPUT_FILE``/``ERROR_FILE`` (default ``%J.output``/``%J.error``) inside it. Applications
are templates that, like PAC's, hand ``INPUT_ARGS`` to a POSIX shell:
``[<interpreter>] <INPUT_FILE> <INPUT_ARGS>`` (Mantid SCARFTomoReconstruction.cpp: runnable and
options become INPUT_FILE and INPUT_ARGS).
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shlex
import string
import threading
import time
from dataclasses import dataclass

from .engine import Engine, EngineError, EngineJob, Submission, run_as

#: AppName -> interpreter prefix ("" runs INPUT_FILE itself; ``generic`` runs COMMANDTORUN).
#: TOMOPY/PYASTRATOOLBOX are SCARF's (Mantid SCARFLSFJobManager.cpp); unknown apps are refused.
APPS = {
    "generic": "",
    "TOMOPY_0_1_9": "python3",
    "TOMOPY_0_0_3": "python3",
    "PYASTRATOOLBOX_1_6": "python3",
    "PYASTRATOOLBOX_1_1": "python3",
}
#: LSF state -> PAC status word (Mantid LSFJobManager.cpp genOutputStatusInfo, inferred mapping).
PAC_WORDS = {"PEND": "Pending", "WAIT": "Pending", "PROV": "Pending", "RUN": "Running", "DONE": "Done",
             "EXIT": "Exit", "PSUSP": "Suspended", "USUSP": "Suspended", "SSUSP": "Suspended"}
_FINAL = ("DONE", "EXIT")


@dataclass
class PacJob:
    id: str
    user: str
    name: str
    cmd: str
    job_dir: str
    app: str
    last: EngineJob | None = None


class Refused(Exception):
    """The request is refused; ``str()`` is the errMsg text."""


class PacService:
    def __init__(self, engine: Engine, jobs_dir: str = "pac_jobs") -> None:
        self.engine = engine
        self.jobs_dir = jobs_dir
        self._jobs: dict[str, PacJob] = {}
        self._lock = threading.Lock()

    # -- jobs --------------------------------------------------------------------------
    def submit(self, user: str, app: str, params: dict[str, str], file_params: dict[str, str] | None = None,
               files: dict[str, bytes] | None = None) -> str:
        if app not in APPS:
            # assumed: wording (README)
            raise Refused(f"Application {app} does not exist or you do not have permission to use it.")
        files = files or {}
        uploads = self._uploads(file_params or {}, files)
        if app == "generic":
            # IBM's clients send the generic application the command line as COMMANDTORUN and
            # input files only as uploaded file params (IBMSpectrumComputing/lsf-faas,
            # src/lsf_faas/lsflib.py submitJob: COMMANDTORUN 'python3 lsf_faas.py', INPUT_FILE
            # '<script>,upload'); the command runs as a shell command line in the job
            # directory, as a bsub command does (assumed: README). No source sends it a plain INPUT_FILE.
            if "INPUT_FILE" in params and "INPUT_FILE" not in uploads:
                raise Refused("The parameter INPUT_FILE of application generic must be an "
                              "uploaded file.")  # assumed: wording
            runnable, args = "", params.get("COMMANDTORUN", "").strip()
            if not args:
                raise Refused("The parameter COMMANDTORUN is required.")  # assumed: wording
        else:
            # SCARF's applications: INPUT_FILE (a path on the server) and INPUT_ARGS as plain
            # values (mantidproject/mantid Framework/RemoteJobManagers/src/LSFJobManager.cpp
            # buildSubmitBody); an uploaded INPUT_FILE runs by its name in the job directory.
            runnable = uploads.get("INPUT_FILE", [params.get("INPUT_FILE", "")])[0].strip()
            if not runnable:
                raise Refused("The parameter INPUT_FILE is required.")  # assumed: wording
            args = params.get("INPUT_ARGS", "")
        name = params.get("JOB_NAME") or f"{app}_job"
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:60]
        rand = "".join(secrets.choice(string.ascii_letters) for _ in range(5))
        job_dir = os.path.join(self._home(user), self.jobs_dir, f"{safe}_{int(time.time() * 1000)}{rand}")
        made = run_as(user, ["mkdir", "-p", "--", job_dir])
        if made.returncode != 0:
            # assumed: wording
            raise Refused(f"Cannot create the job directory: {made.stderr.decode(errors='replace').strip()}")
        for names in uploads.values():
            for file_name in names:
                wrote = run_as(user, ["sh", "-c", 'umask 077 && cat > "$1"', "sh", os.path.join(job_dir, file_name)],
                               stdin=files[file_name])
                if wrote.returncode != 0:
                    # assumed: wording
                    raise Refused(f"Failed to upload {file_name}: {wrote.stderr.decode(errors='replace').strip()}")
        prefix = APPS[app]
        command = " ".join(p for p in (prefix, shlex.quote(runnable) if runnable else "", args) if p)
        script = f"#!/bin/sh\ncd {shlex.quote(job_dir)} || exit 1\n{command}\n"
        try:
            job_id = self.engine.submit(Submission(
                user=user, job_dir=job_dir, script=script, name=name,
                stdout=os.path.join(job_dir, params.get("OUTPUT_FILE") or "%J.output"),
                stderr=os.path.join(job_dir, params.get("ERROR_FILE") or "%J.error"),
                ncpu_min=_int(params.get("MIN_NUM_CPU")), ncpu_max=_int(params.get("MAX_NUM_CPU")),
                per_host=_int(params.get("PROC_PRE_HOST")),
            ))
        except EngineError as exc:
            raise Refused(str(exc)) from exc
        cmd = " ".join(p for p in (prefix, runnable, args) if p)
        with self._lock:
            self._jobs[job_id] = PacJob(job_id, user, name, cmd, job_dir, app)
        return job_id

    @staticmethod
    def _uploads(file_params: dict[str, str], files: dict[str, bytes]) -> dict[str, list[str]]:
        """{param id: file names} of the params of type ``file`` (wire.parse_submit). Each
        name must be one uploaded part: pac_api.py's server-side forms (``path,link``,
        ``path,copy``) are not emulated [assumed]."""
        uploads: dict[str, list[str]] = {}
        for key, value in file_params.items():
            names = [n for n in value.split(";") if n]
            missing = [n for n in names if n not in files or "/" in n or n in (".", "..")]
            if not names or missing:
                # assumed: wording (README)
                raise Refused(f"The input file {', '.join(missing) or key} was not uploaded.")
            uploads[key] = names
        return uploads

    def jobs(self, user: str, *, ids: list[str] | None = None, status: str | None = None,
             name: str | None = None, details: bool = False) -> list[dict[str, str]]:
        with self._lock:
            mine = [j for j in self._jobs.values() if j.user == user and (ids is None or j.id in ids)]
        pending = [j.id for j in mine if not (j.last and j.last.state in _FINAL)]
        fresh = self.engine.status(user, pending) if pending else {}
        rows = []
        for job in sorted(mine, key=lambda j: int(j.id)):
            if job.id in fresh:
                job.last = fresh[job.id]
            word = PAC_WORDS.get(job.last.state, "Unknown") if job.last else "Unknown"
            if (status and word.lower() != status.lower()) or (name and job.name != name):
                continue
            row = {"cmd": job.cmd, "extStatus": "-", "id": job.id, "name": job.name, "status": word}
            if details:
                row.update(self._details(job))
            rows.append(row)
        return rows

    def _details(self, job: PacJob) -> dict[str, str]:
        last = job.last
        row = {"user": job.user, "execCwd": job.job_dir}
        if last is None:
            return row
        code = last.exit_code if last.state == "EXIT" else 0 if last.state == "DONE" else None
        values = {"exitCode": code, "queue": last.queue, "pendReason": last.pend_reason,
                  "submitTime": last.submit_time, "startTime": last.start_time, "endTime": last.end_time}
        for key, value in values.items():
            if value is not None:
                row[key] = value.isoformat() if hasattr(value, "isoformat") else str(value)
        return row

    def record(self, job_id: str) -> PacJob | None:
        with self._lock:
            return self._jobs.get(job_id)

    def kill(self, user: str, job_id: str) -> str:
        job = self._own(user, job_id)
        try:
            return self.engine.kill(user, job.id)
        except EngineError as exc:
            raise Refused(str(exc)) from exc

    def _own(self, user: str, job_id: str) -> PacJob:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise Refused(f"Job <{job_id}>: No matching job found")  # assumed: (LSF-like, README)
        if job.user != user:
            raise Refused(f"Job <{job_id}>: User permission denied")  # assumed: (LSF-like, README)
        return job

    # -- files -------------------------------------------------------------------------
    def job_files(self, user: str, job_id: str) -> str:
        """The ``jobfiles`` line (Mantid LSFJobManager.cpp getAllJobFiles): FILE and DIR
        entries, hidden files omitted."""
        job = self._own(user, job_id)
        done = run_as(user, ["find", job.job_dir, "-mindepth", "1", "-maxdepth", "1",
                             "-not", "-name", ".*", "-printf", r"%y\t%s\t%p\0"])
        entries = []
        for item in sorted(done.stdout.split(b"\0")):
            if item:
                kind, size, path = item.decode("utf-8", "replace").split("\t", 2)
                entries.append(f"PAC Server*{path}*{'DIR' if kind == 'd' else 'FILE'}*{size}*true;")
        return "".join(entries)

    def read_file(self, user: str, job_id: str, target: str) -> bytes:
        """The file's bytes, or b"" when it is missing, unreadable or outside the job dir.
        ``target`` is the path of a listing entry or a base name (see wire.download_target)."""
        job = self._own(user, job_id)
        path = os.path.normpath(target if target.startswith("/") else os.path.join(job.job_dir, target))
        if os.path.commonpath([path, job.job_dir]) != job.job_dir:
            return b""
        done = run_as(user, ["cat", "--", path])
        return done.stdout if done.returncode == 0 else b""

    def upload(self, user: str, job_id: str, dir_name: str, file_name: str, data: bytes) -> str:
        """Store the file as the user; ``job_id`` 0: ``dir_name`` is absolute or relative to
        home, else relative to the job directory (Mantid SCARFLSFJobManager.cpp, pac_api.py upfile)."""
        base = self._home(user) if job_id == "0" else self._own(user, job_id).job_dir
        name = file_name.replace("\\", "/").rsplit("/", 1)[-1]
        if name in ("", ".", ".."):
            raise Refused("The file name is missing.")  # assumed: wording (README)
        directory = os.path.normpath(os.path.join(base, dir_name))
        made = run_as(user, ["mkdir", "-p", "--", directory])
        wrote = run_as(user, ["tee", "--", os.path.join(directory, name)], stdin=data) if made.returncode == 0 \
            else made
        if wrote.returncode != 0:
            # assumed: wording
            raise Refused(f"Failed to upload {name}: {wrote.stderr.decode(errors='replace').strip()}")
        return f"Uploaded file {name} to {directory} successfully."  # "successfully": pac_api.py; assumed: the rest

    @staticmethod
    def _home(user: str) -> str:
        return pwd.getpwnam(user).pw_dir


def _int(text: str | None) -> int:
    return int(text) if text and text.strip().isdigit() and int(text) > 0 else 1
