"""Render stage: Python source for the workflow, activities and worker modules.

Code is assembled line by line. User text enters only through literals (string literals
of JSON data, see :mod:`runloom.compiler.layout`) or :func:`comment_text`; identifiers
come only from the naming stage. Nothing here formats user text into code. The code is
laid out as ``ruff format`` would at its default 88 columns, its imports sorted and only
those it uses, so that it passes ``ruff check``, ``ruff format --check`` and ``mypy
--strict`` as written (tests/compiler/test_generated_style.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from runloom import naming
from runloom.compiler.identifiers import Names
from runloom.compiler.layout import Item, Keyed, Seq, call, lay, signature
from runloom.compiler.layout import value as expr
from runloom.compiler.model import (
    ERROR_BRANCH,
    ActivityNode,
    ChildWorkflowConfig,
    ChildWorkflowNode,
    ConditionNode,
    DelayNode,
    EndNode,
    ForEachNode,
    Graph,
    HttpRequestConfig,
    HttpRequestNode,
    Node,
    PythonNode,
    RetryConfig,
    StartNode,
    TransformNode,
    WaitForSignalNode,
)
from runloom.compiler.options import CompileOptions
from runloom.compiler.secret_refs import SecretUse, TemplateReads, python_code, secret_use

__all__ = ["RenderedModules", "activity_type", "literal", "render_modules", "topological_order"]


def literal(value: Any, *, indent: int = 0) -> str:
    """A Python literal for JSON data (plus tuples), laid out as ruff format would.

    Strings are double-quoted unless that needs more escapes; a long multi-line string
    becomes one literal per line inside parentheses (implicit concatenation), which reads
    like the source. ``indent`` is the column of the line the literal starts on.
    """
    return "\n".join(lay(expr(value), indent))[indent:]


def comment_text(text: str) -> str:
    """User text made safe for a comment or docstring: one line, no quote can close it."""
    return repr(text).replace('"', '\\"')


def number(value: float) -> str:
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def activity_type(workflow_key: str, version: int, node_id: str) -> str:
    return naming.activity_type(workflow_key, version, node_id)


def topological_order(graph: Graph) -> list[Node]:
    """Nodes in dependency order; ties keep the document's order (stable output)."""
    position = {node.id: i for i, node in enumerate(graph.nodes)}
    indegree = dict.fromkeys(position, 0)
    successors: dict[str, list[str]] = {node_id: [] for node_id in position}
    for edge in graph.edges:
        successors[edge.source].append(edge.target)
        indegree[edge.target] += 1
    ready = sorted((i for i, d in indegree.items() if d == 0), key=position.__getitem__)
    order: list[str] = []
    while ready:
        current = ready.pop(0)
        order.append(current)
        for nxt in successors[current]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
                ready.sort(key=position.__getitem__)
    return [graph.nodes[position[i]] for i in order]


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "", indent: int = 0) -> None:
        self.lines.append((" " * indent + line) if line else "")

    def block(self, text: str, indent: int) -> None:
        for line in text.split("\n"):
            self(line, indent)

    def lay(self, item: Item, indent: int, prefix: str = "", suffix: str = "") -> None:
        """A statement that may grow with user data, laid out at 88 columns."""
        self.lines.extend(lay(item, indent, prefix, suffix))

    def define(self, head: str, params: Sequence[str], returns: str, indent: int = 0) -> None:
        self.lines.extend(signature(head, params, returns, indent))

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


@dataclass(frozen=True)
class RenderedModules:
    workflow_code: str
    activities_code: str
    worker_code: str
    activity_types: tuple[str, ...]


