"""remotejobs: run work on remote batch clusters through one typed interface."""

from remotejobs.api import available_backends, open_resource, plugin_failures
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
from remotejobs.models import Capability, Dependency, DependencyGroup, JobInfo, JobSpec, JobState
from remotejobs.resource import BackendSettings, ComputeResource

__version__ = "0.1.0"

__all__ = [
    "AuthenticationError",
    "BackendSettings",
    "Capability",
    "ComputeResource",
    "ConfigurationError",
    "Dependency",
    "DependencyGroup",
    "Job",
    "JobInfo",
    "JobNotFoundError",
    "JobSpec",
    "JobState",
    "NotLoggedInError",
    "RemoteJobsError",
    "SchedulerError",
    "SessionExpiredError",
    "SubmissionError",
    "TransferError",
    "TransportError",
    "__version__",
    "available_backends",
    "hookimpl",
    "open_resource",
    "plugin_failures",
]
