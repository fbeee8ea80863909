"""The emulated PAC speaks to real clients' quirks (pac_emulator/README.md Sources), tested with raw HTTP."""

from __future__ import annotations

import http.client
import os
import ssl
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pac_emulator import PacEmulator, TlsFiles
from pac_emulator.engine import SlurmEngine
from pac_emulator.service import PacService
from remotejobs_lsf_web import _wire


class Raw:
    """One keep-alive connection to the emulator: ``send(method, path, body, headers, chunked)``."""

    def __init__(self, pac: PacEmulator, tls: TlsFiles) -> None:
        parts = urlsplit(pac.base_url)
        context = ssl.create_default_context(cafile=str(tls.ca_cert))
        self.conn = http.client.HTTPSConnection(parts.hostname or "", parts.port, context=context, timeout=30)

    def send(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
             chunked: bool = False) -> tuple[int, bytes]:
        headers = dict(headers or {})
        if chunked and body is not None:
            self.conn.request(method, path, body=iter([body[:7], body[7:]]), headers=headers, encode_chunked=True)
        else:
            self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response.read()


@pytest.fixture
def raw(pac: PacEmulator, tls: TlsFiles) -> Iterator[Raw]:
    client = Raw(pac, tls)
    yield client
    client.conn.close()


def mantid_login(raw: Raw, user: str, password: str) -> tuple[str, str]:
    """Mantid's SCARFTomoReconstruction login: GET with a double slash, values not encoded."""
    status, body = raw.send("GET", f"//cgi-bin/token.py?username={user}&password={password}")
    assert status == 200
    url, token = body.decode().splitlines()[:2]
    return url, "platform_token=" + token.replace('"', "#quote#")


def test_token_script_get_double_slash_and_wrong_password(raw: Raw, pac: PacEmulator,
                                                          users: list[tuple[str, str]]) -> None:
    url, cookie = mantid_login(raw, *users[0])
    assert url == pac.base_url and cookie.startswith(f"platform_token={users[0][0]}#quote#")
    status, body = raw.send("GET", f"/cgi-bin/token.py?username={users[0][0]}&password=nope")
    assert status == 200 and b"https://" not in body and b"Invalid username or password" in body


def test_ping_needs_no_login_and_uses_mantids_spelling(raw: Raw) -> None:
    status, body = raw.send("GET", "/platform/webservice/pacclient/ping/", b"https://x/platform/",
                            {"Content-Type": "application/xml"})  # GET with a body (stock client)
    assert status == 200 and b"Web Services are ready" in body


def test_jobs_with_and_without_question_mark_and_expired_token(raw: Raw, pac: PacEmulator,
                                                               users: list[tuple[str, str]]) -> None:
    _, cookie = mantid_login(raw, *users[1])
    headers = {"Cookie": cookie, "Content-Type": "application/xml", "Accept": _wire.ACCEPT}
    answers = [raw.send("GET", path, headers=headers)[1]
               for path in ("/platform/webservice/pacclient/jobs", "/platform/webservice/pacclient/jobs?",
                            "/platform/webservice/pacclient/jobs/", "/platform/webservice/pacclient/jobs?details=yes")]
    assert all(a.startswith(b"<?xml") and b"<Jobs>" in a for a in answers)
    assert raw.send("GET", "/platform/webservice/pacclient/jobs", headers={})[1].count(b"<errMsg>") == 1
    pac.expire_tokens(users[1][0])
    status, body = raw.send("GET", "/platform/webservice/pacclient/jobs", headers=headers)
    assert status == 200 and b"<Jobs><errMsg>Your current login session was logout</errMsg>" in body


def submit_raw(raw: Raw, cookie: str, app: str, params: list[tuple[str, str]], chunked: bool) -> bytes:
    headers = {"Cookie": cookie, "Content-Type": f"multipart/mixed; boundary={_wire.SUBMIT_BOUNDARY}"}
    status, body = raw.send("POST", "/platform/webservice/pacclient/submitapp",
                            _wire.submit_body(app, params), headers, chunked=chunked)
    assert status == 200
    return body


