from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.channels import (
    EmailLimits,
    EmailParser,
    InboundMessage,
    MemoryBlobStore,
    SubjectTag,
    strip_quoted_reply,
)
from csmkit.errors import MessageFormatError

FIXTURES = Path(__file__).parent / "fixtures"
AT = datetime(2026, 10, 8, 1, 30, tzinfo=timezone.utc)


def parse(name: str, **kw: object) -> InboundMessage:
    blobs = kw.pop("blobs", None)
    parser = EmailParser(**kw)  # type: ignore[arg-type]
    return parser.parse((FIXTURES / name).read_bytes(), received_at=AT, blobs=blobs)  # type: ignore[arg-type]


def test_plain_mail() -> None:
    m = parse("plain.eml")
    assert (m.channel, m.sender, m.sender_name, m.sender_kind) == (
        "email",
        "li.wei@example.cn",
        "Li Wei",
        "email",
    )
    assert m.external_id == "<plain-1@example.cn>"
    assert m.recipients == ("support@example.com",)
    assert m.text.startswith("Hello, my air conditioner")
    assert m.html is None and m.attachments == () and m.received_at == AT
    assert m.header("DATE") == "Thu, 08 Oct 2026 09:30:00 +0800"


def test_html_only_mail_gets_a_text_body() -> None:
    m = parse("html_only.eml")
    assert m.subject == "报修：洗衣机漏水"
    assert m.html is not None and "<p>" in m.html
    assert m.text == "您好，\n洗衣机 漏水\n谢谢"
    assert "color" not in m.text


def test_gbk_mail_labelled_gb2312() -> None:
    m = parse("gbk.eml")
    assert m.sender_name == "王芳"
    assert m.subject == "报修：空调不制冷"
    assert m.text.strip() == "您好，空调不制冷，型号 KFR-35GW，请尽快上门维修。"


def test_gbk_only_characters_decode_as_gb18030() -> None:
    # 镕 exists in GBK but not in GB2312: a strict gb2312 decoder would fail.
    raw = (
        b"From: a@example.cn\r\nSubject: x\r\nContent-Type: text/plain; charset=gb2312\r\n\r\n"
        + "朱镕基".encode("gbk")
    )
    assert EmailParser().parse(raw, received_at=AT).text == "朱镕基"


def test_multipart_with_attachments() -> None:
    blobs = MemoryBlobStore()
    m = parse("multipart_attachments.eml", blobs=blobs)
    assert m.text == "Invoice and photo attached."
    assert m.html == "<p>Invoice and <b>photo</b> attached.</p>"
    pdf, png, mail = m.attachments
    assert (pdf.filename, pdf.content_type, pdf.inline) == ("发票.pdf", "application/pdf", False)
    assert pdf.content_ref is not None and blobs.get(pdf.content_ref) == b"%PDF-1.4 fake invoice"
    assert pdf.size == 21 and len(pdf.sha256) == 64
    assert (png.inline, png.content_id) == (True, "photo1@example.cn")
    assert mail.content_type == "message/rfc822" and b"inner body" in blobs.get(mail.content_ref)  # type: ignore[arg-type]


def test_attachments_without_blob_store_keep_metadata_only() -> None:
    m = parse("multipart_attachments.eml")
    assert all(a.content_ref is None for a in m.attachments)


def test_oversized_attachment_is_not_stored() -> None:
    blobs = MemoryBlobStore()
    m = parse("multipart_attachments.eml", blobs=blobs, limits=EmailLimits(max_attachment_bytes=15))
    refs = [a.content_ref for a in m.attachments]
    assert refs[0] is None and refs[1] is not None


@pytest.mark.parametrize(
    ("name", "in_reply_to", "references"),
    [
        ("reply_in_reply_to.eml", "<out-1@example.com>", ()),
        ("reply_references.eml", None, ("<zzz@elsewhere>", "<out-1@example.com>")),
    ],
)
def test_threading_headers(name: str, in_reply_to: str | None, references: tuple[str, ...]) -> None:
    m = parse(name)
    assert (m.in_reply_to, m.references) == (in_reply_to, references)


