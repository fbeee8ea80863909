"""Workflow conditions as Slurm dependencies, on the real test cluster over SSH, and
their translation (``--dependency`` with ``,`` and ``?``; sbatch(1) "-d, --dependency")."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings
from remotejobs_slurm.dialect import dependency_value

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.dependencies import DependencyContract
from remotejobs.workflow.conditions import native_dependency


def _resource() -> SlurmResource:
    return SlurmResource(SlurmSettings(host="h"), name="s")


def test_translation() -> None:
    res = _resource()
    a, b, c = (Job(i, res) for i in ("11", "12", "13_2"))
    cases = {
        "afterok:11": a.done,
        "afterok:11,afterany:12,afternotok:13_2": a.done & b.ended & c.failed,
        "afterok:11?after:12": a.done | b.started,
        "afternotok:11?afterok:12": ~(a.done & b.failed),
        "afterok:11,afternotok:12": ~(a.failed | b.done),
    }
    for expected, cond in cases.items():
        group = native_dependency(cond, res)
        assert group is not None and dependency_value(group) == expected, cond
    other = Job("14", _resource())
    for cond in (a.done & (b.done | c.done), ~a.ended, ~a.started, a.done & other.done):
        assert native_dependency(cond, res) is None, cond


@pytest.mark.cluster
class TestSlurmDependencies(DependencyContract):
    waiting: ClassVar[str] = r"after\w*:\d+\(unfulfilled\)"

    @pytest.fixture
    def dep_session(self, ssh_settings: dict[str, Any],
                    cluster_users: list[dict[str, Any]]) -> Iterator[ComputeResource]:
        user = cluster_users[0]
        resource = SlurmResource(SlurmSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                                               default_queue="debug"), name="slurm-test")
        resource.login(user["name"])
        yield resource
        resource.close()

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, SlurmResource)
        return session.transport.run(["squeue", "-h", "-j", job.id, "-o", "%r %E"]).output
