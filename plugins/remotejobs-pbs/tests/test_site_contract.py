"""The site-field conformance cases (remotejobs.testing.site_fields) against the PBS
emulator, whose ``qstat -f`` shows the PBS attributes the options set and whose Slurm
underneath (``scontrol show job``) shows what it acted on."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from remotejobs_pbs import PbsResource, PbsSettings

from remotejobs.job import Job
from remotejobs.resource import ComputeResource
from remotejobs.testing.sessions import ClusterSessions
from remotejobs.testing.site_fields import SiteFieldsContract

pytestmark = pytest.mark.cluster


class TestPbsSiteFields(SiteFieldsContract):
    site_values: ClassVar[dict[str, Any]] = {
        "account": "imaging", "constraint": "ssd",
        "exclusive": True, "cores_per_process": 2, "memory_mb_per_process": 100, "nice": 7,
        "email": "rj@example.org", "email_on": frozenset({"begin", "end"}), "array": "1-2", "array_limit": 1,
        "scheduler_options": {"pbs": ("-r=n",)},
    }
    patterns: ClassVar[dict[str, str]] = {
        "account": r"Account_Name = imaging[\s\S]*Account=imaging ",
        # --exclusive reaches sbatch but the test partition's OverSubscribe=FORCE overrides it.
        "exclusive": r"Resource_List.place = excl",
        "cores_per_process": r"ncpus=2:mpiprocs=1:ompthreads=2[\s\S]*MinCPUsNode=2",
        "memory_mb_per_process": r"Resource_List.select = 1:ncpus=2:mpiprocs=1:ompthreads=2:mem=100mb",
        "constraint": r"Resource_List.select = \S*:ssd=True[\s\S]*Features=ssd ",
        "nice": r"Priority = -7[\s\S]*Nice=7", "email": r"Mail_Users = rj@example.org[\s\S]*MailUser=rj@example.org",
        "email_on": r"Mail_Points = be[\s\S]*MailType=BEGIN,END", "array_limit": r"max_run_subjobs = 1[\s\S]*"
                                                                                   r"ArrayTaskThrottle=1",
        "scheduler_options": r"Submit_arguments = .*-r n",
    }
    not_on_test_cluster: ClassVar[dict[str, str]] = {
        "reservation": "no reservation exists on the test cluster (making one needs Slurm's operator); golden-tested",
        "gpus_per_node": "the test node has no GPUs; golden-tested",
    }
    stdin_dir = "pbs-site-inbox"

    @pytest.fixture
    def site_session(self, cluster: dict[str, Any], cluster_session: ClusterSessions) -> ComputeResource:
        return cluster_session(PbsResource, PbsSettings, "pbs-site", bin_dir=cluster["commands"]["pbs_emulator"])

    def evidence(self, session: ComputeResource, job: Job) -> str:
        assert isinstance(session, PbsResource)
        qstat = session.transport.run([session.dialect.cmd("qstat"), "-f", job.id]).stdout
        seq = job.id.split(".")[0].split("[")[0]
        qstat = qstat.replace("\n\t", "")  # qstat -f wraps long values onto TAB-led lines
        return qstat + session.transport.run(["scontrol", "show", "job", "--oneliner", seq]).stdout
