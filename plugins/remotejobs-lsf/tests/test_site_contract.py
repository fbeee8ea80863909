"""The site-field conformance cases (remotejobs.testing.site_fields) against the LSF
emulator: ``bjobs`` shows the project, and the Slurm underneath (``scontrol show job``;
the emulator's job ids are Slurm's) shows what the emulator acted on."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import pytest
from remotejobs_lsf import LsfResource

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.site_fields import SiteFieldsContract

pytestmark = pytest.mark.cluster


class TestLsfSiteFields(SiteFieldsContract):
    site_values: ClassVar[dict[str, Any]] = {
        "account": "imaging", "constraint": "ssd", "cores_per_process": 2, "memory_mb_per_process": 100,
        "email": "rj@example.org", "email_on": frozenset({"begin", "end"}), "array": "1-2", "array_limit": 1,
        "scheduler_options": {"lsf": ("-W=5",)},
    }
    patterns: ClassVar[dict[str, str]] = {
        "account": r"^imaging\n[\s\S]*Account=imaging ",
        "cores_per_process": r"CPUs/Task=2", "constraint": r"Features=ssd ",
        "memory_mb_per_process": r"MinMemoryCPU=100M", "email": r"MailUser=rj@example.org",
        "email_on": r"MailType=BEGIN,END", "array_limit": r"ArrayTaskThrottle=1",
        "scheduler_options": r"TimeLimit=00:05:00",
    }
    not_on_test_cluster: ClassVar[dict[str, str]] = {
        "exclusive": "-x reaches sbatch as --exclusive, which the test partition's OverSubscribe=FORCE "
                     "overrides, and bjobs shows no trace of it; golden-tested",
        "reservation": "no reservation exists on the test cluster; golden-tested",
        "gpus_per_node": "the test node has no GPUs; golden-tested",
    }
    stdin_dir = "lsf-site-inbox"

    @pytest.fixture
    def site_session(self, lsf_resource: Callable[..., LsfResource],
                     cluster_users: list[dict[str, Any]]) -> Iterator[ComputeResource]:
        with lsf_resource(0) as resource:
            resource.login(cluster_users[0]["name"])
            yield resource

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, LsfResource)
        project = session.transport.run([session.dialect.cmd("bjobs"), "-noheader", "-o", "proj_name", job.id]).stdout
        return project + session.transport.run(["scontrol", "show", "job", "--oneliner", job.id]).stdout
