"""Job types: named, configured kinds of job with typed options, run over datasets.

    import remotejobs

    reduce = remotejobs.job_types()["reduce"]          # from the job-types directory
    spec = reduce.spec({"bins": 200}, [dataset])       # a JobSpec; an array for several
    with remotejobs.open_resource("hpc") as hpc:
        hpc.login()
        jobs = remotejobs.jobtypes.submit(reduce, hpc, {"bins": 200}, datasets)
        print(jobs.mode, jobs.elements)               # "array", {"run1": "1234_1", ...}

See ``docs/job-types.md`` for the file format.
"""

from remotejobs.jobtypes._load import JobTypeDefinitionError, job_type_dirs, job_types, load_job_type
from remotejobs.jobtypes._model import JobOption, JobResources, JobType, OptionError
from remotejobs.jobtypes._plan import JobSet, element_files, is_array_element, submit

__all__ = [
    "JobOption",
    "JobResources",
    "JobSet",
    "JobType",
    "JobTypeDefinitionError",
    "OptionError",
    "element_files",
    "is_array_element",
    "job_type_dirs",
    "job_types",
    "load_job_type",
    "submit",
]
