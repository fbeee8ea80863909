"""JobSpec site fields on PBS Professional / OpenPBS: the qsub options each becomes (pure,
golden argv), and what PBS cannot express refused by name before anything is sent."""

from __future__ import annotations

from datetime import datetime

import pytest
from remotejobs_pbs.dialect import SPEC_FIELDS, PbsDialect

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import SITE_FIELDS, JobSpec
from remotejobs.scheduler.dialect import ScriptContext

CTX = ScriptContext(job_dir="/h/j", index_dir="/h/i", workdir="/h/w", stdout="/h/j/o", stderr="/h/j/e")
FULL = JobSpec(executable="x", name="site", nodes=2, processes_per_node=2, account="imaging", reservation="R12.srv",
               constraint="fast&ssd", exclusive=True, cores_per_process=4, gpus_per_node=1,
               memory_mb_per_process=1000, nice=5, begin=datetime(2030, 1, 2, 3, 4, 5), email="a@b.c",
               email_on=frozenset({"begin", "end", "fail"}), array="1-9", array_limit=2,
               scheduler_options={"pbs": ("-r=n", "-P=tomo"), "slurm": ("--licenses=x:1",)})


def test_every_mapped_field_becomes_its_qsub_option() -> None:
    argv = PbsDialect().submit_command(FULL, CTX, "/h/j/s").argv
    assert argv == ("qsub", "-N", "site", "-q", "R12",
                    "-l", "select=2:ncpus=8:mpiprocs=2:ompthreads=4:ngpus=1:mem=2000mb:fast=True:ssd=True",
                    "-l", "place=scatter:excl", "-J", "1-9%2", "-A", "imaging", "-p", "-5", "-a", "203001020304.05",
                    "-M", "a@b.c", "-m", "abe", "-r", "n", "-P", "tomo", "-o", "/h/j/o", "-e", "/h/j/e", "/h/j/s")


def test_one_node_exclusive_and_directives() -> None:
    spec = JobSpec(executable="x", exclusive=True, email="a@b.c", scheduler_options={"pbs": ("-h",)})
    lines = PbsDialect().directives(spec, CTX)
    assert "#PBS -l place=excl" in lines and "#PBS -M a@b.c" in lines and "#PBS -h" in lines
    assert not any(line.startswith("#PBS -m") for line in lines)  # no events: PBS's default (a)


def test_refused_fields_are_the_ones_pbs_lacks() -> None:
    assert set(SITE_FIELDS) - SPEC_FIELDS == {"qos", "stdin"}  # stdin: the script redirects it


@pytest.mark.parametrize(("fields", "words"), [
    ({"reservation": "R1", "queue": "workq"}, "reservation"),
    ({"memory_mb": 100, "memory_mb_per_process": 10}, "not both"),
    ({"constraint": "a|b"}, "feature names"),
    ({"nice": 1025}, "outside"),
    ({"scheduler_options": {"pbs": ("-W=café",)}}, "scheduler option -W"),
])
def test_values_pbs_cannot_say_are_refused(fields: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidJobSpecError, match=words):
        PbsDialect().submit_command(JobSpec(executable="x", **fields), CTX, "/h/j/s")
