"""Ready-made workflow definitions, kept as plain data (the dict form)."""

from __future__ import annotations

import copy
from typing import Any

from csmkit.errors import NotFoundError
from csmkit.workflow._workflow import Workflow

__all__ = ["TEMPLATE_NAMES", "template", "template_dict"]


def _s(
    name: str,
    category: str,
    en: str,
    zh: str,
    customer: tuple[str, str] | None = None,
    *,
    initial: bool = False,
    description: str = "",
) -> dict[str, Any]:
    labels: dict[str, Any] = {"agent": {"en": en, "zh": zh}}
    if customer is not None:
        labels["customer"] = {"en": customer[0], "zh": customer[1]}
    out: dict[str, Any] = {"name": name, "category": category, "labels": labels}
    if initial:
        out["initial"] = True
    if description:
        out["description"] = description
    return out


def _t(
    name: str, sources: str | list[str], target: str, en: str, zh: str, **rules: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "sources": sources,
        "target": target,
        "labels": {"agent": {"en": en, "zh": zh}},
        **rules,
    }


_CONSULTATION: dict[str, Any] = {
    "name": "consultation",
    "version": 1,
    "labels": {"agent": {"en": "Consultation", "zh": "咨询"}},
    "description": "A question answered by the desk; the customer may come back within days.",
    "states": [
        _s("new", "new", "New", "新建", ("Received", "已受理"), initial=True),
        _s("open", "open", "In progress", "处理中", ("In progress", "处理中")),
        _s(
            "waiting_customer",
            "pending",
            "Waiting for customer",
            "待客户回复",
            ("Awaiting your reply", "待您回复"),
        ),
        _s("answered", "solved", "Answered", "已答复", ("Answered", "已答复")),
        _s("closed", "closed", "Closed", "已关闭", ("Closed", "已关闭")),
    ],
    "transitions": [
        _t("accept", "new", "open", "Accept", "受理", roles=["agent"]),
        _t("ask_customer", "open", "waiting_customer", "Ask customer", "询问客户", roles=["agent"]),
        _t("customer_replied", "waiting_customer", "open", "Customer replied", "客户已回复"),
        _t(
            "answer",
            ["new", "open"],
            "answered",
            "Answer",
            "答复",
            roles=["agent"],
            required=["answer_summary", "topic"],
        ),
        _t("reopen", "answered", "open", "Reopen", "重新打开"),
        _t("close", "answered", "closed", "Close", "关闭", roles=["agent", "system"]),
    ],
    "reopen": "open",
    "timed": [{"state": "answered", "transition": "close", "after": "P3D"}],
    "form": {
        "fields": [
            {
                "name": "topic",
                "type": "choice",
                "choices": ["product", "billing", "account", "other"],
                "labels": {"agent": {"en": "Topic", "zh": "咨询类别"}},
                "required": True,
            },
            {
                "name": "answer_summary",
                "type": "long_text",
                "max": 2000,
                "labels": {"agent": {"en": "Answer summary", "zh": "答复摘要"}},
            },
        ]
    },
}