def test_subject_tag_with_prefix() -> None:
    assert parse("reply_subject_tag.eml", subject_tag=SubjectTag("ACME")).ticket_ref == "T-42"
    assert parse("reply_subject_tag.eml").ticket_ref is None  # prefix required to match


def test_missing_message_id_gets_a_stable_synthetic_id() -> None:
    a, b = parse("no_message_id.eml"), parse("no_message_id.eml")
    assert a.external_id == b.external_id
    assert a.external_id is not None and a.external_id.endswith("@csmkit.invalid>")


def test_malformed_from_is_a_clear_error() -> None:
    with pytest.raises(MessageFormatError, match="no usable From address"):
        parse("malformed_headers.eml")


def test_malformed_other_headers_do_not_crash() -> None:
    raw = (FIXTURES / "malformed_headers.eml").read_bytes()
    raw = raw.replace(b'From: "Broken <not an address', b"From: ok@example.cn")
    m = EmailParser().parse(raw, received_at=AT)
    assert m.sender == "ok@example.cn"
    assert m.external_id is not None and m.external_id.startswith("<sha256.")
    assert m.in_reply_to is None and m.recipients == ()
    assert "body with" in m.text


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        (b"", "empty"),
        ("not bytes", "must be bytes"),
        (b"From: a@b.cn\r\n\r\n" + b"x" * 2000, "over the limit"),
    ],
)
def test_bad_input(raw: object, match: str) -> None:
    parser = EmailParser(limits=EmailLimits(max_bytes=1000))
    with pytest.raises(MessageFormatError, match=match):
        parser.parse(raw, received_at=AT)  # type: ignore[arg-type]


def test_mime_bomb_is_refused() -> None:
    parts = "".join(
        f"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment\r\n\r\n{i}\r\n"
        for i in range(20)
    )
    raw = (
        'From: a@b.cn\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + "--b--\r\n"
    ).encode()
    with pytest.raises(MessageFormatError, match="MIME parts"):
        EmailParser(limits=EmailLimits(max_parts=10)).parse(raw, received_at=AT)


def test_naive_received_at() -> None:
    with pytest.raises(MessageFormatError, match="timezone-aware"):
        EmailParser().parse(b"From: a@b.cn\r\n\r\nx", received_at=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Thanks!\n\nOn Thu, 8 Oct 2026 at 10:00, Support <s@example.com> wrote:\n> hi", "Thanks!"),
        ("Thanks!\nOn Thu, 8 Oct 2026 at 10:00, Support <s@example.com>\nwrote:\n> hi", "Thanks!"),
        ("好的\n\n在 2026年10月8日 周四 10:00，客服 <s@example.com> 写道：\n> 您好", "好的"),
        ("好的\n-----原始邮件-----\n发件人: 客服", "好的"),
        ("OK\n\nFrom: Support\nSent: Thursday\nTo: me\nSubject: x", "OK"),
        ("收到\n\n发件人: 客服\n发送时间: 2026年10月8日\n收件人: 我", "收到"),
        ("Yes\n\n> quoted\n>more\n\n", "Yes"),
        ("> question?\nanswer\n> q2\nanswer2", "> question?\nanswer\n> q2\nanswer2"),
        ("From: my mother I heard it.\nNo header block follows.", None),
        ("> all quoted", "> all quoted"),
    ],
)
def test_strip_quoted_reply(text: str, expected: str | None) -> None:
    assert strip_quoted_reply(text) == (text if expected is None else expected)


@given(st.text())
def test_strip_quoted_reply_never_grows_and_is_idempotent(text: str) -> None:
    once = strip_quoted_reply(text)
    assert len(once) <= len(text)
    assert strip_quoted_reply(once) == once


def test_inbound_message_round_trip() -> None:
    m = parse("multipart_attachments.eml", blobs=MemoryBlobStore())
    again = InboundMessage.from_dict(m.to_dict())
    assert again == m and dict(again.headers) == dict(m.headers)


def test_inbound_message_validation() -> None:
    with pytest.raises(MessageFormatError, match="timezone-aware"):
        InboundMessage(channel="email", sender="a", received_at=datetime(2026, 1, 1))
    with pytest.raises(MessageFormatError, match="unexpected key"):
        InboundMessage.from_dict({"channel": "x", "bogus": 1})
