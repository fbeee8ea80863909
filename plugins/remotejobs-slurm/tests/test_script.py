"""Script rendering and sbatch argv: hostile strings are quoted and reach the program
verbatim. The rendered script is run for real with bash (no Slurm needed: the #SBATCH
lines are comments to bash), with the Slurm environment variables set by hand."""

from __future__ import annotations

import os
import shlex
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from remotejobs_slurm.dialect import SlurmDialect, format_walltime, slurm_job_name

from remotejobs.errors import InvalidJobSpecError
from remotejobs.models import Dependency, JobSpec
from remotejobs.scheduler.dialect import ScriptContext
from remotejobs.testing.contract import HOSTILE_STRINGS

D = SlurmDialect()
HOSTILE_NAME = 'we ird; $(touch /tmp/pwned-name) `x` "q" \'s\'\nline2\t#SBATCH --x'


def _ctx(tmp: Path, stdout: str | None = None) -> ScriptContext:
    job_dir = tmp / "jobs" / "j 1 $(x)"
    job_dir.mkdir(parents=True)
    return ScriptContext(job_dir=str(job_dir), index_dir=str(tmp / "ids"), workdir=str(job_dir),
                         stdout=stdout or str(job_dir / "stdout"), stderr=str(job_dir / "stderr"), user="u")


def _spec(**kw: object) -> JobSpec:
    base: dict[str, object] = {"executable": "/bin/sh",
                               "arguments": ("-c", 'for a; do printf "<%s>\\n" "$a"; done', "sh", *HOSTILE_STRINGS)}
    base.update(kw)
    return JobSpec.model_validate(base)


def test_rendered_script_parses_and_runs_arguments_verbatim(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    spec = _spec(name=HOSTILE_NAME, environment={"GREETING": "it's $(x) `y`"})
    script = D.render_script(spec, ctx)
    path = tmp_path / "job.sh"
    path.write_text(script, encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(path)], check=False).returncode == 0
    env = {**os.environ, "SLURM_JOB_ID": "4711"}
    done = subprocess.run(["bash", str(path)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    for text in HOSTILE_STRINGS:
        assert f"<{text}>" in done.stdout
    assert (tmp_path / "ids" / "4711.exit").read_text() == "0\n"
    assert os.path.realpath(tmp_path / "ids" / "4711") == ctx.job_dir
    assert not Path("/tmp/pwned-name").exists() and not Path("/tmp/remotejobs-pwned").exists()


def test_exit_marker_uses_array_element_id(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    path = tmp_path / "job.sh"
    path.write_text(D.render_script(JobSpec(executable="/bin/sh", arguments=("-c", "exit 5"), array="1-3"), ctx))
    env = {**os.environ, "SLURM_JOB_ID": "91", "SLURM_ARRAY_JOB_ID": "90", "SLURM_ARRAY_TASK_ID": "2"}
    assert subprocess.run(["bash", str(path)], env=env, check=False).returncode == 5
    assert (tmp_path / "ids" / "90_2.exit").read_text() == "5\n"
    assert not (tmp_path / "ids" / "91.exit").exists()


def test_hostile_name_goes_on_argv_not_into_a_directive(tmp_path: Path) -> None:
    ctx = _ctx(tmp_path)
    spec = _spec(name=HOSTILE_NAME)
    directives = D.directives(spec, ctx)
    assert all("--job-name" not in line for line in directives)
    assert all("\n" not in line and line.startswith("#SBATCH --") for line in directives)
    argv = D.submit_command(spec, ctx, "/s/job.sh").argv
    assert argv[:2] == ("sbatch", "--parsable") and argv[-1] == "/s/job.sh"
    assert "--job-name=" + HOSTILE_NAME.replace("\n", " ").replace("\t", " ") in argv
    # the job directory contains a space: its options go on the argv too, verbatim
    assert f"--chdir={ctx.job_dir}" in argv
    assert shlex.split(shlex.join(argv)) == list(argv)


def test_plain_options_are_directives(tmp_path: Path) -> None:
    ctx = ScriptContext(job_dir="/h/u/.rj/jobs/1", index_dir="/h/u/.rj/ids", workdir="/h/u/.rj/jobs/1",
                        stdout="/h/u/out%j.txt", stderr="/h/u/err.txt")
    spec = JobSpec(executable="/bin/true", name="plain", queue="debug", nodes=2, processes_per_node=3,
                   walltime=timedelta(hours=25, seconds=1), memory_mb=512, array="0-4,7",
                   depends_on=Dependency(condition="afterok", job_ids=("1", "2_3")))
    assert D.directives(spec, ctx) == [
        "#SBATCH --job-name=plain", "#SBATCH --partition=debug", "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=3", "#SBATCH --time=1-01:00:01", "#SBATCH --mem=512M",
        "#SBATCH --output=/h/u/out%%j.txt-%a", "#SBATCH --error=/h/u/err.txt-%a",
        "#SBATCH --chdir=/h/u/.rj/jobs/1", "#SBATCH --export=ALL", "#SBATCH --array=0-4,7",
        "#SBATCH --dependency=afterok:1:2_3",
    ]
    assert D.submit_command(spec, ctx, "/h/u/.rj/jobs/1/job.sh").argv == (
        "sbatch", "--parsable", "/h/u/.rj/jobs/1/job.sh")


def test_bin_dir_is_honoured(tmp_path: Path) -> None:
    d = SlurmDialect(bin_dir="/opt/slurm/bin/")
    assert d.submit_command(_spec(), _ctx(tmp_path), "/x").argv[0] == "/opt/slurm/bin/sbatch"
    assert d.status_command(["1"]).argv[0] == "/opt/slurm/bin/squeue"
    assert d.cancel_command("1").argv[0] == "/opt/slurm/bin/scancel"


def test_walltime_format() -> None:
    assert format_walltime(timedelta(minutes=1)) == "0-00:01:00"
    assert format_walltime(timedelta(seconds=0.5)) == "0-00:00:01"
    assert format_walltime(timedelta(days=3, hours=4, minutes=5, seconds=6)) == "3-04:05:06"


def test_job_name_sanitising_keeps_everything_but_control_characters() -> None:
    assert slurm_job_name("a\nb\tc\x1fd ü \"'$|") == "a b c d ü \"'$|"


def test_backslash_output_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidJobSpecError, match="backslash"):
        D.directives(_spec(), _ctx(tmp_path, stdout="/tmp/a\\b"))


def test_dependency_on_non_slurm_id_is_refused(tmp_path: Path) -> None:
    spec = _spec(depends_on=Dependency(job_ids=("12; rm -rf ~",)))
    with pytest.raises(InvalidJobSpecError, match="depends_on"):
        D.submit_command(spec, _ctx(tmp_path), "/x")
