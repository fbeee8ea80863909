"""JobSpec site fields on Grid Engine: the qsub arguments each becomes (pure, golden argv),
and what Grid Engine cannot express refused by name before anything is sent."""

from __future__ import annotations

from datetime import datetime

import pytest
from remotejobs_sge.dialect import SPEC_FIELDS, SgeDialect

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import SITE_FIELDS, JobSpec
from remotejobs.scheduler import ScriptContext

CTX = ScriptContext(job_dir="/h/j", index_dir="/h/i", workdir="/h/w", stdout="/h/j/o", stderr="/h/j/e")
FULL = JobSpec(executable="x", name="site", processes_per_node=2, account="imaging", reservation="17",
               constraint="fast&ssd", exclusive=True, cores_per_process=4, memory_mb_per_process=1000, nice=5,
               begin=datetime(2030, 1, 2, 3, 4, 5), email="a@b.c", email_on=frozenset({"begin", "end", "fail"}),
               array="1-9", array_limit=2, scheduler_options={"sge": ("-l=gpu=1", "-R=y", "-notify"),
                                                              "slurm": ("--licenses=x:1",)})


def test_every_mapped_field_becomes_its_qsub_argument() -> None:
    argv = SgeDialect(parallel_environment="smp").submit_command(FULL, CTX, "/h/j/s").argv
    assert argv == ("qsub", "-terse", "-C", "", "-S", "/bin/bash", "-N", "site", "-l", "h_vmem=250M",
                    "-pe", "smp", "8", "-wd", "/h/j", "-o", "/h/j/o", "-e", "/h/j/e", "-t", "1-9",
                    "-A", "imaging", "-ar", "17", "-l", "fast=true", "-l", "ssd=true", "-l", "exclusive=true",
                    "-p", "-5", "-a", "203001020304.05", "-M", "a@b.c", "-m", "abe", "-tc", "2",
                    "-l", "gpu=1", "-R", "y", "-notify", "/h/j/s")


def test_refused_fields_are_the_ones_grid_engine_lacks() -> None:
    assert set(SITE_FIELDS) - SPEC_FIELDS == {"qos", "gpus_per_node", "stdin"}  # stdin: the script redirects it


@pytest.mark.parametrize(("fields", "words"), [
    ({"reservation": "maint"}, "advance reservations are numbers"),
    ({"memory_mb": 100, "memory_mb_per_process": 10}, "not both"),
    ({"constraint": "a|b"}, "feature names"),
    ({"nice": -1025}, "outside"),
    ({"account": "é"}, "account"),
])
def test_values_grid_engine_cannot_say_are_refused(fields: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidJobSpecError, match=words):
        SgeDialect().submit_command(JobSpec(executable="x", **fields), CTX, "/h/j/s")
