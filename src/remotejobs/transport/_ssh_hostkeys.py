"""Host key checking against known_hosts (SSH transport internals).

Policy (like OpenSSH's StrictHostKeyChecking): keys are read from ``~/.ssh/known_hosts``
and the ``known_hosts`` setting file. A matching key passes. A host listed with other
keys is rejected (possible man-in-the-middle) under every policy. An unknown host is
rejected with ``reject``; with ``accept-new`` its key is appended to the known_hosts
setting file (else ``~/.ssh/known_hosts``), created with mode 0600. Nothing is ever added
silently under ``reject``.

Lines are read as OpenSSH's sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT" describes: host patterns
(plain, ``[host]:port``, hashed ``|1|salt|hash``, ``*``/``?`` wildcards, ``!`` negation),
then key type and base64 key. A ``@revoked`` line's key is refused for the hosts it names,
whatever else the files say; ``@cert-authority`` lines concern certificates, which are not
used here, and are skipped. Key types paramiko does not know are skipped (OpenSSH skips
them too). A line that is not a known_hosts line at all (too few fields, a key that is not
base64, an unknown ``@`` marker) is a :class:`HostKeyError` naming the file and line:
permanent, so nobody retries a connection that cannot succeed until the file is fixed.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import os
import re
from pathlib import Path
from typing import Literal

import paramiko
from paramiko.pkey import UnknownKeyType

from remotejobs.errors import HostKeyError

__all__ = ["HostKeyPolicy", "check_host_key", "preferred_key_types"]

HostKeyPolicy = Literal["reject", "accept-new"]

_RSA = ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")


def _files(known_hosts: str | None) -> list[Path]:
    files = [Path.home() / ".ssh" / "known_hosts"]
    if known_hosts:
        files.append(Path(os.path.expanduser(known_hosts)))
    return files


def _wildcard(pattern: str) -> re.Pattern[str]:
    """OpenSSH's match_pattern: ``*`` and ``?`` are wildcards, everything else (``[``
    of ``[host]:port`` included) is literal; case-insensitive."""
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern.lower()))


def _matches(patterns: list[str], name: str) -> bool:
    """OpenSSH host pattern matching for one host name (``[host]:port`` form included)."""
    hit = False
    for given in patterns:
        negated = given.startswith("!")
        pattern = given[1:] if negated else given
        if pattern.startswith("|1|"):
            found = paramiko.HostKeys.hash_host(name, pattern) == pattern
        else:
            found = _wildcard(pattern).fullmatch(name.lower()) is not None
        if found and negated:
            return False
        hit = hit or found
    return hit


def _read(file: Path, name: str) -> tuple[list[paramiko.PKey], list[paramiko.PKey]]:
    """(keys, revoked keys) that ``file`` gives for ``name``. :raises HostKeyError:"""
    known: list[paramiko.PKey] = []
    revoked: list[paramiko.PKey] = []
    try:
        text = file.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise HostKeyError(f"Cannot read known_hosts file {file}: {exc.strerror or exc}",
                           hint="Make the file readable, or remove it") from exc
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        marker = fields.pop(0) if fields[0].startswith("@") else None
        if marker not in (None, "@revoked", "@cert-authority") or len(fields) < 3:
            raise HostKeyError(
                f"{file}, line {number}, is not a known_hosts line: {line[:80]!r}",
                hint="Fix or remove the broken line (see sshd(8), SSH_KNOWN_HOSTS FILE FORMAT)")
        patterns, key_type, data = fields[0].split(","), fields[1], fields[2]
        try:
            blob = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise HostKeyError(
                f"{file}, line {number}: the key is not base64 ({line[:80]!r})",
                hint="Fix or remove the broken line") from exc
        if marker == "@cert-authority" or not _matches(patterns, name):
            continue
        try:
            key = paramiko.PKey.from_type_string(key_type, blob)
        except UnknownKeyType:
            continue
        except (paramiko.SSHException, ValueError, TypeError) as exc:
            raise HostKeyError(f"{file}, line {number}: unreadable {key_type} key ({exc})",
                               hint="Fix or remove the broken line") from exc
        (revoked if marker == "@revoked" else known).append(key)
    return known, revoked


def _keys(name: str, known_hosts: str | None) -> tuple[list[paramiko.PKey], list[paramiko.PKey]]:
    known: list[paramiko.PKey] = []
    revoked: list[paramiko.PKey] = []
    for file in _files(known_hosts):
        if file.is_file():
            keys, bad = _read(file, name)
            known += keys
            revoked += bad
    return known, revoked


def _known(name: str, known_hosts: str | None) -> list[paramiko.PKey]:
    return _keys(name, known_hosts)[0]


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
    known, revoked = _keys(name, known_hosts)
    if any(k.get_name() == key.get_name() and k.asbytes() == key.asbytes() for k in revoked):
        raise HostKeyError(
            f"The SSH host key of {name} ({_fingerprint(key)}) is marked @revoked in known_hosts",
            hint="Do not connect: ask the administrators for the host's current key")
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
