"""Connections through the CLI against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.fixtures.workspace import Cli
from tests.integration.workspace.conftest import OTHER_KEY

from segport.brevo.sandbox import SandboxServer
from segport.service.privacy import PRIVACY_STATEMENT


def _add(
    cli: Cli,
    sandbox: SandboxServer,
    name: str = "Brevo news",
    *extra: str,
    actor: str | None = None,
    key: str | None = None,
    ok: bool | None = True,
) -> str:
    result = cli(
        "connections", "add", name, "--type", "brevo", "--api-key-stdin",
        "--base-url", sandbox.base_url, "--agree-privacy", *extra,
        actor=actor, input=(key or sandbox.api_key) + "\n", ok=ok,
    )  # fmt: skip
    return result.output


def _rows(cli: Cli, actor: str | None = None) -> list[str]:
    return cli("connections", "list", actor=actor, ok=True).output.splitlines()


def test_add_verifies_key_records_consent_and_never_shows_key(
    cli: Cli, sandbox: SandboxServer
) -> None:
    out = _add(cli, sandbox)
    assert "saved (brevo, shared with admins)" in out
    assert "account: " in out and "plan: " in out
    assert "export user: admin" in out and "privacy consent: given by admin" in out
    show = cli("connections", "show", "Brevo news", ok=True).output
    assert sandbox.base_url in show and "never shown" in show
    assert "privacy consent: by admin at" in show
    assert sandbox.api_key not in out + show
    rows = _rows(cli)
    assert rows[0].split() == ["name", "type", "shared", "with", "export", "user", "exports",
                               "created"]  # fmt: skip
    assert rows[1].startswith("Brevo news  brevo  admins")
    log = cli("audit", ok=True).output
    assert "connections.add" in log and '"privacy_consent"' in log
    assert sandbox.api_key not in log
    # `sendinblue` is the same type; the key may come from an environment variable.
    out = cli(
        "connections", "add", "legacy", "--type", "Sendinblue", "--api-key-env", "MY_KEY",
        "--base-url", sandbox.base_url, "--agree-privacy", "--share-with-contributors",
        env={"MY_KEY": sandbox.api_key}, ok=True,
    ).output  # fmt: skip
    assert "saved (brevo, shared with admins, contributors)" in out


def test_without_consent_nothing_is_saved_and_the_statement_is_shown(
    cli: Cli, sandbox: SandboxServer
) -> None:
    result = cli(
        "connections", "add", "c", "--type", "brevo", "--api-key-stdin",
        "--base-url", sandbox.base_url, input=sandbox.api_key, ok=False,
    )  # fmt: skip
    assert PRIVACY_STATEMENT.splitlines()[0] in result.output
    assert "--agree-privacy" in result.output and "not saved" in result.output
    assert "No connections yet" in cli("connections", "list", ok=True).output


def test_wrong_key_gives_brevos_message_and_saves_nothing(cli: Cli, sandbox: SandboxServer) -> None:
    out = _add(cli, sandbox, key="xkeysib-wrong", ok=False)
    assert "Brevo refused the API key (Brevo said: Key not found)" in out
    assert "Nothing was saved" in out and "xkeysib-wrong" not in out
    assert "No connections yet" in cli("connections", "list", ok=True).output
    # --no-verify saves it unchecked (offline setup).
    out = _add(cli, sandbox, "c2", "--no-verify", key="xkeysib-wrong")
    assert "not checked" in out
    # An unreachable URL, and bad options, each say what to do.
    out = cli(
        "connections", "add", "c", "--type", "brevo", "--api-key-stdin", "--agree-privacy",
        "--base-url", "http://127.0.0.1:9/v3", input="k", ok=False,
    ).output  # fmt: skip
    assert "could not check the API key at http://127.0.0.1:9/v3" in out
    assert "--no-verify" in out
    out = cli("connections", "add", "c", "--type", "mailchimp", "--agree-privacy",
              "--api-key-stdin", input="k", ok=False).output  # fmt: skip
    assert "unknown connection type 'mailchimp'" in out and "--type" in out
    out = cli("connections", "add", "c", "--type", "brevo", "--agree-privacy",
              "--api-key-env", "SEGPORT_NO_SUCH_VAR", ok=False).output  # fmt: skip
    assert "SEGPORT_NO_SUCH_VAR is not set" in out
    out = cli("connections", "add", "c", "--type", "brevo", "--agree-privacy",
              "--api-key-stdin", input="", ok=False).output  # fmt: skip
    assert "nothing was read" in out
    out = cli("connections", "add", "c", "--type", "brevo", "--agree-privacy",
              "--base-url", "ftp://x", "--api-key-stdin", input="k", ok=False).output  # fmt: skip
    assert "the base URL 'ftp://x' is not an http(s) URL" in out


def test_only_admins_manage_connections(cli: Cli, sandbox: SandboxServer) -> None:
    cli("users", "add", "carol", "--role", "contributor", ok=True)
    cli("users", "add", "vic", "--role", "viewer", ok=True)
    _add(cli, sandbox, "private")
    _add(cli, sandbox, "shared", "--share-with-contributors")
    for actor in ("carol", "vic"):
        out = _add(cli, sandbox, "mine", actor=actor, ok=False)
        assert "may not manage connections" in out
        for args in (("show", "shared"), ("edit", "shared", "--rename", "x"),
                     ("remove", "shared"), ("take-over", "shared"), ("rotate-key",)):  # fmt: skip
            assert "may not manage connections" in cli("connections", *args, actor=actor).output
    # Contributors see only the names and types of shared connections; viewers nothing.
    assert _rows(cli, actor="carol") == ["name    type", "shared  brevo"]
    assert "may not manage connections" in cli("connections", "list", actor="vic").output


def test_edit_rename_new_key_and_sharing(cli: Cli, sandbox: SandboxServer) -> None:
    _add(cli, sandbox, "c")
    out = cli("connections", "edit", "c", "--rename", "Brevo (prod)", "--api-key-stdin",
              "--share-with-contributors", input=OTHER_KEY, ok=True).output  # fmt: skip
    assert "renamed to Brevo (prod)" in out and "new API key (verified)" in out
    assert "shared with contributors" in out and OTHER_KEY not in out
    out = cli("connections", "edit", "Brevo (prod)", "--api-key-stdin", input="bad", ok=False)
    assert "Brevo refused the API key" in out.output
    out = cli("connections", "edit", "Brevo (prod)", "--no-share-with-contributors", ok=True)
    assert "no longer shared with contributors" in out.output
    assert "nothing to change" in cli("connections", "edit", "Brevo (prod)", ok=True).output
    # A new base URL is checked with the saved key before it replaces the old one.
    out = cli("connections", "edit", "Brevo (prod)", "--base-url", "http://127.0.0.1:9/v3")
    assert (
        out.exit_code == 1 and "could not check the API key at http://127.0.0.1:9/v3" in out.output
    )
    assert sandbox.base_url in cli("connections", "show", "Brevo (prod)", ok=True).output
    # `show --check` asks Brevo again; a saved key Brevo refuses says how to replace it.
    assert "account:         " in cli("connections", "show", "Brevo (prod)", "--check").output
    _add(cli, sandbox, "stale", "--no-verify", key="xkeysib-revoked")
    out = cli("connections", "show", "stale", "--check", ok=False).output
    assert "Brevo refused the API key" in out and "connections edit stale --api-key-stdin" in out
    assert "no connection named 'c'" in cli("connections", "show", "c", ok=False).output


def test_take_over_after_the_export_user_leaves(cli: Cli, sandbox: SandboxServer) -> None:
    cli("users", "add", "bob", "--role", "admin", ok=True)
    _add(cli, sandbox, "c", actor="bob")
    out = cli("users", "set-role", "bob", "viewer", ok=True).output
    assert "Runs on c now fail" in out and "connections take-over c" in out
    assert "(cannot run: take over)" in _rows(cli)[1]
    show = cli("connections", "show", "c", ok=True).output
    assert "export user bob is no longer an admin" in show
    out = cli("connections", "take-over", "c", ok=True).output
    assert "export user bob -> admin" in out
    assert "take over" not in _rows(cli)[1]