@dataclass(frozen=True)
class _Context:
    graph: Graph
    names: Names
    workflow_key: str
    version: int
    options: CompileOptions
    # The nodes that use secrets, and how (the others compile as if secrets did not exist).
    secrets: Mapping[str, SecretUse]

    @property
    def workflow_type(self) -> str:
        return naming.workflow_type(self.workflow_key, self.version)

    def activity_type(self, node_id: str) -> str:
        return activity_type(self.workflow_key, self.version, node_id)

    @property
    def comments(self) -> bool:
        return self.options.include_comments

    def kind(self, node: Node | ActivityNode) -> str | None:
        return _activity_kind(node, uses_secrets=node.id in self.secrets)

    @property
    def error_paths(self) -> bool:
        """Whether the graph has error edges: only then do nodes get ``error`` (graphs
        without compile to the code they always did)."""
        return any(e.branch == ERROR_BRANCH for e in self.graph.edges)

    def renders_secrets(self, node_id: str) -> bool:
        """Whether the node's templates read secrets, and so are rendered in its activity."""
        use = self.secrets.get(node_id)
        return use is not None and use.reads is not None


def render_modules(
    graph: Graph,
    *,
    names: Names,
    workflow_key: str,
    version: int,
    options: CompileOptions,
) -> RenderedModules:
    uses = {n.id: use for n in graph.nodes if (use := secret_use(n)) is not None}
    ctx = _Context(graph, names, workflow_key, version, options, uses)
    activity_nodes = [n for n in graph.nodes if ctx.kind(n) is not None]
    return RenderedModules(
        workflow_code=_workflow_module(ctx),
        activities_code=_activities_module(ctx, activity_nodes),
        worker_code=_worker_module(ctx),
        activity_types=tuple(ctx.activity_type(n.id) for n in activity_nodes),
    )


def _activity_kind(node: Node | ActivityNode, *, uses_secrets: bool = False) -> str | None:
    """Which runtime activity serves the node: "http", "python", "transform" (only for a
    transform whose templates read secrets) or None (no activity)."""
    if isinstance(node, HttpRequestNode):
        return "http"
    if isinstance(node, PythonNode):
        return "python"
    if isinstance(node, TransformNode):
        return "transform" if uses_secrets else None
    if isinstance(node, ForEachNode):
        step_type = node.config.step.type
        if step_type == "transform" and uses_secrets:
            return "transform"
        return {"http_request": "http", "python": "python"}.get(step_type)
    return None


# --- workflow module ------------------------------------------------------------------


def _workflow_module(ctx: _Context) -> str:
    graph = ctx.graph
    w = _Writer()
    has_signals = any(isinstance(n, WaitForSignalNode) for n in graph.nodes)
    needs_error = any(
        isinstance(n, WaitForSignalNode) and not _has_timeout_edge(ctx, n.id) and n.config.timeout_s
        for n in graph.nodes
    )
    uses_timedelta = any(
        ctx.kind(n) is not None
        or (isinstance(n, DelayNode) and n.config.seconds > 0)
        or (isinstance(n, WaitForSignalNode) and n.config.timeout_s)
        for n in graph.nodes
    )
    uses_retry = any(ctx.kind(n) for n in graph.nodes)

    if ctx.comments:
        w('"""Workflow ' + comment_text(ctx.workflow_key) + f" version {ctx.version}, by runloom.")
        w()
        w(f"Temporal workflow type {comment_text(ctx.workflow_type)}. Every node runs as an")
        w("asyncio task that waits for its predecessors (see runloom_runtime.graph for the")
        w("branch and join rules); activities are called by type name, so this module never")
        w("imports them.")
        w('"""')
        w()
    if has_signals:
        w("from collections.abc import Sequence")
    if uses_timedelta:
        w("from datetime import timedelta")
    w("from typing import Any")
    w()
    w("from temporalio import workflow")
    common = [
        name for name, used in (("RawValue", has_signals), ("RetryPolicy", uses_retry)) if used
    ]
    if common:
        w(f"from temporalio.common import {', '.join(common)}")
    if needs_error:
        w("from temporalio.exceptions import ApplicationError")
    w()
    if ctx.comments:
        w("# The runtime is deterministic and stateless per run; passing it through avoids")
        w("# re-importing Jinja2 in the sandbox for every run.")
    w("with workflow.unsafe.imports_passed_through():")
    runtime = "graph, templates" if _uses_templates(ctx) else "graph"
    w(f"from runloom_runtime import {runtime}", 4)
    w()
    w.lay(expr(ctx.workflow_type), 0, "WORKFLOW_TYPE = ")
    w.lay(expr([n.id for n in graph.nodes]), 0, "NODE_IDS = ")
    bounds = ctx.options.bounds
    if bounds is not None:
        if ctx.comments:
            w("# Bounds of every run of this version, from the settings it was compiled under.")
        w(f"MAX_STEP_OUTPUT_BYTES = {bounds.step_output_bytes}")
        if any(isinstance(n, ForEachNode) for n in graph.nodes):
            w(f"MAX_FOR_EACH_ITEMS = {bounds.for_each_items}")
    w()
    w()
    w.lay(call("@workflow.defn", Keyed("name=", expr(ctx.workflow_type))), 0)
    w(f"class {ctx.names.workflow_class}:")
    if ctx.comments:
        w(
            '"""Graph '
            + comment_text(ctx.workflow_key)
            + f' v{ctx.version}: {len(graph.nodes)} nodes."""',
            4,
        )
        w()
    _workflow_init(ctx, w, has_signals=has_signals)
    _workflow_run(ctx, w)
    _workflow_queries(ctx, w, has_signals=has_signals)
    for node in graph.nodes:
        w()
        _node_method(ctx, w, node)
    w()
    w()
    w.lay(Seq("[", [ctx.names.workflow_class], "]", collection=True), 0, "WORKFLOWS = ")
    return w.text()


