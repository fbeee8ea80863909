# ruff: noqa: I001
"""Fixtures of the lsf-web suite: the emulated PAC (HTTPS, real users, real jobs), resources
on it, and a capture of every log record of the whole suite checked for secrets."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # importlib mode: make pac_emulator importable

from pac_emulator import PacEmulator, SshPasswordChecker, TlsFiles, make_tls_files

from remotejobs.testing.sentinel import Sentinel
from remotejobs_lsf_web import LsfWebResource, LsfWebSettings

_EMULATORS: list[PacEmulator] = []


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.texts.append(f"{record.name}: {text}")


@pytest.fixture(scope="session", autouse=True)
def no_secrets_in_logs(cluster_users: list[dict[str, Any]], secret_sentinel: Sentinel) -> Iterator[_Capture]:
    """Capture every log record (root logger, DEBUG) for the whole suite; at the end no
    password of a test user and no token the emulator issued may appear in any of them."""
    root = logging.getLogger()
    capture, old_level = _Capture(), root.level
    root.addHandler(capture)
    root.setLevel(logging.DEBUG)
    yield capture
    root.removeHandler(capture)
    root.setLevel(old_level)
    secrets = [u["password"] for u in cluster_users]
    secrets += [t for pac in _EMULATORS for t in pac.tokens.issued()]
    for token in secrets[len(cluster_users):]:  # and searched for by the run's sentinel too
        secret_sentinel.plant(token, "token issued by the PAC emulator")
    secrets += [t.replace('"', "#quote#") for t in secrets if '"' in t]
    if _EMULATORS:  # the emulator and backend log at DEBUG: an empty capture means a broken fixture
        assert capture.texts, "the capture saw no log records at all"
    leaks = [text.replace(secret, "<SECRET>") for text in capture.texts for secret in secrets
             if secret and secret in text]
    assert not leaks, f"secrets found in {len(leaks)} log records, e.g. {leaks[0][:300]!r}"


@pytest.fixture(scope="session")
def users(cluster_users: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(u["name"], u["password"]) for u in cluster_users]


@pytest.fixture(scope="session")
def checker(cluster: dict[str, Any]) -> SshPasswordChecker:
    ssh = cluster["ssh"]
    return SshPasswordChecker(ssh["host"], int(ssh["port"]), ssh["known_hosts_file"])


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("pac-tls"))


def start_emulator(checker: SshPasswordChecker, tls: TlsFiles | None, **kwargs: Any) -> PacEmulator:
    pac = PacEmulator(checker=checker, tls=tls, **kwargs).start()
    _EMULATORS.append(pac)
    return pac


@pytest.fixture(scope="session")
def pac(checker: SshPasswordChecker, tls: TlsFiles) -> Iterator[PacEmulator]:
    """The shared HTTPS emulator."""
    emulator = start_emulator(checker, tls)
    yield emulator
    emulator.stop()


@pytest.fixture
def own_pac(checker: SshPasswordChecker, tls: TlsFiles) -> Iterator[PacEmulator]:
    """An HTTPS emulator for one test: its connections and tokens are that test's only."""
    emulator = start_emulator(checker, tls)
    yield emulator
    emulator.stop()


@pytest.fixture
def open_lsf_web(pac: PacEmulator, tls: TlsFiles) -> Callable[..., LsfWebResource]:
    """``open_lsf_web(**setting_overrides)`` -> a new, not logged-in lsf-web resource."""

    def make(credentials: Callable[[str], str | None] | None = None, **overrides: Any) -> LsfWebResource:
        settings: dict[str, Any] = {"base_url": pac.base_url, "ca_bundle": str(tls.ca_cert), "retries": 1}
        settings.update(overrides)
        return LsfWebResource(LsfWebSettings(**settings), name="pac-emulator", credentials=credentials)

    return make
