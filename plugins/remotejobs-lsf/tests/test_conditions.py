"""Workflow conditions as LSF ``-w`` dependencies (IBM bsub.1), on the LSF emulator over SSH."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from remotejobs_lsf import LsfResource, LsfSettings
from remotejobs_lsf.dialect import dependency_expression

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.dependencies import DependencyContract
from remotejobs.workflow.conditions import native_dependency


def test_translation() -> None:
    res = LsfResource(LsfSettings(host="h"), name="l")
    a, b, c = (Job(i, res) for i in ("11", "12", "13[2]"))
    cases = {
        "done(11)": a.done,
        "done(11) && ended(12) && exit(13[2])": a.done & b.ended & c.failed,
        "done(11) || started(12)": a.done | b.started,
        "exit(11) || done(12)": ~(a.done & b.failed),
    }
    for expected, cond in cases.items():
        group = native_dependency(cond, res)
        assert group is not None and dependency_expression(group) == expected, cond
    assert native_dependency(a.done & (b.done | c.done), res) is None


@pytest.mark.cluster
class TestLsfDependencies(DependencyContract):
    waiting: ClassVar[str] = r"^PEND\b.*\b(done|ended|exit|started)\(\d+"

    @pytest.fixture
    def dep_session(self, lsf_resource: Callable[..., LsfResource],
                    cluster_users: list[dict[str, Any]]) -> Iterator[ComputeResource]:
        resource = lsf_resource(0)
        resource.login(cluster_users[0]["name"])
        yield resource
        resource.close()

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, LsfResource)
        result = session.transport.run([session.dialect.cmd("bjobs"), "-o", "stat pend_reason dependency",
                                        "-noheader", job.id])
        return result.output