def _uses_templates(ctx: _Context) -> bool:
    """Whether the workflow renders or evaluates a template itself (not in an activity)."""
    for node in ctx.graph.nodes:
        if isinstance(node, ConditionNode | ForEachNode | ChildWorkflowNode):
            return True
        if isinstance(node, EndNode) and node.config.output is not None:
            return True
        if isinstance(node, TransformNode | HttpRequestNode) and not ctx.renders_secrets(node.id):
            return True
    return False


def _workflow_init(ctx: _Context, w: _Writer, *, has_signals: bool) -> None:
    w("def __init__(self) -> None:", 4)
    if ctx.options.bounds is None:
        w("self._graph = graph.GraphRun(NODE_IDS, now=workflow.now)", 8)
    else:
        w("self._graph = graph.GraphRun(", 8)
        w("NODE_IDS, now=workflow.now, max_output_bytes=MAX_STEP_OUTPUT_BYTES", 12)
        w(")", 8)
    if has_signals:
        w("self._signals: dict[str, list[Any]] = {}", 8)
    w()


def _workflow_run(ctx: _Context, w: _Writer) -> None:
    graph = ctx.graph
    w("@workflow.run", 4)
    w("async def run(self, input: dict[str, Any]) -> Any:", 4)
    w("self._graph.input = input", 8)
    incoming: dict[str, list[tuple[str, str | None]]] = {n.id: [] for n in graph.nodes}
    for edge in graph.edges:
        incoming[edge.target].append((edge.source, edge.branch))
    if ctx.comments and ctx.error_paths:
        w('# An edge labelled "error" is taken when its node fails after its retries;', 8)
        w("# the run goes on there (with `error` in scope) instead of failing.", 8)
    for node in topological_order(graph):
        args: list[Item] = [expr(node.id), f"self.{ctx.names.methods[node.id]}"]
        if incoming[node.id]:
            args.append(Keyed("after=", expr(incoming[node.id])))
        w.lay(call("self._graph.spawn", *args), 8)
    w("await self._graph.wait()", 8)
    end = next((n for n in graph.nodes if isinstance(n, EndNode)), None)
    if ctx.comments:
        w("# A skipped end node (every path to it was not taken) yields None.", 8)
    w.lay(call("self._graph.output", expr(end.id if end else "")), 8, "return ")
    w()


