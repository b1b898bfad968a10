"""The exception tree shared by every part of csmkit.

Every error csmkit raises on purpose derives from [`CsmkitError`][csmkit.errors.CsmkitError] *and*
from the builtin that fits it, so callers may catch either::

    try:
        Condition.parse(user_text)
    except ValueError:  # or CsmkitError, or ConditionSyntaxError
        ...

Messages say what was wrong and where (a path inside the data such as
``events[3].at``, or a character position inside a condition's text).
"""

from __future__ import annotations

__all__ = [
    "AutomationError",
    "CalendarError",
    "ConcurrencyError",
    "ConditionError",
    "ConditionEvaluationError",
    "ConditionSyntaxError",
    "CsmkitError",
    "DeliveryError",
    "DurationError",
    "IdentityError",
    "MessageFormatError",
    "MetricsError",
    "NotFoundError",
    "NotificationError",
    "PluginError",
    "RoutingError",
    "SlaPolicyError",
    "StorageError",
    "StoreArgumentError",
    "TimelineError",
    "TransitionNotAllowed",
    "WebhookReplayError",
    "WebhookSignatureError",
    "WebhookTimestampError",
    "WebhookTooLargeError",
    "WebhookVerificationError",
    "WorkflowError",
]


class CsmkitError(Exception):
    """Root of every exception csmkit raises on purpose."""


class TimelineError(CsmkitError, ValueError):
    """An event, ticket or timeline is invalid, or its serialized form is malformed.

    Raised for naive datetimes, events out of order, events of another ticket, unknown
    enum values or event kinds, and dicts with missing or unexpected keys.

    Attributes:
        message: The explanation, without the location.
        path: Where in the input the problem is (``"events[2].at"``), or ``""``.
    """

    def __init__(self, message: str, *, path: str = "") -> None:
        self.message = message
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ConditionError(CsmkitError):
    """Base class of the errors raised by [`csmkit.conditions`][csmkit.conditions]."""


class ConditionSyntaxError(ConditionError, ValueError):
    """A condition's text or dict form is not valid in the condition language.

    Attributes:
        message: The human explanation, without the location.
        text: The condition text that was parsed (``None`` for the dict form).
        position: 0-based character offset of the problem in ``text`` (``None`` for the
            dict form).
        path: Location inside the dict form (``"all[1].op"``), ``""`` for text.
    """

    def __init__(
        self,
        message: str,
        *,
        text: str | None = None,
        position: int | None = None,
        path: str = "",
    ) -> None:
        self.message = message
        self.text = text
        self.position = position
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        if self.position is not None and self.text is not None:
            # Show a short window around the offending position with a caret under it.
            start = max(0, self.position - 30)
            window = self.text[start : self.position + 30].replace("\n", " ")
            caret = " " * (self.position - start) + "^"
            return f"{self.message} (at position {self.position})\n  {window}\n  {caret}"
        if self.path:
            return f"{self.path}: {self.message}"
        return self.message


class ConditionEvaluationError(ConditionError, TypeError):
    """A valid condition met values it cannot compare (e.g. a number with a string).

    Raised instead of silently answering ``False``: a rule comparing incomparable values
    is a defect in the rule or in the data, and hiding it would route or escalate
    tickets wrongly.
    """


class CalendarError(CsmkitError, ValueError):
    """A business calendar is malformed, or a query falls outside what it covers."""


class SlaPolicyError(CsmkitError, ValueError):
    """An SLA policy is malformed (unknown target, non-positive duration, bad threshold)."""


class DurationError(CsmkitError, ValueError):
    """A duration is not written in csmkit's duration grammar, or not allowed where it is.

    The grammar is the compact form (``1h30m``, ``7d``) or ISO 8601 (``PT1H30M``,
    ``P7D``); see "Durations" in the concepts page.

    Attributes:
        value: The value that was read.
        where: Where it came from (``targets.resolution.goals.high``).
    """

    def __init__(self, message: str, *, value: object = None, where: str = "") -> None:
        self.value = value
        self.where = where
        super().__init__(message)