_COMPLAINT: dict[str, Any] = {
    "name": "complaint",
    "version": 1,
    "labels": {"agent": {"en": "Complaint", "zh": "投诉"}},
    "description": "A complaint investigated by an agent; a supervisor other than the "
    "resolver confirms the resolution.",
    "states": [
        _s("new", "new", "New", "新建", ("Received", "已受理"), initial=True),
        _s("investigating", "open", "Investigating", "调查中", ("Being handled", "处理中")),
        _s(
            "waiting_customer",
            "pending",
            "Waiting for customer",
            "待客户补充",
            ("Awaiting your reply", "待您补充"),
        ),
        _s("resolved", "solved", "Resolved", "已解决", ("Resolved", "已解决")),
        _s("closed", "closed", "Closed", "已结案", ("Closed", "已结案")),
    ],
    "transitions": [
        _t("accept", "new", "investigating", "Accept", "受理", roles=["agent", "supervisor"]),
        _t(
            "ask_customer",
            "investigating",
            "waiting_customer",
            "Ask customer",
            "请客户补充",
            roles=["agent", "supervisor"],
        ),
        _t(
            "customer_replied",
            "waiting_customer",
            "investigating",
            "Customer replied",
            "客户已补充",
        ),
        _t(
            "resolve",
            "investigating",
            "resolved",
            "Resolve",
            "解决",
            roles=["agent", "supervisor"],
            required=["root_cause", "resolution"],
        ),
        _t("reopen", "resolved", "investigating", "Reopen", "重新调查"),
        _t(
            "confirm",
            "resolved",
            "closed",
            "Confirm and close",
            "确认结案",
            roles=["supervisor"],
            separation=[{"not_actor_of": ["resolve"]}],
        ),
        _t("auto_close", "resolved", "closed", "Auto-close", "自动结案", roles=["system"]),
    ],
    "reopen": "investigating",
    "timed": [{"state": "resolved", "transition": "auto_close", "after": "P7D"}],
    "form": {
        "fields": [
            {
                "name": "severity",
                "type": "choice",
                "choices": ["minor", "major", "critical"],
                "labels": {"agent": {"en": "Severity", "zh": "严重程度"}},
                "default": "minor",
            },
            {
                "name": "root_cause",
                "type": "text",
                "max": 200,
                "labels": {"agent": {"en": "Root cause", "zh": "根本原因"}},
            },
            {
                "name": "resolution",
                "type": "long_text",
                "labels": {"agent": {"en": "Resolution", "zh": "处理结果"}},
            },
            {
                "name": "compensation",
                "type": "number",
                "min": 0,
                "labels": {"agent": {"en": "Compensation (CNY)", "zh": "补偿金额（元）"}},
            },
        ]
    },
}

