from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.channels import EmailParser
from csmkit.channels._charset import decode_text, detector_available
from csmkit.errors import MessageFormatError

AT = datetime(2026, 10, 8, 1, 30, tzinfo=timezone.utc)
needs_detector = pytest.mark.skipif(not detector_available(), reason="charset extra")


def mail(body: bytes, content_type: str = "text/plain", subject: bytes = b"x") -> bytes:
    return (
        b"From: a@example.cn\r\nSubject: "
        + subject
        + b"\r\nContent-Type: "
        + content_type.encode()
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        + body
    )


# The characters clients write that the label's strict codec lacks, and the superset
# that has them: bytes from the Windows code pages (Microsoft's tables, as Python ships them).
SUPERSET_CASES = [
    ("big5", "宏碁筆電，裏面，恒溫", "cp950"),  # F9D6 F9D8 F9DA: ETEN extensions in cp950
    ("gb2312", "朱镕基", "gbk"),  # 镕 is GBK, not GB2312
    ("gbk", "€100", "gb18030"),  # 0x80 is the euro sign in Windows GBK
    ("ks_c_5601-1987", "똠방각하", "cp949"),  # 똠 is in cp949's extension, not EUC-KR
    ("euc-kr", "똠", "cp949"),
    ("shift_jis", "①番～", "cp932"),  # NEC row 13 and the fullwidth tilde
    ("iso-8859-1", "“Smart” quotes – €", "cp1252"),  # 0x93 0x94 0x96 0x80
    ("us-ascii", "Formação", "cp1252"),  # 8-bit bytes under an ASCII label
]


@pytest.mark.parametrize(("label", "text", "codec"), SUPERSET_CASES)
def test_declared_charsets_are_read_by_their_windows_superset(
    label: str, text: str, codec: str
) -> None:
    data = text.encode(codec)
    try:
        strict = data.decode(label)
    except UnicodeDecodeError:
        strict = None
    assert strict != text  # the label's own codec fails or gives mojibake (C1 controls)
    raw = mail(data, f"text/plain; charset={label}")
    assert EmailParser().parse(raw, received_at=AT).text == text


def test_outlook_big5_with_cp950_characters_in_an_encoded_word_header() -> None:
    import base64

    word = base64.b64encode("宏碁 維修".encode("cp950")).decode()
    raw = mail(b"ok", subject=f"=?big5?B?{word}?=".encode())
    assert EmailParser().parse(raw, received_at=AT).subject == "宏碁 維修"


def test_iso_8859_1_bytes_cp1252_leaves_undefined_fall_back_to_the_label() -> None:
    # 0x81 is undefined in cp1252 but a (control) character in ISO-8859-1.
    assert decode_text(b"a\x81b", "iso-8859-1", where="body") == "a\x81b"


def test_a_declared_charset_that_does_not_fit_is_an_error_not_mojibake() -> None:
    raw = mail("空调".encode("gbk"), "text/plain; charset=utf-8")
    with pytest.raises(MessageFormatError, match="declared charset 'utf-8'"):
        EmailParser().parse(raw, received_at=AT)


def test_a_mislabelled_utf8_body_is_read_as_utf8() -> None:
    raw = mail("空调不制冷".encode(), "text/plain; charset=gb2312")
    # GB18030 decodes many UTF-8 byte strings too; these ones it does not.
    data = "空调不制冷".encode()
    try:
        expected = data.decode("gb18030")
    except UnicodeDecodeError:
        expected = "空调不制冷"
    assert EmailParser().parse(raw, received_at=AT).text == expected


@needs_detector
@pytest.mark.parametrize(
    ("subject", "codec"),
    [
        ("Formação", "cp1252"),  # issue 15: read as GB18030 it was "Forma玢o"
        ("Formação de preços", "cp1252"),
        ("Müller", "cp1252"),
        ("王芳", "gbk"),  # two characters: too short to judge, GB18030 comes first
        ("空调不制冷", "gbk"),
    ],
)
def test_undeclared_8bit_headers_are_detected(subject: str, codec: str) -> None:
    raw = mail(b"ok", subject=subject.encode(codec))
    assert EmailParser().parse(raw, received_at=AT).subject == subject


@needs_detector
def test_undeclared_8bit_body_chinese_is_detected() -> None:
    text = "关于空调不制冷的问题，请尽快安排师傅上门维修，谢谢。"
    raw = mail(text.encode("gb18030"))
    assert EmailParser().parse(raw, received_at=AT).text == text


@needs_detector
def test_undeclared_traditional_chinese_is_detected_as_cp950() -> None:
    text = "宏碁筆電維修進度查詢，請儘快回覆。"
    raw = mail(text.encode("cp950"))
    assert (
        EmailParser(charset_candidates=("cp950", "gb18030")).parse(raw, received_at=AT).text == text
    )


def test_without_detection_undeclared_8bit_text_is_refused() -> None:
    raw = mail(b"ok", subject="Formação".encode("cp1252"))
    with pytest.raises(MessageFormatError, match="without a declared charset"):
        EmailParser(detect_charset=False).parse(raw, received_at=AT)


def test_without_detection_the_default_charset_is_the_rule() -> None:
    raw = mail(b"ok", subject="Formação".encode("cp1252"))
    parser = EmailParser(detect_charset=False, default_charset="windows-1252")
    assert parser.parse(raw, received_at=AT).subject == "Formação"


def test_undeclared_utf8_needs_no_detection() -> None:
    raw = mail("王芳".encode(), subject="报修".encode())
    m = EmailParser(detect_charset=False).parse(raw, received_at=AT)
    assert (m.subject, m.text) == ("报修", "王芳")


@pytest.mark.parametrize("bad", [("nope",), ("gb18030", "x-klingon")])
def test_unknown_candidate_charsets_are_refused(bad: tuple[str, ...]) -> None:
    with pytest.raises(MessageFormatError, match="unknown charset"):
        EmailParser(charset_candidates=bad)
    with pytest.raises(MessageFormatError, match="unknown charset"):
        EmailParser(default_charset="x-klingon")


LABELS = {
    "big5": "cp950",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "shift_jis": "cp932",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "utf-8": "utf-8",
}


@given(st.sampled_from(sorted(LABELS)), st.text(max_size=40))
def test_any_text_a_client_can_encode_comes_back_unchanged(label: str, text: str) -> None:
    codec = LABELS[label]
    try:
        data = text.encode(codec)
    except UnicodeEncodeError:
        return  # not writable in this charset: nothing a client could send
    if data.decode(codec) != text:
        return  # a best-fit mapping (cp950 writes ¢ as A246, which reads back as ￠)
    assert decode_text(data, label, where="body") == text


@given(st.binary(max_size=64), st.sampled_from([*sorted(LABELS), None, "unknown-8bit"]))
def test_decoding_never_hides_damage(data: bytes, label: str | None) -> None:
    try:
        text = decode_text(data, label, where="body", detect=False)
    except MessageFormatError:
        return  # refused: the one allowed failure
    assert "\ufffd" not in text or "\ufffd".encode() in data
