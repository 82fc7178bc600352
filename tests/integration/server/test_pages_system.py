"""The System page: the refresh schedule with its form and next firings, the workers, the
chart of recent runs (inline SVG) with its table, alerts (add, send a test, remove) and
the SMTP server. A refused form keeps what was typed and shows the service's message
next to the field it names; contributors and viewers see the page without its forms
and a forged post is refused with the service's message."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import httpx
import pytest
from tests.fixtures.server import Web
from tests.fixtures.smtp import SmtpServer, smtp_on_loopback
from tests.fixtures.webhooks import Receiver, webhook_receiver
from tests.integration.server.pages_helpers import csrf_of, page_client, references

from segport.service import (
    cancel_run,
    list_alerts,
    request_run,
    run_export,
    show_smtp,
    show_system_schedule,
)
from segport.service.workers import register_worker, unregister_worker

HOSTILE = '<b>ops</b> & "co"'
SMTP_PASSWORD = "page-smtp-pass-7Hq2"
PASSWORD_ENV = "SEGPORT_PAGE_TEST_SMTP_PASSWORD"
NS = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def site(web: Web) -> Iterator[Web]:
    """The server with two runs to chart: one that sent, one canceled before it ran."""
    admin = web.actor("admin")
    run_export(web.ws, admin, "news")
    cancel_run(web.ws, admin, request_run(web.ws, admin, "vip").id)
    yield web


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with webhook_receiver("unused") as hooks:
        yield hooks


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with smtp_on_loopback("alerts", SMTP_PASSWORD, login=True) as server:
        yield server


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    page = client.get("/system")
    assert page.status_code == 200
    return client.post(path, data={"csrf_token": csrf_of(page), **fields})


def _value(page: httpx.Response, field: str) -> str:
    found = re.search(rf'<input id="{field}" name="{field}"[^>]* value="([^"]*)"', page.text)
    assert found, f"no input {field}"
    return found.group(1)


def _field_error(page: httpx.Response, field: str, code: str) -> None:
    """The refusal is shown next to ``field`` (and the field is marked invalid)."""
    assert f'id="{field}-error" data-code="{code}"' in page.text, page.text
    assert re.search(
        rf'id="{field}"[^>]*aria-invalid="true" aria-describedby="{field}-error', page.text
    )
    assert f'data-field="{field}"' in page.text and f'href="#{field}"' in page.text


def test_the_page_shows_every_part_and_the_chart_of_recent_runs(site: Web) -> None:
    with page_client(site, "admin") as client:
        page = client.get("/system")
    assert page.status_code == 200
    assert 'id="nav-system" aria-current="page"' in page.text
    for part in (
        "schedule-form",
        "no-workers",
        "runs-figure",
        "no-alerts",
        "alert-form",
        "no-smtp",
        "smtp-form",
    ):
        assert f'id="{part}"' in page.text, part
    assert "never set" in page.text
    # no inline script, no style attribute: the CSP allows neither
    _urls, inline = references(page.text)
    assert inline == 0 and " style=" not in page.text
    assert 'type="password"' not in page.text  # no password is asked for
    svg = page.text[page.text.index("<svg") : page.text.index("</svg>") + len("</svg>")]
    chart = ET.fromstring(svg)
    assert chart.get("role") == "img" and chart.find(f"{NS}title") is not None
    runs = [g.get("data-run") for g in chart.iter(f"{NS}g") if g.get("class") == "chart-run"]
    assert len(runs) == 2  # oldest first
    table = page.text.split('id="chart-table"')[1].split("</table>")[0]
    rows = table.split("<tr>")[2:]
    assert "export &#39;news&#39;" in rows[0] and "successful" in rows[0]
    assert "export &#39;vip&#39;" in rows[1] and "canceled" in rows[1]
    sent = re.findall(r"<td>(\d+|—)</td>", rows[0])
    bars = {
        t.text
        for g in chart.iter(f"{NS}g")
        if g.get("data-run") == runs[0]
        for t in g.iter(f"{NS}title")
    }
    assert any(f": {sent[0]} sent" in (b or "") for b in bars)  # the chart and table agree


def test_set_the_schedule_and_turn_it_off(site: Web) -> None:
    with page_client(site, "admin") as client:
        saved = _post(
            client,
            "/system/schedule",
            frequency="weekly",
            day_mon="yes",
            day_thu="yes",
            times="18:30, 06:00",
            timezone="Europe/Amsterdam",
        )
        assert saved.status_code == 303 and saved.headers["location"] == "/system?notice=schedule"
        page = client.get(saved.headers["location"])
        assert "Schedule saved" in page.text and "<strong>on</strong>" in page.text
        firings = page.text.split('id="next-firings"')[1].split("</table>")[0]
        assert firings.count("<tr>") == 6 and ("CET" in firings or "CEST" in firings)
        assert (
            _value(page, "times") == "06:00, 18:30"
            and _value(page, "timezone") == "Europe/Amsterdam"
        )
        assert 'id="day_mon" name="day_mon" value="yes" checked' in page.text
        assert 'id="day_tue" name="day_tue" value="yes">' in page.text
        assert 'id="frequency-weekly" name="frequency" value="weekly" checked' in page.text
        off = _post(client, "/system/schedule/off")
        assert off.status_code == 303
        page = client.get(off.headers["location"])
        assert "<strong>off</strong>" in page.text and 'id="next-firings"' not in page.text
        assert 'id="schedule-off"' not in page.text
    view = show_system_schedule(site.ws, site.actor("admin"))
    assert not view.enabled and view.days == ["mon", "thu"] and view.times == ["06:00", "18:30"]


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"times": "25:00", "timezone": "UTC"}, "times", "time_invalid"),
        ({"times": "06:00", "timezone": "Mars/Olympus_Mons"}, "timezone", "timezone_invalid"),
        ({"times": "06:00", "timezone": "UTC", "frequency": "weekly"}, "days", "weekdays_missing"),
    ],
)
def test_a_refused_schedule_keeps_what_was_typed(
    site: Web, fields: dict[str, str], field: str, code: str
) -> None:
    before = show_system_schedule(site.ws, site.actor("admin"))
    with page_client(site, "admin") as client:
        refused = _post(client, "/system/schedule", **{"frequency": "daily", **fields})
    assert refused.status_code == 422
    _field_error(refused, field, code)
    assert _value(refused, "times") == fields["times"]
    assert _value(refused, "timezone") == fields["timezone"]
    assert show_system_schedule(site.ws, site.actor("admin")) == before


def test_add_test_and_remove_a_webhook_alert(site: Web, receiver: Receiver) -> None:
    with page_client(site, "admin") as client:
        added = _post(
            client,
            "/system/alerts",
            alert_name=HOSTILE,
            on="failed,skipped",
            target="webhook",
            webhook=receiver.url,
            alert_email="ignored@example.com",
        )
        assert added.status_code == 303, added.text
        page = client.get(added.headers["location"])
        assert "Alert added" in page.text
        assert (
            "<b>ops</b>" not in page.text
            and "&lt;b&gt;ops&lt;/b&gt; &amp; &#34;co&#34;" in page.text
        )
        row = page.text.split('id="alerts"')[1].split("</table>")[0]
        assert "failed,skipped" in row and receiver.url in row
        before = len(receiver.received)
        tested = _post(client, "/system/alerts/test", alert_name=HOSTILE)
        assert tested.status_code == 200
        assert 'id="test-result" data-status="delivered"' in tested.text
        assert "delivered" in tested.text and "1 attempt(s)" in tested.text
        assert len(receiver.received) == before + 1
        removed = _post(client, "/system/alerts/remove", alert_name=HOSTILE)
        assert removed.status_code == 303
        assert "Alert removed" in client.get(removed.headers["location"]).text
        gone = _post(client, "/system/alerts/remove", alert_name=HOSTILE)
        assert gone.status_code == 404 and 'data-code="alert_not_found"' in gone.text
    assert list_alerts(site.ws, site.actor("admin")) == []


def test_a_refused_alert_keeps_what_was_typed(site: Web) -> None:
    with page_client(site, "admin") as client:
        refused = _post(
            client,
            "/system/alerts",
            alert_name="night shift",
            on="sometimes",
            target="email",
            alert_email="ops@example.com",
        )
        assert refused.status_code == 422
        _field_error(refused, "on", "invalid_alert_rule")
        assert _value(refused, "alert_name") == "night shift"
        assert _value(refused, "on") == "sometimes"
        assert _value(refused, "alert_email") == "ops@example.com"
        bad_mail = _post(
            client,
            "/system/alerts",
            alert_name="m",
            on="failed",
            target="email",
            alert_email="nope",
        )
        _field_error(bad_mail, "alert_email", "invalid_email")
        hook = _post(
            client,
            "/system/alerts",
            alert_name="h",
            on="failed",
            target="webhook",
            webhook="ftp://x",
        )
        _field_error(hook, "webhook", "invalid_webhook_url")
        assert 'id="target-webhook" name="target" value="webhook" checked' in hook.text
    assert list_alerts(site.ws, site.actor("admin")) == []


def test_set_the_smtp_server_and_test_an_email_alert(
    site: Web, smtp: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, SMTP_PASSWORD)
    with page_client(site, "admin") as client:
        bad = _post(
            client,
            "/system/smtp",
            smtp_host="mail.example.com",
            smtp_port="587",
            smtp_user="alerts",
            smtp_password_env=PASSWORD_ENV,
            smtp_from="segport@example.com",
        )
        assert bad.status_code == 422
        _field_error(bad, "smtp_starttls", "smtp_login_without_tls")
        assert _value(bad, "smtp_host") == "mail.example.com"
        assert _value(bad, "smtp_password_env") == PASSWORD_ENV
        port = _post(
            client, "/system/smtp", smtp_host="h", smtp_port="abc", smtp_from="a@b.example"
        )
        assert port.status_code == 422 and _value(port, "smtp_port") == "abc"
        assert 'id="smtp_port-error"' in port.text
        saved = _post(
            client,
            "/system/smtp",
            smtp_host=smtp.host,
            smtp_port=str(smtp.port),
            smtp_user="alerts",
            smtp_password_env=PASSWORD_ENV,
            smtp_from="segport@example.com",
        )
        assert saved.status_code == 303, saved.text
        page = client.get(saved.headers["location"])
        assert "SMTP server saved" in page.text
        assert f"{smtp.host}:{smtp.port} (no STARTTLS)" in page.text
        assert _value(page, "smtp_port") == str(smtp.port)
        assert 'id="smtp_starttls" name="smtp_starttls" value="yes">' in page.text  # unticked
        added = _post(
            client,
            "/system/alerts",
            alert_name="mail",
            on="failed",
            target="email",
            alert_email="ops@example.com",
        )
        assert added.status_code == 303
        tested = _post(client, "/system/alerts/test", alert_name="mail")
        assert 'data-status="delivered"' in tested.text, tested.text
        assert smtp.mailbox.logins == ["alerts"]
        monkeypatch.delenv(PASSWORD_ENV)
        failed = _post(client, "/system/alerts/test", alert_name="mail")
        assert 'data-status="failed"' in failed.text and PASSWORD_ENV in failed.text
        _post(client, "/system/alerts/remove", alert_name="mail")
        for shown in (bad, page, tested, failed):
            assert SMTP_PASSWORD not in shown.text
    assert show_smtp(site.ws, site.actor("admin")).host == smtp.host


@pytest.mark.parametrize("user", ["carol", "victor"])
def test_others_see_the_page_without_its_forms_and_are_refused(site: Web, user: str) -> None:
    admin = site.actor("admin")
    before = (show_system_schedule(site.ws, admin), show_smtp(site.ws, admin))
    worker = register_worker(site.ws, admin)
    try:
        with page_client(site, user) as client:
            page = client.get("/system")
            assert page.status_code == 200
            workers = page.text.split('id="workers"')[1].split("</table>")[0]
            assert f"{worker.host}:{worker.pid}" in workers and "idle" in workers
            for form in ("schedule-form", "alert-form", "smtp-form"):
                assert f'id="{form}"' not in page.text
            assert 'id="schedule-admins-only"' in page.text
            assert 'id="runs-figure"' in page.text
            for path, fields in (
                ("/system/schedule", {"times": "06:00", "timezone": "UTC"}),
                ("/system/schedule/off", {}),
                (
                    "/system/alerts",
                    {"alert_name": "x", "on": "failed", "alert_email": "a@b.example"},
                ),
                ("/system/alerts/test", {"alert_name": "x"}),
                ("/system/alerts/remove", {"alert_name": "x"}),
                ("/system/smtp", {"smtp_host": "h", "smtp_port": "25", "smtp_from": "a@b.example"}),
            ):
                refused = client.post(path, data={"csrf_token": csrf_of(page), **fields})
                assert refused.status_code == 403, path
                assert 'data-code="permission_denied"' in refused.text and user in refused.text
    finally:
        unregister_worker(site.ws, worker.id)
    assert (show_system_schedule(site.ws, admin), show_smtp(site.ws, admin)) == before


def test_signing_in_comes_first(site: Web) -> None:
    with site.client() as client:
        answer = client.get("/system")
    assert answer.status_code == 303 and answer.headers["location"] == "/sign-in?next=/system"


def test_a_post_without_the_csrf_token_is_refused(site: Web) -> None:
    admin = site.actor("admin")
    before = show_system_schedule(site.ws, admin)
    with page_client(site, "admin") as client:
        for path, fields in (
            ("/system/schedule", {"times": "09:00", "timezone": "UTC"}),
            ("/system/alerts", {"alert_name": "x", "on": "failed", "alert_email": "a@b.example"}),
            ("/system/smtp", {"smtp_host": "h", "smtp_port": "25", "smtp_from": "a@b.example"}),
        ):
            assert client.post(path, data=fields).status_code == 403, path
    assert show_system_schedule(site.ws, admin) == before
    assert list_alerts(site.ws, admin) == []
