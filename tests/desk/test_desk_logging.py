"""The desk's decisions are logged on ``csmkit.*`` loggers (stdlib logging), never printed
unless the application configures logging, and never with secrets or message bodies."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from csmkit.channels import (
    AutoReply,
    DeliveryReport,
    InboundMessage,
    PayloadMapping,
    RecipientStatus,
    WebhookParser,
    WebhookReceiver,
    WebhookSignature,
    WeChatParser,
    webhook_headers,
    wechat_signature,
)
from csmkit.desk import ServiceDesk, TicketType
from csmkit.errors import AutomationError, WebhookVerificationError
from csmkit.hookspecs import hookimpl
from csmkit.plugins import PluginManager
from csmkit.routing import AgentPool, Router, RoutingRules
from csmkit.storage import open_store
from csmkit.workflow import Workflow, template_dict

SRC = Path(__file__).resolve().parents[2] / "src"


def _records(caplog: pytest.LogCaptureFixture, logger: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == logger]


def _only(caplog: pytest.LogCaptureFixture, logger: str, level: int, *words: str) -> str:
    """The single record on ``logger`` at ``level`` containing every word."""
    found = [
        r.getMessage()
        for r in _records(caplog, logger)
        if r.levelno == level and all(w in r.getMessage() for w in words)
    ]
    assert len(found) == 1, (logger, level, words, [r.getMessage() for r in caplog.records])
    return found[0]


# --------------------------------------------------------------------------- intake
INTAKE = "csmkit.channels._intake"


def _intake_desk(at: datetime, plugins: PluginManager | None = None) -> ServiceDesk:
    return ServiceDesk(
        open_store("memory://"),
        types=[TicketType("complaint", Workflow.from_dict(template_dict("complaint")))],
        clock=lambda: at,
        plugins=plugins or PluginManager(load_entrypoints=False),
        intake_type="complaint",
    )


def _mail(at: datetime, external_id: str, **extra: Any) -> InboundMessage:
    values: dict[str, Any] = {
        "channel": "email",
        "external_id": external_id,
        "sender": "wang@customer.example",
        "subject": "空调不制冷",
        "text": "BODY-TEXT please come",
        "received_at": at,
    }
    values.update(extra)
    return InboundMessage(**values)


def test_intake_decisions_are_logged_once_each(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="csmkit")
    at = datetime(2026, 10, 15, 10, 0, tzinfo=timezone.utc)
    desk = _intake_desk(at)
    first = desk.receive(_mail(at, "<m1@customer.example>"))
    ticket = first.ticket_id
    assert first.outcome == "created" and ticket is not None
    _only(caplog, INTAKE, logging.INFO, "<m1@customer.example>", "opened ticket", ticket)

    reply = _mail(at, "<m2@customer.example>", in_reply_to="<m1@customer.example>")
    assert desk.receive(reply).outcome == "appended"
    _only(caplog, INTAKE, logging.INFO, "<m2@customer.example>", "threaded into ticket", ticket)

    assert desk.receive(_mail(at, "<m1@customer.example>")).outcome == "duplicate"
    _only(caplog, INTAKE, logging.DEBUG, "<m1@customer.example>", "duplicate", ticket)

    auto = AutoReply(
        message=_mail(at, "<ooo@customer.example>", in_reply_to="<m1@customer.example>"),
        reason="subject",
    )
    assert desk.receive(auto).outcome == "recorded"
    _only(caplog, INTAKE, logging.INFO, "<ooo@customer.example>", "auto-reply recorded", ticket)

    stray = DeliveryReport(
        message=_mail(at, "<dsn-9@mx.example>", sender="mailer-daemon@mx.example"),
        recipients=(RecipientStatus(recipient="x@y.example", action="failed", status="5.1.1"),),
        original_message_id="<nobody@customer.example>",
    )
    assert desk.receive(stray).outcome == "unmatched"
    _only(caplog, INTAKE, logging.INFO, "<dsn-9@mx.example>", "delivery report", "no ticket")
    assert all("BODY-TEXT" not in r.getMessage() for r in caplog.records)


def test_a_message_a_plugin_filters_is_logged_as_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class NoWang:
        @hookimpl
        def csmkit_inbound_filter(self, message: InboundMessage) -> bool | None:
            return False if message.sender.startswith("wang") else None

    caplog.set_level(logging.DEBUG, logger="csmkit")
    at = datetime(2026, 10, 15, 10, 0, tzinfo=timezone.utc)
    desk = _intake_desk(at, PluginManager([NoWang()], load_entrypoints=False))
    assert desk.receive(_mail(at, "<m1@customer.example>")).outcome == "dropped"
    _only(caplog, INTAKE, logging.INFO, "<m1@customer.example>", "dropped", "plugin")


# --------------------------------------------------------------------------- desk decisions
def test_routing_delivery_failure_and_escalation_are_logged(
    caplog: pytest.LogCaptureFixture, kit: Any, tmp_path: Path
) -> None:
    from tests.desk.test_desk_delivery import FlakySms

    caplog.set_level(logging.DEBUG, logger="csmkit")
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    sms = FlakySms(failures=2)
    desk = kit.make_desk(tmp_path / "d.db", clock, sms)
    desk.open_ticket(
        "repair", channel="phone", priority="urgent", fields=kit.FIELDS, ticket_id="BX-1"
    )
    _only(
        caplog,
        "csmkit.desk._core",
        logging.INFO,
        "ticket BX-1 routed to agent wang (group engineers) by rule urgent-repair",
    )
    failed = _only(caplog, "csmkit.desk._delivery", logging.WARNING, "BX-1", "failed")
    assert "'dispatch-urgent'" in failed and "ConnectionError" in failed

    clock.now += timedelta(minutes=5)
    desk.tick(clock.now)  # still down
    _only(caplog, "csmkit.desk._delivery", logging.WARNING, "BX-1", "retry", "failed again")
    clock.now += timedelta(minutes=5)
    desk.tick(clock.now)
    _only(caplog, "csmkit.desk._delivery", logging.INFO, "BX-1", "retry", "delivered")

    clock.now = datetime(2026, 10, 15, 14, 0, tzinfo=kit.SH)  # 2 business hours later
    desk.tick(clock.now)
    _only(
        caplog,
        "csmkit.desk._core",
        logging.INFO,
        "ticket BX-1 escalated to level 1 (group supervisors)",
    )

    desk.assign("BX-1", "chen", group="supervisors", actor="lead")
    _only(caplog, "csmkit.desk._core", logging.INFO, "ticket BX-1 assigned to agent chen", "lead")


def test_a_ticket_no_agent_can_take_stays_queued(
    caplog: pytest.LogCaptureFixture, kit: Any
) -> None:
    caplog.set_level(logging.DEBUG, logger="csmkit")
    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    desk = ServiceDesk(
        open_store("memory://"),
        types=[TicketType("repair", kit.repair_workflow())],
        clock=lambda: at,
        plugins=PluginManager(load_entrypoints=False),
        router=Router(RoutingRules.from_dict(kit.ROUTING)),
        agents=AgentPool([]),
    )
    desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id="Q-1")
    assert desk.assign("Q-1").assignee is None
    _only(caplog, "csmkit.desk._tickets", logging.INFO, "ticket Q-1", "stays queued")


def test_opening_a_problem_is_logged(caplog: pytest.LogCaptureFixture, kit: Any) -> None:
    caplog.set_level(logging.DEBUG, logger="csmkit")
    clock = kit.Clock(datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH))
    desk = kit.make_desk("memory://", clock, kit.Outbox(), rules={"rules": []})
    for ticket_id in ("T-1", "T-2"):
        desk.open_ticket("repair", channel="phone", fields=kit.FIELDS, ticket_id=ticket_id)
    problem = desk.open_problem(["T-1", "T-2"])
    _only(caplog, "csmkit.desk._problems", logging.INFO, f"problem {problem} opened", "T-1, T-2")
    desk.open_problem(["T-1", "T-2"])
    _only(caplog, "csmkit.desk._problems", logging.INFO, f"problem {problem} joined")


# --------------------------------------------------------------------------- receivers
SECRET = "TOP-SECRET-VALUE-1234"
NOW = datetime(2026, 10, 15, 2, 0, tzinfo=timezone.utc)


def _assert_clean(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        for secret in secrets:
            assert secret not in text, (secret, text)


def test_webhook_refusals_are_warnings_without_secrets_or_bodies(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="csmkit")
    item = {"id": "m1", "sender": {"kind": "im", "value": "u"}, "text": "BODY-TEXT"}
    body = json.dumps({"messages": [item]}).encode()
    headers = webhook_headers(SECRET, "msg-1", NOW, body)
    parser = WebhookParser("whsec_d3JvbmctLXNlY3JldA==")
    with pytest.raises(WebhookVerificationError):
        parser.parse(headers, body, now=NOW)
    warning = _only(caplog, "csmkit.channels._webhook", logging.WARNING, "signature")
    assert "refused" in warning
    good = WebhookParser(SECRET)
    assert len(good.parse(headers, body, now=NOW)) == 1
    assert good.parse(headers, body, now=NOW) == []
    _only(caplog, "csmkit.channels._webhook", logging.WARNING, "replay")

    receiver = WebhookReceiver(
        WebhookSignature.github(),
        SECRET,
        PayloadMapping.from_dict({"channel": "test", "fields": {"sender": "/who"}}),
    )
    tampered = {"X-Hub-Signature-256": "sha256=" + "0" * 64, "X-GitHub-Delivery": "d-1"}
    with pytest.raises(WebhookVerificationError):
        receiver.receive(tampered, body, now=NOW)
    _only(caplog, "csmkit.channels._receiver", logging.WARNING, "signature does not match")
    _assert_clean(caplog, SECRET, "BODY-TEXT", "0" * 64)


def test_wechat_signature_failure_and_replay_are_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="csmkit")
    token = "TOKEN-SECRET"
    timestamp = str(int(NOW.timestamp()))
    body = (
        b"<xml><ToUserName>gh_1</ToUserName><FromUserName>o_user</FromUserName>"
        b"<CreateTime>" + timestamp.encode() + b"</CreateTime><MsgType>text</MsgType>"
        b"<Content>BODY-TEXT</Content><MsgId>42</MsgId></xml>"
    )
    parser = WeChatParser(token)
    query = {"signature": "f" * 40, "timestamp": timestamp, "nonce": "n1"}
    with pytest.raises(WebhookVerificationError):
        parser.parse(query, body, now=NOW)
    _only(caplog, "csmkit.channels._wechat", logging.WARNING, "WeChat", "signature")
    signed = {**query, "signature": wechat_signature(token, timestamp, "n1")}
    parser.parse(signed, body, now=NOW)
    with pytest.raises(WebhookVerificationError):
        parser.parse(signed, body, now=NOW)
    _only(caplog, "csmkit.channels._wechat", logging.WARNING, "WeChat", "replay refused")
    _assert_clean(caplog, token, "BODY-TEXT", signed["signature"])


# --------------------------------------------------------------------------- silence
def test_nothing_is_printed_without_logging_configured(tmp_path: Path) -> None:
    script = tmp_path / "run.py"
    script.write_text(
        "from datetime import datetime, timezone\n"
        "from csmkit.channels import InboundMessage\n"
        "from csmkit.desk import ServiceDesk, TicketType\n"
        "from csmkit.plugins import PluginManager\n"
        "from csmkit.storage import open_store\n"
        "from csmkit.workflow import Workflow, template_dict\n"
        "at = datetime(2026, 10, 15, 10, 0, tzinfo=timezone.utc)\n"
        "class Down:\n"
        "    def send(self, n):\n"
        "        raise ConnectionError('down')\n"
        "rules = {'rules': [{'id': 'ack', 'on': 'message_in', 'actions': [{'do': 'notify',\n"
        "    'channel': 'sms', 'to': 'x', 'template': 'ok'}]}]}\n"
        "desk = ServiceDesk(open_store('memory://'),\n"
        "    types=[TicketType('complaint', Workflow.from_dict(template_dict('complaint')))],\n"
        "    clock=lambda: at, plugins=PluginManager(load_entrypoints=False),\n"
        "    rules=rules, channels={'sms': Down()}, intake_type='complaint')\n"
        "m = InboundMessage(channel='email', external_id='<m1@x>', sender='a@x',\n"
        "    subject='s', text='t', received_at=at)\n"
        "assert desk.receive(m).outcome == 'created'\n"
        "assert desk.receive(m).outcome == 'duplicate'\n"
        "assert len(desk.undelivered()) == 1\n"
        "desk.tick(at)\n"
        "print('done')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "done\n"
    assert done.stderr == ""


# --------------------------------------------------------------------------- send_survey
def _survey_rules(survey: str) -> dict[str, Any]:
    return {
        "rules": [
            {
                "id": "ask",
                "on": "created",
                "actions": [
                    {"do": "send_survey", "survey": survey, "channel": "sms", "template": "?"}
                ],
            }
        ]
    }


def test_send_survey_names_a_declared_survey(kit: Any) -> None:
    from csmkit.metrics import Survey

    at = datetime(2026, 10, 15, 10, 0, tzinfo=kit.SH)
    outbox = kit.Outbox()

    def desk(survey: str) -> ServiceDesk:
        return ServiceDesk(
            open_store("memory://"),
            types=[TicketType("repair", kit.repair_workflow())],
            clock=lambda: at,
            plugins=PluginManager(load_entrypoints=False),
            surveys=[Survey("after-repair", "csat")],
            rules=_survey_rules(survey),
            channels={"sms": outbox},
        )

    desk("after-repair").open_ticket("repair", channel="phone", fields=kit.FIELDS)
    assert [n.survey for n in outbox.sent] == ["after-repair"]
    desk("nps").open_ticket("repair", channel="phone", fields=kit.FIELDS)  # a kind is fine
    with pytest.raises(AutomationError) as info:
        desk("after-sale")
    assert any(
        p.startswith("rules[0] 'ask'.actions[0].survey: 'after-sale' is neither")
        and "after-repair" in p
        for p in info.value.problems
    ), info.value.problems
