"""Parser fuzzing: every scheduler-output and web-answer parser fed hostile input.

Issue 10, "The suite that finds the next ones": truncated, reordered, binary, oversized,
deeply nested and other-user-crafted input. Each dialect parser returns a parse or raises
the project's error (:class:`~remotejobs.errors.RemoteJobsError`; a ``SchedulerError``
carries the raw output); the PAC wire parsers return a value or None (their documented
contract, ``_wire.py``); nothing else escapes, nothing takes more than a few seconds, and
no XML parser accepts a DTD in any encoding (entity expansion). Seeds are every golden
output of the plugins (real and captured ones included). Deterministic: hypothesis is
derandomized with a bounded number of examples.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remotejobs_lsf.dialect import LsfDialect
from remotejobs_lsf_web import _files, _multipart, _wire
from remotejobs_pbs.dialect import PbsDialect
from remotejobs_sge.dialect import SgeDialect
from remotejobs_slurm.dialect import SlurmDialect
from remotejobs_torque.dialect import TorqueDialect

from remotejobs.errors import RemoteJobsError, SchedulerError
from remotejobs.models import JobInfo
from remotejobs.safexml import UnsafeXMLError, fromstring
from remotejobs.scheduler.dialect import SchedulerDialect
from remotejobs.testing import scoreboard
from remotejobs.transport.base import CommandResult

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = sorted(
    p for p in ROOT.glob("plugins/*/tests/golden/**/*")
    if p.is_file() and p.suffix in (".txt", ".xml", ".json")
)
SEEDS = [p.read_text(encoding="utf-8", errors="replace") for p in GOLDEN]
# The stdout section of golden-format files, so mutations start from well-formed output.
SEEDS += [s.partition("--- stdout\n")[2].partition("--- stderr\n")[0] for s in SEEDS if "--- stdout\n" in s]

DIALECTS: dict[str, SchedulerDialect[Any]] = {
    "slurm": SlurmDialect(),
    "slurm-noacct": SlurmDialect(accounting=False),
    "lsf-delimited": LsfDialect(status_format="delimited"),
    "lsf-json": LsfDialect(status_format="json"),
    "torque-auto": TorqueDialect(status_format="auto"),
    "torque-xml": TorqueDialect(status_format="xml"),
    "torque-text": TorqueDialect(status_format="text"),
    "pbs-auto": PbsDialect(status_format="auto"),
    "pbs-json": PbsDialect(status_format="json"),
    "pbs-text": PbsDialect(status_format="text"),
    "sge": SgeDialect(),
}
IDS = ["1", "38", "43", "43_1", "123[4]", "1.server", "1[2].server", "9999999"]
MAX_SECONDS = 5.0

# Other-user-crafted values: a job name that starts records or fields in every format.
FORGED = [
    "x\nJob Id: 38.server\n    job_state = C\n    exit_status = 0\n    Job_Owner = rjalice@h",
    "x|38|COMPLETED|0|None|rjalice|debug|2026-11-22T03:38:10|N/A|N/A|forged",
    "x\n38|38|COMPLETED|0|None|rjalice|debug|2026-11-22T03:38:10|N/A|N/A|forged",
    '"},{"JOBID":"38","STAT":"DONE"}]}',
    "</Job_Name></Job><Job><Job_Id>38</Job_Id><job_state>C</job_state></Job><Job><Job_Name>",
    "\x00\x1b[2J\x7f\u202e\ud800\ufeff",
    "-" * 5000,
]


def _mutations() -> st.SearchStrategy[str]:
    seed = st.sampled_from(SEEDS)
    lines = seed.map(lambda s: s.splitlines(keepends=True))
    return st.one_of(
        st.text(max_size=400),
        st.binary(max_size=400).map(lambda b: b.decode("latin-1")),
        st.tuples(seed, st.floats(0, 1)).map(lambda t: t[0][: int(len(t[0]) * t[1])]),  # truncated
        st.tuples(lines, st.randoms(use_true_random=False)).map(
            lambda t: "".join(t[1].sample(t[0], len(t[0])))),  # reordered
        st.tuples(seed, st.integers(0, 4000), st.sampled_from(FORGED)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1]:]),  # a crafted value spliced in
        st.tuples(seed, st.integers(0, 4000), st.text(min_size=1, max_size=20)).map(
            lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + len(t[2]):]),  # overwritten
        st.tuples(seed, st.sampled_from(["|", "\n", "*", ";", "<", ">", "=", '"', ":"])).map(
            lambda t: t[0].replace(t[1], "")),  # a delimiter dropped everywhere
    )


def _revalidate(parsed: object) -> None:
    """Parsers build infos with ``JobInfo.trusted`` (no validation): each one must be
    what validation would have made of the same values."""
    infos = parsed.values() if isinstance(parsed, dict) else parsed if isinstance(parsed, list) else ()
    for info in infos:
        if isinstance(info, JobInfo):
            assert JobInfo.model_validate(info.model_dump()) == info, f"an invalid JobInfo: {info!r}"


def _check_dialect(dialect: SchedulerDialect, stdout: str, stderr: str, exit_status: int) -> int:
    """Call every parser once; return how many calls were made."""
    result = CommandResult(argv=("probe",), exit_status=exit_status, stdout=stdout, stderr=stderr)
    calls: list[Callable[[], object]] = [
        lambda: dialect.parse_submit(result),
        lambda: dialect.parse_status(result, IDS),
        lambda: dialect.parse_history(result, IDS),
        lambda: dialect.parse_jobs(result, "rjalice"),
        lambda: dialect.parse_cancel(result, "38"),
        lambda: dialect.cancel_not_found_may_be_finished(result),
    ]
    for probe in dialect.status_probes():
        calls.append(lambda probe=probe: probe.parse(result, IDS))  # type: ignore[misc]
        if probe.parse_list is not None:
            calls.append(lambda probe=probe: probe.parse_list(result, "rjalice"))  # type: ignore[misc]
    for call in calls:
        start = time.monotonic()
        try:
            _revalidate(call())
        except SchedulerError as exc:
            assert exc.output == result.output[: len(exc.output)] or exc.output in result.output, (
                "SchedulerError does not carry the raw output")
        except RemoteJobsError:
            pass
        assert time.monotonic() - start < MAX_SECONDS, "a parser took too long"
    scoreboard.record("parser fuzz cases", len(calls))
    return len(calls)


def _check_wire(text: str) -> None:
    """The PAC parsers return a value or None, never raise."""
    data = text.encode("utf-8", "surrogatepass")
    _wire.parse_token_script(text, None)
    _wire.parse_token_script(text, "marker")
    _wire.parse_logon(text)
    _wire.error_message(text)
    _wire.parse_submit_id(text)
    _wire.parse_jobs(text)
    _wire.parse_jobfiles(text)
    _wire.parse_xml(data)
    _files.document_error(data)
    _multipart.is_multipart(data, "")
    _multipart.parse_multipart(data, "")
    _multipart.parse_multipart(data, 'multipart/mixed; boundary="_Part_1_"')
    scoreboard.record("parser fuzz cases", 12)


FUZZ = settings(max_examples=150, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("name", sorted(DIALECTS))
@FUZZ
@given(stdout=_mutations(), stderr=st.one_of(st.just(""), _mutations()), exit_status=st.sampled_from([0, 1, 153, 255]))
def test_dialect_parsers_contain_hostile_output(name: str, stdout: str, stderr: str, exit_status: int) -> None:
    scoreboard.record("hypothesis examples")
    _check_dialect(DIALECTS[name], stdout, stderr, exit_status)


@FUZZ
@given(text=_mutations())
def test_pac_parsers_contain_hostile_answers(text: str) -> None:
    scoreboard.record("hypothesis examples")
    _check_wire(text)


@pytest.mark.parametrize("seed", range(len(SEEDS)))
def test_every_golden_parses_or_is_refused(seed: int) -> None:
    for dialect in DIALECTS.values():
        for exit_status in (0, 1):
            _check_dialect(dialect, SEEDS[seed], "", exit_status)
    _check_wire(SEEDS[seed])


def _oversized() -> list[str]:
    squeue = "38|38|RUNNING|0|None|rjalice|debug|2026-11-22T03:38:10|N/A|N/A|n\n"
    qstat = "Job Id: 38.s\n    job_state = R\n    Job_Owner = rjalice@h\n\n"
    return [
        squeue * 5000,                                     # 330 kB of rows
        qstat * 5000,
        "x" * 1_000_000,                                   # one 1 MB line
        "<Data>" + "<Job>" * 20000 + "</Job>" * 20000 + "</Data>",  # deeply nested
        "<?xml version='1.0'?><Data>" + "<a>" * 100000,    # deep and truncated
        '{"RECORDS":' + "[" * 100000 + "]" * 100000 + "}",  # deeply nested JSON
        '{"Jobs":{"1.s":' + '{"a":' * 100000 + "1" + "}" * 100001 + "}",  # nested qstat -F json
        "|" * 200_000,
        "\n" * 200_000,
    ]


@pytest.mark.parametrize("index", range(9))
def test_oversized_and_nested_output_is_contained_quickly(index: int) -> None:
    text = _oversized()[index]
    for dialect in DIALECTS.values():
        _check_dialect(dialect, text, "", 0)
    start = time.monotonic()
    _check_wire(text)
    assert time.monotonic() - start < MAX_SECONDS


_BOMB = ('<?xml version="1.0" encoding="{enc}"?>'
         '<!DOCTYPE Data [<!ENTITY a "aaaaaaaaaa">'
         + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
         + ']><Data><Job><Job_Id>1</Job_Id><job_state>R</job_state><Job_Name>&i;</Job_Name></Job></Data>')
_EXTERNAL = ('<?xml version="1.0" encoding="{enc}"?><!DOCTYPE Data [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
             "<Data><Job><Job_Id>1</Job_Id><job_state>R</job_state><Job_Name>&x;</Job_Name></Job></Data>")


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16", "UTF-16-LE", "UTF-16-BE", "UTF-32"])
@pytest.mark.parametrize("template", [_BOMB, _EXTERNAL], ids=["expansion", "external"])
def test_xml_with_a_dtd_is_refused_in_any_encoding(template: str, encoding: str) -> None:
    text = template.format(enc=encoding)
    data = text.encode(encoding.lower().replace("-le", "-le").replace("utf-16", "utf-16"))
    start = time.monotonic()
    with pytest.raises(UnsafeXMLError):
        fromstring(data)
    with pytest.raises(UnsafeXMLError):
        fromstring(text)
    assert _wire.parse_xml(data) is None
    assert _wire.parse_jobs(text) is None
    for name in ("torque-xml", "torque-auto"):
        result = CommandResult(argv=("qstat",), exit_status=0, stdout=text, stderr="")
        with pytest.raises(SchedulerError) as info:
            DIALECTS[name].parse_status(result, ["1"])
        assert "DTD" in str(info.value)
    assert time.monotonic() - start < MAX_SECONDS
    scoreboard.record("XML bombs refused", 4)


@pytest.mark.parametrize("encoding", ["UTF-8", "UTF-16"])
def test_sge_qstat_xml_with_a_dtd_is_refused(encoding: str) -> None:
    from remotejobs_sge._qstat import parse_qstat_xml

    text = _BOMB.format(enc=encoding).replace("Data", "job_info")
    with pytest.raises(ValueError, match="DTD"):
        parse_qstat_xml(text)
    scoreboard.record("XML bombs refused")
