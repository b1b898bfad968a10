"""WeChat customer-service messages (客服消息): the answer sent after the 5-second ack,
as an outbound channel and a plugin registering the WeChat channels."""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import attrs

from csmkit.channels._outbound import DeliveryReceipt
from csmkit.channels._wechat import WeChatParser
from csmkit.errors import DeliveryError, NotificationError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import InboundChannelRegistration, OutboundChannelRegistration

__all__ = ["WeChatChannel", "WeChatNotification", "WeChatPlugin"]

_API = "https://api.weixin.qq.com"
_SEND_PATH = "/cgi-bin/message/custom/send"
_MAX_TEXT = 2048  # characters: longer answers are refused here, not truncated silently


def _text(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise NotificationError(f"WeChatNotification.{attribute.name} must be non-empty text")
    if attribute.name == "to" and (len(value) > 128 or any(c.isspace() for c in value)):
        raise NotificationError(f"WeChatNotification.to: {value[:40]!r} is not an OpenID")
    if attribute.name == "text" and len(value) > _MAX_TEXT:
        raise NotificationError(f"WeChatNotification.text: over {_MAX_TEXT} characters")


@attrs.frozen
class WeChatNotification:
    """A text customer-service message to one follower.

    Attributes:
        to: The follower's OpenID.
        text: The answer.
    """

    to: str = attrs.field(validator=_text)
    text: str = attrs.field(validator=_text)


def _urllib_post(url: str, body: bytes, timeout: float) -> bytes:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json; charset=utf-8"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        data: bytes = response.read(64 * 1024)
    return data


class WeChatChannel:
    """Sends customer-service text messages through the Official Account API.

    ``send`` takes a [`WeChatNotification`][csmkit.channels.WeChatNotification], or any notification
    with ``to`` and ``text`` (the desk's rule notifications): ``recipient`` turns its ``to`` (a
    customer id) into the OpenID. The JSON payload is ``{"touser", "msgtype": "text", "text":
    {"content"}}``, POSTed to ``/cgi-bin/message/custom/send?access_token=…``; an
    ``errcode`` other than 0 is a [`DeliveryError`][csmkit.errors.DeliveryError] (the access token
    never appears in errors).

    Args:
        access_token: Returns a valid access token (the application caches and
            refreshes it; tokens last two hours).
        post: Called as ``post(url, body, timeout)`` and returns the response bytes;
            default: ``urllib`` over HTTPS. Tests pass a recorder (no network).
        recipient: Maps a notification's ``to`` to an OpenID (default: it already is).
        api_base: The API origin.
        timeout: Seconds for the request.
    """

    def __init__(
        self,
        *,
        access_token: Callable[[], str],
        post: Callable[[str, bytes, float], bytes] | None = None,
        recipient: Callable[[str], str | None] | None = None,
        api_base: str = _API,
        timeout: float = 5.0,
    ) -> None:
        if not callable(access_token):
            raise NotificationError("access_token must be a callable returning the token")
        if not api_base.startswith("https://"):
            raise NotificationError(f"api_base must be https://, got {api_base!r}")
        self._token = access_token
        self._post = post or _urllib_post
        self._recipient = recipient
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"<WeChatChannel {self.api_base}>"

    def message(self, notification: object) -> WeChatNotification:
        """The [`WeChatNotification`][csmkit.channels.WeChatNotification] for any notification with
        ``to``/``text``.

        Raises:
            NotificationError: no ``to``/``text``, or no OpenID for the recipient.
        """
        if isinstance(notification, WeChatNotification):
            return notification
        to = getattr(notification, "to", None)
        text = getattr(notification, "text", None)
        if not isinstance(to, str) or not isinstance(text, str):
            raise NotificationError(
                f"WeChatChannel needs a notification with 'to' and 'text', got "
                f"{type(notification).__name__}"
            )
        open_id = self._recipient(to) if self._recipient is not None else to
        if not open_id:
            raise NotificationError(f"no WeChat OpenID for recipient {to!r}")
        return WeChatNotification(open_id, text)

    def payload(self, notification: object) -> dict[str, Any]:
        """The customer-service-message JSON for ``notification``."""
        message = self.message(notification)
        return {"touser": message.to, "msgtype": "text", "text": {"content": message.text}}

    def send(self, notification: object) -> DeliveryReceipt:
        """Send one message.

        Raises:
            NotificationError: an invalid notification.
            DeliveryError: a network failure or an ``errcode`` from the platform
                (e.g. 45015: the follower has not written in the last 48 hours).
        """
        payload = self.payload(notification)
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        query = urllib.parse.urlencode({"access_token": self._token()})
        url = f"{self.api_base}{_SEND_PATH}?{query}"
        try:
            answer = self._post(url, body, self.timeout)
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(
                f"WeChat customer-service message failed: {type(exc).__name__}"
            ) from None
        try:
            result = json.loads(answer.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise DeliveryError("WeChat answered something that is not JSON") from None
        code = result.get("errcode", 0) if isinstance(result, dict) else None
        if code != 0:
            detail = str(result.get("errmsg", ""))[:200] if isinstance(result, dict) else ""
            raise DeliveryError(f"WeChat refused the message: errcode {code} {detail}".rstrip())
        digest = hashlib.sha256(body).hexdigest()[:16]
        return DeliveryReceipt("wechat", f"wechat-kf:{digest}", (payload["touser"],))


class WeChatPlugin:
    """Registers the WeChat channels through csmkit's hooks:
    ``PluginManager([WeChatPlugin()])`` lists inbound ``wechat``
    ([`WeChatParser`][csmkit.channels.WeChatParser]) and outbound ``wechat``
    ([`WeChatChannel`][csmkit.channels.WeChatChannel]), built with
    ``registration.factory(**options)``."""

    @hookimpl
    def csmkit_inbound_channels(self) -> Iterable[InboundChannelRegistration]:
        """The WeChat Official Account callback parser."""
        return [InboundChannelRegistration("wechat", WeChatParser, "微信公众号 server callbacks")]

    @hookimpl
    def csmkit_outbound_channels(self) -> Iterable[OutboundChannelRegistration]:
        """The customer-service message sender."""
        return [OutboundChannelRegistration("wechat", WeChatChannel, "微信公众号 客服消息")]
