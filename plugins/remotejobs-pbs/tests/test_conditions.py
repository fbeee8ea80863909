"""Workflow conditions as PBS ``-W depend=`` (qsub(1B): a list every element of which must
hold; no "or"), on the PBS emulator over SSH."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from remotejobs_pbs import PbsResource, PbsSettings
from remotejobs_pbs.dialect import depend_value

from remotejobs.errors import InvalidJobSpecError
from remotejobs.job import Job
from remotejobs.models import Dependency, DependencyGroup
from remotejobs.resource import ComputeResource
from remotejobs.testing.dependencies import DependencyContract
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.workflow.conditions import native_dependency


def test_translation() -> None:
    res = PbsResource(PbsSettings(host="h"), name="p")
    a, b = Job("11.srv", res), Job("12[].srv", res)
    group = native_dependency(a.done & ~b.done, res)
    assert group is not None and depend_value(group) == "afterok:11.srv,afternotok:12[].srv"
    assert native_dependency(a.done | b.done, res) is None  # PBS has no "or"
    with pytest.raises(InvalidJobSpecError, match="any"):
        depend_value(DependencyGroup(clauses=(Dependency(job_ids=("1",)), Dependency(job_ids=("2",))), join="any"))
    with pytest.raises(InvalidJobSpecError, match="Not PBS job ids"):
        depend_value(DependencyGroup.of(Dependency(job_ids=("1; id",))))


@pytest.mark.cluster
class TestPbsDependencies(DependencyContract):
    # a job waiting on another shows "depend = afterok:..." (AiiDA's PBS Pro 12 capture,
    # tests/golden/real/aiida_pbspro12_qstat_f.txt, job 69302)
    waiting: ClassVar[str] = "depend = after"

    @pytest.fixture
    def dep_session(self, cluster: dict[str, Any], cluster_session: ClusterSessions) -> ComputeResource:
        return cluster_session(PbsResource, PbsSettings, "pbs-test", bin_dir=cluster["commands"]["pbs_emulator"])

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, PbsResource)
        result = session.transport.run([session.dialect.cmd("qstat"), "-f", "-x", job.id])
        return result.output
