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
