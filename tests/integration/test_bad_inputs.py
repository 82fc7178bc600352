"""Every command, given a bad input, stops with one clear message and no traceback.

A table of bad inputs across every command group (init, users, audit, connections,
profiles, segments, exports, exports run/runs, sandbox): unknown names, bad ids, bad
option values, missing, empty and unusable files, bad and unreachable URLs. Each case
says the exit status (1 for a refused command, 2 for a usage error) and words the message
must contain: the option or value at fault, so the user knows what to fix.
"""

from __future__ import annotations

import gzip
import os
import shlex
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from segport.brevo.sandbox import SandboxConfig, SandboxServer
from segport.cli import app

KEY = "xkeysib-bad-inputs-0123456789abcdef-0a1b2c"
ENV = {
    "K": KEY,
    "NONASCII_KEY": "xkeysib-é0123456789abcdef",
    "CONTROL_KEY": "xkeysib-\x01abcdef0123456789",
}


@dataclass
class Setup:
    root: Path  # files for the cases: $T
    ws: Path  # the workspace the cases run in
    sandbox: SandboxServer
    list_id: int
    runner: CliRunner

    def invoke(self, args: list[str], input: str | None = None) -> Result:
        argv = args if args and args[0] == "--workspace" else ["--workspace", str(self.ws), *args]
        return self.runner.invoke(app, argv, env=ENV, input=input)

    def expand(self, line: str) -> list[str]:
        words = shlex.split(line)
        subs = {
            "$T": str(self.root),
            "$SB": self.sandbox.base_url,
            "$ROOT_URL": self.sandbox.base_url.removesuffix("/v3"),
            "$L": str(self.list_id),
            "$WS": str(self.ws),
        }
        out = []
        for word in words:
            for k, v in subs.items():
                word = word.replace(k, v)
            out.append(word)
        return out


def _files(root: Path) -> None:
    (root / "dir").mkdir()
    (root / "dir.yaml").mkdir()
    (root / "a_file").write_text("x")
    (root / "people.csv").write_text(
        "customer_id,email,country,ltv,first,last_purchase\n"
        "1,a@example.com,GB,10,Ann,2026-01-02\n2,b@x.io,FR,20,Bob,2026-02-03\n"
    )
    (root / "empty.csv").write_text("")
    (root / "short_row.csv").write_text("customer_id,email\n1,a@x.io\n2\n")
    (root / "renamed.csv").write_text(
        "customer_id,email,land,ltv,first,last_purchase\n1,a@example.com,GB,10,Ann,2026-01-02\n"
    )
    (root / "empty.yaml").write_text("")
    (root / "empty.json").write_text("")
    (root / "list.yaml").write_text("- a\n- b\n")
    (root / "broken.yaml").write_text("all: [\n")
    (root / "broken.json").write_text('{"attribute": ')
    (root / "rule.txt").write_text("country = 'GB'")
    (root / "nan.json").write_text('{"attribute": "ltv", "operator": "equals", "value": NaN}')
    (root / "inf.yaml").write_text("attribute: ltv\noperator: less_than\nvalue: .inf\n")
    (root / "unknown_op.yaml").write_text("attribute: ltv\noperator: equal\nvalue: 3\n")
    (root / "cp1252.csv").write_bytes(
        "customer_id,email,name\n1,a@x.io,Jos\xe9 M\xfcller\n".encode("cp1252")
    )
    (root / "utf16.csv").write_bytes("customer_id,email\n1,a@x.io\n".encode("utf-16"))
    (root / "bad.csv.gz").write_bytes(gzip.compress(b"customer_id,email\n1,a@x.io\n" * 50)[:40])
    (root / "long_line.csv").write_bytes(b"customer_id,email\n1," + b"a" * 2_100_000 + b"@x.io\n")
    (root / "broken.parquet").write_bytes(b"PAR1 not really PAR1")
    (root / "array.json").write_text('[{"customer_id": 1}]')
    (root / "people.xlsx").write_bytes(b"PK\x03\x04 not a real workbook")
    secret = root / "secret.csv"
    secret.write_text("customer_id,email\n1,a@x.io\n")
    secret.chmod(0)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("bad_inputs")
    _files(root)
    sandbox = SandboxServer(SandboxConfig(port=0, rate_limits="off", api_keys=(KEY,)))
    sandbox.start()
    s = Setup(root, root / "ws", sandbox, sandbox.state.create_list("L"), CliRunner())
    for line in (
        "init",
        "profiles load $T/people.csv",
        "segments create gb --where \"country = 'GB'\"",
        "connections add c --type brevo --api-key-env K --base-url $SB --agree-privacy",
        # A connection whose URL answers nothing (saved unchecked).
        "connections add down --type brevo --api-key-env K --base-url http://127.0.0.1:1/v3 "
        "--agree-privacy --no-verify",
        "exports add e --connection c --list-id $L --segment gb --email email",
        "users add vic --role viewer",
    ):
        result = s.invoke(s.expand(line))
        assert result.exit_code == 0, (line, result.output)
    try:
        yield s
    finally:
        sandbox.stop()


