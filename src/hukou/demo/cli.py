"""``hukou demo``: set the demo up (or find it set up), print its accounts, serve it.

``hukou demo code NAME`` prints the current second-factor code of a demo account, for
those without an authenticator app at hand.
"""

from __future__ import annotations

import datetime
import time
from typing import TYPE_CHECKING, Annotated

import typer

from hukou.clikit import console, errors, run_guarded, settings_or_exit

if TYPE_CHECKING:
    from hukou.demo.state import DemoAccount

__all__ = ["demo_app"]

demo_app = typer.Typer(
    help="The demo (演示): the platform on a synthetic city, an account per role, served.",
    invoke_without_command=True,
)


def _account_lines(accounts: list[DemoAccount]) -> str:
    """One aligned line per account (a table would wrap the secrets in a narrow terminal)."""
    lines = ["演示账号 demo accounts (demo only, never a real city's):"]
    for account in accounts:
        extra = account.person or (f"TOTP {account.totp_secret}" if account.totp_secret else "")
        where = account.department or "—"
        lines.append(f"  {account.username:<30} {account.role:<20} {where:<18} {extra}".rstrip())
    return "\n".join(lines)


@demo_app.callback()
def demo(
    ctx: typer.Context,
    population: Annotated[
        int, typer.Option(min=100, help="people in the synthetic city (default: 20,000)")
    ] = 20_000,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    serve: Annotated[bool, typer.Option(help="serve the console when set up")] = True,
) -> None:
    """Set up the demo on a synthetic city of POPULATION people and serve it."""
    if ctx.invoked_subcommand is not None:
        return
    settings = settings_or_exit()

    def work() -> None:
        from hukou.demo.seats import DEMO_PASSWORD  # noqa: PLC0415
        from hukou.demo.setup import DemoError, prepare  # noqa: PLC0415
        from hukou.demo.state import state_file  # noqa: PLC0415

        started = time.perf_counter()
        try:
            state = prepare(settings, population=population, progress=console.print)
        except DemoError as error:
            errors.print(f"[red]demo:[/red] {error}")
            raise SystemExit(2) from None
        took = time.perf_counter() - started
        console.print(_account_lines(state.accounts), soft_wrap=True, highlight=False)
        console.print(
            f"password of every demo account: [bold]{DEMO_PASSWORD}[/bold]  ·  "
            f"{state.agreements} sharing agreements in force  ·  {state.cases} sample cases filed"
            f"  ·  set up in {took:.1f} s "
            f"({', '.join(f'{k} {v:.1f} s' for k, v in state.steps.items())})"
        )
        console.print(
            f"second-factor codes: `hukou demo code NAME`; secrets kept in {state_file(settings)}"
        )
        if serve:
            from hukou.app import run_server  # noqa: PLC0415

            run_server(settings, settings.host, port or settings.port)

    run_guarded(work)


@demo_app.command("code")
def code(name: Annotated[str, typer.Argument(help="a demo account's user name")]) -> None:
    """Print the current TOTP code of demo account NAME (from the demo's own file)."""
    from hukou.accounts.totp import secret_from_base32, totp_code  # noqa: PLC0415
    from hukou.demo.state import DemoState, state_file  # noqa: PLC0415

    settings = settings_or_exit()
    state = DemoState.read(state_file(settings))
    secret = next(
        (a.totp_secret for a in (state.accounts if state else []) if a.username == name), None
    )
    if secret is None:
        errors.print(f"no demo account {name!r} with a second factor; run `hukou demo` first")
        raise typer.Exit(1)
    console.print(totp_code(secret_from_base32(secret), at=datetime.datetime.now(datetime.UTC)))
