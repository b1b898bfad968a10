"""Payload mappings: a provider's JSON to an [`InboundMessage`][csmkit.channels.InboundMessage], as
data."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from csmkit._pickling import reduce_by_init
from csmkit.channels._message import InboundMessage
from csmkit.errors import MessageFormatError

__all__ = ["MAPPING_EXAMPLES", "FieldPath", "PayloadMapping"]

_STRING_FIELDS = (
    "external_id",
    "in_reply_to",
    "sender",
    "sender_name",
    "subject",
    "text",
    "html",
    "ticket_ref",
)
_LIST_FIELDS = ("references", "recipients")
FIELDS = _STRING_FIELDS + _LIST_FIELDS
_OPTIONAL_BY_DEFAULT = frozenset({"in_reply_to", "html", "ticket_ref", "references", "recipients"})
_MISSING = object()
_MAX_SEGMENTS = 32
_INDEX = re.compile(r"0|[1-9][0-9]{0,8}")  # RFC 6901 array indexes: no leading zeros


def _segments(path: str, where: str) -> tuple[str, ...]:
    """The keys/indexes of a JSON Pointer (``/a/0/b``) or a dotted path (``a.0.b``)."""
    if not isinstance(path, str) or not path:
        raise MessageFormatError(f"{where}: a path must be a non-empty string, got {path!r}")
    if path.startswith("/"):
        raw = path[1:].split("/")
        parts = []
        for part in raw:
            if "~" in part.replace("~0", "").replace("~1", ""):
                raise MessageFormatError(f"{where}: {path!r}: '~' must be '~0' or '~1'")
            parts.append(part.replace("~1", "/").replace("~0", "~"))
    else:
        parts = path.split(".")
        if any(not p for p in parts):
            raise MessageFormatError(f"{where}: {path!r} has an empty segment")
    if len(parts) > _MAX_SEGMENTS:
        raise MessageFormatError(f"{where}: {path!r} has more than {_MAX_SEGMENTS} segments")
    return tuple(parts)


@attrs.frozen
class FieldPath:
    """Where one message field comes from in the payload.

    Attributes:
        path: A JSON Pointer (``/issue/user/login``, RFC 6901) or a dotted path
            (``issue.user.login``); digits index lists.
        prefix: Text put before the value (``"github:"`` for ids unique across
            providers).
        optional: Whether a missing or ``null`` value is allowed (the field keeps its
            default) instead of being an error.
    """

    path: str
    prefix: str = ""
    optional: bool = False
    segments: tuple[str, ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "segments", _segments(self.path, "path"))
        if not isinstance(self.prefix, str):
            raise MessageFormatError(f"prefix must be a string, got {self.prefix!r}")
        if not isinstance(self.optional, bool):
            raise MessageFormatError(f"optional must be true or false, got {self.optional!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The parsed segments are derived: rebuild them from the path on load.
        return reduce_by_init(self)

    def lookup(self, data: object) -> object:
        """The value at `path` in ``data``, or ``None`` when absent."""
        current = data
        for segment in self.segments:
            if isinstance(current, Mapping):
                current = current.get(segment, _MISSING)
            elif isinstance(current, list) and _INDEX.fullmatch(segment):
                index = int(segment)
                current = current[index] if index < len(current) else _MISSING
            else:
                return None
            if current is _MISSING:
                return None
        return current

    def to_data(self) -> str | dict[str, Any]:
        """The compact form: the bare path when there is nothing else to say."""
        if not self.prefix and not self.optional:
            return self.path
        data: dict[str, Any] = {"path": self.path}
        if self.prefix:
            data["prefix"] = self.prefix
        if self.optional:
            data["optional"] = True
        return data

    @classmethod
    def from_data(cls, data: object, where: str) -> FieldPath:
        """From ``"a.b"`` or ``{"path": "/a/b", "prefix": "…", "optional": true}``."""
        try:
            if isinstance(data, str):
                return cls(data)
            if isinstance(data, Mapping):
                unknown = sorted(set(data) - {"path", "prefix", "optional"})
                if unknown:
                    raise MessageFormatError(f"unknown key(s) {unknown}")
                if "path" not in data:
                    raise MessageFormatError("missing 'path'")
                return cls(data["path"], data.get("prefix", ""), data.get("optional", False))
        except MessageFormatError as exc:
            raise MessageFormatError(f"{where}: {exc}") from None
        raise MessageFormatError(f"{where}: expected a path or {{'path': ...}}, got {data!r}")


def _fields(value: object) -> Mapping[str, FieldPath]:
    if not isinstance(value, Mapping):
        raise MessageFormatError(f"fields must be a mapping, got {value!r}")
    out: dict[str, FieldPath] = {}
    for name, spec in value.items():
        if name not in FIELDS:
            raise MessageFormatError(
                f"fields.{name}: not a message field (one of {', '.join(FIELDS)})"
            )
        out[name] = (
            spec if isinstance(spec, FieldPath) else FieldPath.from_data(spec, f"fields.{name}")
        )
    if "sender" not in out:
        raise MessageFormatError("fields.sender: a mapping must say where the sender is")
    return dict(sorted(out.items()))


def _match(value: object) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise MessageFormatError(f"match must be a mapping of path to values, got {value!r}")
    out: dict[str, tuple[str, ...]] = {}
    for path, allowed in value.items():
        _segments(path, f"match.{path}")
        if isinstance(allowed, str):
            allowed = [allowed]
        if not isinstance(allowed, (list, tuple)) or not allowed:
            raise MessageFormatError(f"match.{path}: expected a value or a non-empty list")
        for item in allowed:
            if not isinstance(item, str):
                raise MessageFormatError(f"match.{path}: values must be strings, got {item!r}")
        out[path] = tuple(allowed)
    return dict(sorted(out.items()))


def _slug(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise MessageFormatError(f"{attribute.name} must be a non-empty string, got {value!r}")


@attrs.frozen(kw_only=True)
class PayloadMapping:
    """Turns any provider's JSON into an [`InboundMessage`][csmkit.channels.InboundMessage]:
    configuration, not code.

    Each message field names the place in the payload it is read from (a JSON Pointer
    or a dotted path); ``channel`` and ``sender_kind`` are constants; ``match`` keeps
    only payloads whose values are listed (GitHub's ``action: opened``), others are
    ignored ([`apply()`][csmkit.channels.PayloadMapping.apply] returns ``None``). Strings and
    integers are accepted for text fields (ids are often numbers), lists of them for ``references``
    and ``recipients``; anything else is a [`MessageFormatError`][csmkit.errors.MessageFormatError]
    naming the payload path.

    Attributes:
        channel: The channel of the messages (``"github"``, ``"web-form"``).
        fields: Message field → [`FieldPath`][csmkit.channels.FieldPath]; ``sender`` is required.
        sender_kind: The identity kind of the sender (``"github"``, ``"email"``).
        match: Payload path → accepted values.

    Examples:
        >>> from datetime import datetime, timezone
        >>> form = PayloadMapping.from_dict({
        ...     "channel": "web-form",
        ...     "sender_kind": "email",
        ...     "fields": {"sender": "contact.email", "subject": "/topic",
        ...                "text": "message", "external_id": "submission_id"},
        ... })
        >>> message = form.apply(
        ...     {"submission_id": 42, "topic": "发票", "message": "请开发票",
        ...      "contact": {"email": "wang.fang@example.cn"}},
        ...     received_at=datetime(2026, 10, 8, 2, 0, tzinfo=timezone.utc))
        >>> message.external_id, message.sender, message.subject
        ('42', 'wang.fang@example.cn', '发票')
    """

    channel: str = attrs.field(validator=_slug)
    fields: Mapping[str, FieldPath] = attrs.field(converter=_fields)
    sender_kind: str = attrs.field(default="email", validator=_slug)
    match: Mapping[str, tuple[str, ...]] = attrs.field(factory=dict, converter=_match)

    def to_dict(self) -> dict[str, Any]:
        """Plain data; [`from_dict()`][csmkit.channels.PayloadMapping.from_dict] rebuilds an equal
        mapping."""
        data: dict[str, Any] = {
            "channel": self.channel,
            "sender_kind": self.sender_kind,
            "fields": {name: spec.to_data() for name, spec in self.fields.items()},
        }
        if self.match:
            data["match"] = {path: list(values) for path, values in self.match.items()}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PayloadMapping:
        """Build from [`to_dict()`][csmkit.channels.PayloadMapping.to_dict] data.

        Raises:
            MessageFormatError: unknown keys, unknown fields, bad paths — naming where
                (``fields.sender: …``).
        """
        if not isinstance(data, Mapping):
            raise MessageFormatError(f"a payload mapping must be a mapping, got {data!r}")
        unknown = sorted(set(data) - {"channel", "sender_kind", "fields", "match"})
        if unknown:
            raise MessageFormatError(f"payload mapping: unknown key(s) {unknown}")
        for key in ("channel", "fields"):
            if key not in data:
                raise MessageFormatError(f"payload mapping: missing {key!r}")
        return cls(
            channel=data["channel"],
            fields=data["fields"],
            sender_kind=data.get("sender_kind", "email"),
            match=data.get("match", {}),
        )

    def accepts(self, payload: object) -> bool:
        """Whether ``payload`` passes `match`."""
        for path, allowed in self.match.items():
            value = FieldPath(path).lookup(payload)
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                return False
            if str(value) not in allowed:
                return False
        return True

    def apply(
        self,
        payload: object,
        *,
        received_at: datetime,
        default_id: str | None = None,
        max_text_chars: int = 200_000,
    ) -> InboundMessage | None:
        """The message in ``payload`` (``None`` when `match` rejects it).

        Args:
            payload: The decoded JSON.
            received_at: When it arrived (timezone-aware).
            default_id: ``external_id`` when the mapping reads none (the delivery id).
            max_text_chars: Longest accepted text value.

        Raises:
            MessageFormatError: a required value missing, or a value of the wrong type,
                naming the payload path.
        """
        if not self.accepts(payload):
            return None
        values: dict[str, Any] = {}
        for name, spec in self.fields.items():
            value = spec.lookup(payload)
            where = f"payload {spec.path} (field {name})"
            if value is None or value == "" or value == []:
                if spec.optional or name in _OPTIONAL_BY_DEFAULT:
                    continue
                raise MessageFormatError(f"{where}: missing or empty")
            if name in _LIST_FIELDS:
                if not isinstance(value, list):
                    value = [value]
                values[name] = [spec.prefix + _scalar(v, where, max_text_chars) for v in value]
            else:
                values[name] = spec.prefix + _scalar(value, where, max_text_chars)
        if "external_id" not in values and default_id is not None:
            values["external_id"] = f"{self.channel}:{default_id}"
        try:
            return InboundMessage(
                channel=self.channel,
                sender_kind=self.sender_kind,
                received_at=received_at,
                **values,
            )
        except (MessageFormatError, TypeError) as exc:
            raise MessageFormatError(f"payload mapping for {self.channel!r}: {exc}") from None


def _scalar(value: object, where: str, max_chars: int) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise MessageFormatError(
            f"{where}: expected a string or an integer, got {type(value).__name__}"
        )
    text = str(value)
    if len(text) > max_chars:
        raise MessageFormatError(f"{where}: {len(text)} characters, over {max_chars}")
    return text


MAPPING_EXAMPLES: Mapping[str, Mapping[str, Any]] = {
    # GitHub "issues" events (X-GitHub-Event: issues): a newly opened issue is a message
    # from its author; edits, labels and closes are ignored by "match".
    "github-issues": {
        "channel": "github",
        "sender_kind": "github",
        "fields": {
            "external_id": {"path": "/issue/node_id", "prefix": "github:"},
            "sender": "/sender/login",
            "subject": "/issue/title",
            "text": {"path": "/issue/body", "optional": True},
            "recipients": "/repository/full_name",
        },
        "match": {"/action": ["opened", "reopened"]},
    },
    # A web contact form posting JSON (form builders' "webhook" integrations).
    "form-post": {
        "channel": "web-form",
        "sender_kind": "email",
        "fields": {
            "external_id": {"path": "submission_id", "prefix": "form:"},
            "sender": "contact.email",
            "sender_name": {"path": "contact.name", "optional": True},
            "subject": {"path": "topic", "optional": True},
            "text": "message",
        },
    },
}
"""Ready-made payload mappings (plain data): ``PayloadMapping.from_dict(MAPPING_EXAMPLES[
"github-issues"])``. Copy and adapt them for other providers."""
