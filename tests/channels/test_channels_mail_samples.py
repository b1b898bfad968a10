"""Real mail from public archives (tests/data/mail/PROVENANCE.md): clients' charsets and
the quoted history their replies carry."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.channels import EmailParser, InboundMessage, split_quoted_reply, split_signature

DATA = Path(__file__).parents[1] / "data" / "mail" / "replies"
AT = datetime(2026, 10, 8, 1, 30, tzinfo=timezone.utc)


def parse(name: str) -> InboundMessage:
    return EmailParser().parse((DATA / name).read_bytes(), received_at=AT)


# file, the end of the new text, the start of the quoted history
TOP_POSTED = [
    (
        "qqmail_gb18030.eml",
        "感谢支持\nB.R",
        "------------------ 原始邮件 ------------------\n发件人: Gao Xiang",
    ),
    (
        "netease126_gbk.eml",
        "devtool modify u-boot",
        '在 2020-03-08 17:19:56，"zhang_cy1989" <zhang_cy1989@163.com> 写道：',
    ),
    (
        "gmail_zh_cn_top.eml",
        "0aff2001 000004ae",
        "Zhiguo Niu <zhiguo.niu@unisoc.com> 于2026年4月29日周三 16:00写道：",
    ),
    (
        "outlook_zh_cn.eml",
        "Best wishes for you",
        "-----邮件原件-----\n发件人: Adriana Kobylak",
    ),
    (
        "outlook_zh_tw_big5.eml",
        "Kuan-ying.Zhu@mediatek.com",
        "________________________________\n寄件者: Cyril Hrubis\n已傳送: 星期二",
    ),
    ("foxmail.eml", "Thanks!", "From: Li Wang\nDate: 2021-03-05 17:02"),
    ("thunderbird_zh.eml", "> Baolin Liu\n>\n>", "在 2026/1/6 11:30, Hongbo Li 写道:"),
    (
        "talon_gmail.eml",
        "Hello",
        "On Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:",
    ),
    ("talon_outlook.eml", "Hello", "From: xxx@xxx.mailgun.org [mailto:xxx@xxx.mailgun.org]\nSent:"),
    ("talon_apple_mail.eml", "Hello", "On Apr 3, 2012, at 4:19 PM, bob wrote:"),
]


@pytest.mark.parametrize(("name", "new_end", "quoted_start"), TOP_POSTED)
def test_quoted_history_of_real_clients_is_split_off(
    name: str, new_end: str, quoted_start: str
) -> None:
    m = parse(name)
    assert m.text.rstrip().endswith(new_end)
    assert m.quoted_text.startswith(quoted_start)
    assert quoted_start.splitlines()[0] not in m.text


@pytest.mark.parametrize("name", ["gmail_zh_cn_inline.eml", "outlook_zh_cn_gb2312_inline.eml"])
def test_inline_answers_between_quoted_lines_are_kept_whole(name: str) -> None:
    m = parse(name)
    assert m.quoted_text == ""
    assert ">" in m.text


def test_real_charsets_decode_cleanly() -> None:
    assert parse("qqmail_gb18030.eml").subject == "回复：回复：回复：回复：eros性能问题"
    assert parse("outlook_zh_cn_gb2312_inline.eml").subject.endswith(
        "回复: [PATCH] mountns: Fix doc to fit RST format"
    )
    big5 = parse("outlook_zh_tw_big5.eml")
    assert big5.subject.startswith("[LTP] 回覆:")
    assert "朱冠穎" in big5.quoted_text
    assert parse("netease126_gbk.eml").sender_name == "阿桂"


# Self-written: no public sample was found for these (see PROVENANCE.md).
NEW = "好的，明天上午在家。\n\n"
SELF_WRITTEN = [
    NEW + "2026年10月8日 上午10:00，Acme 客服 <support@acme.example> 写道：\n\n> 师傅明天上门",
    NEW + '在 2026-10-08 10:00:00，"Acme 客服" <support@acme.example> 写道：\n>师傅明天上门',
    NEW + "-----原始郵件-----\n寄件者: Acme <support@acme.example>\n寄件日期: 2026年10月8日",
    NEW + "-----Original Message-----\nFrom: Acme\nSent: Thursday\nTo: Li",
    NEW + "Acme 客服 <support@acme.example> 于2026年10月8日周四\n上午10:00写道：\n> 师傅",
]


@pytest.mark.parametrize("text", SELF_WRITTEN)
def test_other_client_forms(text: str) -> None:
    new, quoted = split_quoted_reply(text)
    assert new == "好的，明天上午在家。"
    assert (quoted and "师傅" in quoted) or "Acme" in quoted


def test_prose_that_says_wrote_is_not_an_attribution() -> None:
    text = "客户在投诉信里写道：\n空调三天没修好。"
    assert split_quoted_reply(text) == (text, "")


def test_forwarded_mail_is_content() -> None:
    text = "请看下面客户的邮件\n\n---------- Forwarded message ---------\nFrom: 王芳\n\n空调坏了"
    assert split_quoted_reply(text)[1] == ""


@pytest.mark.parametrize(
    ("text", "body", "signature"),
    [
        ("See log.\n-- \nLi Wei\nACME", "See log.", "-- \nLi Wei\nACME"),
        ("空调还是不制冷。\n\n此致\n敬礼\n王芳", "空调还是不制冷。", "此致\n敬礼\n王芳"),
        ("Still broken.\n\nBest regards,\nLi Wei\nField engineer", "Still broken.", None),
        ("收到\n\n发自我的iPhone", "收到", "发自我的iPhone"),
        ("No signature here.", "No signature here.", ""),
    ],
)
def test_signatures(text: str, body: str, signature: str | None) -> None:
    got_body, got_signature = split_signature(text)
    assert got_body == body
    if signature is not None:
        assert got_signature == signature
    else:
        assert got_signature.startswith("Best regards,")


def test_signature_stripping_is_an_option_of_the_parser() -> None:
    raw = (DATA / "qqmail_gb18030.eml").read_bytes()
    plain = EmailParser().parse(raw, received_at=AT)
    stripped = EmailParser(strip_signature=True).parse(raw, received_at=AT)
    assert plain.signature == ""
    assert stripped.text == plain.text  # "B.R" is not a closing csmkit knows
    m = EmailParser(strip_signature=True).parse(
        b"From: a@example.cn\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        + "修好了\n\n此致\n敬礼\n王芳".encode(),
        received_at=AT,
    )
    assert (m.text, m.signature) == ("修好了", "此致\n敬礼\n王芳")


def test_quote_splitting_can_be_turned_off() -> None:
    raw = (DATA / "talon_gmail.eml").read_bytes()
    m = EmailParser(quotes=None).parse(raw, received_at=AT)
    assert m.quoted_text == "" and "wrote:" in m.text


def test_html_only_replies_are_split_after_conversion() -> None:
    # QQ Mail's HTML separator uses &nbsp;; Gmail's attribution sits in a gmail_quote div.
    qq = (
        "<div>收到，谢谢</div><div><br></div><div>------------------&nbsp;原始邮件&nbsp;"
        "------------------</div><div><b>发件人:</b>&nbsp;客服</div><div>您好</div>"
    )
    gmail = (
        '<div dir="ltr">好的</div><br><div class="gmail_quote"><div class="gmail_attr">'
        "王芳 &lt;w@example.cn&gt; 于2026年10月8日周四 10:00写道：<br></div>"
        '<blockquote class="gmail_quote">您好</blockquote></div>'
    )
    for markup, new in ((qq, "收到，谢谢"), (gmail, "好的")):
        raw = (
            b"From: a@example.cn\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            + markup.encode()
        )
        m = EmailParser().parse(raw, received_at=AT)
        assert m.text == new
        assert m.quoted_text


ATTRIBUTIONS = [
    "On Thu, Oct 8, 2026 at 10:00 AM Acme <s@acme.example> wrote:",
    "Acme <s@acme.example> 于2026年10月8日周四 10:00写道：",
    "2026年10月8日 上午10:00，Acme <s@acme.example> 写道：",
    '在 2026-10-08 10:00:00，"Acme" <s@acme.example> 写道：',
    "-----邮件原件-----",
    "------------------ 原始邮件 ------------------",
    "-----原始郵件-----",
]
plain_line = st.text(
    alphabet=st.characters(whitelist_categories=("L", "N", "Zs"), max_codepoint=0x9FFF),
    max_size=30,
)


@given(
    st.lists(plain_line, min_size=1, max_size=5),
    st.sampled_from(ATTRIBUTIONS),
    st.lists(plain_line, max_size=4),
)
def test_splitting_keeps_every_line_and_the_new_text(
    new_lines: list[str], attribution: str, quoted_lines: list[str]
) -> None:
    text = "\n".join([*new_lines, "", attribution, *(f"> {line}" for line in quoted_lines)])
    new, quoted = split_quoted_reply(text)

    def content(value: str) -> list[str]:
        return [line.rstrip() for line in value.splitlines() if line.strip()]

    assert content(f"{new}\n{quoted}") == content(text)  # nothing lost, order kept
    if any(line.strip() for line in new_lines):
        assert new == "\n".join(new_lines).rstrip()
        assert quoted.startswith(attribution)


def test_quoted_text_and_signature_survive_the_dict_form() -> None:
    m = EmailParser(strip_signature=True).parse(
        (DATA / "netease126_gbk.eml").read_bytes(), received_at=AT
    )
    assert m.quoted_text
    again = InboundMessage.from_dict(m.to_dict())
    assert again == m and again.quoted_text == m.quoted_text
