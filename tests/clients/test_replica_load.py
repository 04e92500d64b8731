"""Load across two replicas on one PostgreSQL: 8 concurrent clients (the
official MCP Python SDK, one process each) x 2,000 tool calls, 0 errors,
every result checked; then the same load on one replica alone, in the
same run, for the ratio."""

import json
import multiprocessing
import time

import anyio
import pytest
from mcp import Client

from conftest import BIN, ROOT, Server

CLIENTS = 8
CALLS = 2000


def client_process(url, worker, calls, out):
    async def run():
        errors, wrong = 0, 0
        async with Client(url, mode="legacy") as c:
            for i in range(calls):
                x = worker * 1_000_000 + i
                r = await c.call_tool("inc", {"x": x})
                if r.is_error:
                    errors += 1
                elif r.structured_content != {"result": x + 1}:
                    wrong += 1
        return errors, wrong
    try:
        out.put(anyio.run(run))
    except Exception as e:  # reported, and counted as a failure
        out.put((calls, repr(e)))


def load(urls):
    """CLIENTS processes, spread over `urls`; returns (errors, calls/s)."""
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=client_process, args=(urls[i % len(urls)], i, CALLS, out))
             for i in range(CLIENTS)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get(timeout=900) for _ in procs]
    elapsed = time.perf_counter() - started
    for p in procs:
        p.join(timeout=60)
    return results, CLIENTS * CALLS / elapsed


def test_eight_clients_times_two_thousand_calls_across_two_replicas(tmp_path, pg_database):
    env = {"AUTOLEARN_DATABASE_URL": pg_database}
    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    a, b = Server(dirs[0], env=env), Server(dirs[1], env=env)
    try:
        async def publish():
            async with Client(a.url, mode="legacy") as c:
                r = await c.call_tool("create_skill", {
                    "name": "inc", "description": "Add one.", "entry": "f",
                    "code": "def f(x):\n    \"\"\"Add one.\"\"\"\n    return x + 1\n",
                    "examples": [{"input": {"x": 1}, "output": 2}],
                })
                assert not r.is_error, r.content
        anyio.run(publish)
        two, two_rate = load([a.url, b.url])
        one, one_rate = load([a.url])
    finally:
        a.close()
        b.close()
    assert two == [(0, 0)] * CLIENTS, two
    assert one == [(0, 0)] * CLIENTS, one
    figures = {
        "clients": CLIENTS, "calls_per_client": CALLS,
        "two_replicas_calls_per_s": round(two_rate, 1),
        "one_replica_calls_per_s": round(one_rate, 1),
        "ratio_two_over_one": round(two_rate / one_rate, 3),
        "binary": str(BIN),
        "note": "2 cores shared by the 8 client processes, both replicas and PostgreSQL",
    }
    (ROOT / "target/figures").mkdir(parents=True, exist_ok=True)
    (ROOT / "target/figures/replica_load.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(figures)
