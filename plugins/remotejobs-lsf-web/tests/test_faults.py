"""The web service's faults (issue 10, "Faults on the live cluster"): the service restarted
(down, then up again without the sessions it had issued) and answering slowly. Token
expiry and HTTP 5xx answers: test_errors.py (their faults are counted there too).

Must hold: requests fail with transient errors while the service is down and work again,
after a new login, once it is back; a slow answer makes the read timeout fire; only
idempotent requests are repeated (a status query is, a submission never: it raises a
transient SubmissionError and the one job it created is found, exactly once, afterwards).
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

import pytest
from pac_emulator import PacEmulator, TlsFiles
from remotejobs_lsf_web import LsfWebResource, LsfWebSettings

from remotejobs.errors import RemoteJobsError, SubmissionError
from remotejobs.models import JobSpec, JobState
from remotejobs.testing import scoreboard
from remotejobs.testing.faults import count_fault

# serial (make test runs it after the parallel phase): jobs with hostile names and a PAC
# emulator that crashes or answers slowly must not meet the other tests' listings and timeouts.
pytestmark = [pytest.mark.cluster, pytest.mark.serial]


def _open(pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]], **extra: Any) -> LsfWebResource:
    passwords = dict(users)

    def credentials(user: str) -> str | None:
        return passwords.get(user)

    settings = LsfWebSettings(base_url=pac.base_url, ca_bundle=str(tls.ca_cert), **{"retries": 1, **extra})
    resource = LsfWebResource(settings, name="pac-faults", credentials=credentials)
    resource.login(*users[0])
    return resource


def _requests(pac: PacEmulator, op: str) -> int:
    prefix = "/platform/webservice/pacclient/"
    return sum(1 for _, path, _ in pac.server.requests
               if path.startswith(prefix) and path[len(prefix):].split("/")[0] == op)


def test_service_restart_is_transient_and_the_session_recovers(
    own_pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]],
) -> None:
    resource = _open(own_pac, tls, users)
    try:
        job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 2"), name="pac-restart"))
        own_pac.crash()
        count_fault("web service restarted")
        for call in (lambda: resource.status(job.id), resource.jobs,
                     lambda: resource.submit(JobSpec(executable="/bin/true", name="pac-restart-down"))):
            with pytest.raises(RemoteJobsError) as err:
                call()
            assert err.value.transient, err.value
        own_pac.restart()  # the sessions it issued are gone: the resource logs in again
        info = job.wait(timeout=90)
        assert info.state is JobState.COMPLETED, info
        assert not [i for i in resource.jobs() if i.name == "pac-restart-down"], "a refused submit ran"
    finally:
        resource.close()


def test_slow_answers_fire_the_timeout_and_only_idempotent_requests_repeat(
    own_pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]], tmp_path: Path,
) -> None:
    resource = _open(own_pac, tls, users, read_timeout=1.0)
    try:
        before = _requests(own_pac, "jobs")
        own_pac.inject("jobs", delay=3.0)
        count_fault("web service answering slowly")
        assert isinstance(resource.jobs(), list)  # timed out once, repeated, answered
        assert _requests(own_pac, "jobs") - before == 2, "the status query was not repeated once"
        name = f"pac-slow-{secrets.token_hex(3)}"
        own_pac.inject("submitapp", delay=3.0)
        count_fault("web service answering slowly")
        with pytest.raises(SubmissionError) as err:
            resource.submit(JobSpec(executable="/bin/true", name=name))
        assert err.value.transient and "jobs()" in (err.value.hint + str(err.value)), err.value
        assert _requests(own_pac, "submitapp") == 1, "a submission was repeated"
        deadline = time.monotonic() + 60  # the server finishes the slow submission on its own
        mine: list[str] = []
        while not mine:
            assert time.monotonic() < deadline, "the slow submission never created its job"
            mine = [i.id for i in resource.jobs() if i.name == name]
        scoreboard.record("jobs duplicated", len(mine) - 1)
        assert len(mine) == 1, f"jobs duplicated: {mine}"
    finally:
        resource.close()


def test_fault_helpers_match_requests(own_pac: PacEmulator) -> None:
    """Guard for the request counter above: it counts exactly the named operation."""
    own_pac.server.requests.extend([("GET", "/platform/webservice/pacclient/jobs", {}),
                                    ("POST", "/platform/webservice/pacclient/submitapp", {})])
    assert _requests(own_pac, "jobs") == 1 and _requests(own_pac, "submitapp") == 1

