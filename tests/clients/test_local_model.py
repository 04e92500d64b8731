"""One smoke test of the embedded local model, end to end: the real
Qwen2.5-Coder-0.5B GGUF (fetched by `autolearn model fetch`, as `make test`
does) running in-process, through generate_skill over REST."""

import os
from pathlib import Path

import httpx2
import pytest

from conftest import Server

MODEL = Path(os.environ.get("AUTOLEARN_MODEL_DIR", Path.home() / ".cache/autolearn/models")) / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"


@pytest.mark.skipif(not MODEL.exists() and not os.environ.get("CI"), reason="run `autolearn model fetch` first")
def test_the_embedded_model_generates_a_skill_end_to_end(data_dir):
    s = Server(data_dir, ["--llm", "local"])
    try:
        base = s.url.rsplit("/mcp", 1)[0]
        with httpx2.Client(timeout=600) as h:
            health = h.get(base + "/healthz").json()
            assert health["llm"]["backend"] == "local", health
            r = h.post(base + "/api/skills/generate", json={
                "request": "Return the sum of a list of numbers.",
                "examples": [{"input": {"numbers": [1, 2, 3]}, "output": 6}, {"input": {"numbers": []}, "output": 0}],
                "candidates": 2,
            })
        assert r.status_code == 200, r.text
        out = r.json()
        # The pipeline ran on the real model: a spec and candidates were
        # generated and judged. A 0.5B model may still end in a draft or
        # with no passing candidate; then the reasons say why.
        assert out["llm_calls"] >= 3 or out["reasons"], out
        assert out["published"] or out["reasons"], out
        if out["published"]:
            assert out["trust"] >= 70
        print("local model:", {k: out[k] for k in ("published", "trust", "candidates", "llm_calls", "usage")})
    finally:
        s.close()


@pytest.mark.skipif(not MODEL.exists() and not os.environ.get("CI"), reason="run `autolearn model fetch` first")
def test_the_agent_runs_on_the_embedded_model(data_dir):
    """The consumer agent with the real local model, on the simplest smart
    example, against a real server: the model's tool calls (constrained
    decoding) reach AutoLearn as run_python steps, and the run ends with an
    answer or with a clean "no answer" (a 0.5B model is a weak agent; the
    point is that every part works with it)."""
    import json
    import subprocess

    from conftest import BIN, ROOT, server_env

    example = next(e for e in json.loads((ROOT / "examples/demo/examples.json").read_text())["examples"]
                   if e["id"] == "support_triage")
    prompt = f"{example['task']}\n\n```{example['lang']}\n{example['data']}```\n"
    s = Server(data_dir)
    try:
        env = server_env(data_dir)
        env["AUTOLEARN_LLM"] = "local"
        r = subprocess.run([str(BIN), "agent", "--url", s.url, "--max-steps", "2", "--json", "-"],
                           input=prompt, capture_output=True, text=True, env=env, timeout=1500)
        out = json.loads(r.stdout.strip().splitlines()[-1])
        print("local agent:", out)
        if r.returncode == 0:
            assert out["skill_used"] is None and out["answer"] is not None, out
            assert "run_python" in out["tools_called"] and out["llm_calls"] >= 2, out
            assert out["crystallized"] is not None, out
        else:
            assert out["error"]["kind"] == "agent", out
            assert out["error"]["message"].startswith("no answer after"), out
        traces = subprocess.run([str(BIN), "trace", "list", "--json"], capture_output=True, text=True,
                                env=server_env(data_dir), timeout=60)
        assert traces.returncode == 0, traces.stderr
        assert json.loads(traces.stdout), "the model's steps reached the server"
    finally:
        s.close()


@pytest.mark.skipif(not MODEL.exists() and not os.environ.get("CI"), reason="run `autolearn model fetch` first")
def test_a_generation_stopped_by_shutdown_frees_the_model_at_once(data_dir):
    """A server told to stop while the model decodes a batch of candidates
    stops the decode at its next token: it exits in seconds, cleanly,
    instead of decoding the whole batch for nobody and then polling a
    runtime that is gone."""
    import signal
    import time

    s = Server(data_dir, ["--llm", "local", "--drain-timeout-ms", "500"])
    try:
        base = s.url.rsplit("/mcp", 1)[0]
        request = {
            "request": "Group the words of a text by their first letter and count each group.",
            "examples": [{"input": {"text": "apple avocado banana"}, "output": {"a": 2, "b": 1}}],
            "candidates": 8,
        }
        # Long enough for the spec step; the candidates' batch is decoding.
        with httpx2.Client(timeout=20) as h, pytest.raises(httpx2.TimeoutException):
            h.post(base + "/api/skills/generate", json=request)
        started = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(timeout=120) == 0
        elapsed = time.monotonic() - started
        log = (data_dir / "server.log").read_text()
        assert "panicked" not in log, log
        assert elapsed < 10, f"{elapsed:.1f} s to stop"
    finally:
        s.close()
