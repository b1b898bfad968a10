"""The agents' API through the ASGI test client: a WeChat message becomes a ticket that
agents update, assign, reply to from a template and move through the workflow."""

from __future__ import annotations

from starlette.testclient import TestClient

from csmkit.desk import ServiceDesk
from web._webkit import Clock, bearer, wechat_query, wechat_text


def _wechat_ticket(client: TestClient, clock: Clock, msg_id: str = "6054768590064713728") -> str:
    body = wechat_text("oUser1", "空调不制冷", msg_id, clock.now)
    response = client.post(
        "/intake/wechat", params=wechat_query(clock.now, nonce=msg_id), content=body
    )
    assert response.status_code == 200
    assert response.text == "success"
    listed = client.get("/api/v1/tickets", headers=bearer(KEYS.admin)).json()["items"]
    return str(listed[-1]["id"])


class _Keys:
    admin = ""


KEYS = _Keys()


def test_wechat_message_to_ticket_to_agents_work(
    client: TestClient, keys, clock: Clock, desk: ServiceDesk
) -> None:
    KEYS.admin = keys.admin
    ticket_id = _wechat_ticket(client, clock)
    admin = bearer(keys.admin)
    shown = client.get(f"/api/v1/tickets/{ticket_id}", headers=admin).json()
    assert shown["channel"] == "wechat"
    assert shown["subject"] or shown["status"] == "new"
    assert shown["sla"]["ticket_id"] == ticket_id

    queue = client.get("/api/v1/queue", headers=admin).json()["items"]
    assert [q["id"] for q in queue] == [ticket_id]

    def due(hours: int) -> list[dict[str, object]]:
        answer = client.get("/api/v1/sla/due", params={"within_hours": hours}, headers=admin)
        return list(answer.json()["items"])

    # First response is due 2 business hours after 10:00 (12:00), resolution in 24.
    assert due(1) == []
    assert [row["target"] for row in due(2)] == ["first_response"]
    assert [row["target"] for row in due(240)] == ["first_response", "resolution"]
    assert all(row["ticket_id"] == ticket_id for row in due(240))

    # Region and product known: the "route" rule assigns the north aircon engineer.
    clock.advance(minutes=5)
    updated = client.patch(
        f"/api/v1/tickets/{ticket_id}/fields",
        json={"fields": {"region": "north", "product": "aircon"}},
        headers=admin,
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["assignee"] == "e04"
    assert desk.ticket(ticket_id).fields["region"] == "north"
    explained = client.get(f"/api/v1/tickets/{ticket_id}/explain", headers=admin).json()
    assert explained["agent"] == "e04"

    assert client.get("/api/v1/queue", headers=admin).json()["items"] == []
    mine = client.get("/api/v1/tickets", params={"assignee": "e04"}, headers=admin).json()
    assert [t["id"] for t in mine["items"]] == [ticket_id]

    moved = client.post(f"/api/v1/tickets/{ticket_id}/assign", json={"agent": "e05"}, headers=admin)
    assert moved.json()["assignee"] == "e05"
    assert desk.timeline(ticket_id).events[-1].actor == "s1"


def test_create_ticket_and_form_errors_are_422_with_every_problem(client: TestClient, keys) -> None:
    admin = bearer(keys.admin)
    fields = {"region": "east", "product": "lock", "address": "上海市浦东新区 1 号",
              "contact_phone": "+8613800138000"}  # fmt: skip
    incomplete = client.post(
        "/api/v1/tickets", json={"type": "repair", "fields": {"region": "east"}}, headers=admin
    )
    assert incomplete.status_code == 422
    assert {p.split(":")[0] for p in incomplete.json()["problems"]} == {"address", "contact_phone"}
    created = client.post(
        "/api/v1/tickets", json={"type": "repair", "subject": "门锁失灵", "fields": fields},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    ticket = created.json()
    assert ticket["fields"] == fields
    assert ticket["assignee"] == "e02"  # the route rule ran on creation

    bad = client.patch(
        f"/api/v1/tickets/{ticket['id']}/fields",
        json={"fields": {"region": "west", "colour": "red"}},
        headers=admin,
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    problem = bad.json()
    assert problem["status"] == 422 and problem["instance"].endswith("/fields")
    assert any("colour" in p for p in problem["problems"])

    missing = client.get("/api/v1/tickets/NOPE-1", headers=admin)
    assert missing.status_code == 404
    assert missing.json()["type"].endswith("/not-found")


def test_transitions_are_role_checked_like_workflow_check(
    client: TestClient, keys, desk: ServiceDesk
) -> None:
    admin = bearer(keys.admin)
    ticket = client.post(
        "/api/v1/tickets",
        json={
            "type": "repair",
            "fields": {
                "region": "north",
                "product": "hub",
                "address": "北京市 2 号",
                "contact_phone": "+8613900139000",
            },
        },
        headers=admin,
    ).json()
    url = f"/api/v1/tickets/{ticket['id']}/transitions"
    dispatch = {"data": {"engineer": "e04"}}
    refused = client.post(f"{url}/dispatch", json=dispatch, headers=admin)  # not a dispatcher
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/transition-not-allowed")
    assert "dispatcher" in refused.json()["detail"]
    assert desk.ticket(ticket["id"]).status == "new"  # nothing written

    done = client.post(f"{url}/dispatch", json=dispatch, headers=bearer(keys.dispatcher))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "dispatched"
    assert desk.timeline(ticket["id"]).events[-1].actor == "s2"
    # accept: role engineer AND actor.id == fields.engineer (the key's actor is e04)
    assert client.post(f"{url}/accept", headers=admin).status_code == 403
    accepted = client.post(f"{url}/accept", headers=bearer(keys.engineer))
    assert accepted.json()["status"] == "accepted"


def test_reader_key_reads_but_never_writes(client: TestClient, keys) -> None:
    reader = bearer(keys.reader)
    assert client.get("/api/v1/tickets", headers=reader).status_code == 200
    refused = client.post("/api/v1/tickets", json={"type": "repair"}, headers=reader)
    assert refused.status_code == 403
    assert refused.json()["type"].endswith("/read-only-key")


def test_openapi_lists_the_configured_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert document["openapi"] == "3.1.0"
    paths = document["paths"]
    assert {"/api/v1/tickets", "/intake/wechat", "/intake/hooks/{name}", "/healthz"} <= set(paths)
    assert paths["/api/v1/tickets"]["post"]["security"] == [{"apiKey": []}]
    assert "security" not in paths["/intake/wechat"]["post"]  # the signature is the auth


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready"}


def test_reply_by_hand_and_unknown_template(client: TestClient, keys, desk: ServiceDesk) -> None:
    admin = bearer(keys.admin)
    fields = {"region": "south", "product": "camera", "address": "广州 5 号",
              "contact_phone": "+8613600136000"}  # fmt: skip
    ticket = client.post(
        "/api/v1/tickets", json={"type": "repair", "fields": fields}, headers=admin
    ).json()
    url = f"/api/v1/tickets/{ticket['id']}/reply"
    replied = client.post(url, json={"body_ref": "blob:answer-1"}, headers=admin)
    assert replied.status_code == 200, replied.text
    last = desk.timeline(ticket["id"]).events[-1]
    assert (last.kind, last.author, last.body_ref) == ("message_added", "s1", "blob:answer-1")
    unknown = client.post(url, json={"template": "no-such-template"}, headers=admin)
    assert unknown.status_code == 422
    assert "no-such-template" in unknown.json()["detail"]
    assert desk.timeline(ticket["id"]).events[-1] == last  # nothing written
    bad_json = client.post(url, content=b"{not json", headers=admin)
    assert bad_json.status_code == 400
