"""A JobSpec's environment values (often tokens) are never shown: not in its repr or str,
not in a log record or an error that embeds a spec, not in the CLI's output (``--json``
and ``--debug`` included); the job itself still gets them. Each check is also handed to
the run's secret sentinel (a planted "environment value"), which fails the run on a leak."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import remotejobs
from remotejobs import JobSpec, JobState
from remotejobs.errors import InvalidJobSpecError, RemoteJobsError
from remotejobs.testing.sentinel import Sentinel

EXE = shutil.which("remotejobs", path=os.path.dirname(sys.executable)) or "remotejobs"


@pytest.fixture
def token(secret_sentinel: Sentinel) -> str:
    return secret_sentinel.plant(f"env-token-{secrets.token_hex(8)}", "environment value")


def test_repr_str_and_pretty_forms_name_the_variables_but_hide_the_values(token: str,
                                                                          secret_sentinel: Sentinel) -> None:
    from rich.pretty import pretty_repr

    spec = JobSpec(executable="/bin/true", environment={"API_TOKEN": token, "MODE": "fast"})
    shown = {"repr": repr(spec), "str": str(spec), "format": f"{spec}", "in a list": repr([spec]),
             "rich": pretty_repr(spec), "copy": repr(spec.model_copy(update={"name": "x"}))}
    for where, text in shown.items():
        assert secret_sentinel.check(text, f"{where} of a JobSpec") == []
        assert "API_TOKEN" in text and "'MODE': <hidden>" in text, text
    assert spec.environment["API_TOKEN"] == token  # the data itself is intact
    assert spec.model_dump()["environment"]["API_TOKEN"] == token


def test_log_records_and_errors_that_embed_a_spec_hold_no_value(token: str, secret_sentinel: Sentinel,
                                                               tmp_path: Path,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    spec = JobSpec(executable="/bin/true", environment={"API_TOKEN": token}, queue="debug")
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("remotejobs.test").debug("submitting %s / %r", spec, spec)
    assert [r for r in caplog.records if token in r.getMessage()] == []
    local = remotejobs.open_resource(backend="local", state_dir=str(tmp_path / "state"))
    local.login("alice")
    with pytest.raises(InvalidJobSpecError) as err:  # local refuses queue
        local.submit(spec)
    assert secret_sentinel.check(f"{err.value}\n{err.value!r}", "a refused spec's error") == []
    try:
        raise RemoteJobsError(f"could not submit {spec}")
    except RemoteJobsError as exc:
        assert secret_sentinel.check(str(exc), "an error embedding a spec") == []


def test_cli_output_json_and_debug_hold_no_environment_value(token: str, secret_sentinel: Sentinel,
                                                             tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f'[resources.box]\nbackend = "local"\nstate_dir = "{tmp_path / "state"}"\n')
    env = {**os.environ, "REMOTEJOBS_CONFIG": str(config), "REMOTEJOBS_RESOURCE": "box",
           "REMOTEJOBS_AGENT_DIR": str(tmp_path / "agent")}
    env.pop("REMOTEJOBS_AGENT", None)
    outputs = []
    # the job proves the value reached it (exit 0 only when it has it), with neither the
    # value on its command line (JobInfo.command shows that) nor in its output
    digest = hashlib.sha256(token.encode()).hexdigest()
    check = f'test "$(printf %s "$API_TOKEN" | sha256sum | cut -c1-64)" = {digest}'
    env["API_TOKEN"] = token  # "-e API_TOKEN" passes it on: never on a command line (/proc is watched)
    for args in (["--json", "submit", "--wait", "-e", "API_TOKEN", "--", "/bin/sh", "-c", check],
                 ["--debug", "submit", "--wait", "-e", "API_TOKEN", "--", "/bin/sh", "-c", check],
                 ["--json", "status", "--all"], ["--debug", "status", "--all"]):
        done = subprocess.run([EXE, *args], capture_output=True, text=True, env=env, timeout=300, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        outputs.append(done)
        found = secret_sentinel.check(done.stdout + done.stderr, f"the output of remotejobs {' '.join(args[:2])}")
        assert found == [], found
    info = json.loads(outputs[0].stdout)
    assert info["state"] == JobState.COMPLETED.value and "environment" not in info
    assert len(json.loads(outputs[2].stdout)) == 2
    env.pop("API_TOKEN")
    unset = subprocess.run([EXE, "submit", "-e", "API_TOKEN", "--", "/bin/true"], capture_output=True, text=True,
                           env=env, timeout=300, check=False)
    assert unset.returncode == 2 and "API_TOKEN is not set in this environment" in unset.stderr, unset.stderr
