"""`segport sandbox`: serve the Brevo-compatible sandbox API on loopback."""

from __future__ import annotations

from pathlib import Path

import typer

from segport.cli import lifecycle
from segport.cli.workspace import USAGE, fail


def register(app: typer.Typer) -> None:
    app.command("sandbox")(sandbox)


def sandbox(
    host: str = typer.Option("127.0.0.1", "--host", metavar="HOST", help="Address to listen on."),
    port: int = typer.Option(
        8765, "--port", metavar="PORT", help="Port to listen on (0 picks a free one)."
    ),
    api_key: list[str] = typer.Option(
        [],
        "--api-key",
        metavar="KEY",
        help="Accepted API key (repeat for several). Default: the key 'sandbox'.",
    ),
    state: Path | None = typer.Option(
        None,
        "--state",
        metavar="FILE",
        help="JSON file holding the account: loaded at start, saved at stop.",
    ),
    rate_limits: str = typer.Option(
        "brevo",
        "--rate-limits",
        metavar="brevo|off",
        help="'brevo' (Brevo's general tier) or 'off'.",
    ),
    faults: str = typer.Option(
        "",
        "--faults",
        metavar="FAULTS",
        help="Faults to inject, e.g. 'import:429@0.2,processes:500@0.1,lists:slow=1.5@0.3' "
        "(see docs/sandbox.md).",
    ),
    seed: int = typer.Option(
        0, "--seed", metavar="N", help="Seed that makes --faults reproducible."
    ),
    locale: str = typer.Option(
        "en",
        "--locale",
        metavar="en|fr",
        help="Account language: 'en' (FIRSTNAME/LASTNAME) or 'fr' (PRENOM/NOM).",
    ),
) -> None:
    """Serve a Brevo-compatible API under http://HOST:PORT/v3 (Ctrl-C stops it)."""
    from segport.brevo.sandbox import (
        FaultSpecError,
        SandboxConfig,
        SandboxServer,
        StateFileError,
    )

    lifecycle.started()  # a long-running server: collect normally from here on

    if rate_limits not in ("brevo", "off"):
        raise typer.BadParameter("use 'brevo' or 'off'", param_hint="--rate-limits")
    if locale not in ("en", "fr"):
        raise typer.BadParameter("use 'en' or 'fr'", param_hint="--locale")
    try:
        config = SandboxConfig(
            host=host,
            port=port,
            api_keys=tuple(api_key) or ("sandbox",),
            state_file=state,
            rate_limits=rate_limits,  # type: ignore[arg-type]
            faults=faults,
            seed=seed,
            locale=locale,  # type: ignore[arg-type]
        )
        server = SandboxServer(config)
    except FaultSpecError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    except (StateFileError, ValueError) as exc:
        fail(str(exc), status=USAGE)
    try:
        server.bind()
    except OSError as exc:
        fail(str(exc), status=USAGE)

    def announce() -> None:
        typer.echo(f"Brevo sandbox serving {server.base_url}")
        if not api_key:
            typer.echo("API key: sandbox")
        if state is not None:
            typer.echo(f"State file: {state} (saved when the sandbox stops)")
        limits = f"Rate limits: {rate_limits}"
        typer.echo(limits + (f"; faults: {faults} (seed {seed})" if faults else ""))
        typer.echo("Press Ctrl-C to stop.")

    server.serve_forever(on_ready=announce)
    typer.echo("Sandbox stopped" + (f"; state saved to {state}" if state is not None else ""))
