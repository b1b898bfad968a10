"""Cutting the quoted history and the signature off a reply, the way real clients write them."""

from __future__ import annotations

import re

__all__ = ["split_quoted_reply", "split_signature", "strip_quoted_reply"]

_DATE_OR_ADDRESS = re.compile(r"\d|@")
# An attribution line, in the forms the common zh/en clients write.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"on\s.{1,300}\swrote\s*:"  # Gmail, Apple Mail, Thunderbird (en)
    r"|at\s\d{4}-\d{2}-\d{2}\s.{1,300}\swrote\s*:"  # NetEase (en)
    r"|.{1,300}(?:写道|寫道)\s*[:：]"  # Gmail zh-CN "…于2026年10月8日周四 10:00写道：",
    # Apple Mail zh "2026年10月8日 上午10:00，… 写道：", NetEase "在 2026-10-08 …，… 写道：",
    # Thunderbird zh "在 2023/5/16 9:57, … 写道:"
    r")\s*$",
    re.IGNORECASE,
)
# A separator line above the quoted original (top-posting clients).
_SEPARATOR = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:original message|original|原始邮件|原始郵件|邮件原件|郵件原件|"
    r"回复的原邮件|回覆的原郵件)\s*-{2,}"  # Outlook en/zh-CN/zh-TW, QQ Mail, Foxmail
    r"|_{10,}"  # Outlook's rule above its header block
    r")\s*$",
    re.IGNORECASE,
)
# Outlook / Foxmail header block: "From:"/"发件人:"/"寄件者:" then "Sent:"/"发送时间:" …
_BLOCK_START = re.compile(
    r"^\s*\**(?:from|发件人|發件人|寄件者|寄件人)\s*\**\s*[:：]", re.IGNORECASE
)
_BLOCK_NEXT = re.compile(
    r"^\s*\**(?:sent|date|to|subject|cc|发送时间|發送時間|时间|日期|收件人|收件者|主题|主旨|"
    r"主題|抄送|副本|寄件日期|傳送時間|已傳送|已发送)\s*\**\s*[:：]",
    re.IGNORECASE,
)
# Closing lines that start a signature block written without the "-- " delimiter.
_CLOSING = re.compile(
    r"^\s*(?:best(?: regards)?|kind regards|warm regards|regards|br|cheers|sincerely|"
    r"thanks(?: (?:and|&) (?:best )?regards)?|thank you|"
    r"此致|敬礼|此致敬礼|祝好|顺祝商祺|顺颂商祺|順頌商祺|顺颂时祺|敬祝|谢谢|謝謝|感谢|"
    r"sent from my \w+|get outlook for \w+|发自我的\s*\w+|發自我的\s*\w+|"
    r"从我的\s*\w+\s*发送|来自我的\s*\w+|发自网易邮箱大师|发自\s*QQ\s*邮箱)[\s,.!，。！]*$",
    re.IGNORECASE,
)
_SIGNATURE_LINES = 10


def _is_attribution(line: str) -> bool:
    if not _ATTRIBUTION.match(line):
        return False
    stripped = line.strip()
    if stripped.endswith((":", "：")) and ("写道" in stripped or "寫道" in stripped):
        # "他写道：" inside a message is prose; an attribution names a date or address.
        return bool(_DATE_OR_ADDRESS.search(stripped))
    return True


def split_quoted_reply(text: str) -> tuple[str, str]:
    """Split a reply into its new text and the quoted history below it.

    The cut is at the first line that is

    * an attribution line: ``On <date>, <name> wrote:`` (also wrapped over two lines),
      Gmail zh-CN ``王芳 <a@b.cn> 于2026年10月8日周四 10:00写道：``, Apple Mail zh
      ``2026年10月8日 上午10:00，王芳 <a@b.cn> 写道：``, NetEase
      ``在 2026-10-08 10:00:00，"王芳" <a@b.cn> 写道：`` (a line ending in
      写道/寫道 that names a date or an address);
    * a separator: ``-----Original Message-----``, ``-----原始邮件-----``,
      ``-----邮件原件-----``, ``-----原始郵件-----``, QQ Mail / Foxmail's
      ``------------------ 原始邮件 ------------------``, a long ``____`` rule;
    * a header block: ``From:``/``发件人:``/``寄件者:`` followed within three lines by
      ``Sent:``/``Date:``/``To:``/``发送时间:``/``收件人:``/``主题:``/``主旨:``;
    * the start of a run of ``>``-quoted lines that lasts to the end of the message
      (inline answers between quoted lines are kept).

    If nothing is left above the cut (a reply written below the quote), or the
    ``>``-quoted original after an attribution line is answered between its lines
    (inline replies), nothing is cut.
    Forwarded messages (``---------- Forwarded message ---------``) are content and are
    kept.

    Args:
        text: A plain-text body.

    Returns:
        ``(new text, quoted history)``; trailing blank lines removed from both.

    Examples:
        >>> new, quoted = split_quoted_reply(
        ...     "好的，谢谢\\n\\n王芳 <w@example.cn> 于2026年10月8日周四 10:00写道：\\n> 您好")
        >>> new
        '好的，谢谢'
        >>> quoted
        '王芳 <w@example.cn> 于2026年10月8日周四 10:00写道：\\n> 您好'
    """
    lines = text.splitlines()
    cut = _cut_index(lines)
    if cut is None:
        return text.rstrip(), ""
    head = "\n".join(lines[:cut]).rstrip()
    if not head.strip():
        return text.rstrip(), ""
    return head, "\n".join(lines[cut:]).strip("\n").rstrip()


