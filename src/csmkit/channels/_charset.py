"""Decoding mail text as clients really encode it.

Two rules, and an error when neither gives an answer:

* A **declared** charset is read by the superset its senders really use (the WHATWG
  Encoding Standard's mapping, which browsers and mail clients follow): Outlook labels
  code page 950 text ``big5``, Chinese clients label GBK text ``gb2312``, and so on.
  If the superset fails, the label's own codec is tried, then UTF-8 (a common
  mislabel); if all fail the text cannot be decoded.
* **Undeclared** 8-bit text (raw bytes in a header, a body without ``charset=``, the
  labels ``unknown-8bit``/``x-unknown``/unknown names) is UTF-8 when it is valid UTF-8.
  Otherwise ``charset-normalizer`` (the ``charset`` extra) chooses among the
  candidate charsets, ties broken by their order; when it cannot judge (text of a few
  bytes) the parser's ``default_charset`` is used if set, else the first candidate
  that decodes the bytes strictly. Without ``charset-normalizer`` only
  ``default_charset`` is used (a fixed guess is how "Formação" became "Forma玢o");
  without one either, the text is refused.

Nothing is ever decoded with ``errors="replace"``: damage is a
[`MessageFormatError`][csmkit.errors.MessageFormatError], never silent mojibake.
"""

from __future__ import annotations

import codecs
import importlib
from collections.abc import Sequence
from typing import Any

from csmkit.errors import MessageFormatError

__all__ = [
    "DEFAULT_CANDIDATES",
    "SUPERSETS",
    "decode_declared",
    "decode_text",
    "decode_undeclared",
    "detector_available",
    "known_charset",
]

SUPERSETS: dict[str, str] = {
    # Chinese (simplified): GB2312 and GBK labels carry GBK bytes; GB18030 is a superset.
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "ms936": "gb18030",
    "euc-cn": "gb18030",
    "csgb2312": "gb18030",
    "chinese": "gb18030",
    # Chinese (traditional): Outlook's "big5" is code page 950 (碁 裏 恒 are F9D6 F9D8 F9DA).
    "big5": "cp950",
    "big5-tw": "cp950",
    "csbig5": "cp950",
    "x-x-big5": "cp950",
    # Korean.
    "ks_c_5601-1987": "cp949",
    "ks_c_5601-1989": "cp949",
    "ksc5601": "cp949",
    "ksc_5601": "cp949",
    "euc-kr": "cp949",
    "csksc56011987": "cp949",
    "korean": "cp949",
    # Japanese.
    "shift_jis": "cp932",
    "shift-jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "ms_kanji": "cp932",
    "csshiftjis": "cp932",
    "windows-31j": "cp932",
    # Western: ISO-8859-1 and US-ASCII labels carry windows-1252 bytes (smart quotes, €).
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "ansi_x3.4-1968": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
}
"""Declared charset label → the codec clients really write under it."""

_UNDECLARED = frozenset({"", "unknown-8bit", "x-unknown", "unknown", "8bit", "x-user-defined"})

DEFAULT_CANDIDATES: tuple[str, ...] = ("gb18030", "cp950", "cp1252", "cp932", "cp949")
"""Charsets undeclared 8-bit text is detected among; earlier ones win ties."""


def detector_available() -> bool:
    """Whether ``charset-normalizer`` (the ``charset`` extra) is installed."""
    try:
        importlib.import_module("charset_normalizer")
    except ImportError:
        return False
    return True


def _codec(name: str) -> str | None:
    try:
        return codecs.lookup(name).name
    except (LookupError, ValueError, TypeError):  # ValueError: a NUL in the label
        return None


def known_charset(name: str) -> bool:
    """Whether ``name`` is a charset label Python (or the superset table) knows."""
    label = name.strip().strip("\"'").lower()
    return label in SUPERSETS or _codec(label) is not None


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def decode_declared(data: bytes, label: str, *, where: str) -> str:
    """``data`` decoded by the superset of its declared ``label``.

    Raises:
        MessageFormatError: no rule decodes it (the message names ``where``).
    """
    name = label.strip().strip("\"'").lower()
    superset = SUPERSETS.get(name)
    tried: list[str] = []
    for codec in (superset, _codec(name), "utf-8"):
        if codec is None or codec in tried:
            continue
        tried.append(codec)
        text = _strict(data, codec)
        if text is not None:
            return text
    raise MessageFormatError(
        f"{where}: bytes do not decode as the declared charset {label!r} (tried {', '.join(tried)})"
    )


def _detect(data: bytes, candidates: Sequence[str]) -> str | None:
    module: Any = importlib.import_module("charset_normalizer")
    wanted = [c for c in (_codec(name) for name in candidates) if c is not None]
    matches = list(module.from_bytes(data, cp_isolation=list(candidates)))
    if not matches:
        return None
    best = min(match.chaos for match in matches)
    plausible = {_codec(match.encoding) for match in matches if match.chaos <= best + 0.01}
    for codec in wanted:  # ties go to the candidate listed first
        if codec in plausible:
            return _strict(data, codec)
    return None


def decode_undeclared(
    data: bytes,
    *,
    where: str,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    default_charset: str | None = None,
    detect: bool = True,
) -> str:
    """``data`` whose charset nobody declared.

    ASCII and valid UTF-8 are taken as they are. Other bytes are detected among
    ``candidates`` with ``charset-normalizer`` when it is installed and ``detect`` is
    true (when it cannot judge: ``default_charset``, else the first candidate that
    decodes strictly); without the detector ``default_charset`` is used when given.

    Raises:
        MessageFormatError: no rule decodes it.
    """
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    if detect and detector_available():
        detected = _detect(data, candidates)
        if detected is not None:
            return detected
        if default_charset is None:
            # Too short or too odd for the detector to judge (a two-character header):
            # the first candidate that decodes it strictly, in the configured order.
            for codec in candidates:
                text = _strict(data, codec)
                if text is not None:
                    return text
    if default_charset is not None:
        return decode_declared(data, default_charset, where=where)
    hint = (
        "no candidate charset fits"
        if detect and detector_available()
        else "install csmkit[charset] to detect it or set EmailParser(default_charset=...)"
    )
    raise MessageFormatError(f"{where}: 8-bit text without a declared charset ({hint})")


def decode_text(
    data: bytes,
    label: str | None,
    *,
    where: str,
    candidates: Sequence[str] = DEFAULT_CANDIDATES,
    default_charset: str | None = None,
    detect: bool = True,
) -> str:
    """Decode by `decode_declared()` when ``label`` names a known charset, else by
    `decode_undeclared()`.

    Examples:
        >>> decode_text("宏碁".encode("cp950"), "big5", where="body")
        '宏碁'
        >>> decode_text(b"caf\\xe9", "iso-8859-1", where="body")
        'café'
    """
    name = (label or "").strip().strip("\"'").lower()
    if name in _UNDECLARED or (name not in SUPERSETS and _codec(name) is None):
        return decode_undeclared(
            data,
            where=where,
            candidates=candidates,
            default_charset=default_charset,
            detect=detect,
        )
    return decode_declared(data, name, where=where)
