"""Launchers on the live Slurm cluster, over SSH: ``srun`` and ``multiple`` jobs of two
processes print one line per process; ``mpirun`` is Debian's Open MPI (package
``openmpi-bin``, installed by tests/cluster/up)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from remotejobs_slurm import SlurmResource, SlurmSettings

from remotejobs.errors import UnsupportedOperationError
from remotejobs.models import JobSpec, JobState

# Each process prints one line naming itself by what its launcher gives it.
# (the batch step has SLURM_PROCID/SLURM_NTASKS too: the launcher's own variables come first)
_WHO = ('echo "process ${REMOTEJOBS_PROCESS_INDEX:-${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-$SLURM_PROCID}}} '
        'of ${REMOTEJOBS_PROCESS_COUNT:-${OMPI_COMM_WORLD_SIZE:-${PMI_SIZE:-$SLURM_NTASKS}}}"')


@pytest.fixture
def resource(ssh_settings: dict[str, Any], cluster_users: list[dict[str, Any]]) -> Iterator[SlurmResource]:
    user = cluster_users[0]
    settings = SlurmSettings(**ssh_settings, key_file=user["key_file"], default_queue="debug")
    with SlurmResource(settings, name="slurm-launchers") as res:
        res.login(user["name"])
        yield res


@pytest.mark.cluster
def test_srun_multiple_and_mpirun_print_one_line_per_process(resource: SlurmResource, tmp_path: Path) -> None:
    """``mpirun`` twice: Open MPI (Debian's default ``mpirun``) and MPICH, which the job
    finds first on its PATH as a site's ``module load mpich`` would arrange (Hydra looks
    for ``hydra_pmi_proxy`` next to ``mpirun``)."""
    assert resource.launchers() == ["mpirun", "multiple", "srun"]
    mpich = f"{resource.transport.home()}/rj-mpich-bin"
    made = resource.transport.run(["sh", "-c", 'mkdir -p "$1" && ln -sfn /usr/bin/mpirun.mpich "$1/mpirun" && '
                                   'ln -sfn /usr/bin/hydra_pmi_proxy "$1/hydra_pmi_proxy"', "sh", mpich])
    assert made.exit_status == 0, made.output
    runs: dict[str, dict[str, Any]] = {"srun": {}, "multiple": {}, "mpirun": {},
                                       "mpirun-mpich": {"environment": {"PATH": f"{mpich}:/usr/bin:/bin"}}}
    jobs = {
        run: resource.submit(JobSpec.model_validate({
            "executable": "/bin/sh", "arguments": ("-c", f"mpirun --version | head -1 >&2; {_WHO}"),
            "launcher": run.split("-")[0], "processes_per_node": 2, "name": f"launch-{run}",
            "pre_launch": ("echo", "pre"), "post_launch": ("echo", "post"), **extra}))
        for run, extra in runs.items()
    }
    for launcher, job in jobs.items():
        info = job.wait(timeout=240)
        assert info.state is JobState.COMPLETED, (launcher, info)
        (out,) = job.download(tmp_path / launcher, name="stdout")
        lines = out.read_text().splitlines()
        assert lines[0] == "pre" and lines[-1] == "post", (launcher, lines)
        assert sorted(lines[1:-1]) == ["process 0 of 2", "process 1 of 2"], (launcher, lines)
    (err,) = jobs["mpirun-mpich"].download(tmp_path / "mpich-err", name="stderr")
    assert "HYDRA" in err.read_text()  # MPICH's mpirun ran, not Open MPI's
    (err,) = jobs["mpirun"].download(tmp_path / "ompi-err", name="stderr")
    assert "Open MPI" in err.read_text()


@pytest.mark.cluster
def test_a_failing_copy_fails_the_srun_job_with_its_status(resource: SlurmResource) -> None:
    job = resource.submit(JobSpec(executable="/bin/sh", arguments=("-c", 'exit $((SLURM_PROCID * 6))'),
                                  launcher="srun", processes_per_node=2))
    info = job.wait(timeout=240)
    assert (info.state, info.exit_code) == (JobState.FAILED, 6), info


def test_a_launcher_for_another_scheduler_is_refused_before_submission(resource: SlurmResource) -> None:
    from remotejobs._plugins import get_registry
    from remotejobs.launchers import PrefixLauncher

    class Jsrun(PrefixLauncher):
        name = "jsrun-test"
        schedulers = frozenset({"lsf"})

        def prefix(self, launch: Any) -> list[str]:
            return ["jsrun"]

    registry = get_registry()
    registry.add_launcher("jsrun-test", Jsrun)
    try:
        with pytest.raises(UnsupportedOperationError, match="launcher='jsrun-test'") as err:
            resource.submit(JobSpec(executable="/bin/true", launcher="jsrun-test"))
        assert "'slurm'" in str(err.value) and "srun" in (err.value.hint or "")
    finally:
        del registry.launchers["jsrun-test"]
