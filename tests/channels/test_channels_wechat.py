"""WeChat Official Account intake against the platform's published samples; hostile XML;
the customer-service message channel; end to end into a desk ticket."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from csmkit.channels import (
    WECHAT_ACK,
    WeChatChannel,
    WeChatCrypto,
    WeChatNotification,
    WeChatParser,
    WeChatPlugin,
    parse_wechat_xml,
    wechat_signature,
)
from csmkit.customers import CustomerDirectory
from csmkit.desk import ServiceDesk, TicketType
from csmkit.errors import (
    DeliveryError,
    MessageFormatError,
    NotificationError,
    WebhookReplayError,
    WebhookSignatureError,
    WebhookTimestampError,
    WebhookTooLargeError,
    WebhookVerificationError,
)
from csmkit.plugins import PluginManager
from csmkit.storage import open_store
from csmkit.workflow import Workflow, template_dict

FIXTURES = Path(__file__).parent / "fixtures" / "wechat"

# Tencent's WXBizMsgCrypt Python sample (Sample.py, "测试解密接口"); copy read at
# charlesXu86/Chatbot_CN, Chatbot_Web/impl/weixin/Sample.py.
TOKEN = "spamtest"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
APP_ID = "wx2c2769f8efd9abc2"
TIMESTAMP = "1409735669"
NONCE = "1320562132"
MSG_SIGNATURE = "5d197aaffba7e9b25a30732f161a50dee96bd5fa"
ENCRYPT = (
    "hyzAe4OzmOMbd6TvGdIOO6uBmdJoD0Fk53REIHvxYtJlE2B655HuD0m8KUePWB3+LrPXo87wzQ1QLvbeUgmBM4x6F8PG"
    "HQHFVAFmOD2LdJF9FrXpbUAh0B5GIItb52sn896wVsMSHGuPE328HnRGBcrS7C41IzDWyWNlZkyyXwon8T332jisa+h6"
    "tEDYsVticbSnyU8dKOIbgU6ux5VTjg3yt+WGzjlpKn6NPhRjpA912xMezR4kw6KWwMrCVKSVCZciVGCgavjIQ6X8tCOp"
    "3yZbGpy0VxpAe+77TszTfRd5RJSVO/HTnifJpXgCSUdUue1v6h0EIBYYI1BD1DlD+C0CR8e6OewpusjZ4uBl9FyJvnhv"
    "Ql+q5rv1ixrcpCumEPo5MJSgM9ehVsNPfUM669WuMyVWQLCzpu9GhglF2PE="
)
FROM_XML = (
    "<xml><ToUserName><![CDATA[gh_10f6c3c3ac5a]]></ToUserName><FromUserName><![CDATA["
    "oyORnuP8q7ou2gfYjqLzSIWZf0rs]]></FromUserName><CreateTime>1409735668</CreateTime><MsgType>"
    "<![CDATA[text]]></MsgType><Content><![CDATA[abcdteT]]></Content><MsgId>6054768590064713728"
    f"</MsgId><Encrypt><![CDATA[{ENCRYPT}]]></Encrypt></xml>"
).encode()
OPEN_ID = "oyORnuP8q7ou2gfYjqLzSIWZf0rs"
NOW = datetime.fromtimestamp(int(TIMESTAMP) + 2, timezone.utc)

# Tencent's WXBizMsgCrypt Java test (WXBizMsgCryptTest.java); copy read at Wyl015/wuyiling,
# work-test/src/main/resources/Utils/aes/WXBizMsgCryptTest.java.
JAVA_APP_ID = "wxb11529c136998cb6"
JAVA_RANDOM = b"aaaabbbbccccdddd"
JAVA_REPLY = "我是中文abcd123"
JAVA_ENCRYPTED = (
    "jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=="
)


def safe_query(**extra: str) -> dict[str, str]:
    return {
        "signature": wechat_signature(TOKEN, TIMESTAMP, NONCE),
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
        "openid": OPEN_ID,
        "encrypt_type": "aes",
        "msg_signature": MSG_SIGNATURE,
        **extra,
    }


def safe_parser(**kw: Any) -> WeChatParser:
    return WeChatParser(TOKEN, app_id=APP_ID, encoding_aes_key=AES_KEY, **kw)


def plain_query(nonce: str = NONCE, timestamp: str = TIMESTAMP) -> dict[str, str]:
    return {
        "signature": wechat_signature(TOKEN, timestamp, nonce),
        "timestamp": timestamp,
        "nonce": nonce,
    }


# --------------------------------------------------------------------------- vectors
def test_signature_is_sha1_of_the_sorted_parts() -> None:
    by_hand = hashlib.sha1("".join(sorted([TOKEN, TIMESTAMP, NONCE, ENCRYPT])).encode())
    assert wechat_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT) == by_hand.hexdigest()
    assert wechat_signature(TOKEN, TIMESTAMP, NONCE, ENCRYPT) == MSG_SIGNATURE  # the sample's


def test_official_sample_decrypts_to_its_text_message() -> None:
    message = safe_parser().parse(safe_query(), FROM_XML, now=NOW)
    assert (message.open_id, message.to_user, message.msg_type) == (
        OPEN_ID,
        "gh_10f6c3c3ac5a",
        "text",
    )
    assert (message.msg_id, message.create_time) == ("6054768590064713728", 1409735668)
    assert message.text() == "abcdteT"
    inbound = message.to_inbound(received_at=NOW)
    assert inbound is not None
    assert (inbound.channel, inbound.sender_kind, inbound.sender) == ("wechat", "wechat", OPEN_ID)
    assert inbound.external_id == "wechat:6054768590064713728"


def test_java_sample_encryption_vector_and_round_trip() -> None:
    crypto = WeChatCrypto(AES_KEY, JAVA_APP_ID)
    encrypted = crypto.encrypt(JAVA_REPLY.encode(), random_bytes=JAVA_RANDOM)
    assert encrypted == JAVA_ENCRYPTED
    assert crypto.decrypt(JAVA_ENCRYPTED).decode() == JAVA_REPLY
    with pytest.raises(WebhookVerificationError, match="another AppID"):
        WeChatCrypto(AES_KEY, APP_ID).decrypt(JAVA_ENCRYPTED)


@given(st.binary(max_size=300), st.binary(min_size=16, max_size=16))
def test_encrypt_decrypt_round_trip(xml: bytes, random_bytes: bytes) -> None:
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    assert crypto.decrypt(crypto.encrypt(xml, random_bytes=random_bytes)) == xml


def test_url_verification_echoes() -> None:
    parser = WeChatParser(TOKEN)
    query = {**plain_query(), "echostr": "4075181314397890557"}
    assert parser.verify_url(query, now=NOW) == "4075181314397890557"
    with pytest.raises(WebhookSignatureError, match="signature does not match"):
        WeChatParser("other-token").verify_url(query, now=NOW)
    with pytest.raises(WebhookTimestampError):
        parser.verify_url(query, now=NOW + timedelta(hours=1))
    with pytest.raises(WebhookSignatureError, match="missing"):
        parser.verify_url({**query, "signature": ""}, now=NOW)


# --------------------------------------------------------------------------- XML
@pytest.mark.parametrize(
    ("name", "kind", "text", "inbound"),
    [
        ("text.xml", "text", "this is a test", True),
        ("image.xml", "image", "[image]", True),
        ("voice_recognition.xml", "voice", "腾讯微信团队", True),
        ("location.xml", "location", "[location] 位置信息 (23.134521, 113.358803)", True),
        ("link.xml", "link", "公众平台官网链接\n公众平台官网链接\nurl", True),
        ("event_subscribe.xml", "event", "[event subscribe]", False),
        ("event_unsubscribe.xml", "event", "[event unsubscribe]", False),
        ("event_click.xml", "event", "[event CLICK] EVENTKEY", False),
        ("event_view.xml", "event", "[event VIEW] www.qq.com", False),
    ],
)
def test_published_xml_samples(name: str, kind: str, text: str, inbound: bool) -> None:
    body = (FIXTURES / name).read_bytes()
    message = WeChatParser(TOKEN).parse(plain_query(), body, now=NOW)
    assert (message.msg_type, message.text()) == (kind, text)
    converted = message.to_inbound(received_at=NOW)
    assert (converted is not None) == inbound
    if kind == "image":
        assert converted is not None
        assert [a.content_ref for a in converted.attachments] == ["this is a url"]
    if kind == "voice":
        assert converted is not None
        assert converted.attachments[0].content_ref == "wechat-media:media_id"
    if kind == "event":
        # events carry no MsgId: de-duplicated by OpenID + CreateTime, as the docs advise
        assert message.msg_id is None
        assert message.external_id.startswith(f"wechat:{message.open_id}:{message.create_time}")


LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE xml [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&lol9;</Content><MsgId>1</MsgId></xml>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<xml><Content>&xxe;</Content></xml>"""
DTD_ONLY = b'<?xml version="1.0"?><!DOCTYPE xml SYSTEM "http://example.com/x.dtd"><xml/>'


