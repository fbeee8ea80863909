"""The PAC web service's wire formats: request bodies built and answers parsed. Pure, no I/O.

Each format cites the public client that shows it: Mantid = github.com/mantidproject/mantid
``Framework/RemoteJobManagers/src/LSFJobManager.cpp``, ``SCARFLSFJobManager.cpp``,
``Framework/RemoteAlgorithms/src/SCARFTomoReconstruction.cpp``; lsf-faas =
github.com/IBMSpectrumComputing/lsf-faas ``src/lsf_faas/lsflib.py``; pac_api.py = IBM's PAC
client, github.com/disulfidebond/Delta_ApplicationCenter_API ``pac_api.py``. Parsers never
raise on an unexpected shape: they return None or an empty result and the caller decides
which error to raise.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote
from xml.sax.saxutils import escape, unescape

from remotejobs.errors import JobNotFoundError
from remotejobs.safexml import UnsafeXMLError, fromstring

__all__ = [
    "ACCEPT",
    "FILE_NAME",
    "JOB_ID",
    "SUBMIT_BOUNDARY",
    "UPLOAD_BOUNDARY",
    "JobFile",
    "PacJob",
    "action_message",
    "cookie_header",
    "error_message",
    "job_url",
    "logon_body",
    "note_message",
    "parse_jobfiles",
    "parse_jobs",
    "parse_logon",
    "parse_submit_id",
    "parse_token_script",
    "parse_xml",
    "submit_body",
    "upload_body",
]

#: Accept header of every Mantid request (Mantid LSFJobManager.cpp).
ACCEPT = "text/plain,application/xml,text/xml"
#: Outer and inner boundaries of the submit body, and the upload boundary
#: (Mantid LSFJobManager.cpp buildSubmitBody, buildUploadBody).
SUBMIT_BOUNDARY = "bqJky99mlBWa-ZuqjC53mG6EzbmlxB"
SUBMIT_INNER_BOUNDARY = "_Part_1_701508.1145579811786"
#: File names sent as uploaded parts: one path segment that needs no quoting in a MIME
#: header or a ``;``-joined AppParam value, and that no shell reads as an option.
FILE_NAME = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9_.+-]{0,254}")
UPLOAD_BOUNDARY = "4k89ogja023oh1-gkdfk903jf9wngmujfs95m"

_CRLF = "\r\n"
#: PAC job ids: positive numbers (Mantid LSFJobManager.cpp buildSubmitBody ``<id>``; ``0`` comes only next to an error).
JOB_ID = re.compile(r"[1-9][0-9]{0,18}")


def job_url(prefix: str, job_id: str) -> str:
    """``<prefix>/<job_id>`` with the id checked against :data:`JOB_ID` and quoted as ONE
    path segment, so no ``/``, ``..``, ``?`` or ``#`` can reach another endpoint.

    :raises JobNotFoundError: ``job_id`` is not a PAC job id (nothing is sent).
    """
    if JOB_ID.fullmatch(job_id) is None:
        raise JobNotFoundError(job_id, message=f"{job_id[:100]!r} is not a PAC job id")
    return f"{prefix}/{quote(job_id, safe='')}"
_ENTITIES = {"&quot;": '"', "&apos;": "'"}


# -- token and cookie (Mantid LSFJobManager.cpp, lsf-faas lsflib.py) ---------------------------------------------------
def cookie_header(token: str, jtoken: str | None = None) -> str:
    """The Cookie header value for a raw token: every ``"`` becomes ``#quote#``, and a
    JSESSION token from ``logon/`` is appended after a comma as the stock client does."""
    value = "platform_token=" + token.replace('"', "#quote#")
    if jtoken:
        value += ",JSESSIONID=" + jtoken
    return value


def parse_token_script(body: str, marker: str | None) -> tuple[str, str] | None:
    """(PAC base URL, raw token) from SCARF's ``token.py`` answer, or None on failure.

    The script answers 200 whatever happens; success is recognised by the base URL on the
    first line (Mantid SCARFLSFJobManager.cpp ``authenticate``). With ``marker`` the body must
    also contain that text (Mantid checks for ``https://portal.scarf.rl.ac.uk``).
    """
    if marker and marker not in body:
        return None
    lines = [line.strip() for line in body.splitlines() if line.strip()]
    if len(lines) < 2 or not re.match(r"^https?://\S+$", lines[0]):
        return None
    url = lines[0] if lines[0].endswith("/") else lines[0] + "/"
    return url, lines[1]


def logon_body(username: str, password: str) -> str:
    """The ``logon/`` request body, values XML-escaped (Mantid SCARFLSFJobManager.cpp, pac_api.py)."""
    return f"<User><name>{escape(username)}</name> <pass>{escape(password)}</pass> </User>"


def parse_logon(body: str) -> tuple[str, str | None] | None:
    """(token, jtoken or None) from a ``logon/`` answer; None when it has no token."""
    token = _tag_text(body, "token")
    if not token:
        return None
    return token, _tag_text(body, "jtoken") or None


# -- error, note and action messages ---------------------------------------------------------
def error_message(body: str) -> str | None:
    """The server's ``<errMsg>`` text, entity-unescaped, or None when there is none.

    Like Mantid: text after the last ``<errMsg>`` up to the last ``</errMsg>`` (Mantid SCARFTomoReconstruction.cpp).
    """
    return _last_tag(body, "errMsg")


def note_message(body: str) -> str | None:
    """The ``<note>`` of a "no data" answer (Mantid SCARFLSFJobManager.cpp, pac_api.py), or None."""
    return _last_tag(body, "note")


def action_message(body: str) -> str | None:
    """The ``<actionMsg>`` of a job operation answer (Mantid SCARFLSFJobManager.cpp, pac_api.py), or None."""
    return _last_tag(body, "actionMsg")


def _last_tag(body: str, tag: str) -> str | None:
    start = body.rfind(f"<{tag}>")
    if start == -1:
        return None
    start += len(tag) + 2
    end = body.rfind(f"</{tag}>")
    text = body[start:end] if end >= start else body[start:]
    return unescape(text, _ENTITIES).strip()


def _tag_text(body: str, tag: str) -> str | None:
    match = re.search(rf"<{tag}>(.*?)</{tag}>", body, re.DOTALL)
    return unescape(match.group(1), _ENTITIES).strip() if match else None


# -- submit (Mantid LSFJobManager.cpp buildSubmitBody) -----------------------------------------------------------------
def submit_body(
    app_name: str, params: Sequence[tuple[str, str]], files: Sequence[tuple[str, str, bytes]] = ()
) -> bytes:
    """The nested multipart ``submitapp`` body: AppName, then one AppParam part per param,
    then one part per uploaded file.

    ``files`` are ``(param id, file name, bytes)``: each param id becomes one AppParam of type
    ``file`` whose value is its file names joined by ``;``, and each file one part of the
    outer body named by its file name (``Content-Disposition: form-data; name="x";
    filename="x"``, ``Content-Type: application/octet-stream``, ``Content-Transfer-Encoding:
    binary``, ``Content-ID: <x>``), as IBM's clients upload input files with a submission
    (github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py ``encodeBody``
    ``encodeFileParam``/``encodeFile``; pacclient's ``pac_api.py`` ``encode_body``). File
    names must match :data:`FILE_NAME`.

    Unlike Mantid, values are XML-escaped so that ``<``/``&`` in arguments cannot corrupt
    the XML the server parses. Content-Type header: ``multipart/mixed; boundary=`` +
    :data:`SUBMIT_BOUNDARY`.
    """
    outer, inner = SUBMIT_BOUNDARY, SUBMIT_INNER_BOUNDARY
    head = [
        f"--{outer}",
        'Content-Disposition: form-data; name="AppName"',
        "Content-ID: <AppName>",
        "",
        app_name,
        f"--{outer}",
        'Content-Disposition: form-data; name="data"',
        f"Content-Type: multipart/mixed; boundary={inner}",
        "Content-ID: <data>",
        "",
    ]
    names: dict[str, list[str]] = {}
    for key, name, _ in files:
        if not FILE_NAME.fullmatch(name):
            raise ValueError(f"{name!r} cannot be sent as an uploaded file name")
        names.setdefault(key, []).append(name)
    typed = [(k, v, "") for k, v in params] + [(k, ";".join(n), "file") for k, n in names.items()]
    for key, value, kind in typed:
        head += [
            f"--{inner}",
            f'Content-Disposition: form-data; name="{key}"',
            "Content-Type: application/xml; charset=UTF-8",
            "Content-Transfer-Encoding: 8bit",
            "",
            f"<AppParam><id>{escape(key)}</id><value>{escape(value)}</value><type>{kind}</type></AppParam>",
        ]
    head += [f"--{inner}--", ""]
    body = _CRLF.join(head).encode("utf-8")
    for _, name, data in files:
        part = _CRLF.join([
            f"--{outer}",
            f'Content-Disposition: form-data; name="{name}"; filename="{name}"',
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: binary",
            f"Content-ID: <{quote(name)}>",
            "",
            "",
        ])
        body += _CRLF.encode() + part.encode("utf-8") + data
    return body + _CRLF.join(["", f"--{outer}--", "", ""]).encode("utf-8")


def parse_submit_id(body: str) -> str | None:
    """The job id after the last ``<id>`` (Mantid LSFJobManager.cpp ``submitRemoteJob``), or None
    when absent or not a positive integer (PAC answers ``<id>0</id>`` next to an error)."""
    start = body.rfind("<id>")
    if start == -1:
        return None
    text = body[start + 4 :].split("<", 1)[0].strip()
    return text if text.isdigit() and int(text) > 0 else None


# -- upload (Mantid LSFJobManager.cpp buildUploadBody) -----------------------------------------------------------------
def upload_body(dir_name: str, basename: str, data: bytes) -> bytes:
    """The ``upfile`` body: DirName part, then the file part, closed as the stock IBM client
    does (CRLF before the closing delimiter). Content-Type: ``multipart/mixed; boundary=``
    + :data:`UPLOAD_BOUNDARY`. ``basename`` must not contain ``"``, CR or LF."""
    b = UPLOAD_BOUNDARY
    head = _CRLF.join(
        [
            f"--{b}",
            'Content-Disposition: form-data; name="DirName"',
            "Content-ID: <DirName>",
            "",
            dir_name,
            f"--{b}",
            f'Content-Disposition: form-data; name="{basename}"; filename="{basename}"',
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: UTF-8",
            f"Content-ID: <{basename}>",
            "",
            "",
        ]
    ).encode("utf-8")
    return head + data + f"{_CRLF}--{b}--{_CRLF}{_CRLF}".encode()


def parse_xml(data: bytes) -> ET.Element | None:
    """The root element of a small XML document, or None. Documents with a DTD are
    refused in any encoding (no entity expansion from a hostile server; see
    :mod:`remotejobs.safexml`)."""
    try:
        return fromstring(data)
    except UnsafeXMLError:
        return None


# -- job status (Mantid LSFJobManager.cpp genOutputStatusInfo) ---------------------------------------------------------
@dataclass(frozen=True)
class PacJob:
    """One ``<Job>`` of a ``<Jobs>`` answer. Absent elements are None."""

    id: str
    name: str | None = None
    status: str | None = None
    cmd: str | None = None
    ext_status: str | None = None
    exit_code: int | None = None
    user: str | None = None
    queue: str | None = None
    pend_reason: str | None = None
    submit_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None


def parse_jobs(body: str) -> list[PacJob] | None:
    """The jobs of a ``<Jobs>`` answer (``<Job>`` elements at any depth, as Mantid searches);
    an empty list for a ``<note>`` answer; None when the body is not such XML."""
    root = parse_xml(body.strip().encode("utf-8", "replace"))  # a lone surrogate is not fatal
    if root is None:
        return None
    if root.tag not in ("Jobs", "Job"):
        return None
    jobs = []
    for element in root.iter("Job"):
        # names and command lines verbatim (they may start or end with spaces); the rest trimmed
        fields = {child.tag: (child.text or "") if child.tag in ("name", "cmd") else (child.text or "").strip()
                  for child in element}
        job_id = fields.get("id", "")
        if not job_id or job_id == "0":
            continue
        jobs.append(
            PacJob(
                id=job_id,
                name=fields.get("name") or None,
                status=fields.get("status") or None,
                cmd=fields.get("cmd") or None,
                ext_status=fields.get("extStatus") or None,
                exit_code=_int(fields.get("exitCode")),
                user=fields.get("user") or None,
                queue=fields.get("queue") or None,
                pend_reason=fields.get("pendReason") or None,
                submit_time=_time(fields.get("submitTime")),
                start_time=_time(fields.get("startTime")),
                end_time=_time(fields.get("endTime")),
            )
        )
    return jobs


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _time(text: str | None) -> datetime | None:
    if not text or text == "-":
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


# -- job files (Mantid LSFJobManager.cpp getAllJobFiles) ---------------------------------------------------------------
@dataclass(frozen=True)
class JobFile:
    """One ``host*path*TYPE*size*controlFlag`` entry of a ``jobfiles`` answer."""

    host: str
    path: str
    kind: str
    size: int | None
    allowed: bool
    #: The entry as the server listed it (``host*path*TYPE*size*flag``): what Mantid sends
    #: back as the body of ``file/<id>`` (LSFJobManager.cpp getAllJobFiles/getOneJobFile).
    entry: str = ""

    @property
    def name(self) -> str:
        """The file name: text after the last ``/`` or ``\\``."""
        return re.split(r"[/\\]", self.path)[-1]


def parse_jobfiles(body: str) -> list[JobFile] | None:
    """The entries of a ``jobfiles`` answer; None when the body is an error text (no ``/``
    and no ``\\``, the clients' success criterion). Blank items are skipped."""
    if "/" not in body and "\\" not in body:
        return None
    files = []
    for item in body.split(";"):
        entry = item.strip("\r\n")
        fields = entry.split("*")
        if len(fields) == 5:
            host, path, kind, size, flag = fields
            files.append(JobFile(host, path, kind.upper(), _int(size), flag.strip().lower() != "false", entry))
        elif len(fields) == 2 and fields[1]:
            files.append(JobFile(fields[0], fields[1], "FILE", None, True, entry))
    return files
