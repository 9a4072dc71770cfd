from __future__ import annotations

import json

import httpx
import pytest
from temporalio.exceptions import ApplicationError

from runloom_runtime import http, python_node


def _transport(status: int, body: bytes, content_type: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-k"] == "v"
        return httpx.Response(status, content=body, headers={"content-type": content_type})

    return httpx.MockTransport(handler)


async def test_http_decodes_json() -> None:
    result = await http.perform(
        {"method": "post", "url": "http://t/x", "headers": {"x-k": "v"}, "body": {"a": 1}},
        transport=_transport(201, b'{"ok": true}', "application/json"),
    )
    assert result["output"]["status"] == 201
    assert result["output"]["body"] == {"ok": True}


async def test_http_keeps_text() -> None:
    result = await http.perform(
        {"url": "http://t/x", "headers": {"x-k": "v"}},
        transport=_transport(200, b"hi", "text/plain"),
    )
    assert result["output"]["body"] == "hi"


async def test_http_non_2xx_fails_retryably_unless_disabled() -> None:
    with pytest.raises(ApplicationError) as caught:
        await http.perform(
            {"url": "http://t/x", "headers": {"x-k": "v"}},
            transport=_transport(503, b"", "text/plain"),
        )
    assert caught.value.message == "GET http://t/x answered HTTP 503"
    assert not caught.value.non_retryable
    result = await http.perform(
        {"url": "http://t/x", "headers": {"x-k": "v"}, "fail_on_status": False},
        transport=_transport(404, b"", "text/plain"),
    )
    assert result["output"]["status"] == 404


async def test_python_node_runs_body_with_arguments() -> None:
    code = "total = sum(input['xs'])\nreturn {'total': total, 'item': item, 'seen': sorted(steps)}"
    result = await python_node.run(
        code, {"input": {"xs": [1, 2]}, "steps": {"a": 1}, "item": 7}, node_id="n"
    )
    assert result == {"output": {"total": 3, "item": 7, "seen": ["a"]}, "attempt": None}


async def test_python_node_error_keeps_message_and_type() -> None:
    with pytest.raises(ApplicationError) as caught:
        await python_node.run("raise KeyError('sku')", {}, node_id="n")
    assert caught.value.message == "KeyError: 'sku'"
    assert caught.value.type == "KeyError"
    assert not caught.value.non_retryable


async def test_python_node_result_must_be_json() -> None:
    with pytest.raises(ApplicationError, match="not JSON") as caught:
        await python_node.run("return {1, 2}", {}, node_id="n")
    assert caught.value.non_retryable


def test_python_node_line_numbers_match_user_code() -> None:
    function = python_node.build_function("x = 1\n\nraise ValueError(x)", node_id="lines")
    with pytest.raises(ValueError) as caught:
        function(None, None)
    assert caught.traceback[-1].lineno + 1 == 3  # pytest's lineno is 0-based


@pytest.mark.parametrize("code", ["return (", "yield 1", "await x"])
def test_python_node_check_rejects(code: str) -> None:
    with pytest.raises(SyntaxError):
        python_node.check_code(code, node_id="n")


def test_python_body_with_nested_strings_is_not_reindented() -> None:
    code = 'text = """\n  keep\n"""\nreturn text'
    assert python_node.build_function(code, node_id="s")(None, None) == "\n  keep\n"
    assert json.dumps(python_node.build_function("return None", node_id="t")(None, None)) == "null"
