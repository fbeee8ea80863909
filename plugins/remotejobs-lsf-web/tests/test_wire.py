"""Pure tests of the wire formats (client side, and its round trip through the emulator's parsers)."""

from __future__ import annotations

import pytest
from pac_emulator import wire as server_wire
from remotejobs_lsf_web import _wire

SCARF_KILL_ERROR = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><Job><errMsg>Job &lt;417940&gt;: '
    "Job has already finished</errMsg><id>0</id></Job>"
)  # Mantid SCARFLSFJobManager.cpp, pac_api.py, a real SCARF answer
MOCK_JOBS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Jobs><Job><cmd>python /work/imat/webservice_test/'
    "test.py.py /work/imat/webservice_test/test_out/</cmd><extStatus>-</extStatus><id>444449</id>"
    "<name>Mantid_tomography_1</name><status>Running</status></Job></Jobs>"
)  # Mantid LSFJobManager.cpp genOutputStatusInfo
JOBFILES = (
    "PAC Server*/home/isisg/scarf362/../scarf362/Mantid_tomography_1_1423743450375PtlPj/417666.error*FILE*281*true;"
    "PAC Server*/home/isisg/scarf362/Mantid_tomography_1_1423743450375PtlPj/417666.output*FILE*1145*true;"
    "PAC Server*/home/isisg/scarf362/Mantid_tomography_1_1423743450375PtlPj/sub*DIR*4096*true;\n"
)  # Mantid LSFJobManager.cpp getAllJobFiles


def test_cookie_replaces_quotes_and_appends_jsession() -> None:
    token = 'scarf362"2015-02-10T18:50:00Z"Mv2ncX8Z0TpH0lZHxMyXNVCb7ucT6jHNOx'
    expected = "platform_token=scarf362#quote#2015-02-10T18:50:00Z#quote#Mv2ncX8Z0TpH0lZHxMyXNVCb7ucT6jHNOx"
    assert _wire.cookie_header(token) == expected
    assert _wire.cookie_header("a\"b", "J1").endswith("#quote#b,JSESSIONID=J1")


@pytest.mark.parametrize(
    ("body", "marker", "expected"),
    [
        ("https://portal.scarf.rl.ac.uk:8443/platform/\nscarf9\"2011-02-10T18:50:00Z\"cT6j\n", None,
         ("https://portal.scarf.rl.ac.uk:8443/platform/", 'scarf9"2011-02-10T18:50:00Z"cT6j')),
        ("https://h:1/pltf\ntok\n", None, ("https://h:1/pltf/", "tok")),
        ("https://h:1/pltf/\ntok\n", "https://portal.scarf.rl.ac.uk", None),
        ("response OK - mocked up", None, None),
        ("Error: wrong password\n", None, None),
    ],
)
def test_token_script_success_is_recognised_by_the_base_url(
    body: str, marker: str | None, expected: tuple[str, str] | None
) -> None:
    assert _wire.parse_token_script(body, marker) == expected


def test_logon_body_escapes_and_answer_parses() -> None:
    assert _wire.logon_body("u", "p<&>") == "<User><name>u</name> <pass>p&lt;&amp;&gt;</pass> </User>"
    assert server_wire.parse_logon(_wire.logon_body("u", "p<&>\"x").encode()) == ("u", 'p<&>"x')
    assert _wire.parse_logon("<User><token>root&quot;2015&quot;57hG=</token><jtoken>J</jtoken></User>") == (
        'root"2015"57hG=', "J")
    assert _wire.parse_logon("<User><errMsg>bad</errMsg></User>") is None


def test_error_message_is_unescaped() -> None:
    assert _wire.error_message(SCARF_KILL_ERROR) == "Job <417940>: Job has already finished"
    assert _wire.error_message(MOCK_JOBS) is None
    assert _wire.error_message("<Jobs><errMsg>a &amp; &quot;b&quot;</errMsg></Jobs>") == 'a & "b"'


def test_submit_id_after_the_last_id_tag() -> None:
    assert _wire.parse_submit_id('<?xml version="1.0"?><Job><id>417666</id></Job>') == "417666"
    assert _wire.parse_submit_id(SCARF_KILL_ERROR) is None  # <id>0</id>
    assert _wire.parse_submit_id("no id") is None


def test_jobs_xml_as_mantid_mock_and_note() -> None:
    jobs = _wire.parse_jobs(MOCK_JOBS)
    assert jobs is not None and len(jobs) == 1
    job = jobs[0]
    assert (job.id, job.name, job.status, job.ext_status) == ("444449", "Mantid_tomography_1", "Running", "-")
    assert job.cmd == "python /work/imat/webservice_test/test.py.py /work/imat/webservice_test/test_out/"
    assert _wire.parse_jobs("<Jobs><note>No job found</note></Jobs>") == []
    assert _wire.parse_jobs("response OK - mocked up") is None
    assert _wire.parse_jobs('<!DOCTYPE x [<!ENTITY a "b">]><Jobs/>') is None


