"""Asking the person, and tasks that outlive their server, with the official
Python SDK (mcp 2.3.0, protocol 2026-07-28) against the real binary and a
fake OpenAI endpoint whose two candidate programs split on out-of-range
discounts.

- generate_skill's questions arrive as an input-required result; the SDK
  hands each to its elicitation callback and retries; the answers settle
  the draft. A changed or foreign request state, an answer that breaks
  its schema, and a retry that answers nothing are refused.
- A generation running as a task ends `failed`, saying why, when its
  server is killed (found by the next server) or shuts down.
"""

import json
import signal
import time

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitResult, InputRequiredResult

from conftest import Server, cli

pytestmark = pytest.mark.anyio

EXAMPLES = [{"input": {"price": 100, "discount": 10}, "output": 90.0},
            {"input": {"price": 80, "discount": 25}, "output": 60.0}]
# "clamp": the fake's candidates split, so there are questions.
SPLIT = {"request": "Apply a percentage discount to a price; out-of-range discounts may clamp",
         "examples": EXAMPLES, "name": "net_price"}


@pytest.fixture
def llm_env(fake):
    return {"OPENAI_BASE_URL": fake.url, "AUTOLEARN_LLM": "openai", "AUTOLEARN_MODEL_REASONING": "fake-coder"}


@pytest.fixture
def tenants(data_dir, llm_env):
    keys = {}
    for name in ("acme", "globex"):
        out = cli(data_dir, "tenant", "create", name)
        assert out.returncode == 0, out.stderr
        keys[name] = out.stdout.strip()
    s = Server(data_dir, env=llm_env)
    yield s, keys
    s.close()


def with_key(server, key):
    return streamable_http_client(server.url, http_client=httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key}"}, timeout=60))


async def test_questions_are_answered_through_input_required_results(tenants):
    server, keys = tenants
    asked = []

    async def person(context, params):
        asked.append(params)
        return ElicitResult(action="accept", content={"choice": "1"})

    async with Client(with_key(server, keys["acme"]), elicitation_callback=person) as client:
        r = await client.call_tool("generate_skill", SPLIT)
        assert not r.is_error, r.content
        out = r.structured_content
        assert asked, "the SDK was asked"
        assert "disagree" in asked[0].message and "choice" in json.dumps(asked[0].requested_schema)
        # The answers settled the draft without another model call.
        assert out["skill"]["name"] == "net_price" and out["llm_calls"] == 0, out


async def test_an_input_required_state_is_checked(tenants):
    server, keys = tenants
    async with Client(with_key(server, keys["acme"]), elicitation_callback=lambda c, p: None) as client:
        first = await client.session.call_tool("generate_skill", SPLIT, allow_input_required=True)
        assert isinstance(first, InputRequiredResult), first
        keys_asked = list(first.input_requests)
        state = first.request_state

        def answers(content):
            return {k: {"action": "accept", "content": content} for k in keys_asked}

        async def retry(state, responses, on=client):
            return await on.session.call_tool("generate_skill", SPLIT, input_responses=responses,
                                              request_state=state, allow_input_required=True)

        tampered = state[:-1] + ("B" if state[-1] == "A" else "A")
        with pytest.raises(MCPError, match="integrity"):
            await retry(tampered, answers({"choice": "1"}))
        with pytest.raises(MCPError, match="schema"):
            await retry(state, answers({"choice": 2}))
        with pytest.raises(MCPError, match="none of the questions"):
            await retry(state, {})
        async with Client(with_key(server, keys["globex"])) as stranger:
            with pytest.raises(MCPError, match="another tenant"):
                await retry(state, answers({"choice": "1"}), on=stranger)
        done = await retry(state, answers({"choice": "1"}))
        assert done.structured_content["skill"]["name"] == "net_price", done


# Raw 2026-07-28 requests for the Tasks extension, which mcp 2.3.0 does not
# speak: one JSON-RPC request per POST, with the routing headers.
def rpc(url, method, params, tasks=True, id=1):
    caps = {"extensions": {"io.modelcontextprotocol/tasks": {}}} if tasks else {}
    params = {**params, "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                                  "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "1"},
                                  "io.modelcontextprotocol/clientCapabilities": caps}}
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
               "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method}
    name = params.get("taskId") or params.get("name")
    if name:
        headers["Mcp-Name"] = name
    r = httpx2.post(url, json={"jsonrpc": "2.0", "id": id, "method": method, "params": params},
                    headers=headers, timeout=30)
    text = r.text
    if r.headers.get("content-type", "").startswith("text/event-stream"):
        text = [line[5:] for line in text.splitlines() if line.startswith("data:") and line[5:].strip()][-1]
    return json.loads(text)


def until_terminal(url, task_id, seconds=40):
    deadline = time.monotonic() + seconds
    while True:
        got = rpc(url, "tasks/get", {"taskId": task_id})["result"]
        if got["status"] in ("completed", "failed", "cancelled") or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


@pytest.mark.parametrize("how", ["killed", "shut down"])
def test_a_task_whose_server_stops_ends_failed_with_the_reason(data_dir, fake, llm_env, how):
    fake.delay = 2.0  # each model answer takes 2 s: the generation is still working
    s = Server(data_dir, env=llm_env)
    try:
        created = rpc(s.url, "tools/call", {"name": "generate_skill", "arguments": SPLIT})["result"]
        assert created["resultType"] == "task", created
        task_id = created["taskId"]
        assert rpc(s.url, "tasks/get", {"taskId": task_id})["result"]["status"] == "working"
        if how == "killed":
            s.proc.send_signal(signal.SIGKILL)
            s.proc.wait(timeout=20)
        else:
            assert s.stop() == 0
            # The generation still waiting for the model was stopped before
            # the runtime ended, not left to poll a runtime that is gone.
            log = (data_dir / "server.log").read_text()
            assert "panicked" not in log, log
    finally:
        s.close()
    fake.delay = 0
    again = Server(data_dir, env=llm_env)
    try:
        got = until_terminal(again.url, task_id)
        assert got["status"] == "failed", got
        assert "result" not in got and got["error"]["code"] == -32603, got
        reason = "stopped before it finished" if how == "killed" else "shut down before it finished"
        assert reason in got["error"]["message"], got
        # The server serves on: a new generation runs to its end.
        plain = {"request": "Apply a percentage discount to a price", "examples": EXAMPLES, "name": "net_price"}
        created = rpc(again.url, "tools/call", {"name": "generate_skill", "arguments": plain})["result"]
        done = until_terminal(again.url, created["taskId"])
        assert done["status"] == "completed" and not done["result"].get("isError"), done
    finally:
        again.close()
