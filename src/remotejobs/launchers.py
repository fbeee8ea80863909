"""Launchers: how a batch job starts its program (once, N copies, ``srun``, ``mpirun``).

``JobSpec.launcher`` names one: ``None`` runs the program once (as always), ``"multiple"``
starts ``nodes * processes_per_node`` copies, ``"srun"`` and ``"mpirun"`` hand the program
to Slurm's or MPI's starter. A site adds its own (``aprun``, ``jsrun``) from a plugin::

    from remotejobs import hookimpl
    from remotejobs.launchers import PrefixLauncher, Launch

    class Aprun(PrefixLauncher):
        name = "aprun"
        def prefix(self, launch: Launch) -> list[str]:
            return ["aprun", "-n", str(launch.processes)]

    @hookimpl
    def remotejobs_register_launchers(registry):
        registry.add_launcher("aprun", Aprun)

A launcher is pure: :meth:`Launcher.render` returns shell text for the job script and does
no I/O. The script runs it in a subshell after ``pre_launch`` (see
:func:`remotejobs.scheduler.script.render_script`); its exit status is the job's.

Exit codes and output follow PSI/J's launcher scripts (ExaWorks/psij-python,
``src/psij/launchers/scripts/multi_launch.sh``, ``srun_launch.sh``, ``mpi_launch.sh``):
copies of ``multiple`` run in the background and are each waited for, the job's status
being the first non-zero one in start order (PSI/J's MultipleLauncher docstring); ``srun``
passes srun's own status on (the highest of its tasks'); ``mpirun`` tells Open MPI from
MPICH by ``mpirun --version`` (PSI/J greps for "Open MPI" the same way) and gives Open MPI
``--oversubscribe``. Unlike PSI/J, the programs' output is not rewritten (no
``--tag-output`` filter): every process writes to the job's own stdout/stderr files.
"""

from __future__ import annotations

import shlex
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import ClassVar

__all__ = ["Launch", "Launcher", "MpirunLauncher", "MultipleLauncher", "PrefixLauncher",
           "SrunLauncher"]


@dataclass(frozen=True)
class Launch:
    """What a launcher starts.

    :ivar command: the program as one shell simple command, every word already quoted
        (with ``< file`` when the spec has ``stdin``): insert it verbatim, never re-split it.
    :ivar nodes: nodes of the job.
    :ivar processes_per_node: processes on each node.
    :ivar cores_per_process: CPU cores per process, when the spec sets it.
    """

    command: str
    nodes: int = 1
    processes_per_node: int = 1
    cores_per_process: int | None = None

    @property
    def processes(self) -> int:
        """All processes of the job: ``nodes * processes_per_node``."""
        return self.nodes * self.processes_per_node


class Launcher(ABC):
    """One way to start a job's program. Subclasses set :attr:`name` and implement
    :meth:`render`.

    :cvar name: the name ``JobSpec.launcher`` uses (lowercase kebab-case).
    :cvar schedulers: the scheduler dialects it works under (``{"slurm"}`` for srun);
        None: any batch scheduler. A resource refuses a launcher outside its dialect's
        (see :meth:`remotejobs.ComputeResource.supports_launcher`).
    """

    name: ClassVar[str]
    schedulers: ClassVar[frozenset[str] | None] = None

    @abstractmethod
    def render(self, launch: Launch) -> str:
        """Shell text (one or more lines) that starts ``launch.command`` and waits for it.

        Contract: start the processes in the background (``&``) and ``wait`` for them, so
        the script's TERM trap reaches them when the job is cancelled; the status of the
        last command is the job's exit status; any word not taken from ``launch.command``
        is quoted with :func:`shlex.quote` (``shlex.join``)."""


class PrefixLauncher(Launcher):
    """A launcher that puts a starter command in front of the program (``srun``, ``aprun``):
    implement :meth:`prefix` only."""

    @abstractmethod
    def prefix(self, launch: Launch) -> list[str]:
        """The starter's argv (quoted by :meth:`render`), e.g. ``["aprun", "-n", "4"]``."""

    def render(self, launch: Launch) -> str:
        return f'{shlex.join(self.prefix(launch))} {launch.command} &\nwait "$!"'


class MultipleLauncher(Launcher):
    """``nodes * processes_per_node`` copies of the program on the job's first node, each
    with ``REMOTEJOBS_PROCESS_INDEX`` (0-based) and ``REMOTEJOBS_PROCESS_COUNT`` in its
    environment. Status: the first non-zero status in start order, else 0 (as PSI/J's
    ``multi_launch.sh``). For copies spread over several nodes use ``srun``/``mpirun``."""

    name: ClassVar[str] = "multiple"

    def render(self, launch: Launch) -> str:
        n = launch.processes
        return "\n".join([
            "__rj_i=0; __rj_pids=",
            f'while [ "$__rj_i" -lt {n} ]; do',
            f'REMOTEJOBS_PROCESS_INDEX="$__rj_i" REMOTEJOBS_PROCESS_COUNT={n} {launch.command} &',
            '__rj_pids="$__rj_pids $!"; __rj_i=$((__rj_i + 1))',
            "done",
            "__rj_first=0",
            'for __rj_pid in $__rj_pids; do wait "$__rj_pid"; __rj_s=$?; '
            '[ "$__rj_first" -ne 0 ] || __rj_first=$__rj_s; done',
            '(exit "$__rj_first")',
        ])


class SrunLauncher(PrefixLauncher):
    """``srun --nodes=N --ntasks=P [--cpus-per-task=C]`` (https://slurm.schedmd.com/srun.html):
    one task per process inside the job's allocation. ``--cpus-per-task`` is repeated
    because srun 22.05 no longer takes it from the batch allocation (Slurm 22.05
    RELEASE_NOTES, https://github.com/SchedMD/slurm/blob/slurm-22-05-8-1/RELEASE_NOTES:
    "srun will no longer read in SLURM_CPUS_PER_TASK")."""

    name: ClassVar[str] = "srun"
    schedulers: ClassVar[frozenset[str] | None] = frozenset({"slurm"})

    def prefix(self, launch: Launch) -> list[str]:
        argv = ["srun", f"--nodes={launch.nodes}", f"--ntasks={launch.processes}"]
        if launch.cores_per_process is not None:
            argv.append(f"--cpus-per-task={launch.cores_per_process}")
        return argv


class MpirunLauncher(Launcher):
    """``mpirun -n P`` from the ``PATH`` of the job. Open MPI (``mpirun --version`` says
    "Open MPI") also gets ``--oversubscribe``, so that it starts P processes where the
    allocation reports fewer slots (https://www.open-mpi.org/doc/v4.1/man1/mpirun.1.php);
    MPICH's Hydra ``mpirun`` takes ``-n`` alone
    (https://wiki.mpich.org/mpich/index.php/Using_the_Hydra_Process_Manager). Both read
    the node list of a Slurm, PBS or LSF allocation themselves."""

    name: ClassVar[str] = "mpirun"

    def render(self, launch: Launch) -> str:
        n = launch.processes
        return "\n".join([
            "if mpirun --version 2>&1 | grep -q 'Open MPI'; then",
            f"mpirun --oversubscribe -n {n} {launch.command} &",
            "else",
            f"mpirun -n {n} {launch.command} &",
            "fi",
            'wait "$!"',
        ])