def test_full_job_cycle_with_chunked_posts_and_get_bodies(raw: Raw, users: list[tuple[str, str]]) -> None:
    _, cookie = mantid_login(raw, *users[0])
    auth = {"Cookie": cookie, "Content-Type": "application/xml"}
    # upload as Mantid does: chunked, no CRLF before the closing delimiter (Mantid LSFJobManager.cpp buildUploadBody)
    b = _wire.UPLOAD_BOUNDARY
    home = f"/home/{users[0][0]}"
    upload = (f"--{b}\r\nContent-Disposition: form-data; name=\"DirName\"\r\nContent-ID: <DirName>\r\n\r\n"
              f"{home}/pac-raw\r\n--{b}\r\nContent-Disposition: form-data; name=\"in.txt\"\r\n"
              "Content-Type: application/octet-stream \r\nContent-Transfer-Encoding: UTF-8\r\n"
              f"Content-ID: <in.txt>\r\n\r\nline-from-upload--{b}--\r\n\r\n").encode()
    status, text = raw.send("POST", "/platform/webservice/pacclient/upfile/0", upload,
                            {"Cookie": cookie, "Content-Type": f"multipart/mixed; boundary={b}"}, chunked=True)
    assert status == 200 and b"successfully" in text
    params = [("COMMANDTORUN", f"/bin/cat {home}/pac-raw/in.txt"), ("OUTPUT_FILE", "%J.output"),
              ("ERROR_FILE", "%J.error"), ("JOB_NAME", "raw_job")]
    answer = submit_raw(raw, cookie, "generic", params, chunked=True)
    job_id = _wire.parse_submit_id(answer.decode())
    assert job_id, answer
    deadline = time.monotonic() + 90
    while True:
        body = raw.send("GET", f"/platform/webservice/pacclient/jobs/{job_id}", headers=auth)[1].decode()
        jobs = _wire.parse_jobs(body) or []
        if (jobs and jobs[0].status in ("Done", "Exit")) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert jobs[0].status == "Done" and jobs[0].cmd == f"/bin/cat {home}/pac-raw/in.txt" and "<extStatus>-" in body
    listing = raw.send("GET", f"/platform/webservice/pacclient/jobfiles/{job_id}", headers=auth)[1].decode()
    entries = _wire.parse_jobfiles(listing) or []
    assert {e.name for e in entries} == {f"{job_id}.output", f"{job_id}.error"}
    output = next(e for e in entries if e.name.endswith(".output"))
    whole_entry = listing.split(";")[[e.name for e in entries].index(output.name)]
    for body_form in (whole_entry, output.name):  # Mantid, newer IBM client
        got = raw.send("GET", f"/platform/webservice/pacclient/file/{job_id}", body_form.encode(), auth)[1]
        assert got.startswith(b"line-from-upload")
    for refused in (output.path, "/etc/shadow", "PAC Server*/etc/shadow*FILE*1*true"):  # bare path; outside
        assert raw.send("GET", f"/platform/webservice/pacclient/file/{job_id}", refused.encode(), auth) == (404, b"")
    kill = raw.send("GET", f"/platform/webservice/pacclient/jobOperation/kill/{job_id}", headers=auth)[1]
    assert _wire.error_message(kill.decode()) == f"Job <{job_id}>: Job has already finished"
    assert b"<id>0</id>" in kill
    assert raw.send("GET", "/platform/webservice/pacclient/logout/", headers=auth) == (200, b"ok")
    after = raw.send("GET", f"/platform/webservice/pacclient/jobs/{job_id}", headers=auth)[1]
    assert b"<errMsg>" in after


def test_unknown_application_is_refused_with_id_0(raw: Raw, users: list[tuple[str, str]]) -> None:
    _, cookie = mantid_login(raw, *users[0])
    answer = submit_raw(raw, cookie, "NO_SUCH_APP", [("INPUT_FILE", "/bin/true")], chunked=False).decode()
    assert "Application NO_SUCH_APP does not exist" in (_wire.error_message(answer) or "")
    assert "<id>0</id>" in answer and _wire.parse_submit_id(answer) is None


def test_standard_logon_with_jsession_cookie(raw: Raw, users: list[tuple[str, str]]) -> None:
    status, body = raw.send("GET", "/platform/webservice/pacclient/logon/", _wire.logon_body(*users[0]).encode(),
                            {"Content-Type": "application/xml", "Cookie": "platform_token="})
    parsed = _wire.parse_logon(body.decode())
    assert status == 200 and parsed is not None and parsed[1]
    cookie = _wire.cookie_header(*parsed)
    assert ",JSESSIONID=" in cookie
    jobs = raw.send("GET", "/platform/webservice/pacclient/jobs", headers={"Cookie": cookie})[1]
    assert b"<errMsg>" not in jobs


def test_jobs_run_through_the_lsf_emulator(pac: PacEmulator, cluster: dict[str, Any]) -> None:
    """The test cluster provides the LSF emulator, so the emulated PAC uses it (unless
    PAC_EMULATOR_ENGINE=slurm asks for the fallback)."""
    assert Path(cluster["commands"]["lsf_emulator"], "bsub").exists()
    assert pac.engine_name == ("slurm" if os.environ.get("PAC_EMULATOR_ENGINE") == "slurm" else "lsf")


def test_slurm_fallback_engine_runs_a_job(users: list[tuple[str, str]]) -> None:
    service = PacService(SlurmEngine())
    user = users[1][0]
    job_id = service.submit(user, "generic", {"COMMANDTORUN": "/bin/sh -c 'echo fb; exit 4'", "JOB_NAME": "fallback"})
    deadline = time.monotonic() + 90
    while (rows := service.jobs(user, ids=[job_id], details=True)) and rows[0]["status"] not in ("Done", "Exit"):
        assert time.monotonic() < deadline, rows
        time.sleep(0.2)
    assert rows[0]["status"] == "Exit" and rows[0]["exitCode"] == "4"
    assert service.read_file(user, job_id, f"{job_id}.output") == b"fb\n"
