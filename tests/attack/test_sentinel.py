"""The secret sentinel (remotejobs.testing.sentinel) can fail, and settings, credentials and
errors built with secrets show none of them.

The run's sentinel searches every log record of the whole suite at its end; here a fresh
sentinel on a throwaway logger (not propagating, so the run's sentinel never sees the
planted leak) proves that a leak in a message, in a logged exception or in a repr is found,
and that the report redacts the secret.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import remotejobs
from remotejobs.errors import InvalidSettingsError
from remotejobs.scheduler.settings import BatchSettings
from remotejobs.testing import scoreboard
from remotejobs.testing.sentinel import Sentinel
from remotejobs.transport._ssh_auth import Credentials

SECRET = "pl4nted-s3cret-\u2603-not-in-any-log"
SECOND = "second-planted-secret-qqqqqqqq"
THIRD = "third-planted-secret-pppppppp"


@pytest.fixture
def throwaway() -> Iterator[tuple[Sentinel, logging.Logger]]:
    sentinel, logger = Sentinel(), logging.getLogger("remotejobs.attack.throwaway")
    logger.propagate, logger.level = False, logging.DEBUG
    logger.addHandler(sentinel)
    yield sentinel, logger
    logger.removeHandler(sentinel)


def test_a_leak_in_a_log_record_is_caught_and_redacted(throwaway: tuple[Sentinel, logging.Logger]) -> None:
    sentinel, logger = throwaway
    sentinel.plant(SECRET, "password")
    logger.debug("connecting with nothing secret")
    assert sentinel.leaks() == []
    logger.debug("connecting with password=%s", SECRET)  # the leak
    leaks = sentinel.leaks()
    assert [(leak.where, leak.kind) for leak in leaks] == [("a log record", "password")]
    assert SECRET not in leaks[0].text and "password=<SECRET>" in leaks[0].text
    scoreboard.record("leaks planted and caught (self-test)")


def test_a_secret_planted_after_the_record_is_still_found(throwaway: tuple[Sentinel, logging.Logger]) -> None:
    sentinel, logger = throwaway
    logger.info("token issued: %s", SECRET)  # a token is learnt only when the emulator issues it
    assert sentinel.leaks() == []
    sentinel.plant(SECRET, "token")
    assert len(sentinel.leaks()) == 1
    scoreboard.record("leaks planted and caught (self-test)")


def test_a_leak_in_a_logged_exception_is_caught(throwaway: tuple[Sentinel, logging.Logger]) -> None:
    sentinel, logger = throwaway
    sentinel.plant(SECRET, "key passphrase")
    try:
        raise RuntimeError(f"bad passphrase {SECRET}")
    except RuntimeError:
        logger.exception("login failed")  # the message is clean; the traceback is not
    assert [leak.kind for leak in sentinel.leaks()] == ["key passphrase"]
    scoreboard.record("leaks planted and caught (self-test)")


def test_a_leak_in_a_repr_is_caught() -> None:
    sentinel = Sentinel()
    sentinel.plant(SECRET, "password")

    class Careless:
        def __repr__(self) -> str:
            return f"Careless(password={SECRET!r})"

    assert sentinel.check_object(Careless(), "Careless") != []
    assert len(sentinel.leaks()) >= 1
    scoreboard.record("leaks planted and caught (self-test)")


def _everything_about(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc)


def test_settings_credentials_and_errors_show_no_secret(secret_sentinel: Sentinel) -> None:
    """Checked by the run's sentinel: a leak here fails this test and the run."""
    passphrase = secret_sentinel.plant("passphrase-\u00e9-" + "x" * 8, "key passphrase")
    password = secret_sentinel.plant("password-\u00e9-" + "y" * 8, "password")
    settings = BatchSettings(host="login.example.org", key_passphrase=passphrase)
    creds = Credentials(password=password, key_file=None, passphrase=passphrase, use_agent=False,
                        interactive_handler=None)
    found = secret_sentinel.check_object(settings, "BatchSettings")
    found += secret_sentinel.check(repr(settings.model_dump()), "BatchSettings.model_dump()")
    found += secret_sentinel.check(settings.model_dump_json(), "BatchSettings.model_dump_json()")
    found += secret_sentinel.check_object(creds, "Credentials")
    found += secret_sentinel.check_object(creds.for_jump_host(), "Credentials.for_jump_host()")
    # A bad setting next to a secret one, and a secret under a misspelled key (extra="forbid"):
    for bad in ({"host_key_policy": "trust-all", "key_passphrase": passphrase}, {"key_pasphrase": passphrase},
                {"key_passphrase": [passphrase]}):
        with pytest.raises(InvalidSettingsError) as info:
            remotejobs.open_resource(backend="slurm", host="login.example.org", **bad)
        found += secret_sentinel.check(_everything_about(info.value), f"InvalidSettingsError for {sorted(bad)}")
        scoreboard.record("secret-bearing settings refused")
    assert found == [], found


def _run_pytest(tmp_path: Path, source: str, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    (tmp_path / "test_it.py").write_text(source, encoding="utf-8")
    env = {**os.environ, "REMOTEJOBS_STATE_DIR": str(tmp_path / "state")}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "remotejobs.testing.sentinel", "-p", "no:cacheprovider",
         *extra, "--rootdir", str(tmp_path), "-c", os.devnull, str(tmp_path / "test_it.py")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120, check=False)
    board: dict[str, Any] = json.loads((tmp_path / "state" / "scoreboard.json").read_text())
    return run, board


