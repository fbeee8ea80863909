"""Upload (``upfile``), job file listing (``jobfiles``) and download (``file``), Mantid LSFJobManager.cpp."""

from __future__ import annotations

import os
import posixpath
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING
from xml.sax.saxutils import unescape

from remotejobs.errors import JobNotFoundError, TransferError
from remotejobs_lsf_web._errors import DOWNLOAD_FORBIDDEN, DOWNLOAD_NOT_FOUND
from remotejobs_lsf_web._multipart import is_multipart, parse_multipart
from remotejobs_lsf_web._wire import (
    UPLOAD_BOUNDARY,
    JobFile,
    error_message,
    job_url,
    parse_jobfiles,
    parse_xml,
    upload_body,
)

if TYPE_CHECKING:
    from remotejobs_lsf_web._session import PacSession

__all__ = ["document_error", "download", "download_body", "upload"]

#: The word IBM's client requires in an upload answer (pacclient.py / pac_api.py of IBM
#: Platform Application Center, ``uploadLargeFile``: ``if "successfully" not in content``;
#: copy in github.com/disulfidebond/Delta_ApplicationCenter_API, pac_api.py).
UPLOAD_SUCCESS = "successfully"
_NOT_FOUND = re.compile(r"(?i)no matching job|not found|does not exist|unknown job")


def upload(session: PacSession, local_path: Path, remote_dir: str) -> str:
    """Send ``local_path`` into ``remote_dir`` through ``upfile/0`` (no job: ``remote_dir``
    is taken by the server as a path of the user's, absolute or relative to the home
    directory). Returns ``remote_dir/<name>``.

    Success is an answer containing :data:`UPLOAD_SUCCESS`, as IBM's client requires. The
    uploaded size is not verified: PAC lists sizes only for job directories (``jobfiles``),
    not for the arbitrary directory of ``upfile/0``.

    :raises TransferError: unreadable file, unsendable name, an ``<errMsg>`` answer, or an
        answer without the success text.
    """
    name = local_path.name
    if re.search(r'["\r\n\\/]', name) or not name.strip():
        raise TransferError(f"Cannot upload a file named {name!r} through PAC (quote, newline or slash)",
                            path=str(local_path))
    try:
        data = local_path.read_bytes()
    except OSError as exc:
        raise TransferError(f"Cannot read {str(local_path)!r}: {exc.strerror}", path=str(local_path)) from exc
    answer = session.call(
        "upload", "POST", "upfile/0", idempotent=True,
        content_type=f"multipart/mixed; boundary={UPLOAD_BOUNDARY}", body=upload_body(remote_dir, name, data),
    )
    message = error_message(answer.text)
    if message is not None:
        raise TransferError(f"Upload of {name!r} to {remote_dir!r} failed: {message}", path=str(local_path))
    if UPLOAD_SUCCESS not in answer.text:
        said = " ".join(answer.text.split())[:300]
        raise TransferError(f"Upload of {name!r} to {remote_dir!r} was not confirmed: the web service answered "
                            f"{said or 'nothing'!r}", path=str(local_path),
                            hint="Check the remote directory before uploading again")
    return posixpath.join(remote_dir, name)


def list_files(session: PacSession, job_id: str) -> list[JobFile]:
    """The FILE entries of a job's directory. :raises JobNotFoundError, TransferError:"""
    answer = session.call("list job files", "GET", job_url("jobfiles", job_id), idempotent=True,
                            content_type="application/xml")
    message = error_message(answer.text)
    entries = parse_jobfiles(answer.text) if message is None else None
    if entries is None:
        said = message if message is not None else " ".join(answer.text.split())[:300]
        if _NOT_FOUND.search(said):
            raise JobNotFoundError(job_id, message=f"Job {job_id!r} not found: {said}")
        raise TransferError(f"Listing the files of job {job_id} failed: {said or 'empty answer'}")
    return [e for e in entries if e.kind == "FILE"]


