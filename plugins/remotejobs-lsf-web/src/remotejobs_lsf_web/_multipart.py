"""MIME multipart answers of ``file/<id>`` (newer PAC versions). Pure, no I/O.

IBM's clients read every download answer as multipart: the boundary is the first line
(the second when the first is empty), each part holding a file carries ``Content-ID:
<name>`` and its bytes follow the blank line after the headers, up to the CRLF before the
next delimiter (github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py
``parseDownloadContentBytes``; the same parser is ``parseDownloadContent`` of IBM's
``pacclient.py`` for PAC 10). Older servers (Mantid's LSFJobManager.cpp ``getOneJobFile``)
answer the raw file bytes.
"""

from __future__ import annotations

import re

__all__ = ["is_multipart", "parse_multipart"]

_HEAD_END = re.compile(rb"\r?\n\r?\n")


def _boundary(content: bytes, content_type: str) -> bytes | None:
    match = re.search(r'(?i)^multipart/[\w.+-]+;.*\bboundary="?([^";]+)"?', content_type.strip())
    if match:
        return match.group(1).strip().encode()
    for raw_line in content.split(b"\n", 2)[:2]:
        line = raw_line.strip()
        if line.startswith(b"--") and len(line) > 2:
            return line[2:]
        if line:
            return None
    return None


def is_multipart(content: bytes, content_type: str) -> bool:
    """True when the answer is a multipart wrapper: a multipart Content-Type, or (no such
    header) a first delimiter line, a ``Content-ID`` header and the closing delimiter, the
    shape IBM's clients rely on."""
    if content_type.strip().lower().startswith("multipart/"):
        return True
    boundary = _boundary(content, "")
    return (boundary is not None and b"Content-ID:" in content[:4096]
            and content.rstrip().endswith(b"--" + boundary + b"--"))


def parse_multipart(content: bytes, content_type: str) -> list[tuple[str, bytes]] | None:
    """[(file name from Content-ID, bytes)] of a multipart answer, in order; None when the
    body has no delimiter. Parts without a ``Content-ID`` are skipped; names are reduced
    to their last path component (``/`` or ``\\``)."""
    boundary = _boundary(content, content_type)
    if boundary is None:
        return None
    delimiter = b"--" + boundary
    pieces = content.split(delimiter)
    if len(pieces) < 3:
        return None
    files = []
    for piece in pieces[1:]:
        if piece.startswith(b"--"):
            break  # closing delimiter
        head_end = _HEAD_END.search(piece)
        if head_end is None:
            continue
        headers = piece[: head_end.start()].decode("utf-8", "replace")
        cid = re.search(r"(?im)^\s*Content-ID:\s*<([^>\r\n]*)>", headers)
        if cid is None:
            continue
        data = piece[head_end.end():]
        data = data[:-2] if data.endswith(b"\r\n") else data[:-1] if data.endswith(b"\n") else data
        files.append((re.split(r"[/\\]", cid.group(1))[-1], data))
    return files
