"""Webhook signature presets against each provider's published example, payload mappings,
and hostile requests (wrong signature, stale timestamp, replay, oversized body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.channels import (
    MAPPING_EXAMPLES,
    FieldPath,
    Intake,
    PayloadMapping,
    ReplayGuard,
    WebhookReceiver,
    WebhookSignature,
)
from csmkit.errors import (
    MessageFormatError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)
from csmkit.plugins import PluginManager
from csmkit.storage import MemoryStore

FIXTURES = Path(__file__).parent / "fixtures" / "webhooks"
ANY = PayloadMapping.from_dict({"channel": "test", "fields": {"sender": "/who"}})

# --------------------------------------------------------------------------- vectors
# Standard Webhooks: standard-webhooks/standard-webhooks,
# libraries/python/tests/test_webhooks.py (test_sign_function).
SW_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SW_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SW_TIMESTAMP = 1614265330
SW_BODY = b'{"test": 2432232314}'
SW_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
SW_NOW = datetime.fromtimestamp(SW_TIMESTAMP + 10, timezone.utc)

# GitHub: https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
# ("Testing the webhook payload validation": secret, payload and expected signature).
GH_SECRET = "It's a Secret to Everybody"
GH_BODY = b"Hello, World!"
GH_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

# Stripe: stripe/stripe-dotnet, src/StripeTests/.../EventUtilityTest.cs with
# src/StripeTests/Resources/event_test_signature.json (fixtures/webhooks/).
ST_SECRET = "webhook_secret"
ST_HEADER = (
    "t=1533204620,v1=2220f87ef101a04665f11cdf770523143f875572008577fa0f20882ddb9cc3c7,"
    "v0=63f3a72374a733066c4be69ed7f8e5ac85c22c9f0a6a612ab9a025a9e4ee7eef"
)
ST_NOW = datetime.fromtimestamp(1533204620 + 100, timezone.utc)


def stripe_body() -> bytes:
    return (FIXTURES / "stripe_event_test_signature.json").read_bytes()


def receiver(signature: WebhookSignature, secret: str, **kw: Any) -> WebhookReceiver:
    return WebhookReceiver(signature, secret, kw.pop("mapping", ANY), **kw)


# --------------------------------------------------------------------------- presets
@pytest.mark.parametrize("prefix", ["webhook-", "svix-", "Svix-", "WEBHOOK-"])
def test_standard_webhooks_vector_with_both_header_names(prefix: str) -> None:
    headers = {
        f"{prefix}id": SW_ID,
        f"{prefix}timestamp": str(SW_TIMESTAMP),
        f"{prefix}signature": SW_SIGNATURE,
    }
    delivery = receiver(WebhookSignature.standard(), SW_SECRET).verify(headers, SW_BODY, now=SW_NOW)
    assert (delivery.id, delivery.timestamp) == (SW_ID, SW_TIMESTAMP)


def test_standard_webhooks_several_signatures_any_may_match() -> None:
    other = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc="
    headers = {
        "webhook-id": SW_ID,
        "webhook-timestamp": str(SW_TIMESTAMP),
        "webhook-signature": f"{other} v2,{SW_SIGNATURE[3:]} {SW_SIGNATURE}",
    }
    sig = WebhookSignature.standard()
    assert receiver(sig, SW_SECRET).verify(headers, SW_BODY, now=SW_NOW).id == SW_ID
    headers["webhook-signature"] = f"{other} v2,{SW_SIGNATURE[3:]}"  # v2 is not v1
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        receiver(sig, SW_SECRET).verify(headers, SW_BODY, now=SW_NOW)


def test_standard_webhooks_tolerance_and_tampering() -> None:
    headers = {
        "webhook-id": SW_ID,
        "webhook-timestamp": str(SW_TIMESTAMP),
        "webhook-signature": SW_SIGNATURE,
    }
    sig = WebhookSignature.standard(tolerance_seconds=300)
    late = SW_NOW + timedelta(seconds=301)
    with pytest.raises(WebhookTimestampError, match="outside the tolerance of 300 s"):
        receiver(sig, SW_SECRET).verify(headers, SW_BODY, now=late)
    with pytest.raises(WebhookSignatureError):
        receiver(sig, SW_SECRET).verify(headers, SW_BODY + b" ", now=SW_NOW)
    with pytest.raises(WebhookSignatureError, match="missing header"):
        receiver(sig, SW_SECRET).verify({"webhook-id": SW_ID}, SW_BODY, now=SW_NOW)
    # a forged request with a stale timestamp is a signature error, not a timestamp one
    forged = {**headers, "webhook-timestamp": "1000000000"}
    with pytest.raises(WebhookSignatureError):
        receiver(sig, SW_SECRET).verify(forged, SW_BODY, now=SW_NOW)


def test_github_vector() -> None:
    rec = receiver(WebhookSignature.github(), GH_SECRET)
    headers = {"X-Hub-Signature-256": GH_SIGNATURE, "X-GitHub-Delivery": "72d3162e-cc78"}
    delivery = rec.verify(headers, GH_BODY, now=SW_NOW)
    assert (delivery.id, delivery.timestamp) == ("72d3162e-cc78", None)
    upper = {"x-hub-signature-256": "sha256=" + GH_SIGNATURE[7:].upper()}
    assert rec.verify(upper, GH_BODY, now=SW_NOW).id is None  # hex is case-insensitive
    with pytest.raises(WebhookSignatureError, match="expected 'sha256='"):
        rec.verify({"X-Hub-Signature-256": GH_SIGNATURE[7:]}, GH_BODY, now=SW_NOW)
    with pytest.raises(WebhookSignatureError, match="no signature matches"):
        receiver(WebhookSignature.github(), "wrong").verify(headers, GH_BODY, now=SW_NOW)


def test_stripe_vector_and_rotation() -> None:
    rec = receiver(WebhookSignature.stripe(), ST_SECRET)
    delivery = rec.verify({"Stripe-Signature": ST_HEADER}, stripe_body(), now=ST_NOW)
    assert delivery.timestamp == 1533204620
    rotated = ST_HEADER.replace("t=1533204620,", "t=1533204620,v1=" + "0" * 64 + ",")
    assert rec.verify({"stripe-signature": rotated}, stripe_body(), now=ST_NOW).timestamp
    with pytest.raises(WebhookTimestampError):
        rec.verify({"Stripe-Signature": ST_HEADER}, stripe_body(), now=ST_NOW + timedelta(hours=1))
    for bad in ("v1=abc", "t=1,t=2,v1=ab", "t=x,v1=ab", "t=1533204620", "garbage"):
        with pytest.raises(WebhookSignatureError):
            rec.verify({"Stripe-Signature": bad}, stripe_body(), now=ST_NOW)


@pytest.mark.parametrize(
    ("algorithm", "encoding", "prefix"),
    [("sha256", "hex", ""), ("sha1", "hex", "sha1="), ("sha512", "base64", "")],
)
def test_generic_hmac_header(algorithm: str, encoding: str, prefix: str) -> None:
    # the GitHub vector again, through the generic preset, cross-checked with hashlib
    digest = hmac.new(GH_SECRET.encode(), GH_BODY, getattr(hashlib, algorithm)).digest()
    text = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    sig = WebhookSignature.hmac(
        "X-Signature", algorithm=algorithm, encoding=encoding, prefix=prefix, id_header="X-Id"
    )
    rec = receiver(sig, GH_SECRET)
    assert (
        rec.verify({"X-Signature": prefix + text, "X-Id": "d-1"}, GH_BODY, now=SW_NOW).id == "d-1"
    )
    if algorithm == "sha256":
        assert text == GH_SIGNATURE[7:]
    with pytest.raises(WebhookSignatureError):
        rec.verify({"X-Signature": prefix + text}, GH_BODY + b"!", now=SW_NOW)


def test_signature_configuration_round_trips_and_is_checked() -> None:
    for sig in (
        WebhookSignature.standard(),
        WebhookSignature.github(),
        WebhookSignature.stripe(tolerance_seconds=60),
        WebhookSignature.hmac("X-Sig", algorithm="sha1", encoding="base64", prefix="sha1="),
    ):
        assert WebhookSignature.from_dict(json.loads(json.dumps(sig.to_dict()))) == sig
    assert WebhookSignature.from_dict({"scheme": "github"}) == WebhookSignature.github()
    for data, where in [
        ({"scheme": "paypal"}, "signature.scheme"),
        ({"scheme": "hmac"}, "signature.header"),
        ({"scheme": "hmac", "header": "X", "algorithm": "md5"}, "signature.algorithm"),
        ({"scheme": "github", "colour": 1}, "unknown key"),
        ({"scheme": "stripe", "tolerance_seconds": 0}, "tolerance_seconds"),
        ({"scheme": "hmac", "header": "bad header"}, "signature.header"),
        ({"scheme": "github", "algorithm": "sha1"}, "signs with sha256"),
    ]:
        with pytest.raises(WebhookVerificationError, match=where):
            WebhookSignature.from_dict(data)


# --------------------------------------------------------------------------- receiver
def _signed_github(body: bytes, secret: str = "s3cret", delivery: str = "d-1") -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "X-GitHub-Delivery": delivery}


def test_github_issue_event_becomes_a_ticket() -> None:
    body = (FIXTURES / "github_issues_opened.json").read_bytes()
    mapping = PayloadMapping.from_dict(MAPPING_EXAMPLES["github-issues"])
    rec = WebhookReceiver(WebhookSignature.github(), "s3cret", mapping)
    message = rec.receive(_signed_github(body), body, now=SW_NOW)
    assert message is not None
    assert (message.channel, message.sender_kind, message.sender) == (
        "github",
        "github",
        "Codertocat",
    )
    assert message.external_id == "github:MDU6SXNzdWU0NDQ1MDAwNDE="
    assert message.subject == "Spelling error in the README file"
    assert message.recipients == ("Codertocat/Hello-World",)
    result = Intake(MemoryStore(), PluginManager(load_entrypoints=False)).receive(message)
    assert result.outcome == "created"
    # an event the mapping does not want is verified, then ignored
    closed = body.replace(b'"action": "opened"', b'"action": "closed"')
    assert rec.receive(_signed_github(closed, delivery="d-2"), closed, now=SW_NOW) is None


def test_form_post_mapping_example() -> None:
    mapping = PayloadMapping.from_dict(MAPPING_EXAMPLES["form-post"])
    body = json.dumps(
        {
            "submission_id": 7,
            "contact": {"email": "wang.fang@example.cn", "name": "王芳"},
            "message": "空调不制冷",
        },
        ensure_ascii=False,
    ).encode()
    rec = WebhookReceiver(WebhookSignature.hmac("X-Form-Signature"), "k", mapping)
    headers = {"X-Form-Signature": hmac.new(b"k", body, hashlib.sha256).hexdigest()}
    message = rec.receive(headers, body, now=SW_NOW)
    assert message is not None
    assert (message.external_id, message.sender_name, message.subject, message.text) == (
        "form:7",
        "王芳",
        "",
        "空调不制冷",
    )


def test_replay_is_refused_and_a_failure_remembers_nothing() -> None:
    rec = WebhookReceiver(WebhookSignature.github(), "s3cret", ANY)
    bad = b'{"who": ["not", "a", "string"]}'
    with pytest.raises(MessageFormatError, match=r"payload /who \(field sender\)"):
        rec.receive(_signed_github(bad), bad, now=SW_NOW)
    assert len(rec.replays) == 0  # nothing half-remembered
    body = b'{"who": "wxid_wf"}'
    assert rec.receive(_signed_github(body), body, now=SW_NOW) is not None
    with pytest.raises(WebhookReplayError, match="delivery d-1 was already received"):
        rec.receive(_signed_github(body), body, now=SW_NOW + timedelta(seconds=30))
    # after the window the request is taken in again (the intake de-duplicates it)
    assert rec.receive(_signed_github(body), body, now=SW_NOW + timedelta(minutes=6))


def test_standard_webhooks_retry_resigned_passes_exact_replay_does_not() -> None:
    rec = WebhookReceiver(WebhookSignature.standard(), SW_SECRET, ANY)
    body = b'{"who": "wxid_wf"}'

    def headers(at: int) -> dict[str, str]:
        signed = f"{SW_ID}.{at}.".encode() + body
        key = base64.b64decode(SW_SECRET[6:])
        digest = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return {"svix-id": SW_ID, "svix-timestamp": str(at), "svix-signature": "v1," + digest}

    assert rec.receive(headers(SW_TIMESTAMP), body, now=SW_NOW) is not None
    with pytest.raises(WebhookReplayError):
        rec.receive(headers(SW_TIMESTAMP), body, now=SW_NOW)
    retried = rec.receive(headers(SW_TIMESTAMP + 5), body, now=SW_NOW)
    assert retried is not None and retried.external_id == f"test:{SW_ID}"


def test_oversized_and_hostile_bodies() -> None:
    rec = WebhookReceiver(WebhookSignature.github(), "s3cret", ANY, max_body_bytes=1024)
    big = b'{"who": "' + b"x" * 2000 + b'"}'
    with pytest.raises(WebhookTooLargeError, match="over the limit of 1024 bytes"):
        rec.receive(_signed_github(big), big, now=SW_NOW)
    deep = b"[" * 500 + b"]" * 500
    nested = WebhookReceiver(WebhookSignature.github(), "s3cret", ANY)
    bomb = b"[" * 200_000 + b"]" * 200_000
    for body in (b"\xff\xfe", b"{not json", bomb):
        with pytest.raises(WebhookVerificationError):
            nested.receive(_signed_github(body), body, now=SW_NOW)
    with pytest.raises(MessageFormatError, match="missing or empty"):
        nested.receive(_signed_github(deep), deep, now=SW_NOW)
    long_text = json.dumps({"who": "a", "t": "x" * 50}).encode()
    mapping = PayloadMapping.from_dict({"channel": "c", "fields": {"sender": "who", "text": "t"}})
    short = WebhookReceiver(WebhookSignature.github(), "s3cret", mapping, max_text_chars=10)
    with pytest.raises(MessageFormatError, match="50 characters, over 10"):
        short.receive(_signed_github(long_text), long_text, now=SW_NOW)


def test_receiver_from_dict() -> None:
    rec = WebhookReceiver.from_dict(
        {
            "signature": {"scheme": "github"},
            "mapping": MAPPING_EXAMPLES["github-issues"],
            "max_body_bytes": 65536,
            "replay_seconds": 3600,
        },
        secrets=["old", "s3cret"],
    )
    body = (FIXTURES / "github_issues_opened.json").read_bytes()
    assert rec.receive(_signed_github(body), body, now=SW_NOW) is not None
    with pytest.raises(MessageFormatError, match=r"mapping: fields\.colour"):
        WebhookReceiver.from_dict(
            {
                "signature": {"scheme": "github"},
                "mapping": {"channel": "c", "fields": {"sender": "a", "colour": "b"}},
            },
            secrets="k",
        )
    with pytest.raises(WebhookVerificationError, match="unknown key"):
        WebhookReceiver.from_dict({"signature": {}, "mapping": {}, "x": 1}, secrets="k")


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(timedelta(minutes=5), capacity=3)
    for i in range(10):
        guard.mark(f"k{i}", now=SW_NOW)
    assert len(guard) == 3
    guard.check("k0", now=SW_NOW)  # forgotten: the oldest went first
    with pytest.raises(WebhookReplayError):
        guard.check("k9", now=SW_NOW)
    guard.check("k9", now=SW_NOW + timedelta(minutes=6))
    assert len(guard) == 0


# --------------------------------------------------------------------------- mappings
def test_json_pointer_and_dotted_paths() -> None:
    data = {"a/b": {"~x": [10, {"c": "deep"}]}, "list": ["p", "q"]}
    assert FieldPath("/a~1b/~0x/1/c").lookup(data) == "deep"
    assert FieldPath("list.1").lookup(data) == "q"
    assert FieldPath("list.9").lookup(data) is None
    assert FieldPath("/list/01").lookup(data) is None  # no leading zeros (RFC 6901)
    assert FieldPath("/01").lookup({"01": "key, not index", "1": "other"}) == "key, not index"
    assert FieldPath("/a~1b/~0x/0/c").lookup(data) is None
    for bad in ("", "a..b", "/a~2"):
        with pytest.raises(MessageFormatError):
            FieldPath(bad)


def test_mapping_validation_names_the_path() -> None:
    for data, where in [
        ({"channel": "c", "fields": {}}, "fields.sender"),
        ({"channel": "c", "fields": {"sender": "a", "subjekt": "b"}}, "fields.subjekt"),
        ({"channel": "c", "fields": {"sender": {"path": "a", "x": 1}}}, "fields.sender"),
        ({"channel": "c", "fields": {"sender": "a.."}}, "fields.sender"),
        ({"channel": "", "fields": {"sender": "a"}}, "channel"),
        ({"channel": "c", "fields": {"sender": "a"}, "match": {"a": []}}, "match.a"),
        ({"fields": {"sender": "a"}}, "missing 'channel'"),
    ]:
        with pytest.raises(MessageFormatError, match=where):
            PayloadMapping.from_dict(data)


_PATHS = st.one_of(
    st.lists(st.from_regex(r"[a-z_]{1,6}", fullmatch=True), min_size=1, max_size=4).map(".".join),
    st.lists(st.text(min_size=0, max_size=5), min_size=1, max_size=4).map(
        lambda parts: "/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
    ),
)
_SPECS = st.one_of(
    _PATHS,
    st.builds(
        lambda p, prefix, optional: {"path": p, "prefix": prefix, "optional": optional},
        _PATHS,
        st.text(max_size=5),
        st.booleans(),
    ),
)


@given(
    channel=st.from_regex(r"[a-z][a-z0-9-]{0,10}", fullmatch=True),
    kind=st.sampled_from(["email", "wechat", "github", "phone"]),
    sender=_SPECS,
    others=st.dictionaries(
        st.sampled_from(["subject", "text", "external_id", "recipients"]), _SPECS
    ),
    match=st.dictionaries(
        _PATHS, st.lists(st.text(max_size=4), min_size=1, max_size=3), max_size=2
    ),
)
def test_mapping_round_trips(
    channel: str, kind: str, sender: Any, others: dict[str, Any], match: dict[str, Any]
) -> None:
    mapping = PayloadMapping.from_dict(
        {
            "channel": channel,
            "sender_kind": kind,
            "fields": {"sender": sender, **others},
            "match": match,
        }
    )
    data = json.loads(json.dumps(mapping.to_dict()))
    assert PayloadMapping.from_dict(data) == mapping
    assert PayloadMapping.from_dict(data).to_dict() == mapping.to_dict()


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_any_json_gives_a_message_or_one_clear_error(payload: Any) -> None:
    mapping = PayloadMapping.from_dict(
        {
            "channel": "c",
            "fields": {
                "sender": "/a",
                "text": {"path": "/b", "optional": True},
                "references": "/c",
            },
        }
    )
    try:
        message = mapping.apply(payload, received_at=SW_NOW)
    except MessageFormatError:
        return
    assert message is not None and message.sender
