"""The files of :class:`~remotejobs.scheduler.batch.BatchResource`: uploads, and a job's
output files read only through the job index (``<job_root>/ids/<id>`` -> ``../jobs/<stamp>``),
never from a path joined from an id. A base of BatchResource, which sets the attributes
declared here; import BatchResource, not this module.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from remotejobs.errors import JobNotFoundError, TransferError
from remotejobs.transport.base import CommandTransport, is_plain_file_name

__all__ = ["STAMP", "BatchFiles"]

#: The name of a job directory, as :meth:`BatchResource._context_for
#: <remotejobs.scheduler.batch.BatchResource>` makes it.
STAMP = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-f]{8}")


class BatchFiles:
    """``_upload``, ``_upload_many``, ``_download`` and the job directory lookup of a batch resource."""

    _root: str

    if TYPE_CHECKING:  # defined by BatchResource / ComputeResource

        @property
        def transport(self) -> CommandTransport: ...

        def _remote_path(self, path: str) -> str: ...

        def valid_job_id(self, job_id: str) -> bool: ...

    def _upload(self, local_path: Path, remote_dir: str) -> str:
        # absolute, so that a job (which runs in its own directory) can open the result
        remote_dir = self._remote_path(remote_dir)
        target = posixpath.join(remote_dir, local_path.name)
        self.transport.makedirs(remote_dir)
        self.transport.put(str(local_path), target)
        return target

    def _upload_many(self, local_paths: Sequence[Path], remote_dir: str) -> list[str]:
        """One round trip for all files where the transport can (SSH: one tar stream)."""
        return self.transport.put_many([str(p) for p in local_paths], self._remote_path(remote_dir))

    def _job_dir(self, job_id: str) -> str:
        """The directory of this user's job ``job_id``, resolved through the job index:
        the link ``<root>/ids/<id>`` that the job script made must point at exactly
        ``<root>/jobs/<stamp>`` (the form :meth:`_context_for` creates). Never a path
        joined from anything else, so no id or link can name a directory outside.

        :raises JobNotFoundError: the job never started here, or its index entry is not a
            link to one of this user's job directories.
        """
        if not self.valid_job_id(job_id):  # the public methods checked already; defence in depth
            raise JobNotFoundError(job_id, message=f"{job_id[:100]!r} is not a job id")
        link = posixpath.join(self._root, "ids", job_id)
        result = self.transport.run(["readlink", "--", link])
        target = result.stdout.rstrip("\n")
        if result.exit_status != 0 or not target:
            raise JobNotFoundError(
                job_id, message=f"No files for job {job_id!r}: it has not started, or is unknown")
        jobs = posixpath.join(self._root, "jobs")
        if posixpath.dirname(target) != jobs or not STAMP.fullmatch(posixpath.basename(target)):
            raise JobNotFoundError(
                job_id, message=f"The index entry of job {job_id!r} does not point to one of this "
                f"user's job directories ({target[:200]!r}); nothing was read")
        return target

    def _download(self, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
        """The files of the job's own directory (:meth:`_job_dir`), by the names listed."""
        job_dir = self._job_dir(job_id)
        try:
            names = self.transport.listdir(job_dir)
        except TransferError as exc:
            raise JobNotFoundError(
                job_id, message=f"No files for job {job_id!r}: it has not started, or is unknown"
            ) from exc
        names = [n for n in names if not n.startswith(".") and "/" not in n]
        if name is not None:
            if name not in names:
                raise TransferError(
                    f"Job {job_id!r} has no file {name!r}; it has: {', '.join(names) or 'none'}",
                    path=name,
                )
            names = [name]
        if len(names) > 1 and all(is_plain_file_name(n) for n in names):
            # one round trip for all of them where the transport can (SSH: one tar stream)
            return [Path(p) for p in self.transport.get_many(job_dir, names, str(local_dir))]
        paths = []
        for entry in names:
            local = local_dir / entry
            self.transport.get(posixpath.join(job_dir, entry), str(local))
            paths.append(local)
        return paths

