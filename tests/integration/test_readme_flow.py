"""README.md's walkthrough, "From nothing to a list in Brevo", run as written.

The commands are read from the section's console blocks (lines starting with `$ `, with
their `\\` continuations), so this test fails as soon as the README and the command line
drift apart: an option renamed, a step missing, a summary that no longer matches. They run
in order in one bash, in a fresh directory laid out like a clone (`examples/` and a `.venv`
that is the venv running the tests), against the sandbox the README starts in the
background. Outcomes are checked against figures computed here from the sample CSV, and
against the sandbox's list over HTTP.

One substitution, and only one: the README's sandbox port (8765) becomes a free port, so a
sandbox a developer keeps on 8765 does not meet this one.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.fixtures.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SECTION = "## From nothing to a list in Brevo"
README_PORT = "8765"
SANDBOX_KEY = "sandbox"  # the sandbox's default key, which the README exports as BREVO_KEY
EXPECTED_SEGMENT = (
    "country = 'GB' and newsletter_opt_in and lifetime_value > 50 and last_purchase >= '2026-01-01'"
)

pytestmark = pytest.mark.slow


def section(text: str) -> str:
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    return text[start : end if end >= 0 else len(text)]


def fenced_blocks(text: str) -> list[tuple[str, list[str]]]:
    """Each fenced block as (its language, its lines)."""
    blocks: list[tuple[str, list[str]]] = []
    lang: str | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if lang is None:
                lang = line[3:].strip()
                blocks.append((lang, []))
            else:
                lang = None
        elif lang is not None:
            blocks[-1][1].append(line)
    return blocks


def console_commands(text: str) -> list[str]:
    """The `$ ` commands of the console blocks, a `\\`-continued one as one string."""
    commands: list[str] = []
    for lang, lines in fenced_blocks(text):
        if lang != "console":
            continue
        current: str | None = None
        for line in lines:
            if current is not None:
                current += "\n" + line
            elif line.startswith("$ "):
                current = line[2:]
            else:
                continue  # output shown in the README
            if not current.endswith("\\"):
                commands.append(current)
                current = None
        assert current is None, f"a command ends its block with a continuation: {current!r}"
    return commands


def words(command: str) -> list[str]:
    return shlex.split(command, comments=True)


@dataclass
class Step:
    command: str
    rc: int | None
    out: str
    err: str


def run_in_bash(commands: list[str], work: Path, port: int, groups: list[int]) -> list[Step]:
    """Run the commands in order in one bash (exports carry over, a `&` job keeps running),
    each one's output in its own files; stop at the first that fails. Bash runs in a
    session of its own, whose process group (appended to ``groups``) holds the job it
    starts in the background, so it can be stopped whatever happens here."""
    log = work / ".readme-flow"
    log.mkdir()
    script = [
        # Waits for the background sandbox to listen (or to exit: then its error is shown).
        "wait_for_port() {",
        "  for _ in $(seq 2400); do",
        '    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0',
        '    kill -0 "$2" 2>/dev/null || return 1',
        "    sleep 0.05",
        "  done",
        "  return 1",
        "}",
    ]
    for i, command in enumerate(commands):
        script += [f"{{ {command}", f'}} >"{log}/{i}.out" 2>"{log}/{i}.err"', "rc=$?"]
        if words(command)[-1] == "&":
            script += [f"wait_for_port {port} $! || rc=1"]
        script += [f'echo "$rc" >"{log}/{i}.rc"', '[ "$rc" -eq 0 ] || exit 0']
    (log / "flow.sh").write_text("\n".join(script) + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SEGPORT_", "BREVO_"))}
    with (log / "bash.out").open("wb") as bash_out:
        bash = subprocess.Popen(
            ["bash", str(log / "flow.sh")],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=bash_out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        groups.append(bash.pid)
        bash.wait(timeout=240)  # under pytest-timeout's 300 s, so the finally below runs
    steps = []
    for i, command in enumerate(commands):
        rc_file = log / f"{i}.rc"
        steps.append(
            Step(
                command,
                int(rc_file.read_text()) if rc_file.exists() else None,
                (log / f"{i}.out").read_text(encoding="utf-8") if rc_file.exists() else "",
                (log / f"{i}.err").read_text(encoding="utf-8") if rc_file.exists() else "",
            )
        )
    return steps


def stop_group(pgid: int) -> None:
    """SIGTERM every process of the group and wait until none runs (a zombie has stopped)."""
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def running() -> bool:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                return True
        return False

    wait_until(lambda: not running(), 60, f"the processes of group {pgid} to stop")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def expected_contacts(csv_path: Path) -> tuple[int, set[str]]:
    """The segment's members and the emails they give, worked out from the CSV here:
    British, opted in, worth more than 50, a purchase in 2026; an email trimmed and
    lower-cased, plainly name@domain.tld in ASCII, once each."""
    with csv_path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    members = [
        r
        for r in rows
        if r["country"] == "GB"
        and r["newsletter_opt_in"] == "true"
        and r["lifetime_value"]
        and float(r["lifetime_value"]) > 50
        and r["last_purchase"] >= "2026-01-01"
    ]
    plain = re.compile(r"[a-z0-9_%+-]+(\.[a-z0-9_%+-]+)*@([a-z0-9-]+\.)+[a-z]{2,}")
    emails = {r["email"].strip().lower() for r in members}
    return len(members), {e for e in emails if plain.fullmatch(e)}


def get_json(port: int, path: str) -> dict[str, object]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v3{path}", headers={"api-key": SANDBOX_KEY}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body: dict[str, object] = json.load(answer)
        return body


def list_members(port: int, name: str) -> set[str]:
    lists = get_json(port, "/contacts/lists?limit=50")["lists"]
    assert isinstance(lists, list)
    ids = [x["id"] for x in lists if x["name"] == name]
    assert len(ids) == 1, f"the sandbox should hold one list named {name!r}: {lists}"
    emails: set[str] = set()
    while True:
        page = get_json(port, f"/contacts/lists/{ids[0]}/contacts?limit=500&offset={len(emails)}")
        contacts = page["contacts"]
        assert isinstance(contacts, list)
        emails |= {c["email"] for c in contacts}
        if not contacts or len(emails) >= int(str(page["count"])):
            return emails


def figure(output: str, label: str) -> int:
    found = re.search(rf"^  {label} +(\d+)", output, re.MULTILINE)
    assert found, f"no '{label}' in:\n{output}"
    return int(found.group(1))


def test_the_readme_section_parses_as_a_flow() -> None:
    commands = console_commands(section(README.read_text(encoding="utf-8")))
    assert len(commands) > 10 and all(c.strip() for c in commands), commands
    sandbox = [words(c) for c in commands if words(c)[:2] == ["segport", "sandbox"]]
    assert len(sandbox) == 1 and sandbox[0][-1] == "&", "the sandbox starts in the background"
    assert not any("read -rs" in c for c in commands), "a prompt cannot run unattended"
    assert any(EXPECTED_SEGMENT in c for c in commands), (
        "the segment changed: update EXPECTED_SEGMENT and expected_contacts() here"
    )


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    text = section(README.read_text(encoding="utf-8"))
    commands = console_commands(text)
    port = free_port()
    # The one substitution: the sandbox's port and the connection's base URL.
    sandbox = [c for c in commands if words(c)[:2] == ["segport", "sandbox"]]
    assert len(sandbox) == 1 and f"--port {README_PORT}" in sandbox[0], sandbox
    assert sum(f"127.0.0.1:{README_PORT}/v3" in c for c in commands) == 1
    assert sum(c.count(README_PORT) for c in commands) == 2
    commands = [c.replace(README_PORT, str(port)) for c in commands]

    # A clone as the README assumes it: the sample, and the venv `make install` makes.
    work = tmp_path / "clone"
    shutil.copytree(ROOT / "examples", work / "examples")
    venv = Path(sys.executable).parent.parent
    assert (venv / "bin" / "activate").exists(), f"the tests run outside a venv ({venv})"
    (work / ".venv").symlink_to(venv)

    creates = [
        words(c) for c in commands if words(c)[:4] == ["segport", "brevo", "lists", "create"]
    ]
    assert len(creates) == 1, "the README should make the list with `segport brevo lists create`"
    list_name = creates[0][5]
    groups: list[int] = []
    try:
        steps = run_in_bash(commands, work, port, groups)
        for step in steps:
            assert step.rc is not None, f"`{step.command}` never ran"
            assert step.rc == 0, f"`{step.command}` exited {step.rc}:\n{step.err}{step.out}"
        members_here = list_members(port, list_name)
    finally:
        for group in groups:
            stop_group(group)

    members, emails = expected_contacts(work / "examples" / "customers.csv")
    assert 0 < len(emails) < members, "the sample should hold members that cannot be sent"
    runs = [s for s in steps if words(s.command)[:3] == ["segport", "exports", "run"]]
    dry = [s for s in runs if "--dry-run" in words(s.command)]
    real = [s for s in runs if "--dry-run" not in words(s.command)]
    assert len(dry) == 1 and len(real) == 1, [s.command for s in runs]
    assert figure(dry[0].out, "would add") == len(emails)
    summary = real[0].out
    assert re.search(r"^Run 1 of export '[^']+': successful", summary, re.MULTILINE), summary
    assert figure(summary, "members") == members
    assert figure(summary, "valid") == len(emails)
    assert figure(summary, "sent") == len(emails)
    assert figure(summary, "not sent") == members - len(emails)
    assert members_here == emails

    # The README shows that summary; only its timings may differ.
    shown = [lines for lang, lines in fenced_blocks(text) if lang == "text"]
    assert len(shown) == 1, "the section should show one run summary"
    timing = re.compile(r"^  time: .*$", re.MULTILINE)
    assert timing.sub("", "\n".join(shown[0])) == timing.sub("", summary.rstrip("\n")), (
        "README's run summary differs from the run's: paste the new one into README.md"
    )
    # The last step shows the list holding them.
    held = re.search(rf"{re.escape(list_name)} +\d+ +([\d,]+)", steps[-1].out)
    assert held and int(held.group(1).replace(",", "")) == len(emails), steps[-1].out
