"""Submissions to PAC's ``generic`` application as IBM's own clients send them (issue 11 item 1).

Sources: github.com/IBMSpectrumComputing/lsf-faas, src/lsf_faas/lsflib.py ``submitJob`` and
``encodeBody`` (AppName ``generic``; ``COMMANDTORUN``, ``OUTPUT_FILE``, ``ERROR_FILE`` as
plain AppParams; the script as an AppParam ``INPUT_FILE`` of type ``file`` naming it, and
as a part of the outer body with its ``filename`` and ``Content-ID``); IBM's pacclient
``pac_api.py`` ``encode_body`` (the same layout). SCARF's applications keep Mantid's plain
``INPUT_FILE``/``INPUT_ARGS`` (mantidproject/mantid, LSFJobManager.cpp ``buildSubmitBody``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pac_emulator import PacEmulator
from pac_emulator import wire as server_wire
from remotejobs_lsf_web import LsfWebResource, _wire

from remotejobs.errors import InvalidJobSpecError, SubmissionError
from remotejobs.models import JobSpec, JobState

Opener = Callable[..., LsfWebResource]
SCRIPT = "#!/bin/sh\nprintf 'uploaded %s\\n' \"$@\"\n"


def _lsf_faas_body(script: bytes) -> bytes:
    """A body laid out line by line as lsf-faas ``encodeBody`` lays it out for
    ``submitJob('lsf_faas.py', None, ...)`` (its boundaries and header lines)."""
    outer, inner = "_lsf_faas_boundary", "_lsf_faas_file_boundary"
    lines = [f"--{outer}", 'Content-Disposition: form-data; name="AppName"', "Content-ID: <AppName>", "",
             "generic", f"--{outer}", 'Content-Disposition: form-data; name="data"',
             f"Content-Type: multipart/mixed; boundary={inner}", "Accept-Language: en-us", "Content-ID: <data>", ""]
    for key, value, kind in (("COMMANDTORUN", "python3 lsf_faas.py", ""), ("ERROR_FILE", "./lsf.errput", ""),
                             ("OUTPUT_FILE", "./lsf.output", ""), ("INPUT_FILE", "lsf_faas.py", "file")):
        lines += [f"--{inner}", f'Content-Disposition: form-data; name="{key}"',
                  "Content-Type: application/xml; charset=UTF-8", "Content-Transfer-Encoding: 8bit",
                  "Accept-Language: en-us", "",
                  f"<AppParam><id>{key}</id><value>{value}</value><type>{kind}</type></AppParam>"]
    lines += [f"--{inner}--", "", f"--{outer}", 'Content-Disposition: form-data; name="lsf_faas.py"; '
              'filename="lsf_faas.py"', "Content-Type: application/octet-stream",
              "Content-Transfer-Encoding: binary", "Accept-Language: en-us", "Content-ID: <lsf_faas.py>", ""]
    return "\r\n".join(lines).encode() + b"\r\n" + script + f"\r\n--{outer}--\r\n".encode()


def test_the_emulator_reads_an_lsf_faas_submission() -> None:
    sent = server_wire.parse_submit(_lsf_faas_body(b"print(1)\n"), "multipart/mixed; boundary=_lsf_faas_boundary")
    assert sent.app == "generic"
    assert sent.params == {"COMMANDTORUN": "python3 lsf_faas.py", "ERROR_FILE": "./lsf.errput",
                           "OUTPUT_FILE": "./lsf.output"}
    assert sent.file_params == {"INPUT_FILE": "lsf_faas.py"} and sent.files == {"lsf_faas.py": b"print(1)\n"}


@pytest.mark.parametrize("data", [b"", b"#!/bin/sh\nexit 0\n", b"\x00\xff\r\n--x\r\n"])
def test_submit_body_uploads_a_file_as_lsf_faas_does(data: bytes) -> None:
    body = _wire.submit_body("generic", [("COMMANDTORUN", "./run.sh")], [("INPUT_FILE", "run.sh", data)])
    assert (b"<AppParam><id>INPUT_FILE</id><value>run.sh</value><type>file</type></AppParam>\r\n"
            b"--_Part_1_701508.1145579811786--\r\n\r\n--bqJky99mlBWa-ZuqjC53mG6EzbmlxB\r\n"
            b'Content-Disposition: form-data; name="run.sh"; filename="run.sh"\r\n'
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n"
            b"Content-ID: <run.sh>\r\n\r\n" + data + b"\r\n--bqJky99mlBWa-ZuqjC53mG6EzbmlxB--\r\n") in body
    sent = server_wire.parse_submit(body, f"multipart/mixed; boundary={_wire.SUBMIT_BOUNDARY}")
    assert sent.file_params == {"INPUT_FILE": "run.sh"} and sent.files == {"run.sh": data}
    with pytest.raises(ValueError, match="cannot be sent"):
        _wire.submit_body("generic", [], [("INPUT_FILE", 'a"b', b"")])


def test_generic_runs_an_uploaded_executable(open_lsf_web: Opener, users: list[tuple[str, str]],
                                             tmp_path: Path) -> None:
    """``upload_executable``: the local script travels with the submission (not executable
    here, as an upload carries no mode) and runs from the job directory."""
    script = tmp_path / "analyse.sh"
    script.write_text(SCRIPT)
    resource = open_lsf_web(upload_executable=True)
    resource.login(*users[0])
    try:
        job = resource.submit(JobSpec(executable=str(script), arguments=("a b", "c"), name="fidelity-upload"))
        assert job.wait(timeout=120).state is JobState.COMPLETED, job.status().reason
        (tmp_path / "out").mkdir()
        paths = job.download(tmp_path / "out")
        assert next(p.read_text() for p in paths if p.name.endswith(".output")).startswith("uploaded a b\nuploaded c\n")
        with pytest.raises(InvalidJobSpecError, match="Cannot read the executable"):
            resource.submit(JobSpec(executable=str(tmp_path / "missing.sh")))
    finally:
        resource.close()


def test_generic_refuses_a_plain_input_file(open_lsf_web: Opener, users: list[tuple[str, str]],
                                            pac: PacEmulator) -> None:
    """No source sends the generic application INPUT_FILE as a plain value (the old mapping)."""
    resource = open_lsf_web(app_params={"INPUT_FILE": "/bin/true"})
    resource.login(*users[0])
    try:
        with pytest.raises(SubmissionError, match="INPUT_FILE of application generic must be an uploaded file"):
            resource.submit(JobSpec(executable="/bin/true"))
    finally:
        resource.close()
