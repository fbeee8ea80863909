"""Hostile input, property-based, against the PAC web-service emulator (issue 10; see
:mod:`remotejobs.testing.hostile`): names, arguments, environment values, upload names and
targets, download names and ids with quotes, ``$()``, ``;``, newlines, ``..``, ``/``,
``%2F`` ... reach the job verbatim (the emulator's application template evaluates
INPUT_ARGS with sh, as PAC's generic one) or are refused with a clear error; ids never
reach a URL unvalidated; the canary job and file are untouched after every example."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from remotejobs_lsf_web import LsfWebResource

from remotejobs.testing.hostile import check_hostile_inputs

# serial (make test runs it after the parallel phase): jobs with hostile names and a PAC
# emulator that crashes or answers slowly must not meet the other tests' listings and timeouts.
pytestmark = [pytest.mark.cluster, pytest.mark.serial]


def test_hostile_values_reach_jobs_verbatim_or_are_refused(
    open_lsf_web: Callable[..., LsfWebResource], users: list[tuple[str, str]],
    cluster_users: list[dict[str, Any]], tmp_path: Path,
) -> None:
    resource = open_lsf_web()
    resource.login(*users[0])
    try:
        # PAC refuses JobSpec.environment (InvalidJobSpecError naming it): no planted value here
        check_hostile_inputs(resource, tmp_path, local_home=Path(cluster_users[0]["home"]), examples=8)
    finally:
        resource.close()