def test_jobs_details_fields() -> None:
    text = server_wire.xml_jobs([{"cmd": "c", "exitCode": "3", "extStatus": "-", "id": "5", "name": "n",
                                  "status": "Exit", "user": "u", "endTime": "2025-01-02T03:04:05"}])
    assert text.index("<cmd>") < text.index("<endTime>") < text.index("<exitCode>") < text.index("<id>")
    (job,) = _wire.parse_jobs(text) or []
    assert (job.exit_code, job.user, job.end_time and job.end_time.year) == (3, "u", 2025)


def test_jobfiles_entries() -> None:
    files = _wire.parse_jobfiles(JOBFILES)
    assert files is not None
    assert [(f.name, f.kind, f.size) for f in files] == [
        ("417666.error", "FILE", 281), ("417666.output", "FILE", 1145), ("sub", "DIR", 4096)]
    assert _wire.parse_jobfiles("Job 5 No matching job found") is None


def test_submit_body_round_trips_through_the_server_parser() -> None:
    params = [("INPUT_ARGS", "a '<b>' & \"c\"\nline"), ("JOB_NAME", "ünï ✓"), ("INPUT_FILE", "/x")]
    body = _wire.submit_body("generic", params)
    sent = server_wire.parse_submit(body, f"multipart/mixed; boundary={_wire.SUBMIT_BOUNDARY}")
    assert sent.app == "generic" and sent.params == dict(params) and sent.file_params == {} and sent.files == {}


def test_server_accepts_mantid_raw_xml_values() -> None:
    """Mantid inserts AppParam values without escaping (Mantid LSFJobManager.cpp buildSubmitBody)."""
    outer, inner = _wire.SUBMIT_BOUNDARY, _wire.SUBMIT_INNER_BOUNDARY
    body = (
        f"--{outer}\r\nContent-Disposition: form-data; name=\"AppName\"\r\nContent-ID: <AppName>\r\n\r\n"
        f"TOMOPY_0_1_9\r\n--{outer}\r\nContent-Disposition: form-data; name=\"data\"\r\n"
        f"Content-Type: multipart/mixed; boundary={inner}\r\nContent-ID: <data>\r\n\r\n"
        f"--{inner}\r\nContent-Disposition: form-data; name=\"INPUT_ARGS\"\r\n"
        "Content-Type: application/xml; charset=US-ASCII\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        "<AppParam><id>INPUT_ARGS</id><value>--a=<b> & c</value><type></type></AppParam>\r\n"
        f"--{inner}--\r\n\r\n--{outer}--\r\n\r\n"
    ).encode()
    sent = server_wire.parse_submit(body, f"multipart/mixed; boundary={outer}")
    assert (sent.app, sent.params) == ("TOMOPY_0_1_9", {"INPUT_ARGS": "--a=<b> & c"})


@pytest.mark.parametrize("data", [b"", b"plain", b"\x00\xffbinary\r\n--x", "ünïcødé\n".encode()])
def test_upload_body_round_trips(data: bytes) -> None:
    body = _wire.upload_body("/home/u/in", "f ü.txt", data)
    parsed = server_wire.parse_upload(body, f"multipart/mixed; boundary={_wire.UPLOAD_BOUNDARY}")
    assert parsed == ("/home/u/in", "f ü.txt", data)


def test_server_accepts_mantid_upload_without_crlf_before_the_close() -> None:
    b = _wire.UPLOAD_BOUNDARY
    body = (f"--{b}\r\nContent-Disposition: form-data; name=\"DirName\"\r\nContent-ID: <DirName>\r\n\r\n"
            f"/work/imat\r\n--{b}\r\nContent-Disposition: form-data; name=\"r.txt\"\r\n"
            "Content-Type: application/octet-stream \r\nContent-Transfer-Encoding: UTF-8\r\n"
            f"Content-ID: <r.txt>\r\n\r\nDATA--{b}--\r\n\r\n").encode()
    assert server_wire.parse_upload(body, f"multipart/mixed; boundary={b}") == ("/work/imat", "r.txt", b"DATA")


@pytest.mark.parametrize(
    ("body", "target"),
    [(b"PAC Server*/h/u/j/1.error*FILE*281*true", "/h/u/j/1.error"),
     (b"1.output", "1.output"), (b"1.output|gzip", "1.output")],
)
def test_download_body_forms(body: bytes, target: str) -> None:
    assert server_wire.download_target(body) == target


@pytest.mark.parametrize("body", [b"/abs/x", b"sub/1.output", b"..", b""])
def test_download_bodies_no_real_client_sends_are_refused(body: bytes) -> None:
    with pytest.raises(server_wire.WireError):
        server_wire.download_target(body)
