"""Search the files the SDK wrote for planted secrets (issue 10, "Secrets planted").

Called at the end of a test run by :mod:`remotejobs.testing.sentinel` for every directory a
test registered with :meth:`Sentinel.watch_files`:

- a *shared* directory (a user's remote home on the cluster, which other users reach):
  a secret in a file that another user may read (the file readable by others, and every
  directory above it in the tree searchable by them) is a leak; job scripts holding a
  job's environment are expected there, private (0600 in 0700 directories);
- a local directory (the SDK's state and configuration): a password or key passphrase in
  any file is a leak, and so is any secret in a file others may read (a token cache is
  private, 0600).

Files over 1 MiB and symbolic links are skipped (job outputs the tests made large; links
are searched where they point to, if watched).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from remotejobs.testing import scoreboard
from remotejobs.testing.sentinel import Sentinel

__all__ = ["scan"]

_MAX_BYTES = 1 << 20
_NEVER_IN_FILES = ("password", "key passphrase")


def scan(sentinel: Sentinel, top: Path, *, shared: bool, since: float = 0.0) -> int:
    """Search the files under ``top`` changed at or after ``since`` (epoch seconds: the
    files of this run); return how many were read. Leaks are recorded with
    ``sentinel.check`` (so they fail the run)."""
    secrets = sentinel.secrets
    if not secrets or not top.is_dir():
        return 0
    read = 0
    for folder, dirs, files in os.walk(top):
        here = Path(folder)
        others_enter = _others_can_enter(here)
        if shared and not others_enter:
            dirs.clear()  # nothing below is exposed: private job directories are not read
            continue
        for name in files:
            path = here / name
            try:
                info = path.lstat()
                exposed = others_enter and bool(info.st_mode & stat.S_IROTH)
                if (not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_BYTES or info.st_mtime < since
                        or (shared and not exposed)):
                    continue
                text = path.read_bytes().decode("utf-8", "replace")
            except OSError:
                continue
            read += 1
            for secret, kind in secrets.items():
                if secret in text and (exposed or kind.startswith(_NEVER_IN_FILES)):
                    sentinel.check(text, f"the file {path} (mode {stat.S_IMODE(info.st_mode):o})")
                    break
    scoreboard.record("files searched for secrets", read)
    return read


def _others_can_enter(folder: Path) -> bool:
    """Whether other users can reach files in ``folder`` (o+x on it and every parent)."""
    for part in [folder, *folder.parents]:
        try:
            if not part.stat().st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        if part == Path(part.anchor):
            break
    return True
