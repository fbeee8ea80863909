"""The lsf-web parsers on every real PAC answer in golden/real/ (provenance: SOURCES.md), and the
emulator's answers compared with them."""

from __future__ import annotations

from pathlib import Path

from pac_emulator import wire as server_wire
from remotejobs_lsf_web import _wire
from remotejobs_lsf_web._files import download_body
from remotejobs_lsf_web.resource import _FINISHED

REAL = Path(__file__).parent / "golden" / "real"


def test_every_real_answer_is_listed_in_sources() -> None:
    files = sorted(p.name for p in REAL.iterdir() if p.name != "SOURCES.md")
    sources = (REAL / "SOURCES.md").read_text()
    assert len(files) == 3 and all(f"`{name}`" in sources for name in files)


def test_token_script_answer() -> None:
    parsed = _wire.parse_token_script((REAL / "mantid_scarf_token_py_answer.txt").read_text(),
                                      "https://portal.scarf.rl.ac.uk")
    assert parsed is not None
    url, token = parsed
    assert url == "https://portal.scarf.rl.ac.uk:8443/platform/" and token.startswith('scarf362"2015-02-10T18:50:00Z"')
    assert _wire.cookie_header(token).startswith("platform_token=scarf362#quote#2015-02-10T18:50:00Z#quote#")


def test_jobfiles_answer_and_download_bodies() -> None:
    text = (REAL / "mantid_scarf_jobfiles_answer.txt").read_text()
    files = _wire.parse_jobfiles(text)
    assert files is not None
    assert [(f.name, f.kind, f.size, f.allowed) for f in files] == [
        ("417666.error", "FILE", 281, True), ("417666.output", "FILE", 1145, True)]
    entries = [item for item in text.split(";") if item]
    assert [download_body(f, "entry") for f in files] == entries  # what Mantid sends back
    assert [download_body(f, "basename") for f in files] == ["417666.error", "417666.output"]
    for entry, f in zip(entries, files, strict=True):  # the emulator reads both forms
        assert server_wire.download_target(entry.encode()) == f.path
        assert server_wire.download_target(f.name.encode()) == f.name


def test_kill_of_a_finished_job_answer() -> None:
    body = (REAL / "mantid_scarf_kill_finished_answer.xml").read_text()
    message = _wire.error_message(body)
    assert message == "Job <417940>: Job has already finished"
    assert _FINISHED.search(message)  # cancel treats it as a no-op
    assert _wire.parse_submit_id(body) is None  # <id>0</id> is no job id
    assert server_wire.xml_error("Job", message, with_id=True) == body  # the emulator answers the same bytes