@pytest.mark.parametrize("body", [LAUGHS, EXTERNAL, DTD_ONLY])
def test_entity_expansion_and_external_entities_are_one_clear_error(body: bytes) -> None:
    with pytest.raises(MessageFormatError, match="DTDs and entity declarations are not allowed"):
        parse_wechat_xml(body)
    parser = WeChatParser(TOKEN)
    with pytest.raises(MessageFormatError, match="not allowed"):
        parser.parse(plain_query(), body, now=NOW)
    assert len(parser.replays) == 0  # nothing remembered


def test_entity_bomb_inside_the_encrypted_envelope_is_refused_too() -> None:
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    cipher = crypto.encrypt(LAUGHS)
    body = f"<xml><ToUserName>gh</ToUserName><Encrypt>{cipher}</Encrypt></xml>".encode()
    query = {
        "timestamp": TIMESTAMP,
        "nonce": NONCE,
        "encrypt_type": "aes",
        "msg_signature": wechat_signature(TOKEN, TIMESTAMP, NONCE, cipher),
    }
    with pytest.raises(MessageFormatError, match="not allowed"):
        safe_parser().parse(query, body, now=NOW)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (b"<xml><MsgType>text</MsgType>", "malformed"),
        (b"<root/>", "root element"),
        (b"<xml>" + b"<a>1</a>" * 100 + b"</xml>", "more than 64 elements"),
        (b"<xml><ToUserName>a</ToUserName></xml>", "<CreateTime> is missing"),
        (
            b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>x"
            b"</CreateTime><MsgType>text</MsgType></xml>",
            "not Unix seconds",
        ),
        (
            b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1"
            b"</CreateTime><MsgType>fax</MsgType></xml>",
            "unknown <MsgType>",
        ),
        (
            b"<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>1"
            b"</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
            "without <MsgId>",
        ),
    ],
)
def test_malformed_xml(body: bytes, match: str) -> None:
    with pytest.raises(MessageFormatError, match=match):
        WeChatParser(TOKEN).parse(plain_query(), body, now=NOW)


