"""Transfers as workflow steps: an upload from the client, and a copy of a job's output
file from one resource to another through the client.

A copy goes through a temporary file in a private (0700) directory on the client and is
removed afterwards: the bytes flow in the transports' chunks (SFTP reads/writes), never
whole in memory. Uploads to a batch resource are atomic (temporary name, then rename),
so a client killed mid-transfer leaves no half file under the final name.
"""

from __future__ import annotations

import posixpath
import tempfile
from pathlib import Path

from remotejobs.errors import TransferError
from remotejobs.models import JobSpec
from remotejobs.resource import ComputeResource
from remotejobs.transport.base import sha256_of
from remotejobs.workflow.steps import FileRef, Step, WorkflowError, file_ref_of

__all__ = ["copy_file", "job_file_path", "resolve_files", "run_transfer", "sha256_of", "upload_file"]



def upload_file(resource: ComputeResource, local_path: Path, remote_dir: str) -> str:
    """Upload ``local_path`` into ``remote_dir``; return the remote path."""
    return resource.upload(local_path, remote_dir)


def copy_file(source: FileRef, job_id: str, target: ComputeResource, remote_dir: str) -> str:
    """Copy ``source`` (written by job ``job_id`` on its resource) into ``remote_dir`` on
    ``target``; return the remote path there."""
    with tempfile.TemporaryDirectory(prefix="remotejobs-copy-") as tmp:
        paths = source.producer.resource.download(job_id, tmp, source.name)
        if not paths:
            raise TransferError(f"Job {job_id!r} has no file {source.name!r}", path=source.name)
        return target.upload(paths[0], remote_dir)


def job_file_path(resource: ComputeResource, job_id: str, name: str) -> str:
    """The absolute path, on ``resource``, of the output file ``name`` of job ``job_id``.

    Batch resources keep it under ``<job_root>/ids/<id>/`` (see
    :mod:`remotejobs.scheduler.batch`); the local backend in its job directory.

    :raises WorkflowError: the backend does not say where job files live.
    """
    from remotejobs.local.resource import LocalResource
    from remotejobs.scheduler.batch import BatchResource

    if isinstance(resource, BatchResource):
        return posixpath.join(resource._root, "ids", job_id, name)
    if isinstance(resource, LocalResource):
        job_dir = resource.store.job_dir(resource._me, job_id)
        if job_dir is not None:
            return str(job_dir / name)
    raise WorkflowError(f"Cannot name the files of job {job_id!r} on {resource.name!r} before they exist",
                        resource=resource.name, hint="Copy the file with Workflow.copy() and use that step's path")


def run_transfer(step: Step) -> str:
    """Run the upload or copy ``step`` describes; return the remote path."""
    facts = step.payload["facts"]
    assert isinstance(facts, dict)
    if step.kind == "upload":
        return upload_file(step.resource, Path(facts["local"]), facts["remote_dir"])
    ref = step.payload["source_ref"]
    assert isinstance(ref, FileRef)
    return copy_file(ref, ref.producer.id, step.resource, facts["remote_dir"])


def resolve_files(spec: JobSpec) -> JobSpec:
    """``spec`` with file placeholders replaced by the files' absolute paths: a transfer's
    remote directory, or the producing job's directory on its resource."""
    text = spec.model_dump_json()
    for ref in file_ref_of(text):
        producer = ref.producer
        if isinstance(producer, Step) and producer.kind != "job":
            if producer.result is None:
                raise WorkflowError(f"Step {producer.label!r} produced no file", resource=producer.resource.name)
            path = posixpath.join(posixpath.dirname(producer.result), ref.name)
        else:
            path = job_file_path(producer.resource, producer.id, ref.name)
        text = text.replace(ref.token, path)
    return JobSpec.model_validate_json(text)
