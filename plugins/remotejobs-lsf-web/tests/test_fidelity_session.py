"""Session expiry as IBM's own PAC client recognises it (issue 11 item 2).

Source: github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py: ``SESSION_LOGOUT =
'Your current login session was logout'`` (checked by lsf.py ``__checkMessage`` to log in
again) and ``downloadFiles``: "when SESSION_LOGOUT, AC also return error code 403".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pac_emulator import PacEmulator
from remotejobs_lsf_web import LsfWebResource
from remotejobs_lsf_web._errors import DEFAULT_EXPIRED_PATTERN

from remotejobs.errors import SessionExpiredError, TransferError
from remotejobs.models import JobSpec, JobState

Opener = Callable[..., LsfWebResource]
REAL_TEXT = "Your current login session was logout"
ECHO = JobSpec(executable="/bin/echo", arguments=("fidelity",), name="fidelity-session")


def test_default_pattern_matches_ibms_text() -> None:
    assert re.search(DEFAULT_EXPIRED_PATTERN, REAL_TEXT)


def _with_credentials(open_lsf_web: Opener, users: list[tuple[str, str]], asked: list[str]) -> LsfWebResource:
    def credentials(user: str) -> str | None:
        asked.append(user)
        return dict(users).get(user)

    resource = open_lsf_web(credentials=credentials)
    resource.login(*users[0])
    return resource


def test_real_logout_text_makes_the_backend_log_in_again(open_lsf_web: Opener, users: list[tuple[str, str]],
                                                         pac: PacEmulator) -> None:
    asked: list[str] = []
    resource = _with_credentials(open_lsf_web, users, asked)
    pac.inject("jobs", errmsg=REAL_TEXT)
    assert resource.jobs() is not None
    assert asked == [users[0][0]]
    resource.close()


def test_real_logout_text_without_a_password_source(open_lsf_web: Opener, users: list[tuple[str, str]],
                                                    pac: PacEmulator) -> None:
    resource = open_lsf_web()
    resource.login(*users[0])
    pac.inject("jobs", errmsg=REAL_TEXT)
    with pytest.raises(SessionExpiredError, match=REAL_TEXT):
        resource.jobs()
    resource.close()


def test_403_on_a_download_logs_in_again(open_lsf_web: Opener, users: list[tuple[str, str]], pac: PacEmulator,
                                         tmp_path: Path) -> None:
    asked: list[str] = []
    resource = _with_credentials(open_lsf_web, users, asked)
    job = resource.submit(ECHO)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    pac.inject("file", status=403)
    paths = job.download(tmp_path)
    assert asked == [users[0][0]] and any(p.read_text().startswith("fidelity\n") for p in paths)
    resource.close()


def test_403_on_a_download_without_a_password_source(open_lsf_web: Opener, users: list[tuple[str, str]],
                                                     pac: PacEmulator, tmp_path: Path) -> None:
    resource = open_lsf_web()
    resource.login(*users[0])
    job = resource.submit(ECHO)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    pac.inject("file", status=403)
    with pytest.raises(TransferError, match="HTTP 403") as err:
        job.download(tmp_path)
    assert "Log in again" in (err.value.hint or "")
    resource.close()
