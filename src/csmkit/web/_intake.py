"""Intake endpoints: WeChat, Standard Webhooks, named webhook receivers (GitHub, any
signature preset with a payload mapping) and inbound mail. Each is authenticated by
its provider's signature only and exists only when its secret is configured."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from csmkit.channels import (
    MAPPING_EXAMPLES,
    WECHAT_ACK,
    AutoReply,
    DeliveryReport,
    EmailParser,
    InboundMessage,
    PayloadMapping,
    WebhookParser,
    WebhookReceiver,
    WebhookSignature,
    WeChatParser,
)
from csmkit.desk import ServiceDesk
from csmkit.errors import WebhookReplayError
from csmkit.web._guard import read_body
from csmkit.web._problems import HttpProblem
from csmkit.web._settings import WebSettings

__all__ = ["intake_routes"]

_log = logging.getLogger("csmkit.web")

Offload = Callable[..., Awaitable[Any]]
Inbound = InboundMessage | DeliveryReport | AutoReply


def _results(desk: ServiceDesk, messages: list[Inbound]) -> list[dict[str, Any]]:
    out = []
    for message in messages:
        result = desk.receive(message)
        out.append({"outcome": result.outcome, "ticket_id": result.ticket_id})
    return out


class _Endpoints:
    """The configured intake endpoints of one app."""

    def __init__(self, desk: ServiceDesk, settings: WebSettings, offload: Offload) -> None:
        self.desk = desk
        self.limit = settings.max_body_bytes
        self.offload = offload
        wechat = settings.wechat
        self.wechat = None if wechat is None else WeChatParser(
            wechat["token"], app_id=wechat.get("app_id"),
            encoding_aes_key=wechat.get("encoding_aes_key"),
        )  # fmt: skip
        self.webhook = (
            WebhookParser(list(settings.webhook_secrets), max_body_bytes=self.limit)
            if settings.webhook_secrets
            else None
        )
        self.hooks = {
            name: WebhookReceiver.from_dict(
                {k: v for k, v in spec.items() if k != "secrets"} | {"max_body_bytes": self.limit},
                secrets=list(spec["secrets"]),
            )
            for name, spec in settings.hooks.items()
        }
        email = settings.email
        # The mail service's signature is checked by a receiver's verify(); the mail
        # itself is read by EmailParser, so the receiver's mapping is never applied.
        self.email = None if email is None else WebhookReceiver(
            WebhookSignature.from_dict(email["signature"]), list(email["secrets"]),
            PayloadMapping.from_dict(MAPPING_EXAMPLES["form-post"]), max_body_bytes=self.limit,
        )  # fmt: skip
        self.email_parser = EmailParser()

    def routes(self) -> list[Route]:
        routes = []
        if self.wechat is not None:
            routes.append(Route("/intake/wechat", self.wechat_endpoint, methods=["GET", "POST"]))
        if self.webhook is not None:
            routes.append(Route("/intake/webhook", self.webhook_endpoint, methods=["POST"]))
        if self.hooks:
            routes.append(Route("/intake/hooks/{name}", self.hook_endpoint, methods=["POST"]))
        if self.email is not None:
            routes.append(Route("/intake/email", self.email_endpoint, methods=["POST"]))
        return routes

    async def wechat_endpoint(self, request: Request) -> Response:
        parser = self.wechat
        assert parser is not None
        query = dict(request.query_params)
        if request.method == "GET":
            echo = await self.offload(lambda: parser.verify_url(query, now=self.desk.now()))
            return PlainTextResponse(echo)
        body = await read_body(request, self.limit)

        def work() -> None:
            try:
                _, message = parser.receive(query, body, now=self.desk.now())
            except WebhookReplayError:
                return  # the platform's retry of a callback already taken in
            if message is not None:
                _results(self.desk, [message])

        await self.offload(work)
        return PlainTextResponse(WECHAT_ACK)

    async def webhook_endpoint(self, request: Request) -> Response:
        parser = self.webhook
        assert parser is not None
        body = await read_body(request, self.limit)
        headers = dict(request.headers)

        def work() -> list[dict[str, Any]]:
            messages = parser.parse(headers, body, now=self.desk.now())
            return _results(self.desk, list(messages))

        return JSONResponse({"results": await self.offload(work)})

    async def hook_endpoint(self, request: Request) -> Response:
        receiver = self.hooks.get(request.path_params["name"])
        if receiver is None:
            raise HttpProblem(404, "not-found", "no such webhook receiver")
        body = await read_body(request, self.limit)
        headers = dict(request.headers)
        return JSONResponse({"results": await self.offload(self._hook, receiver, headers, body)})

    def _hook(
        self, receiver: WebhookReceiver, headers: Mapping[str, str], body: bytes
    ) -> list[dict[str, Any]]:
        try:
            message = receiver.receive(headers, body, now=self.desk.now())
        except WebhookReplayError:
            return [{"outcome": "duplicate", "ticket_id": None}]
        if message is None:
            return [{"outcome": "ignored", "ticket_id": None}]
        return _results(self.desk, [message])

    async def email_endpoint(self, request: Request) -> Response:
        receiver = self.email
        assert receiver is not None
        body = await read_body(request, self.limit)
        headers = dict(request.headers)

        def work() -> list[dict[str, Any]]:
            now = self.desk.now()
            receiver.verify(headers, body, now=now)
            return _results(self.desk, [self.email_parser.parse_inbound(body, received_at=now)])

        return JSONResponse({"results": await self.offload(work)})


def intake_routes(desk: ServiceDesk, settings: WebSettings, offload: Offload) -> list[Route]:
    """The routes of the intake endpoints ``settings`` configures (none by default)."""
    return _Endpoints(desk, settings, offload).routes()
