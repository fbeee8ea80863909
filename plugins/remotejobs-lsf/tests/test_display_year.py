"""LSB_DISPLAY_YEAR on the LSF emulator (issue 11 item 6): with the year in bjobs times the
backend still reads every job. Sources: IBM's LSB_DISPLAY_YEAR page (lsf.conf.lsb_display_year.5)
and BatchEuphoria's LSF time grammar (``Jan  1 10:21 2010 L``, LSFJobManager.groovy)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from remotejobs_lsf import LsfResource

from remotejobs.models import JobSpec, JobState

pytestmark = pytest.mark.cluster


@pytest.fixture
def display_year(cluster: dict[str, Any]) -> Iterator[None]:
    conf = Path(cluster["emulator_spool"]) / "lsf" / "lsf.conf"
    old = conf.read_text() if conf.exists() else None
    conf.write_text((old or "") + "\nLSB_DISPLAY_YEAR = Y\n")
    try:
        yield
    finally:
        if old is None:
            conf.unlink()
        else:
            conf.write_text(old)


@pytest.mark.parametrize("status_format", ["delimited", "json"])
def test_status_with_the_year_in_every_time(lsf_resource: Callable[..., LsfResource],
                                            cluster_users: list[dict[str, Any]], display_year: None,
                                            status_format: str) -> None:
    resource = lsf_resource(0, status_format=status_format)
    resource.login(cluster_users[0]["name"])
    job = resource.submit(JobSpec(executable="/bin/true", name="year"))
    info = job.wait(timeout=90)
    year = datetime.now().year
    assert info.state is JobState.COMPLETED
    assert info.submit_time is not None and info.submit_time.year == year
    assert info.end_time is not None and info.end_time.year == year
    raw = resource.transport.run([resource.dialect.cmd("bjobs"), "-a", "-o", "submit_time finish_time",
                                  "-noheader", job.id])
    assert re.search(rf"\b{year}\b", raw.stdout), raw.stdout  # the emulator really printed the year
    resource.close()
