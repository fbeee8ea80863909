"""Failure paths of lsf-web against the emulated PAC: credentials, sessions, server errors, TLS."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pac_emulator import PacEmulator, SshPasswordChecker, TlsFiles
from remotejobs_lsf_web import LsfWebResource, LsfWebSettings, ScarfResource, ScarfSettings

from conftest import start_emulator
from remotejobs.errors import (
    AuthenticationError,
    JobNotFoundError,
    NotLoggedInError,
    RemoteJobsError,
    SchedulerError,
    SessionExpiredError,
    SubmissionError,
    TransferError,
    TransportError,
)
from remotejobs.models import JobSpec, JobState
from remotejobs.testing.faults import count_fault

Opener = Callable[..., LsfWebResource]
SLEEP = JobSpec(executable="/bin/sleep", arguments=("60",), name="sleeper")
QUICK = JobSpec(executable="/bin/echo", arguments=("quick",), name="quick")
NASTY = "Boom <42> & \"co\""


@pytest.fixture
def alice(open_lsf_web: Opener, users: list[tuple[str, str]]) -> Iterator[LsfWebResource]:
    resource = open_lsf_web()
    resource.login(*users[0])
    yield resource
    resource.close()


def scarf(pac: PacEmulator, tls: TlsFiles, **extra: object) -> ScarfResource:
    settings = ScarfSettings(token_url=pac.token_url, login_marker=pac.origin, ping_url=pac.base_url,
                             ca_bundle=str(tls.ca_cert), **extra)
    return ScarfResource(settings, name="scarf-emulated")


# -- credentials -----------------------------------------------------------------------------
def test_wrong_password_pac_logon(open_lsf_web: Opener, users: list[tuple[str, str]]) -> None:
    resource = open_lsf_web()
    with pytest.raises(AuthenticationError) as err:
        resource.login(users[0][0], "not-the-password")
    assert "Incorrect user name or password" in str(err.value) and not err.value.transient
    assert err.value.user == users[0][0] and not resource.logged_in


def test_wrong_password_token_script(pac: PacEmulator, tls: TlsFiles, users: list[tuple[str, str]]) -> None:
    resource = scarf(pac, tls)
    with pytest.raises(AuthenticationError) as err:
        resource.login(users[1][0], users[0][1])  # bob with alice's password
    assert "authentication failed" in str(err.value)
    assert users[0][1] not in str(err.value)


def test_login_without_password_fails_before_any_request(open_lsf_web: Opener, pac: PacEmulator) -> None:
    before = len(pac.server.requests)
    with pytest.raises(AuthenticationError):
        open_lsf_web().login("rjalice", None)
    assert len(pac.server.requests) == before


# -- sessions --------------------------------------------------------------------------------
def test_action_after_logout(alice: LsfWebResource, pac: PacEmulator) -> None:
    alice.logout()
    assert pac.server.requests[-1][1].endswith("/logout/")
    with pytest.raises(NotLoggedInError):
        alice.jobs()


def test_logged_out_token_is_rejected_by_the_server(open_lsf_web: Opener, users: list[tuple[str, str]],
                                                    tmp_path: Path) -> None:
    """A CLI login (token cache) used by a second process after the first logged out."""
    cache = str(tmp_path / "tokens.json")
    first = open_lsf_web(token_cache=cache)
    first.login(*users[0])
    second = open_lsf_web(token_cache=cache)
    assert second.jobs() is not None and second.user == users[0][0]  # restored without password
    first.logout()
    with pytest.raises(SessionExpiredError) as err:
        second.jobs()
    assert "Your current login session was logout" in str(err.value) and not err.value.transient


def test_token_expiry_without_credentials(alice: LsfWebResource, pac: PacEmulator) -> None:
    assert pac.expire_tokens(alice.user) >= 1
    with pytest.raises(SessionExpiredError) as err:
        alice.jobs()
    assert "Your current login session was logout" in str(err.value) and err.value.user == alice.user
    assert isinstance(err.value, NotLoggedInError)


def test_token_expiry_with_credential_callback(open_lsf_web: Opener, users: list[tuple[str, str]],
                                               pac: PacEmulator) -> None:
    asked: list[str] = []

    def credentials(user: str) -> str | None:
        asked.append(user)
        return dict(users).get(user)

    resource = open_lsf_web(credentials=credentials)
    resource.login(users[0][0], users[0][1])
    job = resource.submit(QUICK)
    pac.expire_tokens(users[0][0])
    count_fault("web service token expired")
    assert job.wait(timeout=90).state is JobState.COMPLETED  # status repeated after a new login
    assert asked == [users[0][0]]
    pac.expire_tokens(users[0][0])
    with pytest.raises(SessionExpiredError) as err:  # submit is not repeated blindly
        resource.submit(QUICK)
    assert err.value.transient and "not executed" in str(err.value)
    assert resource.submit(QUICK).id  # the new session works
    assert asked == [users[0][0]] * 2
    resource.close()


def test_keyring_entry_logs_in_again(open_lsf_web: Opener, users: list[tuple[str, str]], pac: PacEmulator,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``keyring_service``: the backend asks keyring.get_password(service, user) (a stand-in
    module here: the keyring package is optional and not installed in the test venv)."""
    import types

    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: dict(users)[user] if service == "pac-test" else None  # type: ignore[attr-defined]
    monkeypatch.setitem(__import__("sys").modules, "keyring", fake)
    resource = open_lsf_web(keyring_service="pac-test", username=users[1][0])
    assert not resource.password_required()
    assert resource.jobs() is not None and resource.user == users[1][0]  # implicit login from keyring
    pac.expire_tokens(users[1][0])
    assert resource.jobs() is not None
    resource.close()


