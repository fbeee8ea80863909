"""A pytest plugin that watches a whole test run for leaked secrets, and prints the scoreboard.

Issue 10: secrets planted by the tests (test users' passwords, tokens the PAC emulator
issued, key passphrases) must never appear in a log record. The plugin records every log
record of the run (root logger at DEBUG, the message and any exception text) and, at the end
of the session, searches them for every secret planted with :meth:`Sentinel.plant`
(planting may happen after the record was written: a token is learnt when it is issued).
A leak fails the run (exit status 1) and is reported with the secret redacted.

Tests also check reprs and exception strings directly with :meth:`Sentinel.check`.

At the end, the terminal summary shows :mod:`remotejobs.testing.scoreboard`'s counters
(attacks tried per class, hypothesis examples, parser fuzz cases, faults injected, secrets
planted, leaks found, and jobs lost, duplicated, forged, leaked or injected) and writes them
as JSON to ``<REMOTEJOBS_STATE_DIR or .pytest_state>/scoreboard.json``. A leak, or any of
:data:`~remotejobs.testing.scoreboard.MUST_BE_ZERO` above zero, fails the run. Under
pytest-xdist each worker hands its counts and leaks to the controller, which adds them up.

Enable it from a ``conftest.py``: ``pytest_plugins = ["remotejobs.testing.sentinel"]``;
tests get the run's sentinel with the ``secret_sentinel`` fixture.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from remotejobs.testing import scoreboard

__all__ = ["Leak", "Sentinel", "secret_sentinel"]

_MAX_RECORDS = 500_000


class Leak(NamedTuple):
    """A planted secret found: where, its kind, and the text with it replaced by ``<SECRET>``."""

    where: str
    kind: str
    text: str


class Sentinel(logging.Handler):
    """Records log texts and checks them (and any other text) for planted secrets."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self._lock_ = threading.Lock()
        self._texts: list[str] = []
        self._secrets: dict[str, str] = {}
        self._found: list[Leak] = []
        self._other: list[tuple[str, str]] = []  # (where, text): exceptions raised, ...
        self.watched: dict[str, bool] = {}  # directory -> shared (files others may read)
        self.started = time.time()  # files older than the run are not its files
        self.records = 0

    def plant(self, secret: str, kind: str) -> str:
        """Register ``secret`` (of kind ``kind``, e.g. ``"password"``); returns it."""
        if secret and secret not in self._secrets:
            self._secrets[secret] = kind
            scoreboard.record("secrets planted")
        return secret

    def adopt(self, secrets: dict[str, str], watched: dict[str, bool]) -> None:
        """Secrets planted and directories watched by a pytest-xdist worker (not counted again)."""
        for secret, kind in secrets.items():
            self._secrets.setdefault(secret, kind)
        for directory, shared in watched.items():
            self.watch_files(directory, shared=shared)

    def remember(self, text: str, where: str) -> None:
        """Keep ``text`` to be searched at the end of the run (secrets may be planted later)."""
        with self._lock_:
            if len(self._other) < _MAX_RECORDS:
                self._other.append((where, text))

    def watch_files(self, directory: str | Path, *, shared: bool) -> None:
        """Search the files under ``directory`` at the end of the run (:mod:`.secretfiles`):
        ``shared`` (a remote home other users reach): a secret in a file others may read is a
        leak; else (the SDK's local state and configuration): a password or passphrase in any
        file, or any secret in a file others may read, is a leak."""
        self.watched[str(directory)] = shared or self.watched.get(str(directory), False)

    @property
    def secrets(self) -> dict[str, str]:
        """The planted secrets and their kinds."""
        return dict(self._secrets)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"{record.name}: {record.getMessage()}"
        except Exception:  # noqa: BLE001 - a bad format string is the logger's bug, not a leak
            text = f"{record.name}: {record.msg!r} {record.args!r}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        with self._lock_:
            self.records += 1
            if len(self._texts) < _MAX_RECORDS:
                self._texts.append(text)

    def check(self, text: str, where: str) -> list[Leak]:
        """Leaks of planted secrets in ``text`` (also remembered for the end of the run)."""
        leaks = self._search(text, where)
        with self._lock_:
            self._found.extend(leaks)
        return leaks

    def check_object(self, obj: object, where: str) -> list[Leak]:
        """Leaks in ``repr(obj)`` and ``str(obj)`` (settings, resources, exceptions)."""
        return self.check(repr(obj), f"repr of {where}") + self.check(str(obj), f"str of {where}")

    def leaks(self) -> list[Leak]:
        """Every leak: the recorded log texts searched now, plus those :meth:`check` found."""
        with self._lock_:
            texts, found, other = list(self._texts), list(self._found), list(self._other)
        return (found + [leak for text in texts for leak in self._search(text, "a log record")]
                + [leak for where, text in other for leak in self._search(text, where)])

    def _search(self, text: str, where: str) -> list[Leak]:
        return [Leak(where, kind, text.replace(secret, "<SECRET>")[:300])
                for secret, kind in self._secrets.items() if secret in text]


_KEY = pytest.StashKey[Sentinel]()
_LEAKS = pytest.StashKey[list[Leak]]()
_WORKER_LEAKS = pytest.StashKey[list[Leak]]()
_CMDLINES = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--scoreboard-add", action="store_true", default=False,
                     help="add this run's counts and leaks to the scoreboard.json an earlier run wrote "
                          "(a second phase of one test run: make test's serial tests after the parallel ones)")


