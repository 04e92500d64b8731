"""schemathesis (PyPI) against the real binary's /api/openapi.json: it
generates valid and invalid requests for every documented operation; no
answer may be a 5xx, and every answer must match the documented status
codes, content type and schema.

The server has a published skill, a draft, and a practice project in
progress, so the skill and learning operations answer with real data, not
only with 404s and 409s. There is no model (`AUTOLEARN_LLM=none`): the
operations that need one must refuse cleanly (503), which is checked too.
"""

import json
import re
import subprocess
import urllib.request
from pathlib import Path

from conftest import ROOT, Server, cli

ST = Path(ROOT, ".venv/bin/st")
WORDS = "def word_count(text):\n    \"\"\"Count words.\"\"\"\n    return {'words': len(text.split())}\n"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# A server error is any 5xx but one: 503 is the documented refusal of the
# operations that need a model when none is configured (checked above).
CONFIG = """
[checks.not_a_server_error]
expected-statuses = ["2XX", "3XX", "4XX", "503"]
"""


def request(url, method="GET", body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def test_every_response_matches_the_openapi_description(data_dir, tmp_path):
    code = tmp_path / "wc.py"
    code.write_text(WORDS)
    added = cli(data_dir, "skill", "add", str(code), "--name", "word_count", "--entry", "word_count",
                "--description", "Count the words in a text.",
                "--examples", '[{"input": {"text": "a b c"}, "output": {"words": 3}}]')
    assert added.returncode == 0, added.stderr
    server = Server(data_dir)
    try:
        base = server.url.removesuffix("/mcp")
        status, started = request(f"{base}/api/learning/project/start", "POST")
        assert status == 200 and started["started"] is True, started
        status, refused = request(f"{base}/api/learning/project/work", "POST", {"hours": 0.1})
        assert (status, refused["error"]["kind"]) == (503, "no_llm"), refused
        status, refused = request(f"{base}/api/skills/generate", "POST", {"request": "Double x."})
        assert (status, refused["error"]["kind"]) == (503, "no_llm"), refused
        status, skill = request(f"{base}/api/skills/word_count/run", "POST", {"input": {"text": "x y"}})
        assert status == 200 and skill["result"] == {"words": 2}, skill

        config = tmp_path / "schemathesis.toml"
        config.write_text(CONFIG)
        run = subprocess.run(
            [str(ST), "--no-color", "--config-file", str(config), "run", f"{base}/api/openapi.json", "--checks", CHECKS,
             "--max-examples", "25", "--seed", "1", "--workers", "1", "--request-timeout", "30",
             "--phases", "examples,coverage,fuzzing"],
            capture_output=True, text=True, timeout=900, cwd=tmp_path,
        )
        out = run.stdout + run.stderr
        assert run.returncode == 0, out[-6000:]
        # It really tested every documented operation, many times.
        assert re.search(r"Tested: 22\b", out), out[-3000:]
        cases = re.search(r"(\d+) generated, (\d+) passed", out)
        assert cases and cases[1] == cases[2] and int(cases[1]) >= 300, out[-3000:]
        # And the server is still serving.
        status, health = request(f"{base}/api/learning/status")
        assert status == 200 and health["running"] is True
    finally:
        server.close()