def _workflow_queries(ctx: _Context, w: _Writer, *, has_signals: bool) -> None:
    w(f'@workflow.query(name="{naming.NODE_STATES_QUERY}")', 4)
    w("def node_states(self) -> dict[str, dict[str, Any]]:", 4)
    if ctx.comments:
        w('"""Status, timing, attempt and error of every node, for the live canvas."""', 8)
    w("return self._graph.node_states()", 8)
    w()
    w('@workflow.query(name="steps")', 4)
    w("def steps(self) -> dict[str, Any]:", 4)
    if ctx.comments:
        w('"""Outputs of the nodes that have completed so far."""', 8)
    w("return dict(self._graph.steps)", 8)
    if has_signals:
        w()
        w("@workflow.signal(dynamic=True)", 4)
        w("def on_signal(self, name: str, args: Sequence[RawValue]) -> None:", 4)
        if ctx.comments:
            w('"""Queue every signal\'s payload; wait_for_signal nodes take them in order."""', 8)
        w("payload = (", 8)
        w("workflow.payload_converter().from_payload(args[0].payload) if args else None", 12)
        w(")", 8)
        w("self._signals.setdefault(name, []).append(payload)", 8)


def _has_timeout_edge(ctx: _Context, node_id: str) -> bool:
    return any(e.source == node_id and e.branch == "timeout" for e in ctx.graph.edges)


def _node_method(ctx: _Context, w: _Writer, node: Node) -> None:
    method = ctx.names.methods[node.id]
    w.define(f"async def {method}", ["self"], "Any", 4)
    if ctx.comments:
        label = f" ({comment_text(node.label)})" if node.label else ""
        w('"""' + f"Node {comment_text(node.id)}{label}: {node.type}." + '"""', 8)
    scope = "self._graph.scope()"
    if isinstance(node, StartNode):
        w("return self._graph.input", 8)
    elif isinstance(node, EndNode):
        if node.config.output is None:
            w("return dict(self._graph.steps)", 8)
        else:
            _render_call(w, "return ", node.config.output, scope, indent=8)
    elif isinstance(node, TransformNode) and ctx.renders_secrets(node.id):
        _secret_activity(ctx, w, ActivityNode(id=node.id), scope=_narrow(ctx, node.id), indent=8)
        _record_attempt(w, node.id)
    elif isinstance(node, TransformNode):
        _render_call(w, "return ", node.config.output, scope, indent=8)
    elif isinstance(node, ConditionNode):
        w.lay(call("templates.evaluate", expr(node.config.expression), scope), 8, "value = ")
        w('return graph.Branch(bool(value), "true" if value else "false")', 8)
    elif isinstance(node, DelayNode):
        if node.config.seconds > 0:
            w(f"await workflow.sleep(timedelta(seconds={number(node.config.seconds)}))", 8)
        w("return None", 8)
    elif isinstance(node, WaitForSignalNode):
        _wait_for_signal(ctx, w, node)
    elif isinstance(node, HttpRequestNode) and ctx.renders_secrets(node.id):
        _secret_activity(ctx, w, node, scope=_narrow(ctx, node.id), indent=8)
        _record_attempt(w, node.id)
    elif isinstance(node, HttpRequestNode):
        _render_call(w, "request = ", _http_request(node.config), scope, indent=8)
        _call_activity(ctx, w, node, "request", indent=8)
        _record_attempt(w, node.id)
    elif isinstance(node, PythonNode) and ctx.error_paths:
        _python_args(w, indent=8)
        _call_activity(ctx, w, node, "args", indent=8)
        _record_attempt(w, node.id)
    elif isinstance(node, PythonNode):
        _call_activity(ctx, w, node, _python_data(), indent=8)
        _record_attempt(w, node.id)
    elif isinstance(node, ChildWorkflowNode):
        _child(ctx, w, node.config, scope, indent=8)
    elif isinstance(node, ForEachNode):
        _for_each(ctx, w, node)
    else:  # pragma: no cover - the union is exhaustive
        raise AssertionError(node)


def _record_attempt(w: _Writer, node_id: str) -> None:
    w.lay(call("self._graph.record_attempt", expr(node_id), "result"), 8, "return ")


