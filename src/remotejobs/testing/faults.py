"""Faults injected on the live test cluster (issue 10, "Faults on the live cluster").

:func:`cut_ssh_connection` kills (SIGKILL) the sshd processes serving exactly one SSH
connection of a resource, found through the kernel's socket table: the server end of the
TCP connection whose client port is the resource's, and the processes holding that socket.
Nothing else on the machine is touched. Needs root (reading other processes' file
descriptors) and the cluster on this machine, as the test cluster is.

Every fault injected is counted in :mod:`remotejobs.testing.scoreboard` as
``faults injected: <kind>``.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from remotejobs.resource import ComputeResource
from remotejobs.testing import scoreboard

__all__ = ["client_port", "count_fault", "cut_ssh_connection", "socket_holders"]


def count_fault(kind: str, n: int = 1) -> None:
    """Count ``n`` injected faults of ``kind`` on the scoreboard."""
    scoreboard.record(f"faults injected: {kind}", n)


def client_port(resource: ComputeResource) -> int:
    """The local TCP port of ``resource``'s SSH connection (connecting if needed)."""
    transport = getattr(resource, "transport", None)
    conn = transport.connect() if transport is not None else None
    paramiko_transport = getattr(conn, "paramiko_transport", None)
    if paramiko_transport is None:
        raise RuntimeError(f"{resource.name} has no SSH connection")
    port: int = paramiko_transport.sock.getsockname()[1]
    return port


def _socket_inodes(client: int, server: int) -> set[str]:
    """Inodes of the server-side sockets of the TCP connection client port -> server port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rsplit(":", 1)[1], 16) == server and int(remote.rsplit(":", 1)[1], 16) == client:
                inodes.add(inode)
    return inodes


def socket_holders(client: int, server: int) -> list[int]:
    """Pids of the processes holding the server end of that connection."""
    wanted = {f"socket:[{inode}]" for inode in _socket_inodes(client, server)}
    pids = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            links = {os.readlink(fd.path) for fd in os.scandir(f"/proc/{entry.name}/fd")}
        except OSError:
            continue
        if links & wanted:
            pids.append(int(entry.name))
    return pids


def cut_ssh_connection(resource: ComputeResource, server_port: int, kind: str) -> list[int]:
    """SIGKILL the sshd processes serving ``resource``'s connection; return their pids.

    :raises RuntimeError: no such process (nothing was cut)."""
    client = client_port(resource)
    pids = [p for p in socket_holders(client, server_port)
            if Path(f"/proc/{p}/comm").read_text().strip().startswith("sshd")]
    if not pids:
        raise RuntimeError(f"no sshd process serves client port {client}")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    count_fault(kind)
    return pids
