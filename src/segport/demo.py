"""`make demo`: a full export of a sample segment into the built-in Brevo sandbox.

No account and no setup: it writes realistic sample profiles (with a few bad rows), starts
the sandbox on loopback, and runs the same `segport` commands a user would type — init,
profiles load, segments create, connections add, exports add, exports run (twice, to show
that the second run sends only what changed) — printing each command and its output.
It ends by saying how to open the web app (`segport serve`) on the demo's workspace,
which it keeps (in the system's temporary folder) with a password for its admin.
"""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

KEY_ENV = "SEGPORT_DEMO_BREVO_KEY"


def _run(args: list[str], env: dict[str, str], stdin: str | None = None) -> None:
    print(f"\n$ segport {shlex.join(args)}", flush=True)
    proc = subprocess.run(
        [sys.executable, "-m", "segport", *args], env=env, check=False, input=stdin, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"demo stopped: `segport {args[0]}` exited with {proc.returncode}")


def main() -> None:
    from segport.brevo.sandbox import SandboxConfig, SandboxServer
    from segport.demo_data import write_sample_profiles

    # Kept after the demo, so that the web app can show what it did.
    work = Path(tempfile.mkdtemp(prefix="segport-demo-"))
    profiles = work / "customers.csv"
    bad = write_sample_profiles(profiles)
    print(f"Sample profiles: {profiles} (2,000 customers; bad rows on purpose: {bad})")

    # The sandbox keeps Brevo's rate limits on, as a real account would.
    with SandboxServer(SandboxConfig(port=0, rate_limits="brevo")) as brevo:
        list_id = brevo.state.create_list("UK high-value customers")
        print(f"Brevo sandbox on {brevo.base_url}; list {list_id} created in it")

        env = dict(os.environ)
        env.update({"SEGPORT_WORKSPACE": str(work / "workspace"), KEY_ENV: brevo.api_key})
        env.pop("SEGPORT_USER", None)
        if sys.stdout.isatty():
            env.setdefault("COLUMNS", "100")
        _run(["init", "--admin", "demo-admin"], env)
        _run(["profiles", "load", str(profiles)], env)
        _run(["profiles", "schema"], env)
        _run(
            [
                "segments", "create", "uk-high-value",
                "--where", "country = 'GB' and lifetime_value > 50",
                "--description", "UK customers worth more than 50",
            ],
            env,
        )  # fmt: skip
        _run(
            ["segments", "create", "newsletter", "--where", "newsletter = true"],
            env,
        )
        _run(["segments", "list"], env)
        _run(
            [
                "connections", "add", "Brevo sandbox", "--type", "brevo",
                "--api-key-env", KEY_ENV, "--base-url", brevo.base_url,
                "--agree-privacy",
            ],
            env,
        )  # fmt: skip
        _run(
            [
                "exports", "add", "uk-newsletter", "--connection", "Brevo sandbox",
                "--list-id", str(list_id), "--segment", "uk-high-value",
                "--email", "email", "--first-name", "first_name",
                "--last-name", "last_name", "--phone", "phone", "--phone-region", "GB",
            ],
            env,
        )  # fmt: skip
        _run(["exports", "run", "uk-newsletter", "--dry-run"], env)
        _run(["exports", "run", "uk-newsletter"], env)
        members = brevo.state.list_member_emails(list_id)
        print(f"\nThe Brevo list {list_id} now holds {len(members)} contacts.")
        rejected = work / "workspace" / "runs" / "1" / "rejected.csv"
        if rejected.exists():
            lines = rejected.read_text(encoding="utf-8").splitlines()
            print(f"Rejected rows, each with its reason ({rejected}):")
            for line in lines[:6]:
                print(f"  {line}")
        print("Running again: nothing changed, so nothing is sent.")
        _run(["exports", "run", "uk-newsletter"], env)
        _run(["exports", "list"], env)
        password = secrets.token_urlsafe(12)  # a demo workspace's, printed below
        _run(["users", "set-password", "demo-admin", "--password-stdin"], env, password + "\n")
        calls = brevo.requests_log.count()
    print(f"\nDone: the sandbox answered {calls} API calls and stopped.")
    ws = work / "workspace"
    print(
        "\nSee it in the web app:\n"
        f"  .venv/bin/segport --workspace {ws} serve --no-worker\n"
        "  then open http://127.0.0.1:8000/ and sign in as demo-admin with the password "
        f"{password}\n"
        "  (the demo's sandbox has stopped: the pages show its export and runs; a new run "
        "needs a Brevo it can reach)\n"
        f"The demo's workspace stays in {work}; remove it when done."
    )


if __name__ == "__main__":
    main()