_REPAIR: dict[str, Any] = {
    "name": "repair",
    "version": 1,
    "labels": {"agent": {"en": "Repair", "zh": "报修"}},
    "description": "Field repair: dispatch, engineer accepts, on site, repaired, follow-up "
    "visit, closed; with waiting-for-customer and waiting-for-parts loops.",
    "states": [
        _s("new", "new", "New", "新建", ("Received", "已受理"), initial=True),
        _s("dispatched", "open", "Dispatched", "已派工", ("Engineer assigned", "已派工程师")),
        _s("accepted", "open", "Accepted", "已接单", ("Engineer on the way", "工程师已接单")),
        _s("on_site", "open", "On site", "上门中", ("Engineer on site", "工程师已上门")),
        _s(
            "waiting_customer",
            "pending",
            "Waiting for customer",
            "待客户确认",
            ("Awaiting your confirmation", "待您确认"),
        ),
        _s(
            "waiting_parts",
            "on_hold",
            "Waiting for parts",
            "待备件",
            ("Waiting for spare parts", "等待备件"),
        ),
        _s("repaired", "solved", "Repaired", "已修复", ("Repaired", "已修复")),
        _s("follow_up", "solved", "Follow-up visit", "回访中", ("Follow-up", "回访中")),
        _s("closed", "closed", "Closed", "已关闭", ("Closed", "已完成")),
        _s("cancelled", "closed", "Cancelled", "已取消", ("Cancelled", "已取消")),
    ],
    "transitions": [
        _t(
            "dispatch",
            "new",
            "dispatched",
            "Dispatch",
            "派工",
            roles=["dispatcher"],
            # address and phone: required by the form, so a message-opened ticket
            # (channel intake) may lack them until dispatch
            required=["engineer", "address", "contact_phone"],
        ),
        _t(
            "reject",
            "dispatched",
            "new",
            "Reject",
            "拒单",
            roles=["engineer"],
            required=["reject_reason"],
        ),
        _t(
            "accept",
            "dispatched",
            "accepted",
            "Accept",
            "接单",
            roles=["engineer"],
            condition="actor.id == fields.engineer",
        ),
        _t("arrive", "accepted", "on_site", "Arrive on site", "到达现场", roles=["engineer"]),
        _t(
            "wait_customer",
            ["accepted", "on_site"],
            "waiting_customer",
            "Wait for customer",
            "等待客户",
            roles=["engineer", "dispatcher"],
        ),
        _t("customer_ready", "waiting_customer", "accepted", "Customer ready", "客户已确认"),
        _t(
            "wait_parts",
            "on_site",
            "waiting_parts",
            "Wait for parts",
            "等待备件",
            roles=["engineer"],
            required=["parts"],
        ),
        _t(
            "parts_arrived",
            "waiting_parts",
            "accepted",
            "Parts arrived",
            "备件到货",
            roles=["engineer", "dispatcher"],
        ),
        _t(
            "repair",
            "on_site",
            "repaired",
            "Repaired",
            "完成维修",
            roles=["engineer"],
            required=["repair_notes"],
        ),
        _t("follow_up", "repaired", "follow_up", "Follow-up visit", "回访", roles=["agent"]),
        _t(
            "rework",
            ["repaired", "follow_up"],
            "dispatched",
            "Rework",
            "返修",
            roles=["agent", "dispatcher"],
        ),
        _t(
            "close",
            "follow_up",
            "closed",
            "Close",
            "关闭",
            roles=["agent", "system"],
            separation=[{"not_actor_of": ["repair"]}],
        ),
        _t(
            "cancel",
            "*",
            "cancelled",
            "Cancel",
            "取消",
            roles=["dispatcher", "system"],
            required=["cancel_reason"],
        ),
    ],
    "reopen": "dispatched",
    "timed": [
        {"state": "follow_up", "transition": "close", "after": "P7D"},
        {
            "state": "waiting_customer",
            "transition": "cancel",
            "after": "PT48H",
            "clock": "business",
            "data": {"cancel_reason": "no response from customer"},
        },
    ],
    "form": {
        "fields": [
            {
                "name": "address",
                "type": "text",
                "required": True,
                "labels": {"agent": {"en": "Address", "zh": "上门地址"}},
            },
            {
                "name": "contact_phone",
                "type": "phone",
                "required": True,
                "labels": {"agent": {"en": "Contact phone", "zh": "联系电话"}},
            },
            {
                "name": "product_model",
                "type": "text",
                "labels": {"agent": {"en": "Product model", "zh": "产品型号"}},
            },
            {
                "name": "appointment",
                "type": "datetime",
                "labels": {"agent": {"en": "Appointment", "zh": "预约时间"}},
            },
            {
                "name": "engineer",
                "type": "text",
                "labels": {"agent": {"en": "Engineer", "zh": "工程师"}},
            },
            {
                "name": "reject_reason",
                "type": "text",
                "labels": {"agent": {"en": "Reject reason", "zh": "拒单原因"}},
            },
            {
                "name": "parts",
                "type": "multi_choice",
                "min": 1,
                "choices": ["board", "motor", "sensor", "panel", "other"],
                "labels": {"agent": {"en": "Parts needed", "zh": "所需备件"}},
            },
            {
                "name": "repair_notes",
                "type": "long_text",
                "labels": {"agent": {"en": "Repair notes", "zh": "维修记录"}},
            },
            {
                "name": "photos",
                "type": "attachment",
                "labels": {"agent": {"en": "Photos", "zh": "现场照片"}},
            },
            {
                "name": "cancel_reason",
                "type": "text",
                "labels": {"agent": {"en": "Cancel reason", "zh": "取消原因"}},
            },
        ]
    },
}

