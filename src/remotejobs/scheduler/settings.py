""":class:`BatchSettings`: what every batch backend is configured with."""

from __future__ import annotations

from typing import Literal

from remotejobs.resource import BackendSettings

__all__ = ["BatchSettings"]


class BatchSettings(BackendSettings):
    """Settings shared by batch backends. No ``host`` means the local transport (use on
    a login node); with a ``host`` commands and files go over SSH.

    Relative paths (``job_root``, a job's ``directory``, upload targets, download
    sources) are relative to the remote home directory (see docs/configuration.md).
    """

    host: str | None = None
    port: int | None = None
    username: str | None = None
    #: Private key; ``{user}`` is replaced by the login user (one key per user).
    key_file: str | None = None
    known_hosts: str | None = None
    host_key_policy: Literal["reject", "accept-new"] = "reject"
    ssh_config: str | None = None
    use_agent: bool = True
    connect_timeout: float = 15.0
    command_timeout: float = 120.0
    bin_dir: str = ""
    job_root: str = ".remotejobs"
    default_queue: str | None = None
