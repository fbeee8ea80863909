"""Where the agent's socket lives, and the checks that keep it private."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from remotejobs.config import config_path
from remotejobs.errors import RemoteJobsError

__all__ = ["AgentError", "agent_dir", "private_dir", "socket_path"]


class AgentError(RemoteJobsError):
    """The session agent could not be reached, started or trusted."""


def agent_dir() -> Path:
    """``$REMOTEJOBS_AGENT_DIR``, else ``$XDG_RUNTIME_DIR/remotejobs``, else
    ``/tmp/remotejobs-agent-<uid>``."""
    env = os.environ.get("REMOTEJOBS_AGENT_DIR")
    if env:
        return Path(env)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "remotejobs"
    return Path("/tmp") / f"remotejobs-agent-{os.getuid()}"


def private_dir(path: Path, *, create: bool) -> Path:
    """``path`` as a directory only this user can enter (created 0700 when ``create``).

    :raises AgentError: it is not a directory, belongs to another user, or others may
        enter it (then nothing in it is trusted).
    """
    if create:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = os.lstat(path)
    except FileNotFoundError as exc:
        raise AgentError(f"Agent directory {str(path)!r} does not exist") from exc
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise AgentError(
            f"Agent directory {str(path)!r} is not private (mode {stat.S_IMODE(info.st_mode):o}, owner uid "
            f"{info.st_uid}); the agent is not used",
            hint="Remove it, or set REMOTEJOBS_AGENT_DIR to a directory of mode 0700 that you own")
    return path


def socket_path() -> Path:
    """The socket of the agent for this user and this configuration file (agents for
    different configurations are different agents)."""
    key = hashlib.sha256(str(config_path().expanduser().resolve()).encode()).hexdigest()[:12]
    return agent_dir() / f"agent-{key}.sock"