def _python_data(*, in_for_each: bool = False) -> Item:
    """The argument of a python node's activity: what its code sees."""
    keys = ("input", "steps", "item", "index") if in_for_each else ("input", "steps")
    values = {"input": "self._graph.input", "steps": "self._graph.steps"}
    items = [Keyed(f'"{k}": ', values.get(k, k)) for k in keys]
    return Seq("{", items, "}", collection=True)


def _python_args(w: _Writer, *, indent: int, in_for_each: bool = False) -> None:
    """``args = {...}`` of a python node in a graph with error paths: ``error`` too."""
    w("args = {", indent)
    w('"input": self._graph.input,', indent + 4)
    w('"steps": self._graph.steps,', indent + 4)
    if in_for_each:
        w('"item": item,', indent + 4)
        w('"index": index,', indent + 4)
    w('"error": self._graph.error(),', indent + 4)
    w("}", indent)


def _render_call(w: _Writer, prefix: str, value: Any, scope: Item, *, indent: int) -> None:
    """``<prefix>templates.render(<value>, <scope>)``, broken over lines when long."""
    w.lay(call("templates.render", expr(value), scope), indent, prefix)


def _narrow(ctx: _Context, node_id: str, *, in_for_each: bool = False) -> Item:
    """The scope a node whose templates read secrets sends its activity: what they read."""
    reads: TemplateReads | None = ctx.secrets[node_id].reads
    assert reads is not None
    args: list[Item] = []
    known = ("input", "steps", "error") if ctx.error_paths else ("input", "steps")
    roots = [root for root in known if root in reads.roots]
    if roots:
        args.append(expr(roots))
    if "steps" in reads.roots and reads.step_ids is not None:
        args.append(Keyed("steps=", expr(sorted(reads.step_ids))))
    if in_for_each:
        args.extend(f"{root}={root}" for root in ("item", "index") if root in reads.roots)
    return call("self._graph.narrow_scope", *args)


def _secret_activity(
    ctx: _Context, w: _Writer, node: ActivityNode, *, scope: Item, indent: int
) -> None:
    if ctx.comments:
        w("# Its templates read secrets, so the activity renders them: it gets the", indent)
        w("# part of the run they read and fetches the secrets itself; no value passes", indent)
        w("# through here.", indent)
    w.lay(scope, indent, "scope = ")
    _call_activity(ctx, w, node, "scope", indent=indent)


def _activity_template(node: Node) -> Any:
    """The templates of a node that its activity renders (an http request or an output)."""
    if isinstance(node, HttpRequestNode):
        return _http_request(node.config)
    if isinstance(node, TransformNode):
        return node.config.output
    assert isinstance(node, ForEachNode)
    step = node.config.step
    if step.type == "http_request":
        return _http_request(step.config)
    assert step.type == "transform"
    return step.config.output


def _http_request(config: HttpRequestConfig) -> dict[str, Any]:
    return {
        "method": config.method,
        "url": config.url,
        "headers": dict(config.headers),
        "body": config.body,
        "timeout_s": config.timeout_s,
        "fail_on_status": config.fail_on_status,
    }


def _wait_for_signal(ctx: _Context, w: _Writer, node: WaitForSignalNode) -> None:
    w.lay(expr(node.config.signal), 8, "signal = ")
    condition = "lambda: bool(self._signals.get(signal))"
    timeout = node.config.timeout_s
    if timeout is None:
        w(f"await workflow.wait_condition({condition})", 8)
    else:
        w("try:", 8)
        wait = call(
            "workflow.wait_condition", condition, f"timeout=timedelta(seconds={number(timeout)})"
        )
        w.lay(wait, 12, "await ")
        w("except TimeoutError:", 8)
        if _has_timeout_edge(ctx, node.id):
            if ctx.comments:
                w('# Take the edges labelled "timeout".', 12)
            w('return graph.Branch(None, "timeout")', 12)
        else:
            w("raise ApplicationError(", 12)
            message = f"no signal {node.config.signal!r} arrived within {number(timeout)} s"
            w.lay(expr(message), 16, "", ",")
            w('type="SignalTimeout",', 16)
            w("non_retryable=True,", 16)
            w(") from None", 12)
    w("return graph.Branch(self._signals[signal].pop(0), None)", 8)


