"""Server side of the PAC wire formats (public sources: README.md, and next to each format).

Parsing is tolerant the way the real service must be for real clients: nested multipart
with unescaped XML values (Mantid LSFJobManager.cpp buildSubmitBody), an upload whose file bytes run straight into the
closing delimiter without CRLF (Mantid LSFJobManager.cpp buildUploadBody), LF-only line ends.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import quote
from xml.sax.saxutils import escape, unescape

XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'


class WireError(ValueError):
    """A request body that cannot be understood."""


def boundary_of(content_type: str) -> bytes:
    match = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not match:
        raise WireError(f"no multipart boundary in Content-Type {content_type!r}")  # assumed: wording
    return match.group(1).strip().encode()


def _split_part(part: bytes) -> tuple[dict[str, str], bytes]:
    """(lower-cased headers, body) of one MIME part (leading CRLF after the delimiter
    already included in ``part``)."""
    part = part[2:] if part.startswith(b"\r\n") else part[1:] if part.startswith(b"\n") else part
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = part.partition(sep)
        if found:
            break
    else:
        raise WireError("multipart part without a blank line after its headers")  # assumed: wording
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").splitlines():
        key, _, value = line.partition(":")
        headers[key.strip().lower()] = value.strip()
    return headers, body


def _strip_eol(data: bytes) -> bytes:
    if data.endswith(b"\r\n"):
        return data[:-2]
    return data[:-1] if data.endswith(b"\n") else data


def _parts(body: bytes, boundary: bytes) -> list[tuple[dict[str, str], bytes]]:
    delim = b"--" + boundary
    end = body.rfind(delim + b"--")
    if end == -1:
        raise WireError("multipart body without its closing delimiter")  # assumed: wording
    pieces = body[:end].split(delim)[1:]
    return [(h, _strip_eol(b)) for h, b in map(_split_part, pieces)]


def field_name(headers: Mapping[str, str]) -> str:
    match = re.search(r'\bname="([^"]*)"', headers.get("content-disposition", ""))
    return match.group(1) if match else ""


class Submit(NamedTuple):
    app: str
    params: dict[str, str]  #: plain AppParams
    file_params: dict[str, str]  #: AppParams of type ``file``: ``;``-joined file names
    files: dict[str, bytes]  #: uploaded parts by file name


def parse_submit(body: bytes, content_type: str) -> Submit:
    """AppName, AppParams and uploaded files of a ``submitapp`` body (Mantid LSFJobManager.cpp buildSubmitBody).

    A param of type ``file`` names, ``;``-joined, files uploaded as further parts of the
    outer body, each named by its ``filename`` and ``Content-ID`` (IBMSpectrumComputing/
    lsf-faas src/lsf_faas/lsflib.py ``encodeBody``: ``encodeFileParam``, ``encodeFile``;
    pacclient's pac_api.py ``encode_body``)."""
    app = ""
    params: dict[str, str] = {}
    file_params: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for headers, part in _parts(body, boundary_of(content_type)):
        name = field_name(headers)
        if name == "AppName":
            app = part.decode("utf-8", "replace").strip()
        elif name == "data":
            for _, inner in _parts(part, boundary_of(headers.get("content-type", ""))):
                key, value, kind = _app_param(inner.decode("utf-8", "replace"))
                (file_params if kind == "file" else params)[key] = value
        else:
            filename = re.search(r'\bfilename="([^"]*)"', headers.get("content-disposition", ""))
            if not filename or headers.get("content-id", "") != f"<{quote(filename.group(1))}>":
                raise WireError(f"submitapp part {name!r} is neither AppName, data nor a file with "  # assumed: wording
                                "its filename and Content-ID")
            files[filename.group(1)] = part
    if not app:
        raise WireError("submitapp body without an AppName part")  # assumed: wording
    return Submit(app, params, file_params, files)


def _app_param(text: str) -> tuple[str, str, str]:
    """(id, value, type) of one AppParam."""
    try:
        root = ET.fromstring(text.strip())
        return (root.findtext("id") or "").strip(), root.findtext("value") or "", (root.findtext("type") or "").strip()
    except ET.ParseError:  # Mantid inserts values raw (Mantid LSFJobManager.cpp buildSubmitBody): take them verbatim
        key = re.search(r"<id>(.*?)</id>", text, re.DOTALL)
        start, end = text.find("<value>"), text.rfind("</value>")
        if not key or start == -1 or end < start:
            raise WireError(f"AppParam not understood: {text[:200]!r}") from None  # assumed: wording
        kind = re.search(r"<type>(.*?)</type>", text[end:], re.DOTALL)
        return key.group(1).strip(), text[start + 7 : end], kind.group(1).strip() if kind else ""


def parse_upload(body: bytes, content_type: str) -> tuple[str, str, bytes]:
    """(DirName, file name, file bytes) of an ``upfile`` body (Mantid LSFJobManager.cpp
    buildUploadBody). The file part is the last one; its data ends at the closing delimiter found from the end, minus an
    optional CRLF (Mantid sends none)."""
    delim = b"--" + boundary_of(content_type)
    end = body.rfind(delim + b"--")
    if end == -1:
        raise WireError("upload body without its closing delimiter")  # assumed: wording
    pieces = body[:end].split(delim, 2)
    if len(pieces) != 3:
        raise WireError("upload body needs a DirName part and a file part")  # assumed: wording
    dir_headers, dir_body = _split_part(pieces[1])
    file_headers, data = _split_part(pieces[2])
    if field_name(dir_headers) != "DirName":
        raise WireError("the first upload part must be DirName")  # assumed: wording
    filename = re.search(r'\bfilename="([^"]*)"', file_headers.get("content-disposition", ""))
    name = filename.group(1) if filename else field_name(file_headers)
    return _strip_eol(dir_body).decode("utf-8").strip(), name, _strip_eol(data)


def xml_error(root: str, message: str, with_id: bool = False) -> str:
    """``<Root><errMsg>..</errMsg>[<id>0</id>]</Root>`` (Mantid SCARFLSFJobManager.cpp, pac_api.py)."""
    tail = "<id>0</id>" if with_id else ""
    return f"{XML_HEAD}<{root}><errMsg>{escape(message)}</errMsg>{tail}</{root}>"


def xml_element(root: str, fields: Mapping[str, str]) -> str:
    """``<Root>`` with the given children in alphabetical order (JAXB style,
    Mantid LSFJobManager.cpp genOutputStatusInfo)."""
    return f"{XML_HEAD}<{root}>{_children(fields)}</{root}>"


def xml_jobs(jobs: Iterable[Mapping[str, str]]) -> str:
    """A ``<Jobs>`` answer; ``<note>`` when there are none (Mantid SCARFLSFJobManager.cpp, pac_api.py)."""
    items = [f"<Job>{_children(job)}</Job>" for job in jobs]
    if not items:
        return f"{XML_HEAD}<Jobs><note>No job found</note></Jobs>"  # <note> read by pacclient.py; assumed: wording
    return f"{XML_HEAD}<Jobs>{''.join(items)}</Jobs>"


def _children(fields: Mapping[str, str]) -> str:
    return "".join(f"<{k}>{escape(v)}</{k}>" for k, v in sorted(fields.items()))


def parse_logon(body: bytes) -> tuple[str, str]:
    """(name, password) of a ``logon/`` body ``<User><name/><pass/></User>``."""
    text = body.decode("utf-8", "replace")
    name = re.search(r"<name>(.*?)</name>", text, re.DOTALL)
    password = re.search(r"<pass>(.*?)</pass>", text, re.DOTALL)
    if not name or not password:
        raise WireError("logon body without <name> and <pass>")  # assumed: wording
    return unescape(name.group(1)).strip(), unescape(password.group(1))


def download_target(body: bytes) -> str:
    """The file asked for by a ``file/<id>`` body, as real clients send it:

    - a whole ``jobfiles`` entry ``host*path*TYPE*size*flag`` (Mantid, LSFJobManager.cpp
      getOneJobFile; SCARF's pac_api.py of that era): the path is its 2nd ``*`` field;
    - a base name, optionally ``name|compress_cmd`` (IBM's pacclient.py downloadFile,
      ``getFileNameByFullPath``; lsf-faas lsflib.py downloadFiles, ``os.path.basename``).

    Anything else (an absolute or relative path outside an entry) was not shown to be
    accepted by a real server, so it is refused (:class:`WireError`).
    """
    text = body.decode("utf-8", "replace").strip()
    fields = text.split("*")
    if len(fields) in (2, 5) and fields[1].strip():
        return fields[1].strip()
    name = text.split("|", 1)[0]
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise WireError(f"not a job file entry or base name: {text[:200]!r}")  # assumed: wording
    return name


def multipart_file(name: str, data: bytes) -> tuple[bytes, str]:
    """(body, Content-Type) of a newer PAC's ``file/<id>`` answer: one MIME part per file,
    ``Content-ID: <name>`` last before the blank line, the bytes, CRLF, the closing
    delimiter. Shape read by IBM's clients (lsf-faas lsflib.py parseDownloadContentBytes;
    pacclient.py parseDownloadContent): boundary on the first line, data from the blank line
    after ``Content-ID`` to the CRLF before the next delimiter. [assumed] the boundary value,
    the Content-Type header of the answer and the part's Content-Type: not shown by a source.
    """
    boundary = "_pac_emulator_download_boundary"
    head = f"--{boundary}\r\nContent-Type: application/octet-stream\r\nContent-ID: <{name}>\r\n\r\n".encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), f"multipart/mixed; boundary={boundary}"
