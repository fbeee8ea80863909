"""Multi-user attacks (issue 10): a second cluster user (rjbob) tries to read, cancel, forge
or observe the first user's (rjalice) jobs, files and environment, on the LSF, Torque and
PBS emulators and on Grid Engine; nothing succeeds. (Slurm: plugins/remotejobs-slurm/tests/
test_security.py and plugins/remotejobs-torque/tests/test_security.py; the session agent's
socket: tests/cli/test_agent.py.)

rjbob attacks through the SDK (status, cancel, download, jobs) and with the scheduler's own
commands on the login node, as any user could: kill alice's job, ask for its full record
(which must not show her environment), read her job directories, and submit jobs whose
names forge a record of her job as finished. Alice's job carries a planted secret in its
environment; afterwards it must still be running, visible to her only, and the secret in
nothing rjbob saw.
"""

from __future__ import annotations

import posixpath
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from remotejobs.errors import JobNotFoundError
from remotejobs.models import JobSpec, JobState
from remotejobs.resource import ComputeResource
from remotejobs.scheduler.batch import BatchResource
from remotejobs.testing import scoreboard
from remotejobs.testing.sentinel import Sentinel

pytestmark = pytest.mark.cluster

#: backend -> (kill argv, full-record argv, submit argv with a name), each ending before the id/name.
COMMANDS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "lsf": (("bkill",), ("bjobs", "-l"), ("bsub", "-o", "/dev/null", "-J")),
    "torque": (("qdel", "--"), ("qstat", "-f", "--"), ("qsub", "-o", "/dev/null", "-j", "oe", "-N")),
    "pbs": (("qdel", "--"), ("qstat", "-f", "--"), ("qsub", "-o", "/dev/null", "-j", "oe", "-N")),
    "sge": (("qdel",), ("qstat", "-j"), ("qsub", "-o", "/dev/null", "-j", "y", "-N")),
}


def _forgeries(victim: str, user: str) -> list[str]:
    """Names that print, inside the attacker's record, one of the victim's job as finished
    (delimited bjobs rows, qstat -f records, XML), or break line-based parsers."""
    return [
        f"x\n{victim}|0|DONE|{user}|normal|0|-|-|Dec  7 00:00|Dec  7 00:00|Dec  7 00:00|victim",
        f"x\n\nJob Id: {victim}\n    Job_Owner = {user}@localhost\n    job_state = C\n    Exit_status = 0\n",
        f"x</Job_Name></Job><Job><Job_Id>{victim}</Job_Id><job_state>C</job_state><Job_Name>",
        "fs\x1cgs\x1drs\x1e\x00nel\x85ls\u2028",
    ]


def _running(alice: ComputeResource, secret: str) -> str:
    job = alice.submit(JobSpec(executable="/bin/sh", arguments=("-c", 'echo "$RJ_SECRET" > secret.txt; sleep 120'),
                               environment={"RJ_SECRET": secret}, name="rj-victim"))
    deadline = time.monotonic() + 90
    while alice.status(job).state is not JobState.RUNNING:
        assert time.monotonic() < deadline, "the victim's job never started"
        threading.Event().wait(0.2)
    return job.id


@pytest.mark.parametrize("backend", sorted(COMMANDS))
def test_another_user_can_neither_read_cancel_forge_nor_observe(
    backend: str, open_backend: Callable[[str, int], ComputeResource], cluster_users: list[dict[str, Any]],
    secret_sentinel: Sentinel, tmp_path: Path,
) -> None:
    alice, bob = open_backend(backend, 0), open_backend(backend, 1)
    secret = secret_sentinel.plant(f"victim-env-{secrets.token_hex(8)}", "environment value")
    victim = _running(alice, secret)
    kill, record, submit = COMMANDS[backend]
    assert isinstance(alice, BatchResource) and isinstance(bob, BatchResource)
    dialect = alice.dialect

    def program(name: str) -> tuple[str, ...]:  # Grid Engine's commands need SGE_ROOT in their env
        prefix: tuple[str, ...] = getattr(dialect, "program", lambda n: (dialect.cmd(n),))(name)
        return prefix

    seen: list[str] = []
    forged: list[str] = []
    try:
        # read, cancel, download through the SDK
        for call in (bob.status, bob.cancel, lambda i: bob.download(i, tmp_path / "bob")):
            with pytest.raises(JobNotFoundError):
                call(victim)
        scoreboard.record("attacks: multi-user SDK status/cancel/download", 3)
        leaked = [i.id for i in bob.jobs() if i.id == victim]
        scoreboard.record("jobs leaked", len(leaked))
        assert not leaked, "another user's jobs() lists the victim's job"
        # the scheduler's own commands, as rjbob on the login node
        for argv in ((*program(kill[0]), *kill[1:], victim), (*program(record[0]), *record[1:], victim)):
            seen.append(bob.transport.run(list(argv)).output)
        home = cluster_users[0]["home"]
        seen.append(bob.transport.run(["sh", "-c", 'ls -laR "$1" 2>&1; cat "$1"/*/jobs/*/* 2>&1; '
                                       'cat "$1"/*/*/*/secret.txt 2>&1', "sh", home]).output)
        scoreboard.record("attacks: multi-user raw kill/record/read", 3)
        for name in _forgeries(victim, cluster_users[0]["name"]):
            done = bob.transport.run([*program(submit[0]), *submit[1:], name.replace("\0", "")],
                                     stdin="#!/bin/sh\nsleep 60\n")
            forged += [w for w in done.stdout.replace("<", " ").replace(">", " ").split()
                       if bob.valid_job_id(w.strip("."))]
        scoreboard.record("attacks: multi-user forged names", len(_forgeries(victim, "")))
        # nothing worked
        for text in seen:
            assert secret_sentinel.check(text, f"what rjbob saw on {backend}") == [], "the victim's secret leaked"
        state = alice.status(victim).state
        listed = {i.id: i for i in alice.jobs()}
        forged_state = state.is_final or victim not in listed or listed[victim].state.is_final
        scoreboard.record("jobs forged", int(forged_state and state is not JobState.CANCELLED))
        scoreboard.record("jobs lost", int(state is JobState.CANCELLED))
        assert state is JobState.RUNNING, f"rjbob changed the victim's job: {state}"
        assert not forged_state, listed.get(victim)
        assert not set(forged) & set(listed), "the attacker's jobs appear in the victim's jobs()"
        assert alice.download(victim, tmp_path / "alice", name="secret.txt")[0].read_text().strip() == secret
    finally:
        alice.cancel(victim)
        for job_id in forged:
            bob.transport.run([*program(kill[0]), *kill[1:], job_id])


def test_the_job_root_of_a_user_is_closed_to_others(cluster_users: list[dict[str, Any]]) -> None:
    """What makes rjbob's read attempt above fail: the job root is 0700."""
    root = posixpath.join(cluster_users[0]["home"], ".remotejobs")
    assert (Path(root).stat().st_mode & 0o077) == 0, oct(Path(root).stat().st_mode)