def test_under_xdist_counts_add_up_and_a_lost_job_or_a_leak_fails_the_run(tmp_path: Path) -> None:
    """The plugin itself, in a separate ``pytest -n 2`` run (the controller's end of the run is
    the same code as a run without xdist): the counts of both workers are added up; the
    must-be-zero counters are all shown, and one above zero (a duplicated job) or a worker's
    logged secret fails a run whose tests all passed; the report redacts the secret. So do a
    secret in an error of the project's hierarchy (even one a test expected), in a file
    other users may read under a watched shared directory (not in a private one), and a
    password in any file of a watched local directory (a CLI agent's)."""
    shared = Path("/tmp") / f"rj-sentinel-{secrets.token_hex(4)}"  # /tmp: others may enter
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    exposed = shared / "readable.txt"  # the run below writes it 0644 and private.txt 0600
    try:
        _check_run(tmp_path, shared, exposed)
    finally:
        shutil.rmtree(shared)


def _check_run(tmp_path: Path, shared: Path, exposed: Path) -> None:
    run, board = _run_pytest(tmp_path, "import logging\nimport pytest\nfrom remotejobs.testing import scoreboard\n"
                             f"SECRET = {SECRET!r}\n"
                             "@pytest.mark.parametrize('n', range(4))\n"
                             "def test_counts(n):\n"
                             "    scoreboard.record('hypothesis examples', 10)\n"
                             "def test_duplicates_a_job():\n"
                             "    scoreboard.record('jobs duplicated')\n"
                             "def test_leaks(secret_sentinel):\n"
                             "    secret_sentinel.plant(SECRET, 'token')\n"
                             "    logging.getLogger('remotejobs.x').info('token %s', SECRET)\n"
                             "def test_leaks_in_an_error_and_a_readable_file(secret_sentinel):\n"
                             "    from remotejobs.errors import TransferError\n"
                             f"    secret_sentinel.plant({SECOND!r}, 'password of x')\n"
                             "    with pytest.raises(TransferError):\n"
                             f"        raise TransferError('copied {SECOND}')\n"
                             f"    secret_sentinel.watch_files({str(shared)!r}, shared=True)\n"
                             "    import pathlib\n"
                             f"    for name, mode in (('readable.txt', 0o644), ('private.txt', 0o600)):\n"
                             f"        path = pathlib.Path({str(shared)!r}) / name\n"
                             f"        path.write_text('x {SECOND} y')\n"
                             "        path.chmod(mode)\n"
                             "def test_writes_a_password_in_a_private_local_file(secret_sentinel, tmp_path):\n"
                             f"    secret_sentinel.plant({THIRD!r}, 'password of y')\n"
                             "    secret_sentinel.watch_files(tmp_path / 'agent', shared=False)\n"
                             "    (tmp_path / 'agent').mkdir(mode=0o700)\n"
                             f"    (tmp_path / 'agent' / 'agent.log').write_text('login {THIRD}')\n"
                             "    (tmp_path / 'agent' / 'agent.log').chmod(0o600)\n",
                             "-p", "xdist", "-n", "2")
    assert run.returncode == 1 and "8 passed" in run.stdout, run.stdout + run.stderr
    counts = board["counts"]
    where = sorted(leak[0] for leak in board["leaks"])
    private = [w for w in where if w.startswith("the file ") and w.endswith("/agent/agent.log (mode 600)")]
    assert where == sorted(["a TransferError raised", "a log record", f"the file {exposed} (mode 644)", *private])
    assert len(private) == 1, board  # a password in a private local file: a leak (a CLI agent's directory)
    assert counts["hypothesis examples"] == 40 and counts["leaks found"] == 4, board
    assert counts["jobs duplicated"] == 1 and "MUST BE ZERO" in run.stdout
    assert all(counts[k] == 0 for k in scoreboard.MUST_BE_ZERO if k not in ("jobs duplicated", "leaks found"))
    assert counts["secrets planted"] == 3 and SECRET not in run.stdout + run.stderr + json.dumps(board)
    assert SECOND not in run.stdout + run.stderr + json.dumps(board)
    assert THIRD not in run.stdout + run.stderr + json.dumps(board)
    assert "LEAK of a token in a log record" in run.stdout  # reported, redacted
    scoreboard.record("leaks planted and caught (self-test)")


def test_a_second_phase_adds_to_the_first_phases_scoreboard(tmp_path: Path) -> None:
    """``make test`` runs the parallel tests, then the ``serial`` ones with ``--scoreboard-add``:
    the JSON and the table then hold both phases (a leak of the first phase included)."""
    first, _ = _run_pytest(tmp_path, "import logging\nfrom remotejobs.testing import scoreboard\n"
                           f"SECRET = {SECRET!r}\n"
                           "def test_one(secret_sentinel):\n"
                           "    scoreboard.record('hypothesis examples', 3)\n"
                           "    secret_sentinel.plant(SECRET, 'token')\n"
                           "    logging.getLogger('remotejobs.x').info('token %s', SECRET)\n")
    assert first.returncode == 1, first.stdout + first.stderr
    second, board = _run_pytest(tmp_path, "from remotejobs.testing import scoreboard\n"
                                "def test_two():\n"
                                "    scoreboard.record('hypothesis examples', 2)\n", "--scoreboard-add")
    assert second.returncode == 0 and "both phases" in second.stdout, second.stdout + second.stderr
    assert board["counts"]["hypothesis examples"] == 5 and board["counts"]["leaks found"] == 1, board
    assert len(board["leaks"]) == 1 and SECRET not in json.dumps(board) + second.stdout
