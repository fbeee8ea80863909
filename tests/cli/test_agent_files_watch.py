"""The files the CLI's session agent writes (its directory, ``Cli.agent_dir``) are searched
for planted secrets at the end of the run: a password in any of them, or any secret in one
other users may read, is a leak. Checked here with a fresh sentinel (not the run's, which
this planted leak would fail), through the same scan the run's end uses; needs no cluster."""

from __future__ import annotations

from pathlib import Path

from remotejobs.testing.secretfiles import scan
from remotejobs.testing.sentinel import Sentinel

from .conftest import Cli

PASSWORD = "agent-dir-planted-password-qq"
TOKEN = "agent-dir-planted-token-zz"


def _scan_watched(sentinel: Sentinel) -> None:
    """What :func:`remotejobs.testing.sentinel.pytest_sessionfinish` does with the watches."""
    for directory, shared in sentinel.watched.items():
        scan(sentinel, Path(directory), shared=shared, since=sentinel.started - 1)


def test_a_password_in_a_file_of_the_agent_directory_is_a_leak(tmp_path: Path) -> None:
    sentinel = Sentinel()
    sentinel.plant(PASSWORD, "password of rjalice")
    sentinel.plant(TOKEN, "token issued by the PAC emulator")
    cli = Cli({}, tmp_path, "t", sentinel)
    assert sentinel.watched == {str(cli.agent_dir): False}
    cli.agent_dir.mkdir(mode=0o700)
    log = cli.agent_dir / "agent.log"
    log.write_text(f"token cache {TOKEN}\n")  # a private token cache is allowed
    log.chmod(0o600)
    _scan_watched(sentinel)
    assert sentinel.leaks() == []
    log.write_text(f"login with {PASSWORD}\n")  # a password in any file is not
    _scan_watched(sentinel)
    leaks = sentinel.leaks()
    assert [(leak.kind, leak.where) for leak in leaks] == [("password of rjalice", f"the file {log} (mode 600)")]
    assert PASSWORD not in leaks[0].text