# -- 200 + <errMsg> on every endpoint ----------------------------------------------------------
def _run(op: str, resource: LsfWebResource, job_id: str, tmp_path: Path) -> None:
    local = tmp_path / "up.txt"
    local.write_text("x")
    actions: dict[str, Callable[[], object]] = {
        "submitapp": lambda: resource.submit(QUICK),
        "jobs": lambda: resource.status_many([job_id, "1"]),
        "jobOperation": lambda: resource.cancel(job_id),
        "upfile": lambda: resource.upload(local, "/tmp"),
        "jobfiles": lambda: resource.download(job_id, tmp_path / "d"),
        "file": lambda: resource.download(job_id, tmp_path / "d"),
        "logout": resource.logout,
    }
    actions[op]()


@pytest.mark.parametrize(
    ("op", "error"),
    [("submitapp", SubmissionError), ("jobs", SchedulerError), ("jobOperation", SchedulerError),
     ("upfile", TransferError), ("jobfiles", TransferError), ("file", TransferError), ("logout", SchedulerError)],
)
def test_errmsg_answer_is_an_error_with_the_server_message(
    op: str, error: type[RemoteJobsError], alice: LsfWebResource, pac: PacEmulator, tmp_path: Path
) -> None:
    job = alice.submit(QUICK)
    job.wait(timeout=90)
    pac.inject(op, errmsg=NASTY)
    with pytest.raises(error) as err:
        _run(op, alice, job.id, tmp_path)
    assert NASTY in str(err.value), str(err.value)


@pytest.mark.parametrize("method", ["pac-logon", "token-script"])
def test_errmsg_on_login(method: str, pac: PacEmulator, tls: TlsFiles, open_lsf_web: Opener,
                         users: list[tuple[str, str]]) -> None:
    resource = open_lsf_web() if method == "pac-logon" else scarf(pac, tls)
    pac.inject("logon" if method == "pac-logon" else "token", errmsg=NASTY)
    with pytest.raises(AuthenticationError) as err:
        resource.login(*users[0])
    if method == "pac-logon":
        assert NASTY in str(err.value)


def test_http_5xx_is_retried_for_idempotent_requests(alice: LsfWebResource, pac: PacEmulator) -> None:
    pac.inject("jobs", status=503)
    assert isinstance(alice.jobs(), list)
    pac.inject("submitapp", status=503)
    count_fault("web service answering 5xx", 2)
    with pytest.raises(SubmissionError) as err:  # not repeated: outcome unknown
        alice.submit(QUICK)
    assert err.value.transient and "503" in str(err.value)


def test_http_404_is_a_scheduler_error(alice: LsfWebResource, pac: PacEmulator) -> None:
    pac.inject("jobs", status=404)
    with pytest.raises(SchedulerError) as err:
        alice.jobs()
    assert "404" in str(err.value) and not err.value.transient


def test_cancel_finished_unknown_and_foreign_jobs(open_lsf_web: Opener, users: list[tuple[str, str]]) -> None:
    alice, bob = open_lsf_web(), open_lsf_web()
    alice.login(*users[0])
    bob.login(*users[1])
    done = alice.submit(QUICK)
    assert done.wait(timeout=90).state is JobState.COMPLETED
    done.cancel()  # "Job has already finished": a no-op
    assert done.status().state is JobState.COMPLETED
    running = alice.submit(SLEEP)
    with pytest.raises(JobNotFoundError) as err:
        bob.cancel(running.id)
    assert "permission denied" in str(err.value)
    running.cancel()
    assert running.wait(timeout=90).state is JobState.CANCELLED
    alice.close()
    bob.close()


# -- transport -----------------------------------------------------------------------------------
def test_server_down_is_a_transient_transport_error(checker: SshPasswordChecker, users: list[tuple[str, str]]) -> None:
    pac = start_emulator(checker, None)
    resource = LsfWebResource(LsfWebSettings(base_url=pac.base_url, retries=1), name="down")
    resource.login(*users[0])
    pac.stop()
    assert resource.ping() is False
    with pytest.raises(TransportError) as err:
        resource.jobs()
    assert err.value.transient and "cannot reach" in str(err.value)
    with pytest.raises(SubmissionError) as sub:
        resource.submit(QUICK)
    assert sub.value.transient


def test_self_signed_certificate_rejected_unless_its_ca_is_configured(
    open_lsf_web: Opener, users: list[tuple[str, str]]
) -> None:
    untrusted = open_lsf_web(ca_bundle=None)
    assert untrusted.ping() is False
    with pytest.raises(TransportError) as err:
        untrusted.login(*users[0])
    assert "TLS verification" in str(err.value) and not err.value.transient
    trusted = open_lsf_web()
    assert trusted.ping() is True
    trusted.login(*users[0])
    trusted.close()


def test_two_users_side_by_side(open_lsf_web: Opener, users: list[tuple[str, str]]) -> None:
    alice, bob = open_lsf_web(), open_lsf_web()
    alice.login(*users[0])
    bob.login(*users[1])
    a_job, b_job = alice.submit(QUICK), bob.submit(QUICK)
    assert {i.id for i in alice.jobs()}.isdisjoint({i.id for i in bob.jobs()})
    assert a_job.wait(timeout=90).owner == users[0][0]
    assert b_job.wait(timeout=90).owner == users[1][0]
    with pytest.raises(JobNotFoundError):
        bob.status(a_job.id)
    alice.logout()
    assert bob.status(b_job.id).state is JobState.COMPLETED  # bob's session is unaffected
    bob.close()
