"""Operating runloom: `up`, `api`, `manager`, `migrate`, `dev-stack`."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from runloom.api.app import create_app
from runloom.db.migrate import MigrationError, migrate
from runloom.errors import ConfigurationError
from runloom.hardening import make_non_dumpable
from runloom.services.temporal import TemporalUnavailableError
from runloom.settings import Settings, get_settings
from runloom.stack.local_secrets import (
    refuse_public_bind_with_development_secret,
    with_local_jwt_secret,
)
from runloom.stack.manager_process import ManagerProcess, die_with_parent, manager_environment
from runloom.stack.ports import require_free_port
from runloom.stack.services import Services, running_services

app = typer.Typer(
    help="runloom: visual workflows compiled to Python Temporal code.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


def _settings() -> Settings:
    try:
        return get_settings()
    except ValueError as exc:
        err.print(f"[red]configuration error:[/] {exc}")
        raise typer.Exit(2) from exc


def _migrate(database_url: str) -> None:
    with console.status("applying migrations…"):
        applied = migrate(
            database_url, on_applied=lambda m: console.print(f"  applied {m.path.name}")
        )
    console.print(f"[green]✓[/] database schema up to date ({len(applied)} applied)")


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command("migrate")
def migrate_command(
    database_url: Annotated[
        str | None, typer.Option(help="Postgres URL; defaults to DATABASE_URL")
    ] = None,
) -> None:
    """Apply pending migrations from supabase/migrations."""
    url = database_url or _settings().database_url
    if not url:
        err.print("[red]error:[/] set DATABASE_URL (or pass --database-url) to migrate")
        raise typer.Exit(2)
    try:
        _migrate(url)
    except MigrationError as exc:
        raise _fail(exc) from exc


@app.command("dev-stack")
def dev_stack() -> None:
    """Run only Postgres and Temporal (embedded where not configured) until Ctrl-C."""
    settings = _settings()
    try:
        with running_services(settings, report=console.print) as services:
            _migrate(services.database_url)
            console.print(f"DATABASE_URL={services.database_url}")
            console.print(f"TEMPORAL_ADDRESS={services.temporal_address}")
            console.print(f"Temporal UI: {services.temporal_ui_url}")
            console.print("[dim]Ctrl-C to stop[/]")
            _wait_for_signal()
    except (ConfigurationError, MigrationError) as exc:
        raise _fail(exc) from exc


async def _background(settings: Settings, services: Services, stop: asyncio.Event) -> None:
    """The manager side of runloom: project workers and the execution tracker."""
    from runloom.manager.app import run_manager

    settings = settings.model_copy(update={"temporal_address": services.temporal_address})
    await run_manager(settings, database_url=services.database_url, stop=stop)


def _manager_process(settings: Settings, services: Services) -> ManagerProcess:
    """`up`'s manager, in a child process of its own."""
    env = manager_environment(
        os.environ,
        database_url=services.database_url,
        temporal_address=services.temporal_address,
        data_dir=str(settings.runloom_data_dir.resolve()),
    )
    return ManagerProcess(env=env, report=lambda line: console.print(f"[yellow]![/] {line}"))


def _serve(settings: Settings, services: Services, *, with_manager: bool = True) -> None:
    refuse_public_bind_with_development_secret(settings)
    api = create_app(settings, database_url=services.database_url)
    server = uvicorn.Server(
        uvicorn.Config(
            api,
            host=settings.runloom_host,
            port=settings.runloom_port,
            log_level="warning",
            lifespan="on",
            # Longer than clients and load balancers keep idle connections (httpx 5 s,
            # common balancers 60 s): a server that closes first races a request sent on
            # the same connection, which the client sees as a dropped request.
            timeout_keep_alive=75,
        )
    )

    async def serve() -> None:
        manager = _manager_process(settings, services) if with_manager else None
        background = asyncio.create_task(manager.run()) if manager is not None else None
        task = asyncio.create_task(server.serve())
        while not server.started and not task.done():  # noqa: ASYNC110 (uvicorn has no event)
            await asyncio.sleep(0.05)
        if server.started:
            console.print(
                f"[green]✓[/] runloom is up: http://{settings.runloom_host}:{settings.runloom_port}"
                f"  ·  Temporal UI: {services.temporal_ui_url}   [dim](Ctrl-C to stop)[/]"
            )
        try:
            await task
        finally:
            # The API first, then the manager (which stops its workers), then the services.
            if manager is not None and background is not None:
                manager.stop()
                await background

    # uvicorn catches SIGINT/SIGTERM while serving and re-raises them once it has shut down;
    # ignoring them here lets that re-raise end quietly so the caller stops the stack in order.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: None)
    asyncio.run(serve())


@app.command("up")
def up() -> None:
    """Run everything on this machine: database, Temporal, migrations, API and UI."""
    make_non_dumpable()
    settings = _settings()
    try:
        # Unless one is configured, sign-in tokens are signed with a secret of this
        # installation's own, never with the well-known development value.
        settings = with_local_jwt_secret(settings)
        require_free_port(
            settings.runloom_port,
            what="runloom API",
            setting="RUNLOOM_PORT",
            host=settings.runloom_host,
        )
        with running_services(settings, report=console.print) as services:
            _migrate(services.database_url)
            _serve(settings, services)
    except (ConfigurationError, MigrationError) as exc:
        raise _fail(exc) from exc
    console.print("stopped")


def _existing_services(settings: Settings, *, command: str) -> Services:
    """`api` and `manager` scale out, so they embed nothing: they join existing services."""
    if not settings.database_url:
        err.print(
            f"[red]error:[/] `runloom {command}` needs DATABASE_URL; "
            "use `runloom up` to run everything on one machine"
        )
        raise typer.Exit(2)
    return Services(
        database_url=settings.database_url,
        temporal_address=settings.temporal_address,
        temporal_ui_url=settings.temporal_ui_url,
        embedded_database=False,
        embedded_temporal=False,
    )


@app.command("api")
def api_command() -> None:
    """Run the HTTP API against DATABASE_URL and TEMPORAL_ADDRESS."""
    make_non_dumpable()
    settings = _settings()
    try:
        _serve(settings, _existing_services(settings, command="api"), with_manager=False)
    except ConfigurationError as exc:
        raise _fail(exc) from exc


@app.command("manager")
def manager_command(
    parent_pid: Annotated[
        int | None, typer.Option(hidden=True, help="Die with this process (`up` sets it)")
    ] = None,
) -> None:
    """Run a worker manager and execution tracker against DATABASE_URL and TEMPORAL_ADDRESS."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    make_non_dumpable()
    settings = _settings()
    services = _existing_services(settings, command="manager")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        if parent_pid is None:
            console.print("[green]✓[/] manager running [dim](Ctrl-C to stop)[/]")
        else:
            console.print(f"[green]✓[/] manager running (process {os.getpid()})")
        await _background(settings, services, stop)

    try:
        asyncio.run(run())
    except (TemporalUnavailableError, ConfigurationError) as exc:
        # One line that names what to fix (TEMPORAL_ADDRESS, a TLS setting…), no traceback.
        raise _fail(exc) from exc
