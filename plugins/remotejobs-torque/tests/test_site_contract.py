"""The site-field conformance cases (remotejobs.testing.site_fields) against the Torque
emulator, whose ``qstat -f`` shows the Torque attributes the options set and whose Slurm
underneath (``scontrol show job``) shows what it acted on."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from remotejobs_torque import TorqueResource, TorqueSettings

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.testing.site_fields import SiteFieldsContract

pytestmark = pytest.mark.cluster


class TestTorqueSiteFields(SiteFieldsContract):
    site_values: ClassVar[dict[str, Any]] = {
        "account": "imaging", "constraint": "ssd",
        "exclusive": True, "cores_per_process": 2, "memory_mb_per_process": 100, "nice": 7,
        "email": "rj@example.org", "email_on": frozenset({"end", "fail"}), "array": "1-2", "array_limit": 1,
        "scheduler_options": {"torque": ("-r=n",)},
    }
    patterns: ClassVar[dict[str, str]] = {
        "account": r"Account_Name = imaging[\s\S]*Account=imaging ", "exclusive": r"node_exclusive = True",
        "cores_per_process": r"Resource_List.nodes = 1:ppn=2",
        "constraint": r"Resource_List.nodes = 1:ppn=2:ssd[\s\S]*Features=ssd ",
        "memory_mb_per_process": r"Resource_List.pmem = 100mb",
        "nice": r"Priority = -7[\s\S]*Nice=7", "email": r"Mail_Users = rj@example.org[\s\S]*MailUser=rj@example.org",
        "email_on": r"Mail_Points = ef[\s\S]*MailType=END,FAIL", "array_limit": r"ArrayTaskThrottle=1",
        "scheduler_options": r"submit_args = .*-r n",
    }
    not_on_test_cluster: ClassVar[dict[str, str]] = {
        "gpus_per_node": "the test node has no GPUs; golden-tested",
    }
    stdin_dir = "torque-site-inbox"

    @pytest.fixture
    def site_session(self, cluster: dict[str, Any], cluster_session: ClusterSessions) -> ComputeResource:
        return cluster_session(TorqueResource, TorqueSettings, "torque-site",
                               bin_dir=cluster["commands"]["torque_emulator"])

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, TorqueResource)
        qstat = session.transport.run([session.dialect.cmd("qstat"), "-f", "--", job.id]).stdout
        seq = job.id.split(".")[0].split("[")[0]
        qstat = qstat.replace("\n\t", "")  # qstat -f wraps long values onto TAB-led lines
        return qstat + session.transport.run(["scontrol", "show", "job", "--oneliner", seq]).stdout
