"""The public names are deliberate: adding or removing one must be a conscious change."""

from __future__ import annotations

import remotejobs
import remotejobs.errors


def test_exported_names() -> None:
    assert set(remotejobs.__all__) == {
        "AuthenticationError", "BackendSettings", "Capability", "ComputeResource", "ConfigurationError",
        "Dependency", "DependencyGroup", "Job", "JobInfo", "JobNotFoundError", "JobSpec", "JobState",
        "NotLoggedInError", "RemoteJobsError", "SchedulerError", "SessionExpiredError", "SubmissionError",
        "TransferError", "TransportError", "Workflow", "__version__", "available_backends", "get_registry",
        "hookimpl",
        "open_resource", "plugin_failures", "submit", "Dataset", "JobType", "dataset_sources", "job_types",
    }
    for name in remotejobs.__all__:
        assert hasattr(remotejobs, name)


def test_every_error_is_in_the_one_tree() -> None:
    classes = [getattr(remotejobs.errors, n) for n in remotejobs.errors.__all__]
    assert all(issubclass(c, remotejobs.errors.RemoteJobsError) for c in classes)
    doc = remotejobs.errors.__doc__ or ""
    assert all(c.__name__ in doc for c in classes)