_RETURN_EXCHANGE: dict[str, Any] = {
    "name": "return_exchange",
    "version": 1,
    "labels": {"agent": {"en": "Return / exchange", "zh": "退换货"}},
    "description": "A return or exchange request: review, approval, item returned and "
    "inspected, then refund or replacement.",
    "states": [
        _s("new", "new", "New", "新建", ("Submitted", "已提交"), initial=True),
        _s("reviewing", "open", "Reviewing", "审核中", ("Under review", "审核中")),
        _s(
            "waiting_customer",
            "pending",
            "Waiting for customer",
            "待客户补充",
            ("Awaiting your information", "待您补充资料"),
        ),
        _s(
            "awaiting_return",
            "pending",
            "Awaiting return",
            "待寄回",
            ("Please send the item back", "请寄回商品"),
        ),
        _s("received", "open", "Received", "已收货", ("Item received", "商品已签收")),
        _s("completed", "solved", "Completed", "已完成", ("Refunded / replaced", "已退款/换货")),
        _s("rejected", "closed", "Rejected", "已驳回", ("Declined", "未通过")),
        _s("closed", "closed", "Closed", "已关闭", ("Closed", "已关闭")),
    ],
    "transitions": [
        _t("accept", "new", "reviewing", "Accept", "受理", roles=["agent"]),
        _t(
            "request_info",
            "reviewing",
            "waiting_customer",
            "Request information",
            "请客户补充",
            roles=["agent"],
        ),
        _t("customer_replied", "waiting_customer", "reviewing", "Customer replied", "客户已补充"),
        _t(
            "approve",
            "reviewing",
            "awaiting_return",
            "Approve",
            "同意退换",
            roles=["supervisor"],
            required=["return_type", "order_id"],
        ),
        _t(
            "reject",
            ["reviewing", "received"],
            "rejected",
            "Reject",
            "驳回",
            roles=["supervisor"],
            required=["reject_reason"],
        ),
        _t(
            "item_received",
            "awaiting_return",
            "received",
            "Item received",
            "确认收货",
            roles=["warehouse"],
            required=["tracking_number"],
        ),
        _t(
            "complete",
            "received",
            "completed",
            "Refund / replace",
            "退款/换货",
            roles=["agent", "supervisor"],
            condition="fields.inspection_passed == true",
        ),
        _t("reopen", "completed", "reviewing", "Reopen", "重新打开"),
        _t("close", "completed", "closed", "Close", "关闭", roles=["agent", "system"]),
    ],
    "reopen": "reviewing",
    "timed": [
        {"state": "completed", "transition": "close", "after": "P7D"},
    ],
    "form": {
        "fields": [
            {
                "name": "order_id",
                "type": "text",
                "pattern": "[A-Z0-9-]{6,32}",
                "labels": {"agent": {"en": "Order number", "zh": "订单号"}},
            },
            {
                "name": "return_type",
                "type": "choice",
                "choices": ["refund", "exchange"],
                "labels": {"agent": {"en": "Return or exchange", "zh": "退货或换货"}},
            },
            {
                "name": "refund_amount",
                "type": "number",
                "min": 0,
                "required_if": 'fields.return_type == "refund"',
                "visible_if": 'fields.return_type == "refund"',
                "labels": {"agent": {"en": "Refund amount", "zh": "退款金额"}},
            },
            {
                "name": "reject_reason",
                "type": "text",
                "labels": {"agent": {"en": "Reject reason", "zh": "驳回原因"}},
            },
            {
                "name": "tracking_number",
                "type": "text",
                "labels": {"agent": {"en": "Tracking number", "zh": "物流单号"}},
            },
            {
                "name": "inspection_passed",
                "type": "boolean",
                "labels": {"agent": {"en": "Inspection passed", "zh": "质检通过"}},
            },
            {
                "name": "customer_email",
                "type": "email",
                "labels": {"agent": {"en": "Customer e-mail", "zh": "客户邮箱"}},
            },
        ]
    },
}

_TEMPLATES: dict[str, dict[str, Any]] = {
    "consultation": _CONSULTATION,
    "complaint": _COMPLAINT,
    "repair": _REPAIR,
    "return_exchange": _RETURN_EXCHANGE,
}

TEMPLATE_NAMES: tuple[str, ...] = tuple(_TEMPLATES)
"""The names of the built-in templates."""


def template_dict(name: str) -> dict[str, Any]:
    """A fresh copy of a template's dict form, to edit and load with ``Workflow.from_dict``.

    Raises:
        NotFoundError: no template of that name.
    """
    try:
        return copy.deepcopy(_TEMPLATES[name])
    except KeyError:
        raise NotFoundError(
            f"no workflow template {name!r}; expected one of {', '.join(TEMPLATE_NAMES)}"
        ) from None


def template(name: str) -> Workflow:
    """The built-in template ``name`` as a validated [`Workflow`][csmkit.workflow.Workflow].

    Examples:
        >>> template("repair").state("on_site").label("zh")
        '上门中'

    Raises:
        NotFoundError: no template of that name.
    """
    return Workflow.from_dict(template_dict(name))