# --------------------------------------------------------------------------- hostile
def test_wrong_signatures_stale_replay_oversize() -> None:
    parser = safe_parser()
    with pytest.raises(WebhookSignatureError, match="msg_signature"):
        parser.parse(safe_query(msg_signature="0" * 40), FROM_XML, now=NOW)
    with pytest.raises(WebhookSignatureError, match="msg_signature"):
        parser.parse(safe_query(), FROM_XML.replace(b"hyzA", b"hyzB"), now=NOW)
    with pytest.raises(WebhookTimestampError, match="outside the tolerance"):
        parser.parse(safe_query(), FROM_XML, now=NOW + timedelta(minutes=6))
    with pytest.raises(WebhookTooLargeError):
        safe_parser(max_body_bytes=100).parse(safe_query(), FROM_XML, now=NOW)
    assert len(parser.replays) == 0
    parser.parse(safe_query(), FROM_XML, now=NOW)
    with pytest.raises(WebhookReplayError, match="already received"):
        parser.parse(safe_query(), FROM_XML, now=NOW + timedelta(seconds=3))
    with pytest.raises(WebhookVerificationError, match="no encoding_aes_key"):
        WeChatParser(TOKEN).parse(safe_query(), FROM_XML, now=NOW)
    with pytest.raises(WebhookSignatureError, match="signature does not match"):
        WeChatParser("other").parse(plain_query(), (FIXTURES / "text.xml").read_bytes(), now=NOW)


def test_corrupted_ciphertext_with_a_valid_signature() -> None:
    crypto = WeChatCrypto(AES_KEY, APP_ID)
    raw = bytearray(base64.b64decode(crypto.encrypt(b"<xml/>", random_bytes=JAVA_RANDOM)))
    raw[-17] ^= 0xFF  # garbles the last block's padding through CBC
    flipped = base64.b64encode(bytes(raw)).decode()
    for cipher, match in [
        ("not base64!!", "not base64"),
        ("QUJD", "not whole AES blocks"),
        (WeChatCrypto("B" * 43, APP_ID).encrypt(b"<xml/>"), "padded|length|AppID"),
        (flipped, "padded|length|AppID"),
    ]:
        body = f"<xml><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>".encode()
        query = {
            "timestamp": TIMESTAMP,
            "nonce": NONCE,
            "encrypt_type": "aes",
            "msg_signature": wechat_signature(TOKEN, TIMESTAMP, NONCE, cipher),
        }
        with pytest.raises(WebhookVerificationError, match=match):
            safe_parser().parse(query, body, now=NOW)


def test_bad_configuration() -> None:
    for kwargs, match in [
        ({"encoding_aes_key": "short", "app_id": APP_ID}, "43-character"),
        ({"encoding_aes_key": "!" * 43, "app_id": APP_ID}, "not base64"),
        ({"encoding_aes_key": AES_KEY}, "AppID"),
    ]:
        with pytest.raises(WebhookVerificationError, match=match):
            WeChatParser(TOKEN, **kwargs)


# --------------------------------------------------------------------------- outbound
class Recorder:
    def __init__(self, answer: bytes = b'{"errcode":0,"errmsg":"ok"}') -> None:
        self.answer = answer
        self.calls: list[tuple[str, Any]] = []

    def __call__(self, url: str, body: bytes, timeout: float) -> bytes:
        self.calls.append((url, json.loads(body)))
        return self.answer