def _retry_policy(retry: RetryConfig) -> list[Item]:
    args: list[Item] = [
        f"initial_interval=timedelta(seconds={number(retry.initial_interval_s)})",
        f"backoff_coefficient={number(retry.backoff_coefficient)}",
        f"maximum_attempts={retry.maximum_attempts}",
    ]
    if retry.maximum_interval_s is not None:
        args.append(f"maximum_interval=timedelta(seconds={number(retry.maximum_interval_s)})")
    if retry.non_retryable_error_types:
        types = expr(list(retry.non_retryable_error_types))
        args.append(Keyed("non_retryable_error_types=", types))
    return args


def _call_activity(
    ctx: _Context,
    w: _Writer,
    node: ActivityNode,
    argument: Item,
    *,
    indent: int,
    target: str = "result",
) -> None:
    kind = ctx.kind(node)
    retry = node.retry
    if retry is None:
        # Python errors are bugs or data problems a retry rarely fixes: one attempt unless
        # the node asks for more. I/O gets Temporal-style retries by default.
        retry = RetryConfig(maximum_attempts=1) if kind == "python" else RetryConfig()
    call = "workflow.execute_local_activity" if node.local else "workflow.execute_activity"
    w(f"{target} = await {call}(", indent)
    w.lay(expr(ctx.activity_type(node.id)), indent + 4, "", ",")
    w.lay(argument, indent + 4, "", ",")
    w(f"start_to_close_timeout=timedelta(seconds={number(node.timeout_s)}),", indent + 4)
    if node.schedule_to_close_s is not None:
        w(
            f"schedule_to_close_timeout=timedelta(seconds={number(node.schedule_to_close_s)}),",
            indent + 4,
        )
    if node.retry is None and kind == "python":
        w("retry_policy=RetryPolicy(maximum_attempts=1),", indent + 4)
    else:
        w("retry_policy=RetryPolicy(", indent + 4)
        for arg in _retry_policy(retry):
            w.lay(arg, indent + 8, "", ",")
        w("),", indent + 4)
    w(")", indent)


def _child(
    ctx: _Context, w: _Writer, config: ChildWorkflowConfig, scope: Item, *, indent: int
) -> None:
    child_type = ctx.options.child_workflow_types.get(config.workflow, config.workflow)
    child_input = {} if config.input is None else config.input
    render = call("templates.render", expr(child_input), scope)
    start = call("workflow.execute_child_workflow", expr(child_type), render, exploded=True)
    w.lay(start, indent, "return await ")


def _for_each(ctx: _Context, w: _Writer, node: ForEachNode) -> None:
    config = node.config
    w.lay(call("templates.evaluate", expr(config.items), "self._graph.scope()"), 8, "value = ")
    as_items: list[Item] = ["value", Keyed("node_id=", expr(node.id))]
    if ctx.options.bounds is not None:
        as_items.append("max_items=MAX_FOR_EACH_ITEMS")
    w.lay(call("graph.as_items", *as_items), 8, "items = ")
    w()
    w("async def step(index: int, item: Any) -> Any:", 8)
    scope: Item = "self._graph.scope(item=item, index=index)"
    step = config.step
    if ctx.renders_secrets(node.id):
        scope = _narrow(ctx, node.id, in_for_each=True)
        _secret_activity(ctx, w, node, scope=scope, indent=12)
        w('return result["output"]', 12)
    elif step.type == "http_request":
        _render_call(w, "request = ", _http_request(step.config), scope, indent=12)
        _call_activity(ctx, w, node, "request", indent=12)
        w('return result["output"]', 12)
    elif step.type == "python" and ctx.error_paths:
        _python_args(w, indent=12, in_for_each=True)
        _call_activity(ctx, w, node, "args", indent=12)
        w('return result["output"]', 12)
    elif step.type == "python":
        _call_activity(ctx, w, node, _python_data(in_for_each=True), indent=12)
        w('return result["output"]', 12)
    elif step.type == "transform":
        _render_call(w, "return ", step.config.output, scope, indent=12)
    else:
        _child(ctx, w, step.config, scope, indent=12)
    w()
    w(f"return await graph.map_bounded(items, step, concurrency={config.concurrency})", 8)


