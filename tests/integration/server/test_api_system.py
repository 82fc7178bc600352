"""The system resources: the refresh's schedule (read by every role, set and turned off
by admins, bad times, zones and weekdays refused naming the field), the live workers,
alerts (added, listed, tested against a webhook receiver and an SMTP server on loopback,
removed) and the SMTP server. The SMTP login's password is read from the server's
environment when an alert is sent and is in no answer: every body is scanned for it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from tests.fixtures.server import Web
from tests.fixtures.smtp import SmtpServer, smtp_on_loopback
from tests.fixtures.webhooks import Receiver, webhook_receiver
from tests.integration.server.api_helpers import problem

from segport.service import cancel_run, request_run
from segport.service.workers import beat, register_worker, unregister_worker

SMTP_PASSWORD = "smtp-pass-9Xq2Lm7Rv4"
HOOK_SECRET = "hook-secret-Wq83Zp1Kd6"
SECRETS = (SMTP_PASSWORD, HOOK_SECRET)
PASSWORD_ENV = "SEGPORT_TEST_SMTP_PASSWORD"
SECRET_ENV = "SEGPORT_TEST_HOOK_SECRET"
WRITERS = ("carol", "victor")


class Scanned(httpx.Client):
    """A client that fails the test when an answer carries a secret or a password."""

    def send(self, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        answer = super().send(request, **kwargs)
        answer.read()
        for secret in SECRETS:
            assert secret not in answer.text, f"{request.method} {request.url} answered it"
        if answer.headers.get("content-type", "").endswith("json"):
            assert '"password"' not in answer.text, answer.text
        return answer


@pytest.fixture
def as_user(web: Web, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # The server runs in this process: what it reads from the environment is set here.
    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    monkeypatch.setenv(SECRET_ENV, HOOK_SECRET)
    made: list[httpx.Client] = []

    def client(user: str) -> httpx.Client:
        c = Scanned(
            base_url=web.url, timeout=60, headers={"Authorization": f"Bearer {web.tokens[user]}"}
        )
        made.append(c)
        return c

    yield client
    for c in made:
        c.close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(HOOK_SECRET) as hooks:
        yield hooks


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_on_loopback("alerts", SMTP_PASSWORD, login=True) as server:
        yield server


def test_the_schedule_is_read_by_everyone_and_set_and_turned_off_by_admins(as_user: Any) -> None:
    admin, victor = as_user("admin"), as_user("victor")
    never = victor.get("/api/v1/system/schedule").json()
    assert never["configured"] is False and never["enabled"] is False
    assert never["next_firings"] == [] and never["timezone"] is None
    body = {"times": ["18:30", "06:00"], "timezone": "Europe/Amsterdam"}
    answer = admin.put("/api/v1/system/schedule", json=body)
    assert answer.status_code == 200, answer.text
    on = answer.json()
    assert (on["configured"], on["enabled"], on["daily"]) == (True, True, True)
    assert on["times"] == ["06:00", "18:30"] and on["timezone"] == "Europe/Amsterdam"
    assert on["updated_by"] == "admin" and len(on["next_firings"]) == 5
    first = on["next_firings"][0]
    local, utc = datetime.fromisoformat(first["local"]), datetime.fromisoformat(first["utc"])
    assert local == utc and local.strftime("%H:%M") in ("06:00", "18:30")
    assert local.utcoffset() != utc.utcoffset()  # Amsterdam is never on UTC
    three = victor.get("/api/v1/system/schedule", params={"count": 3}).json()
    assert len(three["next_firings"]) == 3 and three["description"] == on["description"]
    weekly = admin.put(
        "/api/v1/system/schedule", json={"times": ["07:15"], "timezone": "UTC", "days": ["thu"]}
    ).json()
    assert weekly["daily"] is False and weekly["days"] == ["thu"]
    assert all(
        datetime.fromisoformat(f["utc"]).strftime("%a %H:%M") == "Thu 07:15"
        for f in weekly["next_firings"]
    )
    off = admin.delete("/api/v1/system/schedule").json()
    assert off["enabled"] is False and off["next_firings"] == [] and off["days"] == ["thu"]
    assert admin.delete("/api/v1/system/schedule").json() == off  # off already: no change
    refused = problem(victor.get("/api/v1/system/schedule?count=0"), 422, "request_invalid")
    assert refused["field"] == "count"


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"times": ["25:00"], "timezone": "UTC"}, "time_invalid", "times"),
        ({"times": [], "timezone": "UTC"}, "times_missing", "times"),
        (
            {"times": ["01:00", "02:00", "03:00", "04:00", "05:00"], "timezone": "UTC"},
            None,
            "times",
        ),
        ({"times": ["06:00"], "timezone": "Mars/Olympus_Mons"}, "timezone_invalid", "timezone"),
        ({"times": ["06:00"], "timezone": "UTC", "days": ["someday"]}, "weekday_invalid", "days"),
        ({"times": ["06:00"], "timezone": "UTC", "days": []}, "weekdays_missing", "days"),
        ({"timezone": "UTC"}, "request_invalid", "times"),
    ],
)
def test_a_bad_schedule_is_refused_naming_its_field(
    as_user: Any, body: dict[str, Any], code: str | None, field: str
) -> None:
    admin = as_user("admin")
    before = admin.get("/api/v1/system/schedule").json()
    answer = admin.put("/api/v1/system/schedule", json=body)
    assert answer.status_code == 422, answer.text
    found = problem(answer, 422, code or answer.json()["code"])
    assert found["field"] == field and found["detail"]
    assert admin.get("/api/v1/system/schedule").json() == before


@pytest.mark.parametrize("user", WRITERS)
def test_only_admins_change_the_system(as_user: Any, user: str) -> None:
    client = as_user(user)
    smtp_body = {
        "host": "127.0.0.1",
        "port": 2525,
        "starttls": False,
        "from_address": "a@b.example",
    }
    for answer in (
        client.put("/api/v1/system/schedule", json={"times": ["06:00"], "timezone": "UTC"}),
        client.delete("/api/v1/system/schedule"),
        client.post("/api/v1/alerts", json={"name": "x", "on": "failed", "email": ["a@b.example"]}),
        client.delete("/api/v1/alerts/x"),
        client.post("/api/v1/alerts/x/test"),
        client.put("/api/v1/system/smtp", json=smtp_body),
    ):
        body = problem(answer, 403, "permission_denied")
        assert user in body["detail"]
    # ...and they read it all
    for path in ("/system/schedule", "/system/workers", "/alerts", "/system/smtp"):
        assert client.get(f"/api/v1{path}").status_code == 200, path
    assert client.get("/api/v1/alerts").json()["total"] == 0


def test_no_one_unsigned_reads_the_system(web: Web) -> None:
    with web.client() as anonymous:
        for path in ("/system/schedule", "/system/workers", "/alerts", "/system/smtp"):
            problem(anonymous.get(f"/api/v1{path}"), 401, "authentication_required")


def test_workers_are_listed_with_their_current_run(web: Web, as_user: Any) -> None:
    admin = as_user("admin")
    assert admin.get("/api/v1/system/workers").json() == {
        "total": 0,
        "offset": 0,
        "limit": 50,
        "items": [],
    }
    worker = register_worker(web.ws, web.actor("admin"))  # (a SQLite workspace has one)
    try:
        idle = as_user("victor").get("/api/v1/system/workers").json()
        assert idle["total"] == 1
        (shown,) = idle["items"]
        assert shown["id"] == worker.id and shown["name"] == f"{worker.host}:{worker.pid}"
        assert (shown["host"], shown["pid"]) == (worker.host, worker.pid)
        assert shown["current_run_id"] is None
        run = request_run(web.ws, web.actor("admin"), "news")
        assert beat(web.ws, worker.id, run.id)
        busy = admin.get("/api/v1/system/workers").json()["items"][0]
        assert busy["current_run_id"] == run.id
        cancel_run(web.ws, web.actor("admin"), run.id)
        assert datetime.fromisoformat(busy["heartbeat_at"]) >= datetime.fromisoformat(
            shown["heartbeat_at"]
        )
        paged = admin.get("/api/v1/system/workers", params={"limit": 1, "offset": 1}).json()
        assert paged["total"] == 1 and paged["items"] == []
    finally:
        unregister_worker(web.ws, worker.id)
    assert admin.get("/api/v1/system/workers").json()["total"] == 0


def test_a_webhook_alert_is_added_tested_and_removed(as_user: Any, receiver: Receiver) -> None:
    admin = as_user("admin")
    url = receiver.url + "?token=abc123"
    added = admin.post(
        "/api/v1/alerts",
        json={
            "name": "ops hook",
            "on": "failed,rejected-over:5%",
            "webhook": url,
            "secret_env": SECRET_ENV,
        },
    )
    assert added.status_code == 201, added.text
    view = added.json()
    assert (view["kind"], view["on"], view["secret_env"]) == (
        "webhook",
        "failed,rejected-over:5%",
        SECRET_ENV,
    )
    assert view["webhook"] == receiver.url + "?***" and view["email"] == []
    listed = as_user("victor").get("/api/v1/alerts").json()
    assert listed["total"] == 1 and listed["items"] == [view]
    assert "abc123" not in str(listed)
    taken = problem(
        admin.post("/api/v1/alerts", json={"name": "ops hook", "on": "failed", "webhook": url}),
        409,
        "alert_exists",
    )
    assert taken["field"] == "alert_name"
    before = len(receiver.received)
    tested = admin.post("/api/v1/alerts/ops hook/test")
    assert tested.status_code == 200, tested.text
    result = tested.json()
    assert result["alert"] == "ops hook" and result["channel"] == "webhook"
    assert result["status"] == "delivered" and result["delivered"] is True
    assert result["attempts"] == 1 and result["reason"] is None
    arrived = receiver.received[before:]
    assert len(arrived) == 1 and arrived[0].signed  # signed with the secret from the environment
    assert arrived[0].run["reason"] == "alert_test"
    removed = admin.delete("/api/v1/alerts/ops hook")
    assert removed.status_code == 200 and removed.json()["name"] == "ops hook"
    problem(admin.delete("/api/v1/alerts/ops hook"), 404, "alert_not_found")
    problem(admin.post("/api/v1/alerts/ops hook/test"), 404, "alert_not_found")
    assert admin.get("/api/v1/alerts").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"name": "a", "on": "sometimes", "email": ["ops@example.com"]},
            "invalid_alert_rule",
            "on",
        ),
        ({"name": "a", "on": "failed"}, "alert_target_required", "alert_target"),
        (
            {
                "name": "a",
                "on": "failed",
                "email": ["x@example.com"],
                "webhook": "https://h.example/",
            },
            "alert_target_required",
            "alert_target",
        ),
        (
            {"name": "a", "on": "failed", "email": ["not an address"]},
            "invalid_email",
            "alert_email",
        ),
        (
            {"name": "a", "on": "failed", "webhook": "ftp://h.example/x"},
            "invalid_webhook_url",
            "webhook",
        ),
        (
            {"name": "a", "on": "failed", "webhook": "https://h.example/", "secret_env": "1 bad"},
            "invalid_variable_name",
            "secret_env",
        ),
        (
            {"name": " ", "on": "failed", "email": ["x@example.com"]},
            "alert_name_invalid",
            "alert_name",
        ),
    ],
)
def test_a_bad_alert_is_refused_naming_its_field(
    as_user: Any, body: dict[str, Any], code: str, field: str
) -> None:
    admin = as_user("admin")
    assert problem(admin.post("/api/v1/alerts", json=body), 422, code)["field"] == field
    assert admin.get("/api/v1/alerts").json()["total"] == 0


def test_smtp_and_an_email_alert_the_password_never_answered(
    as_user: Any, smtp: SmtpServer
) -> None:
    admin = as_user("admin")
    assert as_user("carol").get("/api/v1/system/smtp").json()["configured"] is False
    body = {
        "host": smtp.host,
        "port": smtp.port,
        "starttls": False,  # a relay on this machine: the login may go in clear
        "user": "alerts",
        "password_env": PASSWORD_ENV,
        "from_address": "segport@example.com",
    }
    answer = admin.put("/api/v1/system/smtp", json=body)
    assert answer.status_code == 200, answer.text
    shown = answer.json()
    assert shown["configured"] is True and shown["password_env"] == PASSWORD_ENV
    assert (shown["host"], shown["port"], shown["user"]) == (smtp.host, smtp.port, "alerts")
    assert as_user("victor").get("/api/v1/system/smtp").json() == shown
    added = admin.post(
        "/api/v1/alerts",
        json={"name": "mail", "on": "failed", "email": ["ops@example.com", "oncall@example.com"]},
    )
    assert added.status_code == 201, added.text
    assert added.json()["email"] == ["ops@example.com", "oncall@example.com"]
    try:
        result = admin.post("/api/v1/alerts/mail/test").json()
        assert result["status"] == "delivered", result
        assert smtp.mailbox.logins == ["alerts"]  # the password from the environment worked
        assert smtp.mailbox.accepted[-1].rcpt_tos == ["ops@example.com", "oncall@example.com"]
    finally:
        admin.delete("/api/v1/alerts/mail")


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"host": ""}, None, "smtp_host"),
        ({"port": 70000}, None, "smtp_port"),
        ({"from_address": "nobody"}, "invalid_email", "smtp_from"),
        ({"user": "alerts"}, None, "smtp_password_env"),
        (
            {"password_env": "BAD NAME", "user": "alerts"},
            "invalid_variable_name",
            "smtp_password_env",
        ),
        (
            {"host": "mail.example.com", "starttls": False, "user": "u", "password_env": "P"},
            "smtp_login_without_tls",
            "smtp_starttls",
        ),
    ],
)
def test_bad_smtp_settings_are_refused_naming_the_field(
    as_user: Any, changes: dict[str, Any], code: str | None, field: str
) -> None:
    admin = as_user("admin")
    before = admin.get("/api/v1/system/smtp").json()
    body = {"host": "smtp.example.com", "port": 587, "from_address": "segport@example.com"}
    body.update(changes)
    answer = admin.put("/api/v1/system/smtp", json=body)
    found = problem(answer, 422, code or answer.json().get("code", "?"))
    assert found["field"] == field
    assert admin.get("/api/v1/system/smtp").json() == before


def test_the_openapi_document_declares_the_system(web: Web) -> None:
    with web.client() as client:
        document = client.get("/api/v1/openapi.json").json()
    paths, schemas = document["paths"], document["components"]["schemas"]
    for path, methods in {
        "/api/v1/system/schedule": ("get", "put", "delete"),
        "/api/v1/system/workers": ("get",),
        "/api/v1/alerts": ("get", "post"),
        "/api/v1/alerts/{name}": ("delete",),
        "/api/v1/alerts/{name}/test": ("post",),
        "/api/v1/system/smtp": ("get", "put"),
    }.items():
        for method in methods:
            declared = set(paths[path][method]["responses"])
            assert {"401", "403", "422", "502"} <= declared, (path, method, declared)
    for model in ("SmtpIn", "SmtpOut"):  # the password is named, never sent nor answered
        assert set(schemas[model]["properties"]) >= {"host", "password_env"}
        assert not [
            p
            for p in schemas[model]["properties"]
            if p.startswith("password") and p != "password_env"
        ]


def test_the_models_carry_every_field_of_the_views_they_render() -> None:
    # A field a view gains is not dropped silently (and no model adds one a view lacks,
    # such as a password); the properties the API spells out are named here.
    import dataclasses

    from segport.server.api import system_models as m
    from segport.service import (
        AlertTestView,
        AlertView,
        FiringView,
        SmtpView,
        SystemScheduleView,
        WorkerView,
    )

    pairs = [
        (m.ScheduleOut, SystemScheduleView, set()),
        (m.Firing, FiringView, set()),
        (m.WorkerOut, WorkerView, {"name"}),
        (m.AlertOut, AlertView, set()),
        (m.AlertTestOut, AlertTestView, {"delivered"}),
        (m.SmtpOut, SmtpView, set()),
    ]
    for model, view, properties in pairs:
        fields = {f.name for f in dataclasses.fields(view)}
        assert set(model.model_fields) == fields | properties, model
