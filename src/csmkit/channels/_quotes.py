"""A small, documented heuristic that cuts the quoted history off a reply."""

from __future__ import annotations

import re

__all__ = ["strip_quoted_reply"]

# A line that starts the quoted original, in the forms the common zh/en clients write.
_ATTRIBUTION = re.compile(
    r"^\s*(?:"
    r"on\s.{1,300}\swrote\s*:"  # Gmail, Apple Mail, Thunderbird (en)
    r"|在\s*.{1,300}(?:写道|寫道)\s*[:：]?"  # Gmail / QQ Mail / Foxmail (zh)
    r"|-{2,}\s*(?:original message|原始邮件|原始郵件|回复的邮件|转发的邮件)\s*-{2,}"
    r"|_{10,}"  # Outlook's rule above its header block
    r")\s*$",
    re.IGNORECASE,
)
# Outlook / Foxmail header block: "From:"/"发件人:" followed by "Sent:"/"发送时间:" …
_BLOCK_START = re.compile(r"^\s*\**(?:from|发件人|寄件者)\s*\**\s*[:：]", re.IGNORECASE)
_BLOCK_NEXT = re.compile(
    r"^\s*\**(?:sent|date|to|subject|发送时间|时间|日期|收件人|主题|寄件日期)\s*\**\s*[:：]",
    re.IGNORECASE,
)


def strip_quoted_reply(text: str) -> str:
    """Return the new part of a reply: the text above the quoted original.

    The heuristic cuts at the first line that is

    * an attribution line: ``On <date>, <name> wrote:`` (also wrapped over two lines),
      ``在 2026年10月8日 …，王芳 写道：``;
    * a separator: ``-----Original Message-----``, ``-----原始邮件-----``, a long
      ``____`` rule;
    * a header block: ``From:``/``发件人:`` followed within three lines by
      ``Sent:``/``Date:``/``To:``/``发送时间:``/``收件人:``/``主题:``;
    * the start of a run of ``>``-quoted lines that lasts to the end of the message
      (inline answers between quoted lines are kept).

    If nothing is left above the cut (a reply written below the quote), the whole text
    is returned. Signatures are kept. A plugin or the ``quote_stripper`` argument of
    [`Intake`][csmkit.channels.Intake] can substitute a better parser
    (``email-reply-parser``).

    Args:
        text: A plain-text body.

    Returns:
        The reply without the quoted history, trailing blank lines removed.

    Examples:
        >>> strip_quoted_reply("已经修好了，谢谢！\\n\\n-----原始邮件-----\\n发件人: 客服")
        '已经修好了，谢谢！'
        >>> strip_quoted_reply("Thanks!\\nOn Thu, 8 Oct 2026, Support <s@example.cn> wrote:\\n> hi")
        'Thanks!'
    """
    lines = text.splitlines()
    cut = _cut_index(lines)
    if cut is None:
        return text.rstrip()
    head = "\n".join(lines[:cut]).rstrip()
    return head if head.strip() else text.rstrip()


def _cut_index(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if _ATTRIBUTION.match(line):
            return index
        if index + 1 < len(lines) and _ATTRIBUTION.match(f"{line} {lines[index + 1]}"):
            return index  # "On …, X <x@y>\nwrote:" wrapped by the client
        if _BLOCK_START.match(line) and any(
            _BLOCK_NEXT.match(following) for following in lines[index + 1 : index + 4]
        ):
            return index
        if line.lstrip().startswith(">") and all(
            rest.lstrip().startswith(">") or not rest.strip() for rest in lines[index:]
        ):
            return index
    return None
