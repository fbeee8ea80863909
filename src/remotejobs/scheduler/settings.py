""":class:`BatchSettings`: what every batch backend is configured with."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from remotejobs.resource import BackendSettings

__all__ = ["BatchSettings"]


class BatchSettings(BackendSettings):
    """Settings shared by batch backends. No ``host`` means the local transport (use on
    a login node); with a ``host`` commands and files go over SSH.

    Relative paths (``job_root``, a job's ``directory``, upload targets, download
    sources) are relative to the remote home directory (see docs/configuration.md).
    """

    #: SSH host of the login node. Without it, commands run locally (remotejobs itself runs on a
    #: login node).
    host: str | None = None
    #: SSH port; default from ``~/.ssh/config``, else 22.
    port: int | None = Field(default=None, ge=1, le=65535)
    #: Default user when ``login()`` names none; default from ``~/.ssh/config``.
    username: str | None = None
    #: Private key; ``{user}`` is replaced by the login user (one key per user).
    key_file: str | None = None
    #: Passphrase of an encrypted ``key_file`` (never shown in reprs, logs or errors);
    #: without one, an ``interactive_handler`` (the CLI's prompt) is asked for it.
    key_passphrase: SecretStr | None = None
    #: An extra known_hosts file checked besides ``~/.ssh/known_hosts``.
    known_hosts: str | None = None
    #: ``reject`` refuses unknown host keys; ``accept-new`` records them (like OpenSSH). A
    #: changed key is always refused.
    host_key_policy: Literal["reject", "accept-new"] = "reject"
    #: OpenSSH client configuration to read (HostName, Port, User, IdentityFile, ProxyJump);
    #: default ``~/.ssh/config``.
    ssh_config: str | None = None
    #: Try the keys of a running ssh-agent.
    use_agent: bool = True
    #: Seconds to wait for the SSH connection and authentication.
    connect_timeout: float = Field(default=15.0, gt=0, allow_inf_nan=False)
    #: Seconds one remote command may take before it is a transient error.
    command_timeout: float = Field(default=120.0, gt=0, allow_inf_nan=False)
    #: Directory of the scheduler's commands; empty means the remote ``PATH``.
    bin_dir: str = ""
    #: Where job directories are created; relative to the remote home directory.
    job_root: str = ".remotejobs"
    #: Queue (partition) for jobs whose ``JobSpec`` names none.
    default_queue: str | None = None
    #: Who may read job directories and files: ``private`` (directories 0700, files 0600;
    #: the default) or ``group`` (0750/0640: for a ``job_root`` in a shared project
    #: directory whose group must read the outputs). Jobs run under the matching umask.
    job_permissions: Literal["private", "group"] = "private"
