"""remotejobs: run work on remote batch clusters through one typed interface."""

from remotejobs._plugins import get_registry
from remotejobs.api import available_backends, open_resource, plugin_failures
from remotejobs.datasets import Dataset, dataset_sources
from remotejobs.errors import (
    AuthenticationError,
    ConfigurationError,
    JobNotFoundError,
    NotLoggedInError,
    RemoteJobsError,
    SchedulerError,
    SessionExpiredError,
    SubmissionError,
    TransferError,
    TransportError,
)
from remotejobs.hookspecs import hookimpl
from remotejobs.job import Job
from remotejobs.jobtypes import JobType, job_types
from remotejobs.models import Capability, Dependency, DependencyGroup, JobInfo, JobSpec, JobState
from remotejobs.resource import BackendSettings, ComputeResource
from remotejobs.workflow import Workflow, submit

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BackendSettings",
    "Capability",
    "ComputeResource",
    "ConfigurationError",
    "Dataset",
    "Dependency",
    "DependencyGroup",
    "Job",
    "JobInfo",
    "JobNotFoundError",
    "JobSpec",
    "JobState",
    "JobType",
    "NotLoggedInError",
    "RemoteJobsError",
    "SchedulerError",
    "SessionExpiredError",
    "SubmissionError",
    "TransferError",
    "TransportError",
    "Workflow",
    "__version__",
    "available_backends",
    "dataset_sources",
    "get_registry",
    "hookimpl",
    "job_types",
    "open_resource",
    "plugin_failures",
    "submit",
]