# --- activities module ----------------------------------------------------------------


def _activities_module(ctx: _Context, nodes: Sequence[Node]) -> str:
    w = _Writer()
    if ctx.comments:
        w(
            '"""Activities of workflow '
            + comment_text(ctx.workflow_key)
            + f" version {ctx.version}, by runloom."
        )
        w()
        w("Each node gets its own activity type (<workflow>@v<version>.<node id>) so that")
        w("statistics can be kept per node. Python node code is kept as a string and")
        w("compiled by runloom_runtime.python_node when the activity runs.")
        w('"""')
        w()
    w("from typing import Any")
    if not nodes:
        w()
        w("ACTIVITIES: list[Any] = []")
        return w.text()
    w()
    w("from temporalio import activity")
    runtime = sorted(_runtime_modules(ctx, nodes))
    if runtime:
        w()
        w(f"from runloom_runtime import {', '.join(runtime)}")
    for node in nodes:
        code = python_code(node)
        if code is not None:
            w()
            if ctx.comments:
                w(f"# Code of node {comment_text(node.id)}.")
            w.lay(expr(code), 0, f"{ctx.names.constants[node.id]} = ")
        elif ctx.renders_secrets(node.id):
            w()
            if ctx.comments:
                w(f"# Templates of node {comment_text(node.id)}, rendered here with its secrets.")
            w.lay(expr(_activity_template(node)), 0, f"{ctx.names.templates[node.id]} = ")
    for node in nodes:
        w()
        w()
        name = ctx.names.activities[node.id]
        use = ctx.secrets.get(node.id)
        w.lay(call("@activity.defn", Keyed("name=", expr(ctx.activity_type(node.id)))), 0)
        if use is not None and use.reads is not None:
            _secret_step(ctx, w, node, use)
        elif ctx.kind(node) == "http":
            w.define(f"async def {name}", ["request: dict[str, Any]"], "dict[str, Any]")
            if ctx.comments:
                w(
                    '"""HTTP request of node '
                    + comment_text(node.id)
                    + ', rendered by the workflow."""',
                    4,
                )
            w("return await http.perform(request)", 4)
        else:
            w.define(f"async def {name}", ["args: dict[str, Any]"], "dict[str, Any]")
            if ctx.comments:
                w('"""Python code of node ' + comment_text(node.id) + '."""', 4)
            constant = ctx.names.constants[node.id]
            args: list[Item] = [constant, "args", Keyed("node_id=", expr(node.id))]
            if use is not None:
                w("secrets = await project_secrets.current()", 4)
                args.append("secrets=secrets")
            w.lay(call("python_node.run", *args), 4, "return await ")
    w()
    w()
    names = [ctx.names.activities[n.id] for n in nodes]
    w.lay(Seq("[", names, "]", collection=True), 0, "ACTIVITIES: list[Any] = ")
    return w.text()


def _runtime_modules(ctx: _Context, nodes: Sequence[Node]) -> set[str]:
    modules = set()
    for node in nodes:
        if ctx.renders_secrets(node.id):
            modules.add("secret_steps")
        elif ctx.kind(node) == "http":
            modules.add("http")
        else:
            modules.add("python_node")
            if node.id in ctx.secrets:
                modules.add("project_secrets")
    return modules


def _secret_step(ctx: _Context, w: _Writer, node: Node, use: SecretUse) -> None:
    http = ctx.kind(node) == "http"
    w.define(
        f"async def {ctx.names.activities[node.id]}", ["scope: dict[str, Any]"], "dict[str, Any]"
    )
    if ctx.comments:
        what = "HTTP request" if http else "Output"
        w(f'"""{what} of node {comment_text(node.id)}, rendered here with its secrets."""', 4)
    step = call(
        f"secret_steps.{'http_request' if http else 'transform'}",
        ctx.names.templates[node.id],
        "scope",
        Keyed("secrets=", expr(list(use.names))),
    )
    w.lay(step, 4, "return await ")


