"""generate_skill through MCP, REST and the CLI, with an OpenAI-compatible
endpoint (a local fake serving recorded answers)."""

import json
import os

import httpx2
import pytest
from mcp import Client

from conftest import BIN, Server, server_env

pytestmark = pytest.mark.anyio

EXAMPLES = [{"input": {"price": 100, "discount": 10}, "output": 90.0},
            {"input": {"price": 80, "discount": 25}, "output": 60.0}]


@pytest.fixture
def llm_server(data_dir, fake, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", fake.url)
    monkeypatch.setenv("AUTOLEARN_LLM", "openai")
    monkeypatch.setenv("AUTOLEARN_MODEL_REASONING", "fake-coder")
    s = Server(data_dir)
    yield s
    s.close()


async def test_generate_skill_over_mcp_publishes_a_tool(llm_server, fake):
    async with Client(llm_server.url) as client:
        r = await client.call_tool("generate_skill", {"request": "Apply a percentage discount to a price", "examples": EXAMPLES})
        assert not r.is_error, r.content
        out = r.structured_content
        assert out["published"] is True and out["skill"]["name"] == "net_price", out
        # 1 spec + 8 samples; four distinct programs.
        assert out["trust"] >= 70 and out["candidates"] == 4 and out["llm_calls"] == 9
        r = await client.call_tool("call_skill", {"name": "net_price", "input": {"price": 50, "discount": 50}})
        assert r.structured_content == {"result": 25.0}
    assert all(req["model"] == "fake-coder" for req in fake.requests)


async def test_a_drafts_questions_are_settled_by_a_follow_up_call(llm_server, fake):
    request = "Apply a percentage discount to a price; out-of-range discounts may clamp"
    async with Client(llm_server.url) as client:
        r = await client.call_tool("generate_skill", {"request": request, "examples": EXAMPLES, "name": "net_price"})
        out = r.structured_content
        assert out["published"] is False and out["skill"]["status"] == "draft", out
        assert out["questions"], out
        assert any(out["skill"]["id"] in reason for reason in out["reasons"]), out["reasons"]
        # The person's answers: a discount over 100 leaves nothing to pay,
        # and a negative one changes nothing (the clamping program's answers).
        answers = []
        for q in out["questions"]:
            price = q["input"]["price"]
            values = [c["outcome"]["value"] for c in q["choices"] if "value" in c["outcome"]]
            right = [v for v in values if isinstance(v, (int, float)) and 0 <= v <= abs(price)]
            answers.append({"input": q["input"], "output": right[0]} if right else {"input": q["input"], "invalid": True})
        asked = len(fake.requests)
        r = await client.call_tool("generate_skill", {"draft": out["skill"]["id"], "answers": answers})
        settled = r.structured_content
        assert not r.is_error, settled
        # The candidates of the first call were weighed again: no model call.
        assert len(fake.requests) == asked and settled["llm_calls"] == 0, settled
        got = (await client.call_tool("get_skill", {"name": "net_price"})).structured_content
        assert "max(0, min(100" in got["manifest"]["source"], got["manifest"]["source"]
        # A bad follow-up is a clear error, not a crash.
        from mcp.shared.exceptions import MCPError
        with pytest.raises(MCPError, match="not a skill id"):
            await client.call_tool("generate_skill", {"draft": "nope", "answers": answers})
        with pytest.raises(MCPError, match="answers"):
            await client.call_tool("generate_skill", {"draft": "ab" * 32, "answers": [{"input": {}, "output": 1, "invalid": True}]})
        gone = await client.call_tool("generate_skill", {"draft": "ab" * 32, "answers": answers})
        assert gone.is_error and gone.structured_content["error"]["kind"] == "not_found"


async def test_a_trusted_skill_whose_programs_return_different_values_waits_for_the_answers(llm_server, fake):
    """A REST or MCP client can answer afterwards, so values the candidates
    dispute wait for the person instead of the majority deciding."""
    base = llm_server.url.rsplit("/mcp", 1)[0]
    request = "Apply a percentage discount to a price; some would cap it"
    with httpx2.Client(timeout=60) as h:
        r = h.post(base + "/api/skills/generate", json={"request": request, "examples": EXAMPLES, "name": "net_price"})
        assert r.status_code == 200, r.text
        out = r.json()
    assert out["published"] is False and out["awaiting_answers"] is True, out
    assert out["trust"] >= 70 and out["skill"]["status"] == "draft", out
    assert "until you answer" in out["reasons"][0], out["reasons"]
    values = [q for q in out["questions"] if sum("value" in c["outcome"] for c in q["choices"]) > 1]
    assert values, out["questions"]
    # The person sides with the three programs that agree; the follow-up
    # comes over MCP, for the same tenant.
    answers = [{"input": q["input"], "output": q["choices"][0]["outcome"]["value"]}
               if "value" in q["choices"][0]["outcome"] else {"input": q["input"], "invalid": True}
               for q in out["questions"]]
    async with Client(llm_server.url) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert "net_price" not in names, names
        r = await client.call_tool("generate_skill", {"draft": out["skill"]["id"], "answers": answers})
        settled = r.structured_content
        assert not r.is_error and settled["published"] is True, settled
        assert settled["awaiting_answers"] is False and settled["llm_calls"] == 0, settled
        r = await client.call_tool("call_skill", {"name": "net_price", "input": {"price": 50, "discount": 50}})
        assert r.structured_content == {"result": 25.0}


def test_generate_over_rest_and_healthz_names_the_model(llm_server):
    base = llm_server.url.rsplit("/mcp", 1)[0]
    with httpx2.Client(timeout=60) as h:
        health = h.get(base + "/healthz").json()
        assert health["llm"]["backend"] == "openai" and health["llm"]["reasoning_model"] == "fake-coder"
        r = h.post(base + "/api/skills/generate", json={"request": "Apply a percentage discount to a price", "examples": EXAMPLES})
        assert r.status_code == 200, r.text
        assert r.json()["published"] is True
        bad = h.post(base + "/api/skills/generate", json={"nope": 1})
        assert bad.status_code == 400 and bad.json()["error"]["kind"] == "bad_request"


def test_a_generation_whose_client_gave_up_stops_asking_the_model(llm_server, fake):
    """Nothing keeps working for a client that went away: the generation
    it started stops at its next step, instead of sampling and repairing
    for nobody while it holds the tenant's share and the model."""
    import time
    fake.delay = 1.0
    base = llm_server.url.rsplit("/mcp", 1)[0]
    # No candidate reproduces this example: left alone, the pipeline would
    # go on to repair round after round.
    unreachable = [{"input": {"price": 100, "discount": 10}, "output": 1.5}]
    with httpx2.Client(timeout=1.5) as h, pytest.raises(httpx2.TimeoutException):
        h.post(base + "/api/skills/generate", json={"request": "Apply a percentage discount to a price",
                                                    "examples": unreachable})
    time.sleep(1.5)  # model calls in flight when it gave up end
    asked = len(fake.requests)
    time.sleep(4.0)
    assert len(fake.requests) == asked, f"{len(fake.requests) - asked} model calls after the client left"
    fake.delay = 0
    with httpx2.Client(timeout=60) as h:
        r = h.post(base + "/api/skills/generate", json={"request": "Apply a percentage discount to a price",
                                                        "examples": EXAMPLES})
        assert r.status_code == 200 and r.json()["published"] is True, r.text


def test_generate_on_the_cli(data_dir, fake):
    import subprocess
    env = {**server_env(data_dir), "OPENAI_BASE_URL": fake.url, "AUTOLEARN_LLM": "openai"}
    r = subprocess.run([str(BIN), "skill", "generate", "Apply a percentage discount to a price",
                        "--examples", json.dumps(EXAMPLES), "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["published"] is True and out["skill"]["name"] == "net_price"
    run = subprocess.run([str(BIN), "skill", "run", "net_price", "--input", '{"price": 10, "discount": 10}'],
                         env=env, capture_output=True, text=True, timeout=60)
    assert json.loads(run.stdout) == 9.0


def test_without_a_model_generation_is_a_clear_error_and_the_rest_works(server):
    base = server.url.rsplit("/mcp", 1)[0]
    with httpx2.Client(timeout=30) as h:
        r = h.post(base + "/api/skills/generate", json={"request": "anything"})
        assert r.status_code == 503 and r.json()["error"]["kind"] == "no_llm"
        assert "OPENAI_BASE_URL" in r.json()["error"]["message"]


async def test_every_decision_is_in_the_learnings_log_and_tampering_is_caught(llm_server, data_dir):
    import sqlite3
    import subprocess

    from conftest import cli

    async with Client(llm_server.url) as client:
        r = await client.call_tool("generate_skill", {"request": "Apply a percentage discount to a price", "examples": EXAMPLES})
        assert r.structured_content["published"] is True
        bad = await client.call_tool("create_skill", {"name": "inc", "description": "x", "entry": "f",
                                                      "code": "def f(x):\n    \"\"\"D.\"\"\"\n    return x\n",
                                                      "examples": [{"input": {"x": 1}, "output": 2}]})
        assert bad.is_error
        log = await client.read_resource("learnings://recent")
        entries = json.loads(log.contents[0].text)
    kinds = [(e["kind"], e["subject"]) for e in entries]
    assert ("decision", "net_price") in kinds and ("candidates", "net_price") in kinds and ("decision", "inc") in kinds
    assert any(k == "attempt" for k, _ in kinds)
    base = llm_server.url.rsplit("/mcp", 1)[0]
    with httpx2.Client(timeout=30) as h:
        rest = h.get(base + "/api/learnings", params={"limit": 500}).json()["learnings"]
    assert [e["seq"] for e in rest] == [e["seq"] for e in entries]

    ok = cli(data_dir, "audit", "verify")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    victim = entries[1]["seq"]
    with sqlite3.connect(data_dir / "autolearn.db") as db:
        db.execute("UPDATE learnings SET detail = '{\"published\": true}' WHERE seq = ?", (victim,))
    broken = cli(data_dir, "audit", "verify")
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["error"]["seq"] == victim


async def test_kpis_and_trust_show_in_tool_meta_get_skill_and_rest(llm_server, data_dir):
    from conftest import cli

    async with Client(llm_server.url) as client:
        r = await client.call_tool("generate_skill", {"request": "Apply a percentage discount to a price", "examples": EXAMPLES})
        trust = r.structured_content["trust"]
        tool = next(t for t in (await client.list_tools()).tools if t.name == "net_price")
        meta = tool.meta["autolearn/skill"]
        assert meta["trust"] == trust and meta["provenance"] == "generated"
        assert meta["kpis"]["agreement"] > 0 and meta["kpis"]["deterministic"] is True
        got = (await client.call_tool("get_skill", {"name": "net_price"})).structured_content
        assert got["trust"] == trust
    base = llm_server.url.rsplit("/mcp", 1)[0]
    with httpx2.Client(timeout=30) as h:
        assert h.get(base + "/api/skills/net_price").json()["trust"] == trust
        assert h.get(base + "/api/skills/nope").status_code == 404
    shown = json.loads(cli(data_dir, "skill", "show", "net_price").stdout)
    assert shown["trust"] == trust


async def test_generate_borrows_the_clients_model_through_sampling(server):
    """No model of our own: a legacy client that offers sampling lends its own."""
    from mcp import types

    from fake_openai import CANDIDATES, SPEC

    asked = []

    async def sample(context, params):
        prompt = params.messages[-1].content.text if hasattr(params.messages[-1].content, "text") else str(params.messages[-1].content)
        asked.append((params.temperature, prompt[:40]))
        if any("Design a function" in (m.content.text if hasattr(m.content, "text") else "") for m in params.messages):
            text = json.dumps(SPEC)
        else:
            text = f"```python\n{CANDIDATES.get(f'{params.temperature:.1f}', '')}```"
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text=text), model="client-model")

    async with Client(server.url, mode="legacy", sampling_callback=sample) as client:
        r = await client.call_tool("generate_skill", {"request": "Apply a percentage discount to a price", "examples": EXAMPLES})
        assert not r.is_error, r.content
        assert r.structured_content["published"] is True
        r = await client.call_tool("net_price", {"price": 200, "discount": 5})
        assert r.structured_content == {"result": 190.0}
    assert len(asked) == 9  # 1 spec + 8 samples
    # A client that does not offer sampling gets the clear error.
    async with Client(server.url, mode="legacy") as plain:
        r = await plain.call_tool("generate_skill", {"request": "anything"})
        assert r.is_error and r.structured_content["error"]["kind"] == "no_llm"
