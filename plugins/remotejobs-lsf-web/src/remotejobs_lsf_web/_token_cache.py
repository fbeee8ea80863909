"""An optional on-disk cache of PAC tokens, so a CLI ``login`` lasts across commands.

Format: a JSON object ``{"<key>": {"url": ..., "token": ..., "jtoken": ...}}`` where the key
is ``<login endpoint> <username>``. The file is created with mode 0600 and refused when it
is a symlink, not owned by the current user, or readable/writable by group or others.
Passwords are never stored here; tokens are never logged.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from remotejobs.errors import ConfigurationError

__all__ = ["CachedToken", "TokenCache"]


@dataclass(frozen=True)
class CachedToken:
    """A stored session: PAC base URL, token and optional JSESSION token."""

    url: str
    token: SecretStr
    jtoken: SecretStr | None = None


class TokenCache:
    """Read and update the cache file at ``path`` (parent directories made with 0700)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()

    def get(self, key: str) -> CachedToken | None:
        """The entry for ``key`` or None. :raises ConfigurationError: unsafe file."""
        entry = self._read().get(key)
        if not isinstance(entry, dict) or not entry.get("url") or not entry.get("token"):
            return None
        jtoken = entry.get("jtoken")
        return CachedToken(
            str(entry["url"]), SecretStr(str(entry["token"])), SecretStr(str(jtoken)) if jtoken else None
        )

    def users(self, prefix: str) -> list[str]:
        """User names with an entry whose key starts with ``prefix + ' '``."""
        return sorted(k[len(prefix) + 1 :] for k in self._read() if k.startswith(prefix + " "))

    def put(self, key: str, value: CachedToken) -> None:
        """Store ``value`` under ``key`` (atomic replace, mode 0600)."""
        data = self._read()
        data[key] = {
            "url": value.url,
            "token": value.token.get_secret_value(),
            "jtoken": value.jtoken.get_secret_value() if value.jtoken else None,
        }
        self._write(data)

    def remove(self, key: str) -> None:
        """Forget ``key`` (no error when absent)."""
        data = self._read()
        if data.pop(key, None) is not None:
            self._write(data)

    # -- file handling ------------------------------------------------------------------
    def _check(self) -> None:
        info = self.path.lstat()
        problem = None
        if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
            problem = "is not a regular file"
        elif info.st_uid != os.getuid():
            problem = "is owned by another user"
        elif info.st_mode & 0o077:
            problem = f"is accessible by other users (mode {stat.S_IMODE(info.st_mode):04o})"
        if problem:
            raise ConfigurationError(
                f"Refusing to use the token cache {str(self.path)!r}: it {problem}",
                hint=f"Delete it, or run: chmod 600 {self.path}",
            )

    def _read(self) -> dict[str, object]:
        try:
            self._check()
        except FileNotFoundError:
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ConfigurationError(
                f"The token cache {str(self.path)!r} is unreadable: {type(exc).__name__}",
                hint="Delete it and log in again",
            ) from exc
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, object]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tokens-", dir=self.path.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