class WorkflowError(CsmkitError, ValueError):
    """A workflow definition (or a migration between versions) is invalid.

    Validation collects every problem it finds instead of stopping at the first.

    Attributes:
        problems: One human-readable line per problem, each naming its location
            (``transitions[3].target: state 'onsite' is not defined``).
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] | list[str] = ()) -> None:
        self.problems = tuple(problems)
        if self.problems:
            message = message + "".join(f"\n  - {problem}" for problem in self.problems)
        super().__init__(message)


class TransitionNotAllowed(CsmkitError, ValueError):
    """A workflow transition may not be fired for this ticket, actor and data.

    Attributes:
        verdict: The full verdict of the check (every reason it is not allowed), as
            returned by the workflow's ``check``; ``None`` when not available.
    """

    def __init__(self, message: str, *, verdict: object = None) -> None:
        self.verdict = verdict
        super().__init__(message)


class RoutingError(CsmkitError, ValueError):
    """Routing configuration or input is invalid (duplicate agent, unknown strategy …)."""


class MetricsError(CsmkitError, ValueError):
    """A metric cannot be computed correctly from this input (bad score, missing data)."""


class NotFoundError(CsmkitError, LookupError):
    """Something looked up by id or name does not exist (a ticket, a plugin, a state)."""


class StorageError(CsmkitError, RuntimeError):
    """A store failed or holds data it cannot read (corrupt file, newer schema)."""


class ConcurrencyError(StorageError):
    """An append was based on a stale version of the ticket: a lost update was prevented.

    Attributes:
        ticket_id: The ticket whose stream moved on.
        expected: The version the writer based its append on.
        actual: The version the store holds (``None`` if unknown).
    """

    def __init__(
        self, message: str, *, ticket_id: str = "", expected: int = 0, actual: int | None = None
    ) -> None:
        self.ticket_id = ticket_id
        self.expected = expected
        self.actual = actual
        super().__init__(message)


class PluginError(CsmkitError, RuntimeError):
    """A plugin failed to load, registered a duplicate name, or implements an unknown hook."""


class StoreArgumentError(CsmkitError, ValueError):
    """A store was called with invalid arguments.

    Raised for an empty batch, a negative or non-integer expected version, a naive
    instant, a page size below 1, a cursor the store did not issue, or a malformed
    customer record. Nothing is read or written.
    """


class MessageFormatError(CsmkitError, ValueError):
    """An inbound message (e-mail bytes, webhook JSON) is malformed or over a size limit.

    Nothing was stored. A web framework maps it to HTTP 400; a mail poller moves the
    message aside (it will not parse better next time).
    """


class WebhookVerificationError(MessageFormatError):
    """A webhook request failed verification or parsing: signature, timestamp, body.

    Raised by the webhook channel's ``parse`` for a missing or bad signature, a
    timestamp outside the tolerance, an oversized or malformed body. Map it to
    HTTP 400; nothing was stored.
    """


class WebhookSignatureError(WebhookVerificationError):
    """No signature of a webhook request matches (wrong secret, altered body, or a
    signature header missing or malformed). Map it to HTTP 401; nothing was stored."""


class WebhookTimestampError(WebhookVerificationError):
    """A webhook request's signed timestamp is outside the tolerance (a stale replay or
    clock skew). Map it to HTTP 400; nothing was stored."""


class WebhookReplayError(WebhookVerificationError):
    """A correctly signed webhook request was already received within the replay window
    (the same delivery id and timestamp, or WeChat's timestamp and nonce).

    Nothing was stored again: answer HTTP 200 (or WeChat's ``success``) so the sender
    stops, the first copy was taken in.
    """


class WebhookTooLargeError(WebhookVerificationError):
    """A webhook request body is over the configured size limit; it was refused before
    any signature or parsing work. Map it to HTTP 413; nothing was stored."""


class NotificationError(CsmkitError, ValueError):
    """An outbound notification is invalid (e.g. CR/LF in a header value: injection)."""


class DeliveryError(CsmkitError, RuntimeError):
    """A notification could not be delivered (after the configured retries).

    Attributes:
        attempts: How many attempts were made.
    """

    def __init__(self, message: str, *, attempts: int = 1) -> None:
        self.attempts = attempts
        super().__init__(message)


class IdentityError(CsmkitError, ValueError):
    """A customer identity (phone number, e-mail address, handle) cannot be normalised."""


class AutomationError(CsmkitError, ValueError):
    """An automation rule set or a service desk's configuration is invalid, or a rule
    run went wrong.

    Raised for unknown trigger kinds, actions, fields, channels, transitions or template
    placeholders, loops between rules, and a chain of rule actions longer than the
    per-event cap. Definitions report every problem at once in ``problems``; nothing is
    written when it is raised.

    Attributes:
        problems: One line per problem, each naming where it is (``rules[2].actions[0]``).
    """

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        self.problems = list(problems or [])
        super().__init__(message)
