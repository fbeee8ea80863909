"""Host key checking against known_hosts (SSH transport internals).

Policy (like OpenSSH's StrictHostKeyChecking): keys are read from ``~/.ssh/known_hosts``
and the ``known_hosts`` setting file. A matching key passes. A host listed with other
keys is rejected (possible man-in-the-middle) under every policy. An unknown host is
rejected with ``reject``; with ``accept-new`` its key is appended to the known_hosts
setting file (else ``~/.ssh/known_hosts``), created with mode 0600. Nothing is ever added
silently under ``reject``.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import Literal

import paramiko

from remotejobs.errors import HostKeyError

__all__ = ["HostKeyPolicy", "check_host_key", "preferred_key_types"]

HostKeyPolicy = Literal["reject", "accept-new"]

_RSA = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


def _files(known_hosts: str | None) -> list[Path]:
    files = [Path.home() / ".ssh" / "known_hosts"]
    if known_hosts:
        files.append(Path(os.path.expanduser(known_hosts)))
    return files


def _known(name: str, known_hosts: str | None) -> list[paramiko.PKey]:
    keys: list[paramiko.PKey] = []
    for file in _files(known_hosts):
        if not file.is_file():
            continue
        store = paramiko.HostKeys()
        try:
            store.load(str(file))
        except (OSError, paramiko.SSHException, ValueError) as exc:
            raise HostKeyError(f"Cannot read known_hosts file {file}: {exc}",
                               hint="Fix or remove the broken line") from exc
        entry = store.lookup(name)
        if entry is not None:
            keys.extend(entry[k] for k in entry.keys())  # noqa: SIM118 - SubDict
    return keys


def preferred_key_types(name: str, known_hosts: str | None, defaults: tuple[str, ...]) -> list[str]:
    """Host key algorithms with the types already known for ``name`` first (as OpenSSH does),
    so a host known by its RSA key is not reported as changed when it also has ed25519."""
    first: list[str] = []
    for key in _known(name, known_hosts):
        for algo in _RSA if key.get_name() in _RSA else (key.get_name(),):
            if algo in defaults and algo not in first:
                first.append(algo)
    return first + [a for a in defaults if a not in first]


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}"


def check_host_key(
    key: paramiko.PKey, name: str, hostname: str, port: int, known_hosts: str | None, policy: HostKeyPolicy
) -> None:
    """Accept ``key`` for ``name`` or raise HostKeyError (not transient); see the module doc."""
    known = _known(name, known_hosts)
    if any(k.get_name() == key.get_name() and k.asbytes() == key.asbytes() for k in known):
        return
    files = " and ".join(str(f) for f in _files(known_hosts))
    if known:
        raise HostKeyError(
            f"The SSH host key of {name} has CHANGED: the server offered {_fingerprint(key)}, which "
            f"does not match the key recorded in {files}. Someone may be intercepting the connection "
            "(man-in-the-middle), or the host key was replaced",
            hint="Verify the new fingerprint with the administrators; only then remove the old "
            f"line (ssh-keygen -R '{name}') and trust the new key",
        )
    if policy != "accept-new":
        port_opt = f"-p {port} " if port != 22 else ""
        raise HostKeyError(
            f"The SSH host key of {name} is not known ({_fingerprint(key)}; looked in {files})",
            hint=f"Check the fingerprint with the administrators, then trust the host with "
            f"`ssh-keyscan {port_opt}{hostname} >> ~/.ssh/known_hosts` (or into the known_hosts "
            'setting file), or set host_key_policy="accept-new" to record it on first connection',
        )
    _record(name, key, Path(os.path.expanduser(known_hosts)) if known_hosts else _files(None)[0])


def _record(name: str, key: paramiko.PKey, file: Path) -> None:
    line = f"{name} {key.get_name()} {key.get_base64()}\n"
    try:
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(file, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "r+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            size = fh.seek(0, os.SEEK_END)
            if size:
                fh.seek(size - 1)
                if fh.read(1) != b"\n":
                    line = "\n" + line
            fh.write(line.encode())
    except OSError as exc:
        raise HostKeyError(
            f"Cannot record the host key of {name} in {file}: {exc.strerror or exc}",
            hint="Make the known_hosts file writable, or add the key yourself",
        ) from exc
