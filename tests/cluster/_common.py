"""Shared helpers for the test-cluster provisioning scripts (stdlib only).

Everything here runs as root before any virtualenv exists, so only the
Python 3.11 standard library may be used.  Progress goes to stderr; stdout is
reserved for the single JSON document printed by ``up``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

STATE_DIR = Path(os.environ.get("REMOTEJOBS_TEST_CLUSTER_STATE", "/var/lib/remotejobs-testcluster"))
RUN_DIR = STATE_DIR / "run"  # pid records of the daemons we started
LOG_DIR = STATE_DIR / "logs"  # daemon logs
# Slurm's spool/state must be traversable by job users, so it cannot live in
# the root-only state dir.
SPOOL_DIR = Path("/var/spool/remotejobs-testcluster")
EMULATOR_SPOOL = Path("/var/spool/remotejobs-emulators")
OPT_DIR = Path("/opt/remotejobs-test")
SLURM_CONF = Path("/etc/slurm/slurm.conf")

SSH_HOST = "127.0.0.1"
SSH_PORT = 2222
#: A second sshd on the same host key that demands a key AND keyboard-interactive (2FA).
SSH_2FA_PORT = 2223
# Address sshd binds to; the Docker image sets 0.0.0.0 so the mapped port reaches it.
SSH_LISTEN = os.environ.get("REMOTEJOBS_TEST_CLUSTER_SSH_LISTEN", SSH_HOST)
USERS = ("rjalice", "rjbob")
PARTITIONS = ("debug", "short")

# Overall budget for every "wait until ..." loop in one ``up`` run.
TIMEOUT = float(os.environ.get("REMOTEJOBS_TEST_CLUSTER_TIMEOUT", "120"))
DAEMON_ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}


class ClusterError(RuntimeError):
    """Provisioning failed; the message says what and where to look."""


def log(msg: str) -> None:
    print(f"[testcluster] {msg}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    check: bool = True,
    input: str | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    cwd: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise ClusterError with its output on failure."""
    try:
        proc = subprocess.run(
            list(argv),
            check=False,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            stdin=None if input is not None else subprocess.DEVNULL,
        )
    except FileNotFoundError as exc:
        raise ClusterError(f"command not found: {argv[0]}") from exc
    except subprocess.TimeoutExpired as exc:
        raise ClusterError(f"command timed out after {timeout}s: {' '.join(argv)}") from exc
    if check and proc.returncode != 0:
        raise ClusterError(
            f"command failed (exit {proc.returncode}): {' '.join(argv)}\n"
            f"stdout: {proc.stdout.strip()}\nstderr: {proc.stderr.strip()}"
        )
    return proc


def wait_for(
    what: str,
    condition: Callable[[], bool],
    *,
    timeout: float = TIMEOUT,
    interval: float = 0.1,
    on_fail: Callable[[], str] | None = None,
) -> None:
    """Poll ``condition`` until true; raise ClusterError after ``timeout`` seconds.

    ``on_fail`` may return extra diagnostics (e.g. a log tail) for the error.
    """
    deadline = time.monotonic() + timeout
    delay = interval
    while True:
        if condition():
            return
        if time.monotonic() >= deadline:
            extra = on_fail() if on_fail else ""
            raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}\n{extra}".rstrip())
        time.sleep(delay)
        delay = min(delay * 1.5, 1.0)


def ensure_dir(path: Path, mode: int, uid: int = 0, gid: int = 0) -> None:
    path.mkdir(parents=True, exist_ok=True)
    st = path.stat()
    if st.st_mode & 0o7777 != mode:
        os.chmod(path, mode)
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)


def write_if_changed(path: Path, content: str | bytes, mode: int = 0o644, uid: int = 0, gid: int = 0) -> bool:
    """Atomically write ``content`` unless identical; fix mode/owner. Returns True if written."""
    data = content.encode() if isinstance(content, str) else content
    changed = False
    try:
        same = path.read_bytes() == data
    except FileNotFoundError:
        same = False
    if not same:
        tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
        os.chown(tmp, uid, gid)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        changed = True
    st = path.stat()
    if st.st_mode & 0o7777 != mode:
        os.chmod(path, mode)
    if (st.st_uid, st.st_gid) != (uid, gid):
        os.chown(path, uid, gid)
    return changed


def sha256_of(*paths: Path) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(p).encode())
        try:
            h.update(p.read_bytes())
        except FileNotFoundError:
            h.update(b"<missing>")
    return h.hexdigest()


def tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except FileNotFoundError:
        return f"({path} does not exist)"
    return f"--- last {min(lines, len(text))} lines of {path} ---\n" + "\n".join(text[-lines:])
