"""Traces and skills in every client: the README walkthrough with the SDK's
default (stateless, 2026-07-28) `mcp.Client`, explicit trace ids, minimal
skills from messy traces, and traces that outlive the server."""

import json
import signal

import anyio
import pytest
from mcp import Client

from conftest import Server, cli

pytestmark = pytest.mark.anyio

TEXT = "the quick brown fox"


def structured(result):
    assert result.structured_content is not None, result
    return result.structured_content


async def walkthrough(client):
    """The README's two-minute walkthrough, exactly as written there."""
    r1 = structured(await client.call_tool("run_python", {"code": "words = text.split()\nwords", "inputs": {"text": TEXT}}))
    assert r1["value"] == TEXT.split() and r1["step"] >= 1 and r1["trace"]
    r2 = structured(await client.call_tool(
        "run_python", {"code": "round(sum(len(w) for w in words) / len(words), 3)", "inputs": {"words": r1["value"]}}))
    assert r2["value"] == 4.0
    assert r2["trace"] == r1["trace"] and r2["step"] == r1["step"] + 1
    r = await client.call_tool("crystallize", {"request": "Average word length of a text", "name": "avg_word_length"})
    assert not r.is_error, r.content
    skill = structured(r)["skill"]
    assert skill["name"] == "avg_word_length"
    assert list(skill["input_schema"]["properties"]) == ["text"]
    return skill


async def test_the_readme_walkthrough_with_the_default_stateless_client(server):
    async with Client(server.url) as client:
        await walkthrough(client)
        r = await client.call_tool("call_skill", {"name": "avg_word_length", "input": {"text": "a bb ccc dddd"}})
        assert structured(r) == {"result": 2.5}
        # By name too: a fresh list shows it (and a stateless client lists anew).
        assert "avg_word_length" in {t.name for t in (await client.list_tools()).tools}
        r = await client.call_tool("avg_word_length", {"text": "hello world"})
        assert structured(r) == {"result": 5.0}


async def test_the_readme_walkthrough_with_a_legacy_session(server):
    async with Client(server.url, mode="legacy") as client:
        await walkthrough(client)
        r = await client.call_tool("call_skill", {"name": "avg_word_length", "input": {"text": "a bb ccc dddd"}})
        assert structured(r) == {"result": 2.5}
        r = await client.call_tool("avg_word_length", {"text": "hello world"})
        assert structured(r) == {"result": 5.0}


async def test_the_composed_source_has_no_dead_statements(server):
    async with Client(server.url) as client:
        await walkthrough(client)
        source = structured(await client.call_tool("get_skill", {"name": "avg_word_length"}))["manifest"]["source"]
        lines = [line.strip() for line in source.splitlines()]
        assert "words = text.split()" in lines
        assert "words" not in lines, source  # the bare `words` of the first cell is gone


async def test_two_agents_with_their_own_trace_ids_do_not_mix(server):
    async def agent(client, trace, text, scale):
        for _ in range(3):  # interleave with the other agent
            r1 = structured(await client.call_tool("run_python", {
                "code": "n = len(text)", "inputs": {"text": text}, "trace": trace}))
            assert r1["trace"] == trace
            await anyio.sleep(0.01)
        r2 = structured(await client.call_tool("run_python", {
            "code": f"n * {scale}", "inputs": {"n": len(text)}, "trace": trace}))
        assert r2["value"] == len(text) * scale

    async with Client(server.url) as a, Client(server.url) as b:
        async with anyio.create_task_group() as tg:
            tg.start_soon(agent, a, "agent-a", "alpha beta", 10)
            tg.start_soon(agent, b, "agent-b", "gamma", 100)
        ra = structured(await a.call_tool("crystallize", {"request": "Ten times the length", "name": "ten_len", "trace": "agent-a"}))
        rb = structured(await b.call_tool("crystallize", {"request": "Hundred times the length", "name": "hundred_len", "trace": "agent-b"}))
        assert ra["published"] and rb["published"]
        assert structured(await a.call_tool("ten_len", {"text": "abc"})) == {"result": 30}
        assert structured(await b.call_tool("hundred_len", {"text": "abc"})) == {"result": 300}