def test_customer_service_message_payload_and_errors() -> None:
    post = Recorder()
    channel = WeChatChannel(access_token=lambda: "TOKEN&x", post=post)
    receipt = channel.send(WeChatNotification(OPEN_ID, "您好，已为您登记维修"))
    url, payload = post.calls[0]
    assert url == "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=TOKEN%26x"
    assert payload == {
        "touser": OPEN_ID,
        "msgtype": "text",
        "text": {"content": "您好，已为您登记维修"},
    }
    assert (receipt.channel, receipt.recipients) == ("wechat", (OPEN_ID,))
    refused = WeChatChannel(
        access_token=lambda: "secret-token",
        post=Recorder(b'{"errcode":45015,"errmsg":"response out of time limit"}'),
    )
    with pytest.raises(DeliveryError, match="errcode 45015") as info:
        refused.send(WeChatNotification(OPEN_ID, "hi"))
    assert "secret-token" not in str(info.value)
    with pytest.raises(DeliveryError, match="not JSON"):
        WeChatChannel(access_token=lambda: "t", post=Recorder(b"<html>")).send(
            WeChatNotification(OPEN_ID, "hi")
        )
    for bad in [("", "hi"), ("has space", "hi"), (OPEN_ID, ""), (OPEN_ID, "x" * 3000)]:
        with pytest.raises(NotificationError):
            WeChatNotification(*bad)


def test_plugin_registers_both_channels_and_delivers() -> None:
    manager = PluginManager([WeChatPlugin()], load_entrypoints=False)
    assert list(manager.inbound_channels()) == ["wechat"]
    assert list(manager.outbound_channels()) == ["wechat"]
    parser = manager.inbound_channels()["wechat"].factory(TOKEN)
    assert isinstance(parser, WeChatParser)
    post = Recorder()
    channel = manager.outbound_channels()["wechat"].factory(access_token=lambda: "t", post=post)
    manager.deliver_notification(WeChatNotification(OPEN_ID, "hi"), channel)
    assert post.calls[0][1]["touser"] == OPEN_ID


# --------------------------------------------------------------------------- end to end
def test_encrypted_text_message_becomes_a_ticket_linked_to_the_customer() -> None:
    """Callback → ack → parsed → ticket through the desk intake (OpenID resolves the
    customer) → the rule's answer goes out as a customer-service message."""
    store = open_store("memory://")
    directory = CustomerDirectory(store)
    directory.register("C-1", at=NOW, name="王芳", identities=[f"wechat:{OPEN_ID}"])
    post = Recorder()

    def open_id_of(customer_id: str) -> str | None:
        found = [i.value for i in directory.get(customer_id).identities if i.kind == "wechat"]
        return found[0] if found else None

    desk = ServiceDesk(
        store,
        types=[TicketType("complaint", Workflow.from_dict(template_dict("complaint")))],
        clock=lambda: NOW,
        plugins=PluginManager([WeChatPlugin()], load_entrypoints=False),
        rules={
            "rules": [
                {
                    "id": "ack",
                    "on": "message_in",
                    "actions": [
                        {
                            "do": "notify",
                            "channel": "wechat",
                            "to": "{customer_id}",
                            "template": "已收到：{subject}",
                        }
                    ],
                }
            ]
        },
        channels={
            "wechat": WeChatChannel(access_token=lambda: "t", post=post, recipient=open_id_of)
        },
        customers=directory,
        intake_type="complaint",
    )
    parser = safe_parser()
    message, inbound = parser.receive(safe_query(), FROM_XML, now=NOW)
    assert message.open_id == OPEN_ID
    assert WECHAT_ACK == "success"  # what the endpoint answers within the 5 seconds
    assert inbound is not None
    result = desk.receive(inbound)
    assert (result.outcome, result.customer_id) == ("created", "C-1")
    ticket = desk.ticket(str(result.ticket_id))
    assert ticket.customer_id == "C-1" and ticket.channel == "wechat"
    view = directory.customer_view("C-1", now=NOW)
    assert [t.summary.ticket_id for t in view.tickets] == [result.ticket_id]
    assert post.calls[0][1] == {
        "touser": OPEN_ID,
        "msgtype": "text",
        "text": {"content": "已收到：abcdteT"},
    }
    # the platform's retry of the same message is a replay at the parser and a duplicate
    # at the intake: nothing is stored twice
    with pytest.raises(WebhookReplayError):
        parser.parse(safe_query(), FROM_XML, now=NOW)
    assert desk.receive(inbound).outcome == "duplicate"
    assert len(store.load(str(result.ticket_id)).events) == len(result.events)
