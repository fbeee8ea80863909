"""How a job type over datasets becomes submissions: one job, one native array, or
separate jobs; and the :class:`JobSet` that follows them per element and as a whole."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from remotejobs.datasets import Dataset
from remotejobs.errors import RemoteJobsError, SubmissionError
from remotejobs.models import Capability, JobInfo, JobSpec, JobState

if TYPE_CHECKING:
    from remotejobs.jobtypes._model import JobType
    from remotejobs.resource import ComputeResource

__all__ = ["ARRAY_SHIM", "JobSet", "array_spec", "element_files", "is_array_element", "single_spec", "submit"]

#: ``sh -c ARRAY_SHIM sh K N ARGV_1... ARGV_N``: the array element ``i`` (1..N) runs the
#: i-th of N command lines of K words each, with ``REMOTEJOBS_DATASET_INDEX=i``. The index
#: comes from the scheduler's variable: SLURM_ARRAY_TASK_ID
#: (https://slurm.schedmd.com/job_array.html), LSB_JOBINDEX (IBM Spectrum LSF,
#: "Environment variables for job arrays"), PBS_ARRAYID (Torque ``qsub -t``),
#: PBS_ARRAY_INDEX (PBS Pro ``qsub -J``), SGE_TASK_ID (Grid Engine ``qsub -t``).
#: The words are positional parameters: no shell parses them.
ARRAY_SHIM = r"""i=${SLURM_ARRAY_TASK_ID:-${LSB_JOBINDEX:-${PBS_ARRAYID:-${PBS_ARRAY_INDEX:-${SGE_TASK_ID:-}}}}}
k=$1; n=$2; shift 2
case $i in ''|*[!0-9]*) echo "remotejobs: no job array index in the environment" >&2; exit 2;; esac
if [ "$i" -lt 1 ] || [ "$i" -gt "$n" ]; then echo "remotejobs: array index $i is not in 1-$n" >&2; exit 2; fi
shift $(( (i - 1) * k ))
c=0
for a do
  if [ "$c" -lt "$k" ]; then set -- "$@" "$a"; fi
  c=$((c + 1))
done
shift "$c"
REMOTEJOBS_DATASET_INDEX=$i; export REMOTEJOBS_DATASET_INDEX
exec "$@"
"""


def _base(job_type: JobType, overrides: Mapping[str, Any]) -> dict[str, Any]:
    res = job_type.resources
    fields: dict[str, Any] = {
        "name": job_type.name, "queue": res.queue, "nodes": res.nodes, "processes_per_node": res.cores,
        "walltime": res.walltime, "memory_mb": res.memory_mb,
        "environment": {**job_type.environment, "REMOTEJOBS_JOB_TYPE": job_type.name},
    }
    for key, value in overrides.items():
        if key == "environment" and value:
            fields[key] = {**fields[key], **value}
        elif value is not None:
            fields[key] = value
    return fields


def single_spec(job_type: JobType, values: Mapping[str, Any], datasets: Sequence[Dataset],
                overrides: Mapping[str, Any]) -> JobSpec:
    """One job: no dataset, one dataset, or all datasets of a ``many`` type."""
    argv = job_type.argv(values, datasets)
    fields = _base(job_type, overrides)
    if datasets:
        fields["environment"] = {**fields["environment"], "REMOTEJOBS_DATASETS": str(len(datasets))}
    return JobSpec(executable=argv[0], arguments=tuple(argv[1:]), **fields)


def array_spec(job_type: JobType, values: Mapping[str, Any], datasets: Sequence[Dataset],
               overrides: Mapping[str, Any]) -> JobSpec:
    """One native array job, element ``i`` (1-based, the order of ``datasets``) running
    the command for the i-th dataset."""
    lines = [job_type.argv(values, [d]) for d in datasets]
    width = len(lines[0])
    if any(len(line) != width for line in lines):  # pragma: no cover - templates render per word
        raise SubmissionError(f"Job type {job_type.name!r}: command lines differ in length between datasets")
    words = [w for line in lines for w in line]
    return JobSpec(executable="/bin/sh",
                   arguments=("-c", ARRAY_SHIM, "remotejobs-array", str(width), str(len(lines)), *words),
                   array=f"1-{len(lines)}", **_base(job_type, overrides))


_ELEMENT_INDEX = re.compile(r"(?:_(\d+)|\[(\d+)\])(?:\.[^.\[\]]*)*$")
_OUTPUT_INDEX = re.compile(r"^(?:stdout|stderr)-(\d+)$")


def is_array_element(job_id: str) -> bool:
    """True for an array element's id (``1234_2``, ``1234[2]``)."""
    return _ELEMENT_INDEX.search(job_id) is not None