async def test_failed_attempts_and_unrelated_cells_are_left_out(server):
    async with Client(server.url) as client:
        t = {"trace": "messy"}
        bad = await client.call_tool("run_python", {"code": "totals = sum(x['amount'] for x in orders)\ntotals", "inputs": {"orders": [{"amt": 5}, {"amt": 7}]}, **t})
        assert bad.is_error
        unrelated = await client.call_tool("run_python", {"code": "import math\nmath.pi * 2", **t})
        assert not unrelated.is_error
        good = structured(await client.call_tool("run_python", {
            "code": "total = sum(o['amt'] for o in orders)\ntotal", "inputs": {"orders": [{"amt": 5}, {"amt": 7}]}, **t}))
        assert good["value"] == 12
        final = structured(await client.call_tool("run_python", {
            "code": "f'{total:.2f} EUR'", "inputs": {"total": 12}, **t}))
        assert final["value"] == "12.00 EUR"
        r = await client.call_tool("crystallize", {"request": "Format the total of orders", "name": "order_total", **t})
        assert not r.is_error, r.content
        source = structured(await client.call_tool("get_skill", {"name": "order_total"}))["manifest"]["source"]
        assert "x['amount']" not in source and "math" not in source, source
        assert "o['amt']" in source
        r = await client.call_tool("order_total", {"orders": [{"amt": 1.5}, {"amt": 2}]})
        assert structured(r) == {"result": "3.50 EUR"}


async def test_trace_list_and_show_on_the_cli(server, data_dir):
    async with Client(server.url) as client:
        await client.call_tool("run_python", {"code": "x * 2", "inputs": {"x": 21}, "trace": "cli-demo"})
    listed = json.loads(cli(data_dir, "trace", "list", "--json").stdout)
    demo = next(t for t in listed if t["id"] == "cli-demo")
    assert demo["steps"] == 1 and demo["kind"] == "explicit" and not demo["closed"]
    shown = json.loads(cli(data_dir, "trace", "show", "cli-demo").stdout)
    assert shown["steps"][0]["value"] == 42
    assert cli(data_dir, "trace", "show", "nope").returncode == 2


def test_traces_survive_a_kill_during_a_step_and_crystallize_afterwards(data_dir):
    async def steps(url):
        async with Client(url) as client:
            await client.call_tool("run_python", {"code": "prices = [p * 1.2 for p in net]", "inputs": {"net": [10, 20]}, "trace": "durable"})
            await client.call_tool("run_python", {"code": "round(sum(prices), 2)", "inputs": {"prices": [12.0, 24.0]}, "trace": "durable"})

    async def slow_step(url):
        async with Client(url) as client:
            await client.call_tool("run_python", {"code": "import time\ntime.sleep(1.5)", "trace": "durable"})

    s = Server(data_dir)
    anyio.run(steps, s.url)
    # kill -9 while a third step is running: the two recorded steps stay.

    async def kill_mid_step():
        async with anyio.create_task_group() as tg:
            async def attempt():
                try:
                    await slow_step(s.url)
                except Exception:  # noqa: BLE001 - the server dies under it
                    pass
            tg.start_soon(attempt)
            await anyio.sleep(0.5)
            s.proc.send_signal(signal.SIGKILL)
    anyio.run(kill_mid_step)
    s.proc.wait(timeout=10)
    s.close()

    listed = json.loads(cli(data_dir, "trace", "list", "--json").stdout)
    assert next(t for t in listed if t["id"] == "durable")["steps"] == 2
    r = cli(data_dir, "skill", "crystallize", "--trace", "durable", "--request", "Gross total of net prices", "--name", "gross_total")
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["published"] is True
    out = cli(data_dir, "skill", "run", "gross_total", "--input", '{"net": [100]}')
    assert json.loads(out.stdout) == 120.0

    s2 = Server(data_dir)
    try:
        async def after(url):
            async with Client(url) as client:
                r = await client.call_tool("call_skill", {"name": "gross_total", "input": {"net": [5, 5]}})
                return structured(r)
        assert anyio.run(after, s2.url) == {"result": 12.0}
    finally:
        s2.close()


