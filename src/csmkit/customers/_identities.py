"""Normalising customer identities: phone numbers to E.164, e-mail, social handles."""

from __future__ import annotations

import email.utils
import re
from typing import Any

from csmkit.errors import IdentityError, StoreArgumentError
from csmkit.storage import Identity

__all__ = [
    "have_phonenumbers",
    "normalise_email",
    "normalise_identity",
    "normalise_phone",
    "parse_identity",
]

_SEPARATORS = re.compile(r"[\s\-.()/\u00a0\u3000]")
_CN_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_HANDLE_KIND = re.compile(r"^[a-z][a-z0-9_.-]*$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９＋－（）", "0123456789+-()")


def have_phonenumbers() -> bool:
    """Whether the optional ``phonenumbers`` library (extra ``phone``) is installed."""
    try:
        import phonenumbers  # noqa: F401
    except ImportError:
        return False
    return True


def normalise_phone(value: str, *, region: str = "CN", library: bool | None = None) -> str:
    """A phone number in E.164 form (``+8613800138000``).

    With the ``phonenumbers`` library (``pip install csmkit[phone]``) any number it
    considers valid for ``region`` is accepted (mobiles, landlines, foreign numbers).
    Without it a small built-in fallback accepts only

    * Chinese mobile numbers (11 digits starting ``13``–``19``), bare or with ``86``,
      ``+86`` or ``0086`` in front;
    * numbers already in E.164 form (``+`` and 7–15 digits), kept as written;

    after removing spaces, dashes, dots, parentheses and full-width digits. Anything
    else raises, so two spellings of one number can never become two identities.

    Args:
        value: The number as typed.
        region: ISO country code for numbers without a country code (``"CN"``).
        library: Force (``True``) or forbid (``False``) ``phonenumbers``; default: use
            it when installed.

    Raises:
        IdentityError: not a phone number (or ``library=True`` and it is missing).

    Examples:
        >>> normalise_phone("+86 138-0013-8000"), normalise_phone("0086 13800138000")
        ('+8613800138000', '+8613800138000')
        >>> normalise_phone("138 0013 8000", library=False)
        '+8613800138000'
    """
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(f"a phone number must be a non-empty string, got {value!r}")
    use_library = have_phonenumbers() if library is None else library
    if use_library:
        return _with_library(value, region)
    return _fallback(value, region)


def _compact(value: str) -> str:
    compact = _SEPARATORS.sub("", value.strip().translate(_FULLWIDTH))
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact


def _fallback(value: str, region: str) -> str:
    compact = _compact(value)
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits.isdigit():
        raise IdentityError(f"{value!r} is not a phone number")
    if compact.startswith("+"):
        if compact.startswith("+86") and not _CN_MOBILE.match(digits[2:]):
            raise IdentityError(
                f"{value!r}: only Chinese mobile numbers can be checked without the "
                "'phonenumbers' library (pip install csmkit[phone])"
            )
        if _E164.match(compact):
            return compact
        raise IdentityError(f"{value!r} is not an E.164 number (+ and 7 to 15 digits)")
    if region.upper() == "CN":
        if _CN_MOBILE.match(digits):
            return "+86" + digits
        if digits.startswith("86") and _CN_MOBILE.match(digits[2:]):
            return "+" + digits
    raise IdentityError(
        f"{value!r}: without the 'phonenumbers' library (pip install csmkit[phone]) only "
        "Chinese mobile numbers and numbers already in +E.164 form are understood"
    )


def _with_library(value: str, region: str) -> str:
    try:
        import phonenumbers
    except ImportError:
        raise IdentityError(
            "normalising this phone number needs the 'phonenumbers' library: "
            "pip install csmkit[phone]"
        ) from None
    compact = _compact(value)
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits.isdigit():
        raise IdentityError(f"{value!r} is not a phone number")
    if (
        region.upper() == "CN"
        and not compact.startswith("+")
        and compact.startswith("86")
        and _CN_MOBILE.match(compact[2:])
    ):
        compact = "+" + compact  # "8613800138000": the country code without "+"
    try:
        parsed: Any = phonenumbers.parse(compact, region.upper())
    except phonenumbers.NumberParseException as exc:
        raise IdentityError(f"{value!r} is not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise IdentityError(f"{value!r} is not a valid phone number (region {region})")
    formatted: str = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return formatted


def normalise_email(value: str) -> str:
    """An e-mail address trimmed and lower-cased (display names and ``mailto:`` removed).

    The whole address is lower-cased, as [`Identity`][csmkit.storage.Identity] compares
    addresses: every major provider treats the local part case-insensitively.

    Raises:
        IdentityError: not a single ``local@domain`` address.

    Examples:
        >>> normalise_email(" 王芳 <Wang.Fang@Example.CN> ")
        'wang.fang@example.cn'
    """
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(f"an e-mail address must be a non-empty string, got {value!r}")
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[7:]
    _, address = email.utils.parseaddr(text)
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or "." not in domain
        or any(ch.isspace() for ch in address)
        or "@" in local.strip('"')
    ):
        raise IdentityError(f"{value!r} is not an e-mail address")
    return f"{local}@{domain}".lower()


def normalise_identity(kind: str, value: str, *, region: str = "CN") -> Identity:
    """An [`Identity`][csmkit.storage.Identity] with its value normalised for its kind.

    ``phone``/``mobile``/``sms`` → kind ``phone``, E.164
    ([`normalise_phone()`][csmkit.customers.normalise_phone]); ``email`` →
    [`normalise_email()`][csmkit.customers.normalise_email]; any other kind (``wechat``, ``weibo``,
    ``douyin``, ``line`` …) keeps its value trimmed, case and all.

    Raises:
        IdentityError: a bad kind or value.

    Examples:
        >>> normalise_identity("mobile", "138 0013 8000")
        Identity(kind='phone', value='+8613800138000')
    """
    if not isinstance(kind, str) or not _HANDLE_KIND.match(kind.strip().lower()):
        raise IdentityError(f"identity kind {kind!r} is not a slug such as 'email', 'wechat'")
    kind = kind.strip().lower()
    if not isinstance(value, str) or not value.strip():
        raise IdentityError(f"identity {kind}: the value must be a non-empty string")
    if kind in ("phone", "mobile", "sms", "tel"):
        return Identity("phone", normalise_phone(value, region=region))
    if kind == "email":
        return Identity("email", normalise_email(value))
    try:
        return Identity(kind, value.strip())
    except StoreArgumentError as exc:
        raise IdentityError(str(exc)) from None


def parse_identity(text: str, *, region: str = "CN") -> Identity:
    """An identity from what an agent types: ``kind:value``, an address or a number.

    Examples:
        >>> parse_identity("wechat:wxid_wangfang")
        Identity(kind='wechat', value='wxid_wangfang')
        >>> parse_identity("Wang.Fang@example.cn").kind, parse_identity("+86 13800138000").kind
        ('email', 'phone')

    Raises:
        IdentityError: none of these forms.
    """
    if not isinstance(text, str) or not text.strip():
        raise IdentityError(f"an identity must be a non-empty string, got {text!r}")
    stripped = text.strip()
    head, colon, tail = stripped.partition(":")
    if colon and _HANDLE_KIND.match(head.lower()) and head.lower() != "mailto":
        return normalise_identity(head, tail, region=region)
    if "@" in stripped:
        return normalise_identity("email", stripped, region=region)
    return normalise_identity("phone", stripped, region=region)
