"""Where to connect and how to authenticate (SSH transport internals).

* :func:`resolve_target` applies ``~/.ssh/config`` (HostName, Port, User, IdentityFile,
  ProxyJump); explicit arguments win over the config, as on the ssh command line.
* :class:`Credentials` holds password/passphrase privately: its repr never shows them,
  and :meth:`Credentials.fingerprint` is a keyed hash used to compare credential sets.
* :func:`authenticate` tries, in this order: public keys (key file, IdentityFile,
  ssh-agent, default ``~/.ssh/id_*``), password, keyboard-interactive (password prompts
  answered with the password, other prompts -- 2FA codes -- by the interactive handler).
  Raises AuthenticationError (not transient) naming user and host; never the secrets.
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from remotejobs.errors import AuthenticationError
from remotejobs.transport.base import InteractiveHandler

__all__ = ["Credentials", "InteractiveHandler", "Target", "authenticate", "resolve_target"]

_SALT = secrets.token_bytes(32)  # per process; fingerprints are meaningless elsewhere
_DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


@dataclass(frozen=True)
class Target:
    """A resolved SSH destination. ``jumps`` are ProxyJump hops, nearest first."""

    alias: str
    hostname: str
    port: int
    user: str
    identity_files: tuple[str, ...] = ()
    jumps: tuple[Target, ...] = ()

    @property
    def known_hosts_name(self) -> str:
        """The host's name as OpenSSH writes it in known_hosts."""
        return self.hostname if self.port == 22 else f"[{self.hostname}]:{self.port}"

    @property
    def description(self) -> str:
        return f"{self.user}@{self.alias}:{self.port}"

    @property
    def pool_key(self) -> tuple[object, ...]:
        return (self.hostname, self.port, self.user, tuple(j.pool_key for j in self.jumps))


def _load_config(path: str | None) -> paramiko.SSHConfig | None:
    file = Path(os.path.expanduser(path or "~/.ssh/config"))
    if not file.is_file():
        if path is not None:
            raise AuthenticationError(
                f"The ssh config file {file} does not exist", hint="Fix the ssh_config setting"
            )
        return None
    return paramiko.SSHConfig.from_path(str(file))


def resolve_target(
    host: str, port: int | None, username: str | None, ssh_config: str | None, *, _depth: int = 0
) -> Target:
    """Apply the ssh config to ``host``; explicit port/username override it."""
    config = _load_config(ssh_config)
    entry = config.lookup(host) if config is not None else {"hostname": host}
    user = username or entry.get("user") or getpass.getuser()
    real_port = port if port is not None else int(entry.get("port", 22))
    files = tuple(os.path.expanduser(f) for f in entry.get("identityfile", []))
    jumps: list[Target] = []
    spec = entry.get("proxyjump")
    if spec and spec.lower() != "none" and _depth < 8:
        for hop in spec.split(","):
            hop_user, _, rest = hop.strip().rpartition("@")
            hop_host, hop_port = rest, None
            if rest.startswith("["):
                hop_host, _, tail = rest[1:].partition("]")
                hop_port = int(tail[1:]) if tail.startswith(":") else None
            elif rest.count(":") == 1:
                hop_host, _, p = rest.partition(":")
                hop_port = int(p)
            jumps.append(resolve_target(hop_host, hop_port, hop_user or None, ssh_config, _depth=_depth + 1))
    return Target(host, entry.get("hostname", host), real_port, user, files, tuple(jumps))


class Credentials:
    """Secrets and key choices for one transport. The repr shows no secret."""

    __slots__ = ("_passphrase", "_password", "interactive_handler", "key_file", "use_agent")

    def __init__(
        self,
        *,
        password: str | None,
        key_file: str | None,
        passphrase: str | None,
        use_agent: bool,
        interactive_handler: InteractiveHandler | None,
    ) -> None:
        self._password = password
        self._passphrase = passphrase
        self.key_file = os.path.expanduser(key_file) if key_file else None
        self.use_agent = use_agent
        self.interactive_handler = interactive_handler

    def __repr__(self) -> str:
        return (f"Credentials(key_file={self.key_file!r}, use_agent={self.use_agent}, "
                f"password={'***' if self._password is not None else None}, "
                f"passphrase={'***' if self._passphrase is not None else None})")

    def fingerprint(self) -> bytes:
        """Keyed hash of the credential set (equal sets, equal fingerprints; per process)."""
        parts = [self._password, self._passphrase, self.key_file, str(self.use_agent),
                 str(id(self.interactive_handler) if self.interactive_handler else None)]
        text = "\0".join("\1" if p is None else p for p in parts)
        return hmac.new(_SALT, text.encode(), hashlib.sha256).digest()

    def for_jump_host(self) -> Credentials:
        """The same keys/agent/handler, without the password (never sent to another host)."""
        return Credentials(password=None, key_file=self.key_file, passphrase=self._passphrase,
                           use_agent=self.use_agent, interactive_handler=self.interactive_handler)