def _learnings(url):
    import httpx2
    with httpx2.Client(timeout=10) as h:
        return h.get(url.rsplit("/mcp", 1)[0] + "/api/learnings", params={"limit": 500}).json()["learnings"]


# `publish` publishes only a trace whose result the agent reported back as
# its answer; without that, or in `suggest` mode, the skill is a draft.
@pytest.mark.parametrize("mode, answer, status", [
    ("publish", True, "published"), ("publish", False, "draft"), ("suggest", True, "draft")])
async def test_autolearn_keeps_worthwhile_work_nobody_crystallized(data_dir, mode, answer, status):
    s = Server(data_dir, ["--auto-crystallize", mode, "--auto-crystallize-after-secs", "1"])
    try:
        async with Client(s.url, mode="legacy") as client:
            await client.call_tool("run_python", {
                "code": "sorted({w.strip('.,').lower() for w in text.split()})",
                "inputs": {"text": "The cat. The hat, the bat."}, "answer": answer})
        async with Client(s.url) as other:  # stateless: the tenant's open trace
            await other.call_tool("run_python", {"code": "1 + 1"})
        with anyio.fail_after(20):
            while True:
                verdicts = [e for e in _learnings(s.url) if e["kind"] == "auto_crystallize"]
                if len(verdicts) >= 2:
                    break
                await anyio.sleep(0.3)
        kept = [v for v in verdicts if v["detail"]["kept"]]
        assert len(kept) == 1, verdicts
        assert any("no inputs" in v["detail"]["reason"] for v in verdicts if not v["detail"]["kept"]), verdicts
        name = kept[0]["detail"]["skill"]
        async with Client(s.url) as client:
            hits = structured(await client.call_tool("search_skills", {"query": "text"}))["skills"]
            hit = next(h for h in hits if h["name"] == name)
            assert hit["status"] == status
            r = await client.call_tool("call_skill", {"name": name, "input": {"text": "B a b"}})
            if status == "published":
                assert structured(r) == {"result": ["a", "b"]}
            else:
                assert r.is_error  # a draft is a suggestion, not a tool
    finally:
        s.close()


async def test_a_small_computation_seen_in_several_traces_becomes_a_skill(data_dir):
    s = Server(data_dir, ["--auto-crystallize", "publish", "--auto-crystallize-after-secs", "1"])
    try:
        # Too small to be a skill once (under 24 characters of code), but
        # three agents' sessions repeat it on their own inputs.
        for x in (3, 10, 41):
            async with Client(s.url, mode="legacy") as client:
                await client.call_tool("run_python", {"code": "(x * 9) // 5 + 32", "inputs": {"x": x}, "answer": True})
        with anyio.fail_after(30):
            while True:
                verdicts = [e for e in _learnings(s.url) if e["kind"] == "auto_crystallize"]
                if len(verdicts) >= 3:
                    break
                await anyio.sleep(0.3)
        kept = [v["detail"] for v in verdicts if v["detail"]["kept"]]
        assert len(kept) == 1, verdicts
        assert kept[0]["reason"] == "a pattern seen in 3 traces", kept
        waiting = [v["detail"]["reason"] for v in verdicts if not v["detail"]["kept"]]
        assert sorted(waiting) == [
            "17 characters of code: too small to be worth a skill (its pattern is in 1 of the 3 traces that would make it one)",
            "17 characters of code: too small to be worth a skill (its pattern is in 2 of the 3 traces that would make it one)",
        ], verdicts
        async with Client(s.url) as client:
            r = await client.call_tool("call_skill", {"name": kept[0]["skill"], "input": {"x": 100}})
            assert structured(r) == {"result": 212}
    finally:
        s.close()
