"""JobSpec site fields on Torque: the qsub options each becomes (pure, golden argv), and
the fields Torque cannot express refused by name before anything is sent."""

from __future__ import annotations

from datetime import datetime

import pytest
from remotejobs_torque.dialect import SPEC_FIELDS, TorqueDialect

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import SITE_FIELDS, JobSpec
from remotejobs.scheduler.dialect import ScriptContext

CTX = ScriptContext(job_dir="/h/j", index_dir="/h/i", workdir="/h/w", stdout="/h/j/o", stderr="/h/j/e")
FULL = JobSpec(executable="x", name="site", nodes=2, processes_per_node=2, account="imaging", constraint="fast&ssd",
               exclusive=True, cores_per_process=4, gpus_per_node=1, memory_mb_per_process=1000, nice=5,
               begin=datetime(2030, 1, 2, 3, 4, 5), email="a@b.c", email_on=frozenset({"begin", "end", "fail"}),
               array="0-9", array_limit=2,
               scheduler_options={"torque": ("-r=n", "-W=umask=077"), "slurm": ("--licenses=x:1",)})


def test_every_mapped_field_becomes_its_qsub_option() -> None:
    argv = TorqueDialect().submit_command(FULL, CTX, "/h/j/s").argv
    assert argv == ("qsub", "-N", "site", "-l", "nodes=2:ppn=8:gpus=1:fast:ssd,pmem=1000mb", "-o", "/h/j/o",
                    "-e", "/h/j/e", "-t", "0-9%2", "-A", "imaging", "-n", "-p", "-5", "-a", "203001020304.05",
                    "-M", "a@b.c", "-m", "bef", "-r", "n", "-W", "umask=077", "/h/j/s")


def test_directives_repeat_the_options() -> None:
    lines = TorqueDialect().directives(FULL, CTX)
    for expected in ("#PBS -A imaging", "#PBS -n", "#PBS -p -5", "#PBS -a 203001020304.05", "#PBS -m bef",
                     "#PBS -t 0-9%2", "#PBS -r n"):
        assert expected in lines
    assert not any("licenses" in line for line in lines)  # another scheduler's option


def test_refused_fields_are_the_ones_torque_lacks() -> None:
    assert set(SITE_FIELDS) - SPEC_FIELDS == {"qos", "reservation", "stdin"}  # stdin: the script redirects it


@pytest.mark.parametrize(("fields", "words"), [
    ({"constraint": "a|b"}, "feature names"),
    ({"nice": -2000}, "outside"),
    ({"scheduler_options": {"torque": ("-W=café",)}}, "scheduler option -W"),
])
def test_values_torque_cannot_say_are_refused(fields: dict[str, object], words: str) -> None:
    with pytest.raises(InvalidJobSpecError, match=words):
        TorqueDialect().submit_command(JobSpec(executable="x", **fields), CTX, "/h/j/s")