def strip_quoted_reply(text: str) -> str:
    """Return the new part of a reply: [`split_quoted_reply()`][csmkit.channels.split_quoted_reply]
    without the history.

    A plugin or the ``quote_stripper`` argument of [`Intake`][csmkit.channels.Intake] can
    substitute a better parser (``email-reply-parser``).

    Examples:
        >>> strip_quoted_reply("已经修好了，谢谢！\\n\\n-----原始邮件-----\\n发件人: 客服")
        '已经修好了，谢谢！'
        >>> strip_quoted_reply("Thanks!\\nOn Thu, 8 Oct 2026, Support <s@example.cn> wrote:\\n> hi")
        'Thanks!'
    """
    return split_quoted_reply(text)[0]


def _wrapped(line: str, following: str) -> bool:
    """Whether ``line`` may be the first half of an attribution wrapped by the client:
    the next line is not an attribution by itself, or ``line`` holds the sender's
    address and the next line only the rest ("上午2:51写道：")."""
    if not _is_attribution(following):
        return True
    return ("@" in line or "<" in line) and "@" not in following and "<" not in following


def _interleaved(lines: list[str], start: int) -> bool:
    """Whether the ``>``-quoted text after ``start`` is answered between its lines."""
    seen_quote = False
    for line in lines[start + 1 :]:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith(">"):
            seen_quote = True
        elif seen_quote:
            return True
    return False


def _cut_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        attribution = _is_attribution(line)
        if not attribution and index + 1 < len(lines) and _wrapped(line, lines[index + 1]):
            # "On …, X <x@y>\nwrote:" or "X <x@y> 于2021年5月27日周四\n上午2:51写道："
            attribution = _is_attribution(f"{line} {lines[index + 1]}")
        if attribution:
            # An answer written between the quoted lines is the reply itself: keep all.
            return None if _interleaved(lines, index) else index
        if _SEPARATOR.match(line):
            return index
        if _BLOCK_START.match(line) and any(
            _BLOCK_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
        if line.lstrip().startswith(">") and all(
            rest.lstrip().startswith(">") or not rest.strip() for rest in lines[index:]
        ):
            return index
    return None


def split_signature(text: str) -> tuple[str, str]:
    """Split the signature block off the end of a message.

    The signature starts at the last line that is exactly ``-- `` (RFC 3676; ``--`` is
    accepted too), or else at a closing line near the end (``Best regards,``,
    ``此致``/``敬礼``, ``祝好``, ``Sent from my iPhone``, ``发自我的iPhone`` …) that is
    followed by at most ten short lines (name, title, company, phone).

    Returns:
        ``(body, signature)``; ``signature`` is ``""`` when none was found (and then
        ``body`` is ``text`` without trailing blank lines).

    Examples:
        >>> split_signature("空调还是不制冷。\\n\\n此致\\n敬礼\\n王芳\\n138 0013 8000")
        ('空调还是不制冷。', '此致\\n敬礼\\n王芳\\n138 0013 8000')
        >>> split_signature("See log.\\n-- \\nLi Wei, ACME")
        ('See log.', '-- \\nLi Wei, ACME')
    """
    lines = text.rstrip().splitlines()
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] in ("-- ", "--"):
            return _split_at(lines, index)
    start = max(0, len(lines) - _SIGNATURE_LINES - 1)
    for index in range(start, len(lines)):
        tail = lines[index + 1 :]
        if _CLOSING.match(lines[index]) and all(len(line.strip()) <= 80 for line in tail):
            return _split_at(lines, index)
    return "\n".join(lines), ""


def _split_at(lines: list[str], index: int) -> tuple[str, str]:
    body = "\n".join(lines[:index]).rstrip()
    if not body.strip():
        return "\n".join(lines), ""
    return body, "\n".join(lines[index:])
