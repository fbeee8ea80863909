"""File transfers as the real PAC clients do them (issue 11 items 3, 4 and 5).

Sources: Mantid, Framework/RemoteJobManagers/src/LSFJobManager.cpp (getAllJobFiles sends each
``jobfiles`` entry back whole as the ``file/<id>`` body); IBM's pacclient.py downloadFile and
github.com/IBMSpectrumComputing/lsf-faas src/lsf_faas/lsflib.py downloadFiles (base name as
the body; the answer read as MIME multipart by boundary and Content-ID); IBM's pac_api.py
uploadLargeFile (``if "successfully" not in content``: failure).
"""

from __future__ import annotations

import http.client
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pac_emulator import PacEmulator, TlsFiles
from remotejobs_lsf_web import LsfWebResource, _wire

from remotejobs.errors import TransferError
from remotejobs.models import JobSpec, JobState

Opener = Callable[..., LsfWebResource]
TEXT = "line one\nline two\n"
JOB = JobSpec(executable="/bin/printf", arguments=(TEXT,), name="fidelity-files")


@pytest.fixture
def alice(open_lsf_web: Opener, users: list[tuple[str, str]]) -> Iterator[LsfWebResource]:
    resource = open_lsf_web()
    resource.login(*users[0])
    yield resource
    resource.close()


def _output(paths: list[Path]) -> str:
    return next(p.read_text() for p in paths if p.name.endswith(".output"))


def test_download_sends_the_listing_entry_by_default(alice: LsfWebResource, pac: PacEmulator,
                                                     tmp_path: Path) -> None:
    job = alice.submit(JOB)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    before = len(pac.server.download_bodies)
    assert _output(job.download(tmp_path)).startswith(TEXT)
    bodies = pac.server.download_bodies[before:]
    assert bodies and all(len(b.split("*")) == 5 and b.split("*")[2] == "FILE" for b in bodies)


def test_download_body_basename(open_lsf_web: Opener, users: list[tuple[str, str]], pac: PacEmulator,
                                tmp_path: Path) -> None:
    resource = open_lsf_web(download_body="basename")
    resource.login(*users[0])
    job = resource.submit(JOB)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    before = len(pac.server.download_bodies)
    assert _output(job.download(tmp_path)).startswith(TEXT)
    bodies = pac.server.download_bodies[before:]
    assert bodies and all("/" not in b and "*" not in b for b in bodies)
    resource.close()


def test_emulator_refuses_a_bare_absolute_path(alice: LsfWebResource, pac: PacEmulator, tls: TlsFiles) -> None:
    """No real client was shown to send a bare absolute path: the emulator answers 404."""
    job = alice.submit(JOB)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    entries = [e for e in (_wire.parse_jobfiles(pac.service.job_files(alice.user or "", job.id)) or [])
               if e.kind == "FILE"]
    assert entries
    parts = urlsplit(pac.base_url)
    conn = http.client.HTTPSConnection(parts.hostname or "", parts.port,
                                       context=ssl.create_default_context(cafile=str(tls.ca_cert)), timeout=30)
    token = alice._pac.token.get_secret_value() if alice._pac else ""
    cookie = _wire.cookie_header(token)
    conn.request("GET", f"/platform/webservice/pacclient/file/{job.id}", body=entries[0].path.encode(),
                 headers={"Cookie": cookie, "Content-Type": "text/plain"})
    answer = conn.getresponse()
    assert (answer.status, answer.read()) == (404, b"")
    conn.close()


def test_multipart_download_answers_are_unpacked(alice: LsfWebResource, pac: PacEmulator, tmp_path: Path) -> None:
    job = alice.submit(JOB)
    assert job.wait(timeout=120).state is JobState.COMPLETED
    pac.server.multipart_downloads = True
    try:
        paths = job.download(tmp_path)
    finally:
        pac.server.multipart_downloads = False
    out = _output(paths)
    assert out.startswith(TEXT) and "Content-ID" not in out and "--_pac_emulator" not in out


def test_parse_multipart_as_ibms_clients_do() -> None:
    """Both shapes IBM's parser accepts: boundary on the first line, or on the second after an
    empty first line; data between the blank line and the CRLF before the next delimiter."""
    from remotejobs_lsf_web._multipart import is_multipart, parse_multipart

    body = b"--b0\r\nContent-Type: application/octet-stream\r\nContent-ID: <out.txt>\r\n\r\nA\r\nB\r\n--b0--\r\n"
    assert is_multipart(body, "") and parse_multipart(body, "") == [("out.txt", b"A\r\nB")]
    two = (b"\r\n--b1\r\nContent-ID: </h/j/1.out>\r\n\r\nx\r\n--b1\r\nContent-ID: <2.err>\r\n\r\n\r\n--b1--")
    assert parse_multipart(two, "") == [("1.out", b"x"), ("2.err", b"")]
    assert parse_multipart(body, "multipart/mixed; boundary=b0") == [("out.txt", b"A\r\nB")]
    assert not is_multipart(b"--not a wrapper\nplain text\n", "text/plain")


def test_upload_without_the_success_text_is_a_failure(alice: LsfWebResource, pac: PacEmulator,
                                                     tmp_path: Path) -> None:
    local = tmp_path / "in.txt"
    local.write_text("x")
    pac.inject("upfile", body="<html>Session portal</html>")
    with pytest.raises(TransferError, match="not confirmed"):
        alice.upload(local, "pac-uploads")
    assert alice.upload(local, "pac-uploads").endswith("/in.txt")
