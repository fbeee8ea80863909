"""Submitting batch jobs in one round trip: the job directories, the scripts and the
scheduler's submit commands of one or many jobs as ONE remote command.

Over a command transport (SSH) that command is ``sh -c SCRIPT``, where SCRIPT is built
here from :func:`shlex.quote`-d paths and submit argv lists (nothing else is spliced
in), and the job scripts travel on its standard input, never on a command line (every
user of a login node can read every process's argv in ``/proc/<pid>/cmdline``): with one
job ``cat`` writes it, with several each is cut from the stream by ``head -c <bytes>``
(GNU coreutils and BusyBox read no more than the count they are given, see
``head_bytes`` in coreutils' src/head.c, https://github.com/coreutils/coreutils). Every
submit command runs with its standard input from ``/dev/null`` (or from the written
script, for a scheduler that reads the script on stdin, as ``bsub`` does), so it can
never read the next job's script.

On the login node (:class:`~remotejobs.transport.local.LocalTransport`) the directories
and scripts are written by this process (no ``sh``, ``mkdir`` or ``cat`` process), and
each submit command is the only process started per job.

Permissions (``job_permissions``): everything runs under umask 077 (``group``: 027), so
job directories are 0700 (0750) and scripts 0600 (0640); the scheduler inherits the
umask (sbatch passes it on as ``SLURM_UMASK``), so the job's own files get it too. The
shared directories (``<root>``, ``<root>/jobs``, ``<root>/ids``) are made and chmod-ed on
the first submission of a session only.

Per job, the outcome is one of: the submit command's result (the dialect parses it), the
job directory or script could not be written (nothing of that job was submitted), or,
after such a failure, not attempted (the stream position of the later scripts is no
longer certain, so nothing later is submitted).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import secrets
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from remotejobs.models import JobSpec
from remotejobs.scheduler.command import Command
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.transport.base import CommandResult

__all__ = ["MAX_SCRIPT_CHARS", "NOT_ATTEMPTED", "NOT_WRITTEN", "PERMISSIONS", "Outcome", "Prepared", "Shared",
           "new_marker", "remote_command", "split_results", "write_locally"]

#: job_permissions -> (umask, directory mode, file mode).
PERMISSIONS = {"private": (0o077, 0o700, 0o600), "group": (0o027, 0o750, 0o640)}
#: A ``sh -c`` script longer than this is split over several round trips: Linux refuses
#: any single argument over 128 KiB (MAX_ARG_STRLEN, execve(2)).
MAX_SCRIPT_CHARS = 100_000
#: The outcome word of a job whose directory or script could not be written, and of a
#: job not attempted after such a failure.
NOT_WRITTEN, NOT_ATTEMPTED = "not-written", "not-attempted"


@dataclass(frozen=True)
class Prepared:
    """One job ready to submit: its spec, where it lives, its script and submit command."""

    spec: JobSpec
    ctx: ScriptContext
    script: str
    script_path: str
    submit: Command

    @property
    def submit_reads_script(self) -> bool:
        """The submit command reads the script itself on standard input (``bsub < job.sh``)."""
        return self.submit.stdin is not None and self.submit.stdin == self.script


#: A job's outcome: the submit command's result, or NOT_WRITTEN / NOT_ATTEMPTED with the
#: text the failed step printed.
Outcome = CommandResult | tuple[str, str]


@dataclass(frozen=True)
class Shared:
    """The shared directories of a job root and the permissions to create things with."""

    root: str
    jobs: str
    index: str
    permissions: str
    first: bool


def _input_blobs(item: Prepared) -> list[str]:
    blobs = [item.script]
    if item.submit.stdin is not None and not item.submit_reads_script:
        blobs.append(item.submit.stdin)
    return blobs


def remote_command(items: Sequence[Prepared], shared: Shared, marker: str) -> Command:
    """One ``sh -c`` command submitting ``items`` in order (see the module docstring);
    its stdout and stderr are cut per job by :func:`split_results` with ``marker``."""
    q = shlex.quote
    umask, dir_mode, _ = PERMISSIONS[shared.permissions]
    mode = f"{dir_mode:o}"
    lines = [f"umask {umask:03o}"]
    if shared.first:
        lines.append(f"mkdir -p -- {q(shared.jobs)} {q(shared.index)} && chmod {mode} -- {q(shared.jobs)} "
                     f"{q(shared.index)}; chmod {mode} -- {q(shared.root)} 2>/dev/null")
    lines.append("bad=")
    single = len(items) == 1
    stdin: list[str] = []
    for n, item in enumerate(items):
        blobs = _input_blobs(item)
        stdin += blobs
        paths = [item.script_path, item.script_path + ".in"][:len(blobs)]
        writes = " && ".join(
            ("cat" if single and k == len(blobs) - 1 else f"head -c {len(blob.encode())}") + f" > {q(path)}"
            for k, (blob, path) in enumerate(zip(blobs, paths, strict=True)))
        source = q(paths[-1]) if item.submit.stdin is not None else "/dev/null"
        lines.append(
            f'if [ -n "$bad" ]; then s={NOT_ATTEMPTED}; '
            f"elif mkdir -p -- {q(item.ctx.job_dir)} && {writes}; then "
            f"{shlex.join(item.submit.argv)} < {source}; s=$?; else bad=1; s={NOT_WRITTEN}; fi; "
            f"printf '\\n%s\\n' '{marker} {n} '\"$s\"; printf '\\n%s\\n' '{marker} {n}' >&2")
    return Command(("sh", "-c", "\n".join(lines)), "".join(stdin))


def new_marker() -> str:
    """A fresh random section marker (no submit command's output can contain it)."""
    return "rj-end-" + secrets.token_hex(8)


def split_results(result: CommandResult, items: Sequence[Prepared], marker: str) -> list[Outcome | None]:
    """Each job's outcome from the combined command's ``result``; None for a job whose
    end marker never came (the command died: that job's outcome is unknown)."""
    outs = _sections(result.stdout, marker, with_status=True)
    errs = _sections(result.stderr, marker, with_status=False)
    outcomes: list[Outcome | None] = []
    for n, item in enumerate(items):
        if n not in outs:
            outcomes.append(None)
            continue
        text, status = outs[n]
        err = errs.get(n, ("", ""))[0]
        if status in (NOT_WRITTEN, NOT_ATTEMPTED):
            outcomes.append((status, (text + "\n" + err).strip()))
        else:
            code = int(status) if status.isdigit() else 255
            outcomes.append(CommandResult(argv=item.submit.argv, exit_status=code, stdout=text, stderr=err))
    return outcomes


def _sections(text: str, marker: str, *, with_status: bool) -> dict[int, tuple[str, str]]:
    found: dict[int, tuple[str, str]] = {}
    current: list[str] = []
    for line in text.split("\n"):
        words = line.split(" ")
        if words[0] == marker and len(words) == (3 if with_status else 2) and words[1].isdigit():
            found[int(words[1])] = ("\n".join(current).strip("\n") + "\n" if any(current) else "",
                                    words[2] if with_status else "")
            current = []
        else:
            current.append(line)
    return found


# -- on the login node ----------------------------------------------------------------------
def _makedirs(path: str, mode: int) -> None:
    """``mkdir -p`` with ``mode`` for every directory it creates."""
    missing = []
    while path and not os.path.isdir(path):
        missing.append(path)
        path = posixpath.dirname(path)
    for directory in reversed(missing):
        with contextlib.suppress(FileExistsError):
            os.mkdir(directory, mode)


def write_locally(item: Prepared, shared: Shared) -> None:
    """Write ``item``'s job directory and script with this process's own system calls
    (same modes as the remote command). :raises OSError: what could not be written."""
    _, dir_mode, file_mode = PERMISSIONS[shared.permissions]
    if shared.first:
        for directory in (shared.jobs, shared.index):
            _makedirs(directory, dir_mode)
            os.chmod(directory, dir_mode)
        with contextlib.suppress(OSError):  # a shared job root owned by someone else
            os.chmod(shared.root, dir_mode)
    _makedirs(item.ctx.job_dir, dir_mode)
    fd = os.open(item.script_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, file_mode)
    try:
        os.fchmod(fd, file_mode)  # whatever this process's umask
        with os.fdopen(fd, "w", encoding="utf-8", closefd=False) as handle:
            handle.write(item.script)
    finally:
        os.close(fd)
