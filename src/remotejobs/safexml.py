"""XML from a server the SDK does not trust: no DTD, so no entity of any kind.

Scheduler outputs (``qstat -x``) and web-service answers (PAC) never need a document type
declaration, and a DTD is what entity expansion ("billion laughs", quadratic blow-up) and
external entities need. So a document with a ``<!DOCTYPE`` is refused, whatever its
encoding: the check is made by expat itself while it parses (an ``UTF-16`` document hides
``<!DOCTYPE`` from any byte-level search), the way ``defusedxml`` forbids DTDs
(https://github.com/tiran/defusedxml, ``forbid_dtd``), so the SDK needs no extra dependency.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any
from xml.parsers import expat

__all__ = ["NAME", "SPACE", "TEXT", "UnsafeXMLError", "fromstring", "unescape"]


class UnsafeXMLError(ValueError):
    """The document declares a DTD or an entity (refused), or is not well-formed XML."""


def _refuse(*_args: Any) -> None:
    raise UnsafeXMLError("XML with a DTD or entity declaration refused")


def fromstring(data: str | bytes) -> ET.Element:
    """The root element of ``data``.

    :raises UnsafeXMLError: a DTD, an entity declaration, or a parse error (its message
        says which; never an ``ET.ParseError`` or ``UnicodeError``).
    """
    # ElementTree's C parser keeps its expat handle private; the expat API exposes the
    # declaration handlers, so parse once with them first (cheap: documents are small).
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse
    checker.EntityDeclHandler = _refuse
    checker.UnparsedEntityDeclHandler = _refuse
    try:
        checker.Parse(data, True)
    except expat.ExpatError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {exc}") from exc
    except (UnicodeError, ValueError) as exc:
        if isinstance(exc, UnsafeXMLError):
            raise
        raise UnsafeXMLError(f"XML not decodable: {exc}") from exc
    try:
        return ET.fromstring(data)  # noqa: S314 - no DTD (checked above)
    except ET.ParseError as exc:
        raise UnsafeXMLError(f"not well-formed XML: {exc}") from exc


# -- building blocks of strict scanners (the dialects' fast paths) ----------------------
#
# A dialect may read a scheduler's XML with a regular expression that accepts only the
# layout the scheduler prints (elements without attributes or comments, character data
# of the pieces below) and hand anything else to :func:`fromstring`. Such a scanner
# expands no entity (it never sees a DTD: ``<!`` is outside its grammar), so it is as safe
# as :func:`fromstring` and, within its grammar, reads what ElementTree would read.

#: Character data that is well-formed XML 1.0 (https://www.w3.org/TR/xml/#syntax): no
#: markup, only the five predefined entity references (no character references), no
#: ``]]>``, no carriage return (XML normalises line ends) and no character XML forbids.
_CHAR = r"[^<&\]\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]"
TEXT = rf"{_CHAR}*+(?:(?:&(?:amp|lt|gt|quot|apos);|\](?!\]>)){_CHAR}*+)*+"
#: An element name (ASCII, no namespace prefix).
NAME = r"[A-Za-z_][A-Za-z0-9_.-]*+"
#: Whitespace between elements, as XML defines it (without the carriage return).
SPACE = r"[ \t\n]*+"


def unescape(text: str) -> str:
    """``text`` (matched by :data:`TEXT`) with its entity references replaced."""
    if "&" not in text:
        return text
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))
