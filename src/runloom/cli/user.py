"""User commands of the CLI: everything goes through the HTTP API, like the UI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from runloom.cli.client import ApiError, Credentials, RunloomClient
from runloom.errors import RunloomError

console = Console()
err = Console(stderr=True)

STATUS_STYLE = {
    "pending": "dim",
    "running": "yellow",
    "completed": "green",
    "failed": "red",
    "skipped": "dim",
    "cancelled": "magenta",
    "terminated": "magenta",
    "timed_out": "red",
    "starting": "yellow",
    "stopping": "yellow",
    "stopped": "dim",
}

projects_app = typer.Typer(help="List and create projects.", no_args_is_help=False)
workflows_app = typer.Typer(help="Deploy workflows from graph files.", no_args_is_help=True)


def _client() -> RunloomClient:
    try:
        return RunloomClient.from_credentials()
    except RunloomError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from exc


def _call(client: RunloomClient, method: str, path: str, **kwargs: Any) -> Any:
    try:
        return client.request(method, path, **kwargs)
    except RunloomError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc


def _styled(status: str) -> str:
    return f"[{STATUS_STYLE.get(status, 'white')}]{status}[/]"


def _project_by_name(client: RunloomClient, name: str | None) -> dict[str, Any]:
    projects: list[dict[str, Any]] = _call(client, "GET", "/api/projects")["projects"]
    if name is None:
        default = [p for p in projects if p["name"] == "Default"] or projects
        if not default:
            err.print(
                "[red]error:[/] you have no project; create one with `runloom projects create`"
            )
            raise typer.Exit(1)
        return default[0]
    for project in projects:
        if project["name"] == name or project["id"] == name:
            return project
    err.print(f"[red]error:[/] no project named {name!r}; see `runloom projects`")
    raise typer.Exit(1)


def _workflow_by_name(client: RunloomClient, name: str) -> dict[str, Any]:
    workflows: list[dict[str, Any]] = _call(client, "GET", "/api/workflows")["workflows"]
    for workflow in workflows:
        if name in (workflow["id"], workflow["key"], workflow["name"]):
            return workflow
    err.print(
        f"[red]error:[/] no workflow named {name!r}; deploy it with `runloom workflows deploy`"
    )
    raise typer.Exit(1)


def login(
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True)],
    url: Annotated[str, typer.Option(help="runloom's address")] = "http://127.0.0.1:8000",
    signup: Annotated[bool, typer.Option(help="Create the account first")] = False,
) -> None:
    """Sign in (or sign up) and remember the token for the other commands."""
    client = RunloomClient(url=url)
    path = "/api/auth/signup" if signup else "/api/auth/login"
    session = _call(client, "POST", path, json={"email": email, "password": password})
    saved = Credentials(url=url, access_token=session["access_token"], email=email).save()
    console.print(f"[green]✓[/] signed in as {email} (token saved in {saved})")


@projects_app.callback(invoke_without_command=True)
def projects(ctx: typer.Context) -> None:
    """List your projects with their worker and statistics."""
    if ctx.invoked_subcommand is not None:
        return
    client = _client()
    table = Table("name", "task queue", "workflows", "worker", "runs", "avg ms")
    for p in _call(client, "GET", "/api/projects")["projects"]:
        worker = p["workers"][0]["status"] if p["workers"] else "idle"
        table.add_row(
            p["name"],
            p["task_queue_name"],
            str(p["workflow_count"]),
            _styled(worker),
            str(p["total_workflow_executions"] or 0),
            str(p["avg_execution_duration_ms"] or 0),
        )
    console.print(table)


@projects_app.command("create")
def projects_create(name: str, description: Annotated[str | None, typer.Option()] = None) -> None:
    """Create a project (its own task queue and worker)."""
    project = _call(
        _client(), "POST", "/api/projects", json={"name": name, "description": description}
    )["project"]
    console.print(
        f"[green]✓[/] project {project['name']} · task queue {project['task_queue_name']}"
    )


@workflows_app.command("deploy")
def workflows_deploy(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    project: Annotated[str | None, typer.Option(help="Project name (default: Default)")] = None,
    name: Annotated[str | None, typer.Option(help="Workflow name (default: file name)")] = None,
) -> None:
    """Create or update a workflow from a graph file (JSON) and deploy a new version."""
    try:
        document = json.loads(file.read_text())
    except ValueError as exc:
        err.print(f"[red]error:[/] {file} is not valid JSON: {exc}")
        raise typer.Exit(2) from exc
    graph = document.get("graph", document)
    workflow_name = name or document.get("name") or file.stem
    client = _client()
    target = _project_by_name(client, project or document.get("project"))
    existing = [
        w
        for w in _call(client, "GET", "/api/workflows", params={"project_id": target["id"]})[
            "workflows"
        ]
        if w["name"] == workflow_name
    ]
    if existing:
        workflow = _call(
            client, "PUT", f"/api/workflows/{existing[0]['id']}", json={"graph": graph}
        )["workflow"]
    else:
        workflow = _call(
            client,
            "POST",
            "/api/workflows",
            json={"project_id": target["id"], "name": workflow_name, "graph": graph},
        )["workflow"]
    with console.status("compiling and storing…"):
        deployed = _call(client, "POST", f"/api/workflows/{workflow['id']}/deploy")
    note = "new version" if deployed["created"] else "unchanged, active version kept"
    console.print(f"[green]✓[/] {deployed['workflow_type']} ({note}) in project {target['name']}")


def run(
    workflow: Annotated[str, typer.Argument(help="Workflow name, key or id")],
    input: Annotated[str, typer.Option("--input", help="JSON input")] = "{}",
    version: Annotated[int | None, typer.Option(help="Version to run (default: active)")] = None,
    wait: Annotated[bool, typer.Option(help="Follow the run live until it ends")] = False,
) -> None:
    """Start a run of a deployed workflow."""
    try:
        payload = json.loads(input)
    except ValueError as exc:
        err.print(f"[red]error:[/] --input is not valid JSON: {exc}")
        raise typer.Exit(2) from exc
    client = _client()
    target = _workflow_by_name(client, workflow)
    execution = _call(
        client,
        "POST",
        f"/api/workflows/{target['id']}/executions",
        json={"input": payload, "version": version},
    )["execution"]
    console.print(f"started {execution['workflow_type']} · {execution['temporal_ui_url']}")
    if not wait:
        console.print(execution["id"])
        return
    final = _follow(client, execution)
    if final["status"] != "completed":
        raise typer.Exit(1)


def _follow(client: RunloomClient, execution: dict[str, Any]) -> dict[str, Any]:
    def render(current: dict[str, Any]) -> Table:
        table = Table("node", "status", "attempt", title=f"run {_styled(current['status'])}")
        for node, state in sorted(current.get("node_states", {}).items()):
            table.add_row(
                node, _styled(state.get("status", "pending")), str(state.get("attempt") or "")
            )
        return table

    current = execution
    try:
        with Live(render(current), console=console, refresh_per_second=8) as live:
            for kind, data in client.events(execution["id"]):
                if kind == "execution":
                    current = data
                    live.update(render(current))
    except ApiError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(1) from exc
    if current["status"] == "completed":
        console.print(f"[green]✓ completed[/] in {current['duration_ms']} ms")
        console.print_json(data=current["output"])
    else:
        console.print(f"[red]✗ {current['status']}[/]: {current.get('error')}")
    return current


def executions(
    workflow: Annotated[str | None, typer.Option(help="Only this workflow")] = None,
    status: Annotated[str | None, typer.Option(help="Only this status")] = None,
    limit: Annotated[int, typer.Option()] = 20,
) -> None:
    """Recent executions."""
    client = _client()
    params: dict[str, Any] = {"limit": limit}
    if workflow:
        params["workflow_id"] = _workflow_by_name(client, workflow)["id"]
    if status:
        params["status"] = status
    table = Table("id", "type", "status", "started", "ms", "error")
    for e in _call(client, "GET", "/api/executions", params=params)["executions"]:
        table.add_row(
            e["id"][:8],
            e["workflow_type"] or "",
            _styled(e["status"]),
            e["started_at"] or "",
            str(e["duration_ms"] or ""),
            (e["error"] or "")[:60],
        )
    console.print(table)


def workers(
    project: Annotated[str | None, typer.Option(help="Project name (default: all)")] = None,
    action: Annotated[str | None, typer.Option(help="start, stop or restart")] = None,
) -> None:
    """Worker status per project; with --action, start/stop/restart a project's worker."""
    client = _client()
    if action is not None:
        if action not in ("start", "stop", "restart"):
            err.print("[red]error:[/] --action must be start, stop or restart")
            raise typer.Exit(2)
        target = _project_by_name(client, project)
        _call(client, "POST", f"/api/projects/{target['id']}/workers/{action}")
        console.print(f"[green]✓[/] {action} requested for {target['name']}")
        return
    table = Table("project", "status", "host", "pid", "heartbeat", "MB", "CPU %", "tasks")
    for p in _call(client, "GET", "/api/projects")["projects"]:
        if project and p["name"] != project:
            continue
        w = p["workers"][0] if p["workers"] else None
        if w is None:
            table.add_row(p["name"], "[dim]idle[/]", "", "", "", "", "", "")
            continue
        table.add_row(
            p["name"],
            _styled(w["status"]),
            w["host"] or "",
            w["process_id"] or "",
            w["last_heartbeat"] or "",
            str(w["memory_usage_mb"] or ""),
            str(w["cpu_usage_percent"] or ""),
            str(w["total_tasks_completed"] or 0),
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.add_typer(projects_app, name="projects")
    app.add_typer(workflows_app, name="workflows")
    app.command()(run)
    app.command()(executions)
    app.command()(workers)