def pytest_configure(config: pytest.Config) -> None:
    sentinel = Sentinel()
    config.stash[_KEY] = sentinel
    root = logging.getLogger()
    root.addHandler(sentinel)
    if root.level > logging.DEBUG or root.level == logging.NOTSET:
        root.setLevel(logging.DEBUG)
    _watch_exceptions(sentinel)
    xdist_controller = bool(getattr(config.option, "numprocesses", None)) and not hasattr(config, "workeroutput")
    if Path("/proc/self/cmdline").exists() and not xdist_controller:  # where the tests run
        from remotejobs.testing.cmdlines import CmdlineWatcher

        # every process's command line, once a second, for the whole run
        config.stash[_CMDLINES] = CmdlineWatcher(sentinel, None, interval=1.0).__enter__()


def _watch_exceptions(sentinel: Sentinel) -> None:
    """Every error of the project's hierarchy created during the run is remembered (its
    message and repr) and searched at the end."""
    from remotejobs.errors import RemoteJobsError

    original = RemoteJobsError.__init__
    if getattr(original, "_sentinel", False):
        return

    def init(self: RemoteJobsError, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        with contextlib.suppress(Exception):  # a half-built error: its own __init__ failed already
            sentinel.remember(f"{self}\n{self!r}", f"a {type(self).__name__} raised")

    init._sentinel = True  # type: ignore[attr-defined]
    RemoteJobsError.__init__ = init  # type: ignore[method-assign]


@pytest.fixture(scope="session")
def secret_sentinel(request: pytest.FixtureRequest) -> Sentinel:
    """The run's sentinel: ``secret_sentinel.plant(secret, kind)`` and ``.check(text, where)``."""
    return request.config.stash[_KEY]


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    sentinel = config.stash.get(_KEY, None)
    if sentinel is None:
        return
    logging.getLogger().removeHandler(sentinel)
    watcher = config.stash.get(_CMDLINES, None)
    if watcher is not None:
        watcher.__exit__(None, None, None)
    workeroutput = getattr(config, "workeroutput", None)
    if workeroutput is None:  # the controller (or a run without xdist) searches the files once
        from remotejobs.testing.secretfiles import scan

        for directory, shared in sentinel.watched.items():
            scan(sentinel, Path(directory), shared=shared, since=sentinel.started - 1)
    leaks = sentinel.leaks() + config.stash.get(_WORKER_LEAKS, [])
    config.stash[_LEAKS] = leaks
    scoreboard.record("log records searched", sentinel.records)
    scoreboard.record("leaks found", len(leaks) - scoreboard.counts().get("leaks found", 0))
    for kind in scoreboard.MUST_BE_ZERO:
        scoreboard.record(kind, 0)  # shown even when nothing went wrong
    if workeroutput is not None:  # a pytest-xdist worker: hand counts, leaks, secrets and
        # directories to search to the controller (the same machine, the same test run)
        workeroutput["remotejobs_scoreboard"] = json.dumps(
            {"counts": scoreboard.counts(), "leaks": [list(leak) for leak in leaks],
             "secrets": sentinel.secrets, "watched": sentinel.watched})
        return
    bad = scoreboard.nonzero_failures()
    if (leaks or bad) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    """pytest-xdist controller: add a finished worker's counts and leaks to the run's."""
    output = getattr(node, "workeroutput", {}).get("remotejobs_scoreboard")
    config = getattr(node, "config", None)
    if output is None or config is None:
        return
    data = json.loads(output)
    for kind, n in data["counts"].items():
        if kind != "leaks found":  # recounted from the leaks themselves
            scoreboard.record(kind, n)
    config.stash.setdefault(_WORKER_LEAKS, []).extend(Leak(*leak) for leak in data["leaks"])
    sentinel = config.stash.get(_KEY, None)
    if sentinel is not None:
        sentinel.adopt(data.get("secrets", {}), data.get("watched", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    if getattr(config, "workeroutput", None) is not None:
        return
    leaks = [list(leak) for leak in config.stash.get(_LEAKS, [])]
    counts = scoreboard.counts()
    counts.setdefault("leaks found", len(leaks))
    state = Path(os.environ.get("REMOTEJOBS_STATE_DIR") or Path(config.rootpath) / ".pytest_state")
    title = "attack scoreboard (issue 10)"
    if config.getoption("scoreboard_add", False):
        try:
            earlier = json.loads((state / "scoreboard.json").read_text())
            for kind, n in earlier["counts"].items():
                counts[kind] = counts.get(kind, 0) + int(n)
            counts, leaks = dict(sorted(counts.items())), [list(leak) for leak in earlier["leaks"]] + leaks
            title += ", both phases"
        except (OSError, ValueError, KeyError, TypeError):
            terminalreporter.write_line(f"no earlier scoreboard.json in {state}: this phase only")
    terminalreporter.section(title)
    width = max(len(k) for k in counts)
    for kind, n in counts.items():
        failed = n and kind in scoreboard.MUST_BE_ZERO
        terminalreporter.write_line(f"{kind:<{width}}  {n:>9}" + ("  MUST BE ZERO" if failed else ""), red=bool(failed))
    for where, kind, text in leaks[:20]:
        terminalreporter.write_line(f"LEAK of a {kind} in {where}: {text!r}", red=True)
    try:
        state.mkdir(parents=True, exist_ok=True)
        (state / "scoreboard.json").write_text(json.dumps({"counts": counts, "leaks": leaks}, indent=2) + "\n")
    except OSError as exc:
        terminalreporter.write_line(f"scoreboard not written to {state}: {exc.strerror}")