def _keys(target: Target, creds: Credentials, notes: list[str]) -> list[paramiko.PKey]:
    files = [creds.key_file] if creds.key_file else []
    files += [f for f in target.identity_files if f not in files]
    explicit = set(files)
    if not files:
        ssh_dir = Path.home() / ".ssh"
        files = [str(ssh_dir / n) for n in _DEFAULT_KEYS if (ssh_dir / n).is_file()]
    keys: list[paramiko.PKey] = []
    secret = creds._passphrase.encode() if creds._passphrase is not None else None
    for path in files:
        try:
            keys.append(_load_key(path, secret))
        except OSError as exc:
            if path in explicit:
                notes.append(f"key file {path}: {exc.strerror or 'unreadable'}")
        except (TypeError, paramiko.PasswordRequiredException):
            asked = _ask_passphrase(creds, path) if path in explicit else None
            if asked is not None:
                try:
                    keys.append(_load_key(path, asked.encode()))
                except (TypeError, ValueError, paramiko.SSHException):
                    notes.append(f"key file {path}: wrong passphrase")
            elif path in explicit:
                notes.append(f"key file {path} is encrypted: give its passphrase")
        except (ValueError, paramiko.SSHException):
            if path in explicit:
                reason = "wrong passphrase, or not a private key" if secret else "not a usable private key"
                notes.append(f"key file {path}: {reason}")
    if creds.use_agent:
        try:
            keys.extend(paramiko.Agent().get_keys())
        except paramiko.SSHException:
            notes.append("ssh-agent not reachable")
    return keys


def _load_key(path: str, secret: bytes | None) -> paramiko.PKey:
    # bytes: paramiko hands the passphrase to cryptography, which wants bytes
    return paramiko.PKey.from_path(path, secret)  # type: ignore[arg-type]


def _ask_passphrase(creds: Credentials, path: str) -> str | None:
    """The passphrase of the encrypted key ``path`` from the interactive handler (None
    without a handler or an answer)."""
    if creds.interactive_handler is None:
        return None
    answers = creds.interactive_handler("", f"The key file {path} is encrypted.",
                                        [(f"Passphrase for {path}: ", False)])
    return answers[0] if answers else None


def _interactive(creds: Credentials) -> tuple[Callable[..., list[str]], list[bool]]:
    used = [False]

    def answer(title: str, instructions: str, prompts: list[tuple[str, bool]]) -> list[str]:
        if not prompts:
            return []
        pw = creds._password
        if pw is not None and not used[0] and all(
            "password" in p.lower() and not echo for p, echo in prompts
        ):
            used[0] = True
            return [pw for _ in prompts]
        if creds.interactive_handler is None:
            return ["" for _ in prompts]
        return list(creds.interactive_handler(title, instructions, list(prompts)))

    return answer, used


def authenticate(transport: paramiko.Transport, target: Target, creds: Credentials) -> None:
    """Authenticate ``transport`` as ``target.user``; see the module docstring.

    :raises AuthenticationError: no method succeeded (not transient).
    """
    user = target.user
    notes: list[str] = []
    tried: list[str] = []
    try:
        transport.auth_none(user)
        return
    except paramiko.BadAuthenticationType as exc:
        allowed = set(exc.allowed_types)
    except paramiko.AuthenticationException:
        allowed = {"publickey", "password", "keyboard-interactive"}

    def step(method: str, call: Callable[[], list[str]]) -> bool:
        nonlocal allowed
        tried.append(method)
        try:
            remaining = call()
        except paramiko.BadAuthenticationType as exc:
            allowed = set(exc.allowed_types)
            return False
        except paramiko.AuthenticationException:
            return False
        if not transport.is_authenticated() and remaining:
            allowed = set(remaining)  # partial success: the server wants a second factor
        return transport.is_authenticated()

    if "publickey" in allowed:
        for key in _keys(target, creds, notes):
            if step("publickey", lambda k=key: transport.auth_publickey(user, k)):  # type: ignore[misc]
                return
            if "publickey" not in allowed:
                break
    password_rejected = False
    if creds._password is not None and "password" in allowed:
        pw = creds._password
        if step("password", lambda: transport.auth_password(user, pw, fallback=False)):
            return
        password_rejected = "password" in allowed
    if "keyboard-interactive" in allowed and (
        creds.interactive_handler is not None or (creds._password is not None and not password_rejected)
    ):
        handler, _ = _interactive(creds)
        if step("keyboard-interactive", lambda: transport.auth_interactive(user, handler)):
            return
    detail = f"tried {', '.join(dict.fromkeys(tried)) or 'nothing'}; server accepts {', '.join(sorted(allowed))}"
    if notes:
        detail += "; " + "; ".join(notes)
    raise AuthenticationError(
        f"SSH authentication failed for user {user!r} on {target.hostname}:{target.port} ({detail})",
        user=user,
        hint="Check the user name, password, key file (and its passphrase) or ssh-agent; "
        "for two-factor prompts pass an interactive_handler",
    )
