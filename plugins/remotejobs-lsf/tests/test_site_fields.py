"""JobSpec site fields on LSF: the bsub options each becomes (pure, golden directives), and
the fields LSF cannot express refused by name."""

from __future__ import annotations

from datetime import datetime

from remotejobs_lsf.dialect import SPEC_FIELDS, LsfDialect, begin_time

from remotejobs.models import SITE_FIELDS, JobSpec
from remotejobs.scheduler.dialect import ScriptContext

CTX = ScriptContext(job_dir="/h/j", index_dir="/h/i", workdir="/h/w", stdout="/h/j/o", stderr="/h/j/e")
FULL = JobSpec(executable="x", name="site", processes_per_node=2, account="imaging", reservation="maint_1",
               constraint="fast&&ssd", exclusive=True, cores_per_process=4, gpus_per_node=1,
               memory_mb_per_process=1000, begin=datetime(2030, 1, 2, 3, 4, 5), email="a@b.c",
               email_on=frozenset({"begin", "end", "fail"}), array="1-9", array_limit=2,
               scheduler_options={"lsf": ("-app=tomo", "-r"), "slurm": ("--licenses=x:1",)})


def test_every_mapped_field_becomes_its_bsub_directive() -> None:
    lines = LsfDialect(limit_unit="GB").directives(FULL, CTX)
    assert lines[0] == "#BSUB -J 'site[1-9]%2'"
    # One -R string, select first (IBM bsub -R: sections in order, separated by spaces).
    assert "#BSUB -R 'select[fast&&ssd] rusage[mem=1/task] span[ptile=2] affinity[core(4)]'" in lines
    assert lines[-10:] == ["#BSUB -P imaging", "#BSUB -U maint_1", "#BSUB -x", "#BSUB -gpu num=1",
                           "#BSUB -b 2030:01:02:03:05", "#BSUB -u a@b.c", "#BSUB -B", "#BSUB -N", "#BSUB -app tomo",
                           "#BSUB -r"]
    assert not any("licenses" in line for line in lines)


def test_mail_on_failure_only_is_ne() -> None:
    spec = JobSpec(executable="x", email="a@b.c", email_on=frozenset({"fail"}))
    lines = LsfDialect().directives(spec, CTX)
    assert "#BSUB -Ne" in lines and "#BSUB -N" not in lines and "#BSUB -B" not in lines


def test_begin_rounds_up_to_the_minute() -> None:
    assert begin_time(datetime(2030, 1, 2, 3, 4)) == "2030:01:02:03:04"
    assert begin_time(datetime(2030, 12, 31, 23, 59, 1)) == "2031:01:01:00:00"


def test_refused_fields_are_the_ones_lsf_lacks() -> None:
    assert set(SITE_FIELDS) - SPEC_FIELDS == {"qos", "nice", "stdin"}  # stdin: the script redirects it
