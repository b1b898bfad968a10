"""The article's repair desk from ``repair_desk.toml``: a WeChat message becomes a repair
ticket; once region and product are known it goes to the region's engineer with the
product's skill. Run: ``python examples/repair_desk_from_config.py``
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from csmkit.channels import InboundMessage
from csmkit.desk import ServiceDesk
from csmkit.storage import open_store

now = datetime(2026, 10, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
sms = SimpleNamespace(send=lambda note: print(f"SMS to {note.to}: {note.text}"))  # a stand-in
desk = ServiceDesk.from_config(Path(__file__).with_name("repair_desk.toml"),
    store=open_store("memory://"), clock=lambda: now, channels={"sms": sms})  # fmt: skip
message = InboundMessage(channel="wechat", external_id="wx-1", sender="wxid_c1",
    sender_kind="wechat", subject="空调不制冷", text="请上门", received_at=now)  # fmt: skip
ticket_id = desk.receive(message).ticket_id
ticket = desk.update(ticket_id, fields={"region": "north", "product": "aircon"}, actor="kf1")
print(f"{ticket_id}: {ticket.status}, assigned to {ticket.assignee}")