AS_ROOT = os.geteuid() == 0
NOT_AS_ROOT = pytest.mark.skipif(AS_ROOT, reason="root reads a chmod 000 file anyway")


def case(line: str, code: int, *needles: str, marks: object = ()) -> object:
    return pytest.param(line, code, needles, id=line, marks=marks)


CASES = [
    # -- the workspace and the acting user -------------------------------------------
    case("--workspace $T/none exports list", 1, "no workspace at", "segport init"),
    case("--workspace $T/a_file exports list", 1, "a_file"),
    case("--as nobody users list", 1, "no user named 'nobody'", "--as"),
    case("--as vic connections add x --type brevo --api-key-env K --agree-privacy", 1, "vic"),
    case("--as vic exports run e", 1, "vic", "viewer"),
    case("init", 1, "already exists"),
    case("--workspace $T/w_badadmin init --admin 'a b'", 1, "'a b'"),
    case("--workspace $T/a_file init", 1, "a_file"),
    case("--workspace /proc/segport-nope init", 1, "/proc/segport-nope"),
    case("--workspace $T/w_mysql init --database-url mysql://h/db", 1, "mysql"),
    case("--workspace $T/w_url init --database-url notaurl", 1, "notaurl"),
    case("--workspace $T/w_pg init --database-url postgresql://postgres@127.0.0.1:1/x", 1,
         "127.0.0.1"),
    # -- users and audit ---------------------------------------------------------------
    case("users add x --role superuser", 1, "superuser", "admin, contributor, viewer"),
    case("users add '' --role viewer", 1, "user name"),
    case("users add 'a b' --role viewer", 1, "'a b'"),
    case("users set-role nobody admin", 1, "no user named 'nobody'"),
    case("users remove nobody", 1, "no user named 'nobody'"),
    case("users remove VIC", 1, "did you mean 'vic'"),
    case("--as ADMIN users list", 1, "did you mean 'admin'", "--as"),
    case("users remove admin", 1, "only admin"),
    case("users set-role admin viewer", 1, "only admin"),
    case("users add x", 2, "--role"),
    case("audit --limit -1", 1, "--limit"),
    case("audit --limit 0", 1, "--limit"),
    case("audit --limit 99999999999999999999", 1, "--limit"),
    case("audit --limit ten", 2, "--limit"),
    # -- connections ---------------------------------------------------------------
    case("connections add x --type brevo --api-key-env K --base-url notaurl --agree-privacy",
         1, "the base URL 'notaurl'", "--base-url"),
    case("connections add x --type brevo --api-key-env K --base-url ftp://h/v3 --agree-privacy",
         1, "the base URL 'ftp://h/v3'", "--base-url"),
    case("connections add x --type brevo --api-key-env K --base-url 'http://[::1' "
         "--agree-privacy", 1, "--base-url"),
    case("connections add x --type brevo --api-key-env K --base-url http://h:abc/v3 "
         "--agree-privacy", 1, "the base URL 'http://h:abc/v3'", "--base-url"),
    case("connections add x --type brevo --api-key-env K --base-url http://127.0.0.1:1/v3 "
         "--agree-privacy", 1, "could not check the API key at http://127.0.0.1:1/v3",
         "Nothing was saved"),
    case("connections add x --type brevo --api-key-env K --base-url $ROOT_URL --agree-privacy",
         1, "usually ends in /v3", "Nothing was saved"),
    case("connections add x --type mailchimp --api-key-env K --agree-privacy", 1, "mailchimp"),
    case("connections add x --type brevo --api-key-env NOPE --agree-privacy", 1, "NOPE"),
    case("connections add x --type brevo --api-key-env xkeysib-pasted-key-itself-0123456789 "
         "--agree-privacy", 1, "--api-key-env", "NAME"),
    case("connections add x --type brevo --api-key-stdin --agree-privacy", 1,
         "--api-key-stdin"),
    case("connections add x --type brevo --api-key-env NONASCII_KEY --base-url $SB "
         "--agree-privacy --no-verify", 1, "API key", "non-ASCII"),
    case("connections add x --type brevo --api-key-env CONTROL_KEY --base-url $SB "
         "--agree-privacy --no-verify", 1, "API key", "control"),
    case("connections add x --type brevo --api-key-env K --base-url $SB --agree-privacy "
         "--rate -5", 1, "--rate"),
    case("connections add x --type brevo --api-key-env K --base-url $SB --agree-privacy "
         "--rate nan", 1, "--rate"),
    case("connections add c --type brevo --api-key-env K --base-url $SB --agree-privacy",
         1, "'c' already exists"),
    case("connections show nobody", 1, "no connection named 'nobody'"),
    case("connections show down --check", 1, "could not reach Brevo at http://127.0.0.1:1/v3"),
    case("connections edit nobody --rename y", 1, "no connection named 'nobody'"),
    case("connections edit c --base-url notaurl", 1, "the base URL 'notaurl'", "--base-url"),
    case("connections edit c --base-url http://127.0.0.1:1/v3", 1, "http://127.0.0.1:1/v3"),
    case("connections edit c --rate -1", 1, "--rate"),
    case("connections remove nobody", 1, "no connection named 'nobody'"),
    case("connections remove c", 1, "used by 1 export(s): e", "--detach-exports"),
    case("connections take-over nobody", 1, "no connection named 'nobody'"),
    # -- profiles --------------------------------------------------------------------
    case("profiles load $T/nope.csv", 1, "nope.csv"),
    case("profiles load $T/dir", 1, "dir", "directory"),
    case("profiles load $T/empty.csv --table t_empty", 1, "empty.csv"),
    case("profiles load $T/array.json --table t_array", 1, "array.json"),
    case("profiles load $T/broken.parquet --table t_parquet", 1, "broken.parquet"),
    case("profiles load $T/people.xlsx --table t_xlsx", 1, "people.xlsx"),
    case("profiles load $T/secret.csv --table t_secret", 1, "secret.csv", marks=NOT_AS_ROOT),
    case("profiles load $T/people.csv", 1, "--replace"),
    case("profiles load $T/people.csv --encoding nonsense --table t_enc", 1, "--encoding"),
    case("profiles load $T/cp1252.csv --encoding ascii --table t_ascii", 1, "ascii"),
    case("profiles load $T/cp1252.csv --encoding utf-8 --table t_cp", 1, "utf-8"),
    case("profiles load $T/utf16.csv --encoding utf-8 --table t_utf16", 1, "utf-8"),
    case("profiles load $T/bad.csv.gz --table t_gz", 1, "bad.csv.gz", "as gzip"),
    case("profiles load $T/long_line.csv --table t_long", 1, "long_line.csv"),
    case("profiles load $T/people.csv --id-column nope --table t_id", 1, "'nope'"),
    case("profiles load $T/short_row.csv --strict --table t_strict", 1, "--strict", "line 3"),
    case("profiles load $T/renamed.csv --replace", 1, "country: no longer there",
         "segment gb", "--allow-schema-change"),
    case("profiles load $T/people.csv --table 'bad name'", 1, "the table name 'bad name'",
         "--table"),
    case("profiles load $T/people.csv --rejects $T/dir --table t_rej", 1, "--rejects"),
    case("profiles load $T/people.csv --rejects $T/nodir/x.csv --table t_rej", 1, "--rejects"),
    case("profiles use mysql://h/db --table t --id-column id", 1, "PostgreSQL"),
    case("profiles use notaurl --table t --id-column id", 1, "'notaurl'"),
    case("profiles use postgresql://postgres@127.0.0.1:1/x --table t --id-column id", 1,
         "cannot connect"),
    case("profiles use postgresql://postgres@127.0.0.1:5432/postgres --table a.b.c "
         "--id-column id", 1, "a.b.c"),
    case("profiles show --limit -1", 1, "--limit"),
    case("profiles show --limit 99999999999999999999", 1, "--limit"),
    # -- segments --------------------------------------------------------------------
    case("segments create x --where ''", 1, "empty"),
    case("segments create x --where \"contry = 'GB'\"", 1, "did you mean 'country'"),
    case("segments create x --where 'ltv > 1e999'", 1, "1e999"),
    case("segments create x --where 'ltv > 1' --combine gb", 1, "exactly one of"),
    case("segments create x", 1, "exactly one of"),
    case("segments create x --file $T/nope.yaml", 1, "nope.yaml"),
    case("segments create x --file $T/dir", 1, "dir"),
    case("segments create x --file $T/dir.yaml", 1, "dir.yaml"),
    case("segments create x --file $T/empty.yaml", 1, "empty.yaml"),
    case("segments create x --file $T/empty.json", 1, "empty.json"),
    case("segments create x --file $T/list.yaml", 1, "list.yaml", "mapping"),
    case("segments create x --file $T/broken.yaml", 1, "broken.yaml", "YAML"),
    case("segments create x --file $T/broken.json", 1, "broken.json", "JSON"),
    case("segments create x --file $T/rule.txt", 1, "rule.txt", ".yaml"),
    case("segments create x --file $T/nan.json", 1, "nan.json", "NaN"),
    case("segments create x --file $T/inf.yaml", 1, "inf.yaml", "infinity"),
    case("segments create x --file $T/unknown_op.yaml", 1, "'equal'", "did you mean 'equals'"),
    case("segments create x --where \"last_purchase > '2026-02-30'\"", 1, "'2026-02-30'",
         "YYYY-MM-DD"),
    case("segments create x --where \"last_purchase > '01/12/2026'\"", 1, "'01/12/2026'",
         "YYYY-MM-DD"),
    case("segments create x --where 'country = GB'", 1, "single quotes: 'GB'"),
    case("segments create x --where 'country = \"GB\"'", 1, "double quotes are for attribute",
         "'GB'"),
    case("segments create x --where \"country = 'GB' && ltv > 3\"", 1, "'&'", "write 'and'"),
    case("segments create x --where \"country = 'GB' || ltv > 3\"", 1, "'|'", "write 'or'"),
    case("segments create x --where \"country like 'G%'\"", 1, "'like'", "no wildcards"),
    case("segments create x --where \"country in 'GB'\"", 1, "in ('GB', 'IE')"),
    case("segments create x --where \"country = 'GB\"", 1, "not closed"),
    case("segments create x --combine ''", 1, "combination"),
    case("segments create x --combine 'gb union'", 1, "combination"),
    case("segments create x --combine 'gb union nobody'", 1, "'nobody'"),
    case("segments create a/b --where 'ltv > 1'", 1, "'a/b'"),
    case("segments create gb --where 'ltv > 1'", 1, "'gb' already exists"),
    case("segments update nobody --where 'ltv > 1'", 1, "no segment named 'nobody'"),
    case("segments show nobody", 1, "no segment named 'nobody'"),
    case("segments preview nobody", 1, "no segment named 'nobody'"),
    case("segments preview gb --limit -1", 1, "--limit"),
    case("segments preview gb --limit 99999999999999999999", 1, "--limit"),
    case("segments preview gb --columns emial", 1, "'emial'", "did you mean 'email'"),
    case("segments count nobody", 1, "no segment named 'nobody'"),
    case("segments rename nobody y", 1, "no segment named 'nobody'"),
    case("segments rename gb a/b", 1, "'a/b'"),
    case("segments delete nobody", 1, "no segment named 'nobody'"),
    case("segments delete gb", 1, "gb"),
    case("segments activate nobody", 1, "no segment named 'nobody'"),
    case("segments deactivate nobody", 1, "no segment named 'nobody'"),
    # -- exports ---------------------------------------------------------------------
    case("exports add x --connection c --list-id 0 --segment gb --email email", 1,
         "0 is not a Brevo list ID", "--list-id"),
    case("exports add x --connection c --list-id -5 --segment gb --email email", 1,
         "-5 is not a Brevo list ID", "--list-id"),
    case("exports add x --connection c --list-id 99999 --segment gb --email email", 1,
         "list 99999 does not exist"),
    case("exports add x --connection c --list-id abc --segment gb --email email", 2,
         "--list-id"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--mode sometimes", 1, "the mode 'sometimes'", "--mode"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--phone-region UK", 1, "the phone region 'UK'", "--phone-region"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--schedule never", 1, "the schedule 'never'", "--schedule"),
    case("exports add x --connection c --list-id $L --segment gb --email email --limit -1",
         1, "the profile limit -1", "--limit"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--limit 99999999999999999999", 1, "the profile limit 99999999999999999999",
         "--limit"),
    case("exports add x --connection c --list-id $L --segment nobody --email email", 1,
         "'nobody'"),
    case("exports add x --connection nobody --list-id $L --segment gb --email email", 1,
         "no connection 'nobody'", "--connection"),
    case("exports add x --connection down --list-id $L --segment gb --email email", 1,
         "'down'"),
    case("exports add x --connection c --list-id $L --segment gb --email nocol", 1,
         "the email column 'nocol'", "--email"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--attribute bad", 1, "the attribute mapping 'bad'", "--attribute"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--attribute NOPE=ltv", 1, "NOPE"),
    case("exports add e --connection c --list-id $L --segment gb --email email", 1,
         "'e' already exists"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--empty-values sometimes", 1, "the empty-values rule 'sometimes'", "--empty-values",
         "clear", "keep"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--phone-country-column country", 1, "the phone country column 'country'",
         "--phone-country-column"),
    case("exports add x --connection c --list-id $L --segment gb --email email "
         "--phone first --phone-country-column nocol", 1, "the phone country column 'nocol'",
         "--phone-country-column"),
    case("exports add x --connection c --list-id $L --segment gb --email email --share-list "
         "--mode mirrored", 1, "the mode 'mirrored'", "--mode"),
    case("exports edit e --empty-values sometimes", 1, "the empty-values rule 'sometimes'",
         "--empty-values"),
    case("exports rebuild-state nobody", 1, "no export named 'nobody'"),
    case("--as vic exports rebuild-state e", 1, "vic", "viewer"),
    case("exports edit nobody --list-id 3", 1, "no export named 'nobody'"),
    case("exports edit e --list-id 0", 1, "0 is not a Brevo list ID", "--list-id"),
    case("exports edit e --limit 99999999999999999999", 1,
         "the profile limit 99999999999999999999", "--limit"),
    case("exports edit e --mode sometimes", 1, "the mode 'sometimes'", "--mode"),
    case("exports show nobody", 1, "no export named 'nobody'"),
    case("exports remove nobody", 1, "no export named 'nobody'"),
    case("exports duplicate nobody y", 1, "no export named 'nobody'"),
    case("exports duplicate e e", 1, "'e' already exists"),
    case("exports detach nobody", 1, "no export named 'nobody'"),
    # -- exports run / runs ----------------------------------------------------------
    case("exports run nobody", 1, "no export named 'nobody'"),
    case("exports run e --chunk-bytes 0", 1, "of 0 bytes is out of range", "--chunk-bytes"),
    case("exports run e --chunk-bytes 99999999999999999999", 1, "--chunk-bytes"),
    case("exports run e --bogus", 2, "--bogus"),
    case("exports runs nobody", 1, "no export named 'nobody'"),
    case("exports runs e --limit -1", 1, "--limit"),
    case("exports runs e --limit 99999999999999999999", 1, "--limit"),
    case("runs show 999999", 1, "no run 999999"),
    case("runs cancel 999999", 1, "no run 999999"),
    case("runs cancel abc", 2, "ID"),
    case("runs show abc", 2, "ID"),
    case("runs list --export nobody", 1, "no export named 'nobody'"),
    case("runs list --limit 0", 2, "--limit"),
    # -- doctor and the secrets key ----------------------------------------------------
    case("doctor --bogus", 2, "--bogus"),
    case("connections new-secret-key", 1, "secret.key exists", "rotate-key"),
    case("--as vic connections new-secret-key", 1, "vic"),
    # -- sandbox ---------------------------------------------------------------------
    case("sandbox --port 99999", 2, "Error: ", "port", "99999"),
    case("sandbox --port -1", 2, "port"),
    case("sandbox --host 999.1.1.1 --port 0", 2, "999.1.1.1"),
    case("sandbox --rate-limits sometimes", 2, "--rate-limits"),
    case("sandbox --faults bogus", 2, "--faults", "bogus"),
    case("sandbox --faults import:slow=abc", 2, "--faults"),
    case("sandbox --state $T/dir", 2, "Error: ", "--state"),
    case("sandbox --state $T/empty.json", 2, "--state"),
    case("sandbox --state $T/a_file", 2, "--state"),
    case("sandbox --locale xx", 2, "--locale"),
    case("sandbox --api-key ''", 2, "API key"),
]  # fmt: skip


@pytest.mark.parametrize(("line", "code", "needles"), CASES)
def test_a_bad_input_gets_a_clear_message(
    setup: Setup, line: str, code: int, needles: tuple[str, ...]
) -> None:
    result = setup.invoke(setup.expand(line))
    output = result.stdout + result.stderr
    # A traceback: an exception other than the CLI's own exit escaped the command.
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, f"{type(result.exception).__name__}: {result.exception}"
    assert "Traceback" not in output
    assert result.exit_code == code, output
    for needle in needles:
        assert needle in output, output
    assert KEY not in output


# -- a workspace damaged on disk (each case needs its own workspace) -------------------


@pytest.fixture
def fresh(tmp_path: Path) -> Setup:
    s = Setup(tmp_path, tmp_path / "ws", None, 0, CliRunner())  # type: ignore[arg-type]
    assert s.invoke(["init"]).exit_code == 0
    return s


def _clean_failure(result: Result, *needles: str) -> None:
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, f"{type(result.exception).__name__}: {result.exception}"
    assert result.exit_code == 1, result.output
    for needle in needles:
        assert needle in result.output


def test_a_metadata_database_of_garbage_is_a_clear_error(fresh: Setup) -> None:
    (fresh.ws / "metadata.db").write_bytes(os.urandom(50_000))
    _clean_failure(fresh.invoke(["users", "list"]), "metadata")


def test_an_emptied_metadata_database_is_not_a_new_workspace(fresh: Setup) -> None:
    (fresh.ws / "metadata.db").write_bytes(b"")
    _clean_failure(fresh.invoke(["users", "list"]), "metadata")


def test_a_moved_workspace_is_not_a_traceback(fresh: Setup) -> None:
    moved = fresh.root / "moved"
    shutil.move(fresh.ws, moved)
    result = fresh.invoke(["--workspace", str(moved), "users", "list"])
    escaped = result.exception is not None and not isinstance(result.exception, SystemExit)
    assert not escaped, f"{type(result.exception).__name__}: {result.exception}"


def test_rotate_key_with_a_token_it_cannot_decrypt_is_a_clear_error(fresh: Setup) -> None:
    result = fresh.invoke(
        ["connections", "add", "c", "--type", "brevo", "--api-key-env", "K",
         "--agree-privacy", "--no-verify"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    from cryptography.fernet import Fernet

    (fresh.ws / "secret.key").write_text(Fernet.generate_key().decode() + "\n")
    _clean_failure(fresh.invoke(["connections", "rotate-key"]), "secret")
