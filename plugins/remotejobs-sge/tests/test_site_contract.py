"""The site-field conformance cases (remotejobs.testing.site_fields) against the real Grid
Engine of the test cluster (``qstat -j`` shows what qsub recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from remotejobs_sge import SgeResource, SgeSettings

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.site_fields import SiteFieldsContract

pytestmark = pytest.mark.cluster


class TestSgeSiteFields(SiteFieldsContract):
    site_values: ClassVar[dict[str, Any]] = {
        "account": "imaging", "cores_per_process": 2, "memory_mb_per_process": 100, "nice": 7,
        "email": "rj@example.org", "email_on": frozenset({"end", "fail"}), "array": "1-2", "array_limit": 1,
        "scheduler_options": {"sge": ("-ac=rjsite",)},
    }
    patterns: ClassVar[dict[str, str]] = {
        "account": r"account:\s+imaging", "cores_per_process": r"parallel environment:\s+\S+ range:\s+2",
        "memory_mb_per_process": r"h_vmem=50M", "nice": r"priority:\s+-7",
        "email": r"mail_list:\s+rj@example.org", "email_on": r"mail_options:\s+ae",
        "array_limit": r"maximum concurrency:\s+1", "scheduler_options": r"context:\s+rjsite",
    }
    not_on_test_cluster: ClassVar[dict[str, str]] = {
        "reservation": "the test grid has no advance reservation; golden-tested",
        "constraint": "the test grid defines no boolean node features; golden-tested",
        "exclusive": "the test grid defines no EXCL complex named 'exclusive'; golden-tested",
    }
    stdin_dir = "sge-site-inbox"

    @pytest.fixture
    def site_session(self, cluster: dict[str, Any], ssh_settings: dict[str, Any],
                     cluster_users: list[dict[str, Any]]) -> Iterator[ComputeResource]:
        sge, user = cluster["sge"], cluster_users[0]
        settings = SgeSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                               bin_dir=sge["bin_dir"], sge_root=sge["root"], sge_cell=sge["cell"],
                               parallel_environment=sge["pe"], job_root=".remotejobs-sge")
        with SgeResource(settings, name="sge-site") as resource:
            resource.login(user["name"])
            yield resource

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, SgeResource)
        return session.transport.run([*session.dialect.program("qstat"), "-j", job.id]).stdout
