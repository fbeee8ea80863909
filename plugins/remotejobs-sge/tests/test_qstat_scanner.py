"""The strict ``qstat -xml`` scanner reads what the tree reader reads, or hands over.

``_qstat.parse_qstat_xml`` has two readers: the scanner must return, for every document
it accepts, exactly the fields of the ElementTree reader, and must accept what Grid Engine
prints (the captured and public outputs), else every status pays the slow path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from remotejobs_sge._qstat import _scan, _tree, parse_qstat_xml

GOLDEN = Path(__file__).parent / "golden"
CAPTURES = [p for p in sorted(GOLDEN.glob("*/*.txt")) if "<job_info" in p.read_text()]
JOB = ('<job_list state="running"><JB_job_number>7</JB_job_number><JB_name>{name}</JB_name>'
       "<state>r</state><slots>1</slots></job_list>")


def _stdout(path: Path) -> str:
    text = path.read_text()
    return text.partition("--- stdout\n")[2].partition("--- stderr\n")[0] if "--- stdout\n" in text else text


def _same(document: str) -> list[tuple[str, ...]] | None:
    """The scanner's fields (None: handed over), checked against the tree reader's."""
    scanned = _scan(document.strip())
    if scanned is not None:
        assert scanned == _tree(document.strip())
    return scanned


def _document(*jobs: str, running: bool = True) -> str:
    lists = f"<queue_info>{''.join(jobs)}</queue_info>" if running else f"<job_info>{''.join(jobs)}</job_info>"
    return f"<?xml version='1.0'?>\n<job_info  xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n{lists}\n</job_info>\n"


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_captured_documents_take_the_scanner_and_read_the_same(path: Path) -> None:
    assert _same(_stdout(path)) is not None, f"{path.name}: the scanner handed a qstat document over"


@pytest.mark.parametrize("name", ["a &amp; b &lt;c&gt; &quot;d&apos;", "  padded\t", "]]", "é\u20ac\U0001f600", ""])
def test_values_the_scanner_reads(name: str) -> None:
    fields = _same(_document(JOB.format(name=name), JOB.format(name="x"), running=False))
    assert fields is not None and fields[0][1] == name.replace("&amp;", "&").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&quot;", '"').replace("&apos;", "'").strip()
    assert [row.name for row in parse_qstat_xml(_document(JOB.format(name=name)))] == [fields[0][1] or None]


@pytest.mark.parametrize("document", [
    '<!DOCTYPE job_info [<!ENTITY a "x">]>' + _document(JOB.format(name="&a;")).split("?>", 1)[1],
    _document(JOB.format(name="a&#65;")),
    _document(JOB.format(name="<![CDATA[x]]>")),
    _document("<!-- c -->" + JOB.format(name="a")),
    _document(JOB.format(name="a\r\nb")),
    _document(JOB.format(name="a\x01b")),
    _document(JOB.format(name="a]]>b")),
    _document(JOB.format(name="a").replace('state="running"', 'state="running" state="x"')),
    _document(JOB.format(name="a").replace("<slots>1</slots>", "<slots/>")),
    _document(JOB.format(name="a").replace("<slots>1</slots>", "<slots><n>1</n></slots>")),
    _document(JOB.format(name="a")).replace("<queue_info>", "<queue_info><queue_info>"),
    _document(JOB.format(name="a")).replace("xmlns:xsd", "xmlns"),
    "<job_info>" + JOB.format(name="a") + "</job_info>",
    _document(JOB.format(name="a")) + "<job_info/>",
    # the tree reader reads every <job_list>, one inside another included (a second row)
    _document(JOB.format(name="a").replace("<slots>1</slots>", "<slots>1</slots><job_list>8</job_list>")),
])
def test_other_documents_are_handed_to_the_tree_reader(document: str) -> None:
    assert _same(document) is None


SEEDS = [_stdout(p) for p in CAPTURES]


@settings(max_examples=300, derandomize=True, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(seed=st.sampled_from(SEEDS), at=st.integers(0, 3000), cut=st.integers(0, 40), insert=st.sampled_from(
    ["<", ">", "&", "&amp;", "/", " ", "\n", "<x>", "</x>", "<x/>", "]]>", "</job_list>", "<job_info>",
     "</queue_info>", '<job_list state="r">', "<state>r</state>", "<tasks>1-3</tasks>", "'", '"', "é"]))
def test_mutated_documents_read_the_same_or_are_handed_over(seed: str, at: int, cut: int, insert: str) -> None:
    body = seed[:at] + insert + seed[at + cut:]
    try:
        _same(body)
    except ValueError:  # the tree reader refused what the scanner also refused
        assert _scan(body.strip()) is None
