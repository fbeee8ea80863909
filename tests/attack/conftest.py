"""Fixtures of the attack suite: every scheduler backend of the test cluster, opened as
either cluster user over SSH."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from remotejobs_lsf import LsfResource, LsfSettings
from remotejobs_pbs import PbsResource, PbsSettings
from remotejobs_sge import SgeResource, SgeSettings
from remotejobs_slurm import SlurmResource, SlurmSettings
from remotejobs_torque import TorqueResource, TorqueSettings

from remotejobs.resource import ComputeResource

Opener = Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], ComputeResource]


def _ssh(ssh: dict[str, Any], user: dict[str, Any]) -> dict[str, Any]:
    return {**ssh, "username": user["name"], "key_file": user["key_file"]}


#: backend -> (cluster JSON, SSH settings, user) -> a not-logged-in resource.
OPENERS: dict[str, Opener] = {
    "slurm": lambda c, s, u: SlurmResource(SlurmSettings(**_ssh(s, u), default_queue="debug"), name="slurm-attack"),
    "lsf": lambda c, s, u: LsfResource(LsfSettings(**_ssh(s, u), bin_dir=c["commands"]["lsf_emulator"]),
                                       name="lsf-attack"),
    "torque": lambda c, s, u: TorqueResource(TorqueSettings(**_ssh(s, u), bin_dir=c["commands"]["torque_emulator"]),
                                             name="torque-attack"),
    "pbs": lambda c, s, u: PbsResource(PbsSettings(**_ssh(s, u), bin_dir=c["commands"]["pbs_emulator"]),
                                       name="pbs-attack"),
    "sge": lambda c, s, u: SgeResource(SgeSettings(
        **_ssh(s, u), bin_dir=c["sge"]["bin_dir"], sge_root=c["sge"]["root"], sge_cell=c["sge"]["cell"],
        job_root=".remotejobs-sge"), name="sge-attack"),
}


@pytest.fixture
def open_backend(cluster: dict[str, Any], ssh_settings: dict[str, Any],
                 cluster_users: list[dict[str, Any]]) -> Iterator[Callable[[str, int], ComputeResource]]:
    """``open_backend(backend, user_index)``: a logged-in resource (closed after the test)."""
    opened: list[ComputeResource] = []

    def make(backend: str, index: int) -> ComputeResource:
        resource = OPENERS[backend](cluster, ssh_settings, cluster_users[index])
        resource.login(cluster_users[index]["name"])
        opened.append(resource)
        return resource

    yield make
    for resource in opened:
        resource.close()
