"""The site-field conformance cases (remotejobs.testing.site_fields) against the real Slurm
of the test cluster (``scontrol show job`` shows what sbatch recorded)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.site_fields import SiteFieldsContract

pytestmark = pytest.mark.cluster


class TestSlurmSiteFields(SiteFieldsContract):
    site_values: ClassVar[dict[str, Any]] = {
        "account": "imaging", "qos": "high", "constraint": "ssd",
        "cores_per_process": 2, "memory_mb_per_process": 100, "nice": 7,
        "email": "rj@example.org", "email_on": frozenset({"begin", "fail"}), "array": "1-2", "array_limit": 1,
        "scheduler_options": {"slurm": ("--comment=rjsite",)},
    }
    patterns: ClassVar[dict[str, str]] = {
        "account": r"Account=imaging ", "qos": r"QOS=high ", "constraint": r"Features=ssd ",
        "cores_per_process": r"CPUs/Task=2",
        "memory_mb_per_process": r"MinMemoryCPU=50M",
        "nice": r"Nice=7 ", "email": r"MailUser=rj@example.org", "email_on": r"MailType=BEGIN,FAIL",
        "array_limit": r"ArrayTaskThrottle=1", "scheduler_options": r"Comment=rjsite",
    }
    not_on_test_cluster: ClassVar[dict[str, str]] = {
        "reservation": "no reservation exists on the test cluster; golden-tested",
        "exclusive": "the test partition's OverSubscribe=FORCE overrides --exclusive; golden-tested",
        "gpus_per_node": "the test node has no GPUs; golden-tested",
    }
    stdin_dir = "slurm-site-inbox"

    @pytest.fixture
    def site_session(self, ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]
                     ) -> Iterator[ComputeResource]:
        user = cluster_users[0]
        settings = SlurmSettings(**ssh_settings, username=user["name"], key_file=user["key_file"],
                                 default_queue="debug")
        with SlurmResource(settings, name="slurm-site") as resource:
            resource.login(user["name"])
            yield resource

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, SlurmResource)
        return session.transport.run(["scontrol", "show", "job", "--oneliner", job.id]).stdout