def download(session: PacSession, job_id: str, local_dir: Path, name: str | None) -> list[Path]:
    """Copy all FILE entries of the job's directory (or only the one called ``name``) into
    ``local_dir``; a 0-byte entry is created locally without a request (as the stock client
    does, since PAC answers an empty body for failures too). Returns the local paths.

    :raises TransferError: ``name`` is not among the job's files, no permission, empty answer.
    """
    files = list_files(session, job_id)
    if name is not None:
        files = [f for f in files if f.name == name or f.path.endswith("/" + name.lstrip("/"))]
        if not files:
            raise TransferError(f"Job {job_id} has no file named {name!r}", path=name)
    written = []
    for entry in files:
        target_name = entry.name
        if target_name in ("", ".", ".."):
            continue
        if not entry.allowed:
            raise TransferError(f"No permission to download {entry.path!r} of job {job_id}", path=entry.path)
        if entry.size == 0:
            written.append(_write(local_dir / target_name, b""))
            continue
        answer = session.call(
            "download", "GET", job_url("file", job_id), idempotent=True, content_type="text/plain",
            body=download_body(entry, session.settings.download_body).encode("utf-8"), raw=True,
        )
        if answer.status == DOWNLOAD_FORBIDDEN:
            raise TransferError(
                f"Download of {entry.path!r} (job {job_id}) was refused with HTTP 403: no permission, "
                "or the session ended (PAC answers 403 for both)",
                path=entry.path,
                hint="Log in again; if that does not help, the file is not readable by this user",
            )
        if answer.status == DOWNLOAD_NOT_FOUND:
            raise TransferError(f"Download of {entry.path!r} (job {job_id}) failed: the web service answered "
                                "HTTP 404 (the file does not exist)", path=entry.path)
        message = document_error(answer.content)
        if message is not None or not answer.content:
            raise TransferError(
                f"Download of {entry.path!r} (job {job_id}) failed: "
                f"{message or 'empty answer (no permission, or the file is not available)'}",
                path=entry.path,
            )
        parts = _unwrap(answer.content, answer.content_type, target_name, session.settings.download_format)
        written += [_write(local_dir / part_name, data) for part_name, data in parts]
    return written


def download_body(entry: JobFile, style: str) -> str:
    """The body of a ``file/<id>`` request for ``entry``: the listing entry as the server
    sent it (``entry``: Mantid's LSFJobManager.cpp getOneJobFile, SCARF's pac_api.py of that
    era) or its base name (``basename``: IBM's pacclient.py ``getFileNameByFullPath`` and
    lsf-faas lsflib.py ``downloadFiles``: ``os.path.basename``)."""
    if style == "basename" or not entry.entry:
        return entry.name
    return entry.entry


def _unwrap(content: bytes, content_type: str, name: str, style: str) -> list[tuple[str, bytes]]:
    """The file(s) of a download answer: raw bytes for ``name``, or the parts of a multipart
    answer (see :mod:`._multipart`); ``style`` is the ``download_format`` setting."""
    if style == "raw" or (style == "auto" and not is_multipart(content, content_type)):
        return [(name, content)]
    parts = parse_multipart(content, content_type)
    if not parts:
        raise TransferError(f"The download answer for {name!r} is not the multipart document expected", path=name)
    safe = [(n, d) for n, d in parts if n not in ("", ".", "..")]
    if len(safe) == 1:
        return [(name, safe[0][1])]  # the file asked for, whatever the server called it
    return safe


def document_error(content: bytes) -> str | None:
    """The ``<errMsg>`` of a small XML document whose root holds one, else None (so file
    content that merely mentions ``<errMsg>`` is not mistaken for an error)."""
    if len(content) > 65536 or b"<errMsg>" not in content:
        return None
    root = parse_xml(content)
    if root is None:
        return None
    child = root.find("errMsg")
    if child is None:
        return None
    return unescape(child.text or "").strip() or error_message(content.decode("utf-8", "replace"))


def _write(target: Path, data: bytes) -> Path:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise TransferError(f"Cannot write {str(target)!r}: {exc.strerror}", path=str(target)) from exc
    return target
