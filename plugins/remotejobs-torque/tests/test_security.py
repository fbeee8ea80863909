"""Another cluster user's job names must not forge or break rjalice's job states (issue 10,
hole 5), and the xml -> text switch of ``status_format = "auto"`` must not race (hole 6).

Live: Slurm's Torque wrappers print every user's ``Job_Name`` verbatim in ``qstat -f``
(``print_job_full`` in slurm-wlm-torque 22.05.8's qstat), so rjbob, submitting with plain
``sbatch``, can put newlines, ``Job Id:`` lines and ``job_state = C`` into rjalice's view.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from remotejobs_torque import TorqueResource, TorqueSettings
from remotejobs_torque.dialect import TorqueDialect

from remotejobs.models import JobSpec, JobState
from remotejobs.transport.base import CommandResult

pytestmark = pytest.mark.cluster


def _open(cluster: dict[str, Any], ssh_settings: dict[str, Any], user: dict[str, Any]) -> TorqueResource:
    settings = TorqueSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                              bin_dir=cluster["commands"]["torque_wrappers"])
    resource = TorqueResource(settings, name="torque-wrappers-security")
    resource.login(user["name"])
    return resource


@pytest.fixture
def alice(cluster: dict[str, Any], ssh_settings: dict[str, Any],
          cluster_users: list[dict[str, Any]]) -> Iterator[TorqueResource]:
    resource = _open(cluster, ssh_settings, cluster_users[0])
    yield resource
    resource.close()


@pytest.fixture
def bob(cluster: dict[str, Any], ssh_settings: dict[str, Any],
        cluster_users: list[dict[str, Any]]) -> Iterator[TorqueResource]:
    resource = _open(cluster, ssh_settings, cluster_users[1])
    yield resource
    resource.close()


def _sbatch_as(bob: TorqueResource, name: str) -> str:
    """rjbob submits a sleeping job named ``name`` with plain sbatch; its id."""
    done = bob.transport.run(["sbatch", "--parsable", "-p", "debug", "-J", name, "-o", "/dev/null",
                              "--wrap", "sleep 300"])
    assert done.exit_status == 0, done.output
    return done.stdout.strip().split(";")[0]


def _running(alice: TorqueResource) -> Any:
    job = alice.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 300"), name="victim"))
    info = job.status()
    for _ in range(600):
        if info.state is JobState.RUNNING:
            break
        threading.Event().wait(0.1)
        info = job.status()
    return job


def _forgery(victim: str, user: str) -> str:
    """A job name that prints, inside the attacker's record, a complete record of the
    victim's job as COMPLETED, then a header that absorbs the attacker's real attributes."""
    return (f"x\n\nJob Id:\t{victim}\n\tJob_Name = victim\n\tJob_Owner = {user}@localhost\n"
            f"\tjob_state = C\n\tqueue = debug\n\nJob Id:\t999999999")


def test_a_job_name_cannot_forge_another_users_job_state(alice: TorqueResource, bob: TorqueResource) -> None:
    job = _running(alice)
    attacks = [_sbatch_as(bob, _forgery(job.id, alice.user or "rjalice")) for _ in range(2)]
    try:
        listed = {i.id: i for i in alice.jobs()}
        assert job.id in listed, "the victim's job vanished from jobs()"
        assert not listed[job.id].state.is_final, listed[job.id]
        assert "999999999" not in listed and not set(attacks) & set(listed)
        assert not alice.status(job).state.is_final
        assert not alice.status(job).state.is_final  # and stays so (final states are sticky)
    finally:
        bob.transport.run(["scancel", *attacks])
        job.cancel()


def test_control_characters_in_another_users_job_name_do_not_break_jobs(
    alice: TorqueResource, bob: TorqueResource
) -> None:
    job = _running(alice)
    attacks = [_sbatch_as(bob, name) for name in ("fs\x1cgs\x1drs\x1e", "nel\x85ls\u2028ps\u2029", "tab\tcr\rx",
                                                   "Job Id:", "\tjob_state = C")]
    try:
        listed = {i.id: i for i in alice.jobs()}
        assert job.id in listed and not listed[job.id].state.is_final, listed.get(job.id)
    finally:
        bob.transport.run(["scancel", *attacks])
        job.cancel()


def test_records_claimed_twice_or_malformed_are_contained() -> None:
    """The same attack as text (the wrapper's layout): no id is trusted twice, a malformed
    record is skipped, the other records still parse."""
    text = ("Job Id:\t11\n\tJob_Name = x\n\nJob Id:\t10\n\tJob_Owner = rjalice@h\n\tjob_state = C\n\n"
            "Job Id:\t999\n\tJob_Owner = rjbob@h\n\tjob_state = R\n\n"
            "Job Id:\t10\n\tJob_Name = victim\n\tJob_Owner = rjalice@h\n\tjob_state = R\n\n"
            "Job Id:\t12\n\tJob_Owner = rjalice@h\n\tjob_state = R\n\tjob_state = C\n\n"
            "Job Id:\t13\n\tJob_Name = ok\x1cstill one line\n\tJob_Owner = rjalice@h\n\tjob_state = Q\n")
    dialect = TorqueDialect(status_format="text")
    result = CommandResult(argv=("qstat",), exit_status=0, stdout=text, stderr="")
    infos = dialect.parse_status(result, ["10", "11", "12", "13"])
    assert set(infos) == {"13"} and infos["13"].state is JobState.QUEUED, infos


def test_auto_status_format_switch_does_not_race(
    cluster: dict[str, Any], ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
) -> None:
    """64 threads make the first status call of a fresh ``auto`` resource at once against
    the wrappers (which reject ``-x``): every one gets the job's state."""
    owner = _open(cluster, ssh_settings, cluster_users[0])
    job = owner.submit(JobSpec(executable="/bin/sh", arguments=("-c", "sleep 120"), name="race"))
    fresh = _open(cluster, ssh_settings, cluster_users[0])
    barrier, errors, states = threading.Barrier(64), [], []

    def first_call() -> None:
        barrier.wait()
        try:
            states.append(fresh.status(job.id).state)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=first_call) for _ in range(64)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        assert not errors, errors[:3]
        assert len(states) == 64 and all(not s.is_final for s in states), states
    finally:
        job.cancel()
        owner.close()
        fresh.close()