def element_files(names: Sequence[str], element_id: str) -> list[str]:
    """Of the files in an array's job directory, those of element ``element_id`` (its
    ``stdout-I``/``stderr-I``) and the files no element owns."""
    match = _ELEMENT_INDEX.search(element_id)
    if match is None:
        return list(names)
    index = match.group(1) or match.group(2)
    kept = []
    for name in names:
        owner = _OUTPUT_INDEX.match(name)
        if owner is None or owner.group(1) == index:
            kept.append(name)
    return kept


@dataclass(frozen=True)
class JobSet:
    """The jobs one submission of a job type made.

    ``mode`` is ``array`` (one native array; ``ids`` holds its id), ``single`` (one job)
    or ``separate`` (one job per dataset, for backends without arrays). ``elements``
    maps each dataset name to the id that runs it: an array element id where the backend
    names elements (``1234_2`` on Slurm, ``1234[2]`` on LSF), else the job's id.
    """

    resource: ComputeResource
    job_type: str
    mode: Literal["array", "single", "separate"]
    ids: tuple[str, ...]
    elements: tuple[tuple[str, str], ...]

    def status(self) -> dict[str, JobInfo]:
        """Each dataset's job info, in one scheduler call."""
        wanted = [job_id for _, job_id in self.elements]
        infos = self.resource.status_many(wanted)
        return {name: infos[job_id] for name, job_id in self.elements if job_id in infos}

    def summary(self) -> JobInfo | None:
        """The whole set as one info: the array's own, or the single job's."""
        if self.mode == "separate":
            return None
        return self.resource.status(self.ids[0])

    def wait(self, timeout: float | None = None) -> dict[str, JobInfo]:
        """Wait for every job of the set (each with ``timeout``); infos per dataset."""
        for job_id in self.ids:
            self.resource.wait(job_id, timeout=timeout)
        return self.status()

    def cancel(self) -> None:
        """Cancel every job of the set (an array's id cancels all its elements)."""
        for job_id in self.ids:
            self.resource.cancel(job_id)

    def ok(self) -> bool:
        """True when every element COMPLETED."""
        return all(i.state is JobState.COMPLETED for i in self.status().values())

    def download(self, local_dir: str | Path, dataset: str | None = None) -> dict[str, list[Path]]:
        """Each dataset's output (or only ``dataset``'s) into ``local_dir/<dataset name>``."""
        result: dict[str, list[Path]] = {}
        for name, job_id in self.elements:
            if dataset is not None and name != dataset:
                continue
            target = Path(local_dir) / name
            paths = self.resource.download(job_id, target)
            if self.mode == "array":
                keep = set(element_files([p.name for p in paths], job_id))
                for path in paths:
                    if path.name not in keep:
                        path.unlink()
                paths = [p for p in paths if p.name in keep]
            result[name] = paths
        return result

    def to_dict(self) -> dict[str, Any]:
        return {"job_type": self.job_type, "resource": self.resource.name, "mode": self.mode,
                "ids": list(self.ids), "elements": dict(self.elements)}


def submit(job_type: JobType, resource: ComputeResource, options: Mapping[str, Any] | None = None,
           datasets: Sequence[Dataset] = (), **overrides: Any) -> JobSet:
    """Submit ``job_type`` over ``datasets`` the best way the backend allows: one native
    array (one scheduler call) when the type takes one dataset per job and the backend
    has arrays, separate jobs when it has none, one job when the type takes several.

    :raises OptionError: bad options or datasets (before anything is submitted).
    :raises SubmissionError: a separate submission failed; the message lists the jobs
        already submitted (they keep running).
    """
    datasets = list(datasets)
    spec = None
    if not (len(datasets) > 1 and job_type.datasets == "one"
            and Capability.ARRAYS not in resource.capabilities):
        spec = job_type.spec(options, datasets, **overrides)
    if spec is not None:
        job = resource.submit(spec)
        if spec.array is None:
            return JobSet(resource, job_type.name, "single", (job.id,),
                          tuple((d.name, job.id) for d in datasets))
        element = resource.array_element_id
        return JobSet(resource, job_type.name, "array", (job.id,),
                      tuple((d.name, element(job.id, i)) for i, d in enumerate(datasets, 1)))
    job_type.check_datasets(datasets)
    values = job_type.values(options or {}, datasets)
    specs = [single_spec(job_type, values, [d], overrides) for d in datasets]
    done: list[tuple[str, str]] = []
    for dataset, one in zip(datasets, specs, strict=True):
        try:
            done.append((dataset.name, resource.submit(one).id))
        except RemoteJobsError as exc:
            if not done:
                raise
            listed = ", ".join(f"{n}: {i}" for n, i in done)
            raise SubmissionError(
                f"Submitting job type {job_type.name!r} for dataset {dataset.name!r} failed after "
                f"{len(done)} of {len(datasets)} jobs were submitted ({listed}): {exc.message}",
                transient=exc.transient, hint="Submit the remaining datasets again") from exc
    return JobSet(resource, job_type.name, "separate", tuple(i for _, i in done), tuple(done))
