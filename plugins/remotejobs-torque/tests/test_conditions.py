"""Workflow conditions as Torque ``-W depend=`` (qsub(1B): a list every element of which
must hold; no "or"), on the Torque emulator over SSH."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from remotejobs_torque import TorqueResource, TorqueSettings
from remotejobs_torque.dialect import depend_value

from remotejobs.errors import InvalidJobSpecError
from remotejobs.job import Job
from remotejobs.models import Dependency, DependencyGroup
from remotejobs.resource import ComputeResource
from remotejobs.testing.dependencies import DependencyContract
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.workflow.conditions import native_dependency


def test_translation() -> None:
    res = TorqueResource(TorqueSettings(host="h"), name="t")
    a, b = Job("11.srv", res), Job("12.srv", res)
    group = native_dependency(a.done & ~b.done, res)
    assert group is not None and depend_value(group) == "afterok:11.srv,afternotok:12.srv"
    assert native_dependency(a.done | b.done, res) is None  # Torque has no "or"
    with pytest.raises(InvalidJobSpecError, match="any"):
        depend_value(DependencyGroup(clauses=(Dependency(job_ids=("1",)), Dependency(job_ids=("2",))), join="any"))


@pytest.mark.cluster
class TestTorqueDependencies(DependencyContract):
    waiting: ClassVar[str] = "depend = after"

    @pytest.fixture
    def dep_session(self, cluster: dict[str, Any], cluster_session: ClusterSessions) -> ComputeResource:
        return cluster_session(TorqueResource, TorqueSettings, "torque-test",
                               bin_dir=cluster["commands"]["torque_emulator"])

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, TorqueResource)
        result = session.transport.run([session.dialect.cmd("qstat"), "-f", job.id])
        return result.output