# --- worker module --------------------------------------------------------------------


# The exported worker reads the same TEMPORAL_TLS* settings as runloom itself.
_TLS_FROM_ENVIRONMENT = (
    "def _pem(name: str) -> bytes | None:",
    "    path = os.environ.get(name)",
    "    return Path(path).read_bytes() if path else None",
    "",
    "",
    "def tls_from_environment() -> TLSConfig | bool:",
    '    ca, cert = _pem("TEMPORAL_TLS_CA"), _pem("TEMPORAL_TLS_CERT")',
    '    key, name = _pem("TEMPORAL_TLS_KEY"), os.environ.get("TEMPORAL_TLS_SERVER_NAME")',
    '    flag = os.environ.get("TEMPORAL_TLS", "").lower()',
    '    implied = any((ca, cert, name, os.environ.get("TEMPORAL_API_KEY")))',
    '    if flag in ("0", "false") or not (flag in ("1", "true") or implied):',
    "        return False",
    "    return TLSConfig(",
    "        server_root_ca_cert=ca,",
    "        domain=name or None,",
    "        client_cert=cert,",
    "        client_private_key=key,",
    "    )",
)


def _worker_module(ctx: _Context) -> str:
    w = _Writer()
    w(
        '"""Run workflow '
        + comment_text(ctx.workflow_type)
        + " outside runloom: `python worker.py`."
    )
    w()
    w("Environment: TEMPORAL_ADDRESS (default localhost:7233), TEMPORAL_NAMESPACE (default")
    w("default), TASK_QUEUE (default " + comment_text(ctx.workflow_key) + ").")
    w("For a secured cluster or Temporal Cloud, as runloom reads them: TEMPORAL_TLS=1,")
    w("TEMPORAL_TLS_CA, TEMPORAL_TLS_SERVER_NAME, TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY")
    w("(PEM files) and TEMPORAL_API_KEY; any of them but TEMPORAL_TLS=0 turns TLS on.")
    if ctx.secrets:
        names = sorted({name for use in ctx.secrets.values() for name in use.names})
        w()
        w("Nodes of this workflow read project secrets: set each as an environment variable")
        w("RUNLOOM_SECRET_<NAME>, e.g. RUNLOOM_SECRET_API_TOKEN=... for secrets.API_TOKEN.")
        if names:
            w("Named in the code: " + ", ".join(comment_text(n) for n in names) + ".")
    w('"""')
    w()
    w("import asyncio")
    w("import os")
    w("from pathlib import Path")
    w()
    w("from temporalio.client import Client")
    w("from temporalio.service import TLSConfig")
    w("from temporalio.worker import Worker")
    w()
    w("import activities")
    w("import workflow")
    w()
    w.lay(expr(ctx.workflow_key), 0, "DEFAULT_TASK_QUEUE = ")
    w()
    w()
    for line in _TLS_FROM_ENVIRONMENT:
        w(line)
    w()
    w()
    w("async def main() -> None:")
    w('address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")', 4)
    w('namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")', 4)
    w('task_queue = os.environ.get("TASK_QUEUE", DEFAULT_TASK_QUEUE)', 4)
    w('api_key = os.environ.get("TEMPORAL_API_KEY") or None', 4)
    w("client = await Client.connect(", 4)
    w("address, namespace=namespace, tls=tls_from_environment(), api_key=api_key", 8)
    w(")", 4)
    w("worker = Worker(", 4)
    w("client,", 8)
    w("task_queue=task_queue,", 8)
    w("workflows=workflow.WORKFLOWS,", 8)
    w("activities=activities.ACTIVITIES,", 8)
    w(")", 4)
    words = ('"worker for"', "workflow.WORKFLOW_TYPE", '"polling task queue"', "task_queue")
    w.lay(call("print", *words, "flush=True"), 4)
    w("await worker.run()", 4)
    w()
    w()
    w('if __name__ == "__main__":')
    w("asyncio.run(main())", 4)
    return w.text()
