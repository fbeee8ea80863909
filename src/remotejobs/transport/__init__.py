"""Transports: how commands run and files move (public extension point).

``SSHTransport`` is imported lazily (``from remotejobs.transport.ssh import SSHTransport``)
so that using the local backend never imports paramiko.
"""

from remotejobs.transport.base import CommandResult, CommandTransport, ProgressCallback
from remotejobs.transport.local import LocalTransport

__all__ = ["CommandResult", "CommandTransport", "LocalTransport", "ProgressCallback"]
