"""`make hosted`'s script brings the cluster up: PostgreSQL, two replicas
and HAProxy on loopback; a Python SDK client works through the balancer
(sticky sessions, list_changed from the other replica) and the balancer
keeps /metrics private. Runs the debug binary on ports of its own."""

import os
import shutil
import subprocess

import anyio
import httpx2
import pytest
from mcp import Client

from conftest import BIN, ROOT

pytestmark = pytest.mark.anyio

# Ports and a directory of its own, beside a `make hosted` the user runs.
PORTS = {"HOSTED_PORT": "18780", "HOSTED_REPLICA_PORTS": "18781 18782", "HOSTED_PG_PORT": "25435",
         "HOSTED_DIR": "target/hosted-test"}


@pytest.fixture
def hosted():
    if shutil.which("haproxy") is None and os.geteuid() != 0:
        pytest.fail("make hosted needs haproxy: apt-get install haproxy")
    env = {**os.environ, **PORTS, "AUTOLEARN_BIN_RELEASE": str(BIN)}
    script = str(ROOT / "deploy/hosted.sh")
    # A fresh cluster: a skill left by an earlier run would not be new.
    subprocess.run([script, "down"], env=env, capture_output=True, timeout=120)
    shutil.rmtree(ROOT / PORTS["HOSTED_DIR"], ignore_errors=True)
    up = subprocess.run([script, "up"], env=env, capture_output=True, text=True, timeout=600)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        url = next(l.split()[3] for l in up.stdout.splitlines() if "AutoLearn at" in l)
        yield url
    finally:
        subprocess.run([script, "down"], env=env, capture_output=True, timeout=120)


async def test_the_hosted_cluster_serves_through_its_balancer(hosted):
    base = hosted.rstrip("/")
    assert base == "http://127.0.0.1:18780"
    async with httpx2.AsyncClient() as http:
        assert (await http.get(f"{base}/readyz")).status_code == 200
        assert (await http.get(f"{base}/metrics")).status_code == 404
        r = await http.get(f"{base}/healthz")
        assert r.headers.get("x-request-id"), r.headers
    seen = []

    async def note(message):
        if "ToolListChanged" in repr(message) or "tools/list_changed" in repr(message):
            seen.append(message)

    # Two sessions: round robin puts them on different replicas, and each
    # stays on its own (sticky on Mcp-Session-Id) for all its requests.
    async with Client(f"{base}/mcp", mode="legacy") as author, \
            Client(f"{base}/mcp", mode="legacy", message_handler=note) as watcher:
        await watcher.list_tools()
        r = await author.call_tool("create_skill", {
            "name": "inc", "description": "Add one.", "entry": "f",
            "code": "def f(x):\n    \"\"\"Add one.\"\"\"\n    return x + 1\n",
            "examples": [{"input": {"x": 1}, "output": 2}],
        })
        assert not r.is_error, r.content
        with anyio.fail_after(10):
            while not seen:
                await anyio.sleep(0.01)
        for i in range(20):
            r = await watcher.call_tool("inc", {"x": i})
            assert r.structured_content == {"result": i + 1}, r
    # Both replicas served requests (their JSON logs carry request ids).
    logs = [(ROOT / f"target/hosted-test/replica{n}.log").read_text() for n in (1, 2)]
    assert all('"request_id"' in log for log in logs)
