"""Two replicas of the real binary on one PostgreSQL, through the official
MCP Python SDK: a skill published on one reaches a client of the other as
`tools/list_changed`; quotas hold across both; `/metrics` parses and its
counters add up to the calls made."""

import json
import time
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import ROOT, Server, cli

pytestmark = pytest.mark.anyio

FIGURES = ROOT / "target/figures"


def record(name, figures):
    """Keep measured figures for the docs and the closing note."""
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")


class Cluster:
    def __init__(self, tmp, database_url, n=2):
        self.env = {"AUTOLEARN_DATABASE_URL": database_url}
        self.dirs = [Path(tmp) / f"replica{i}" for i in range(n)]
        for d in self.dirs:
            d.mkdir()
        self.replicas = []

    def start(self):
        self.replicas = [Server(d, env=self.env) for d in self.dirs]
        return self

    def cli(self, *args):
        return cli(self.dirs[0], "--database-url", self.env["AUTOLEARN_DATABASE_URL"], *args)

    def close(self):
        for r in self.replicas:
            r.close()


@pytest.fixture
def cluster(tmp_path, pg_database):
    c = Cluster(tmp_path, pg_database)
    yield c
    c.close()


def keyed(url, key):
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return streamable_http_client(url, http_client=client)


def new_tenant(cluster, name):
    out = cluster.cli("tenant", "create", name)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


class Notes:
    def __init__(self):
        self.changed_at = []

    async def __call__(self, message):
        if "tools/list_changed" in repr(message) or "ToolListChanged" in repr(message):
            self.changed_at.append(time.perf_counter())


def skill(name, body="return x + 1"):
    return {
        "name": name, "description": f"The {name} skill.", "entry": "f",
        "code": f"def f(x):\n    \"\"\"Doc.\"\"\"\n    {body}\n",
        "examples": [{"input": {"x": 1}, "output": 2}],
    }


async def test_a_skill_published_on_one_replica_reaches_a_client_of_the_other(cluster):
    key = new_tenant(cluster, "acme")
    a, b = cluster.start().replicas
    delays = []
    notes = Notes()
    async with Client(keyed(a.url, key), mode="legacy") as on_a, \
            Client(keyed(b.url, key), mode="legacy", message_handler=notes) as on_b:
        await on_b.list_tools()
        for i in range(10):
            seen = len(notes.changed_at)
            r = await on_a.call_tool("create_skill", skill(f"inc_{i}"))
            published = time.perf_counter()
            assert not r.is_error, r.content
            with anyio.fail_after(10):
                while len(notes.changed_at) == seen:
                    await anyio.sleep(0.001)
            delays.append(notes.changed_at[seen] - published)
            # B serves it at once: the skill is in the shared database.
            names = {t.name for t in (await on_b.list_tools()).tools}
            assert f"inc_{i}" in names
            r = await on_b.call_tool(f"inc_{i}", {"x": 41})
            assert not r.is_error and r.structured_content == {"result": 42}, r
        # A retire on B reaches A's clients the same way.
        notes_a = Notes()
        async with Client(keyed(a.url, key), mode="legacy", message_handler=notes_a) as watcher:
            await watcher.list_tools()
            r = await on_b.call_tool("retire_skill", {"name": "inc_0"})
            assert not r.is_error, r.content
            with anyio.fail_after(10):
                while not notes_a.changed_at:
                    await anyio.sleep(0.001)
            assert "inc_0" not in {t.name for t in (await watcher.list_tools()).tools}

    # A modern (2026-07-28) client listening on B hears of a publish on A.
    async with Client(keyed(b.url, key)) as watcher, Client(keyed(a.url, key)) as author:
        async with watcher.listen(tools_list_changed=True) as sub:
            r = await author.call_tool("create_skill", skill("late"))
            assert not r.is_error, r.content
            with anyio.fail_after(10):
                async for event in sub:
                    if "Tool" in type(event).__name__:
                        break
    # B measures each relayed event from A's NOTIFY to hearing it.
    async with httpx2.AsyncClient() as http:
        text = (await http.get(b.url.rsplit("/mcp", 1)[0] + "/metrics")).text
    relay = {s.name: s.value for f in text_string_to_metric_families(text)
             for s in f.samples if s.name.startswith("autolearn_relay_delay_seconds_")}
    assert relay["autolearn_relay_delay_seconds_count"] >= 10, relay
    delays.sort()
    figures = {
        "publishes": len(delays),
        "client_seen_after_answer_ms_p50": round(1e3 * delays[len(delays) // 2], 2),
        "client_seen_after_answer_ms_max": round(1e3 * delays[-1], 2),
        "relay_events": relay["autolearn_relay_delay_seconds_count"],
        "relay_delay_ms_mean": round(1e3 * relay["autolearn_relay_delay_seconds_sum"]
                                     / relay["autolearn_relay_delay_seconds_count"], 3),
        "note": "client_seen_after_answer: from replica A answering create_skill to a Python SDK "
                "client of replica B receiving tools/list_changed (negative: it came first); "
                "relay_delay: from A's NOTIFY to B hearing it (B's /metrics)",
    }
    record("replica_list_changed", figures)
    print(figures)
    assert delays[-1] < 5


async def test_quotas_trip_at_their_number_across_replicas(cluster):
    key = new_tenant(cluster, "capped")
    other = new_tenant(cluster, "free")
    out = cluster.cli("tenant", "set-quota", "capped", "calls_per_minute=4")
    assert out.returncode == 0, out.stderr
    a, b = cluster.start().replicas
    # Keep the test inside one UTC minute (the window).
    left = 60 - time.time() % 60
    if left < 15:
        await anyio.sleep(left + 0.1)
    async with Client(keyed(a.url, key), mode="legacy") as on_a, \
            Client(keyed(b.url, key), mode="legacy") as on_b, \
            Client(keyed(b.url, other), mode="legacy") as free:
        for c in (on_a, free):
            r = await c.call_tool("create_skill", skill("inc"))
            assert not r.is_error, r.content
        for c in (on_a, on_b, on_a, on_b):
            r = await c.call_tool("inc", {"x": 1})
            assert not r.is_error, r.content
        for c in (on_a, on_b):
            with pytest.raises(MCPError) as refused:
                await c.call_tool("inc", {"x": 1})
            err = refused.value.error
            assert err.code == -32029, err
            assert err.data["quota"] == "calls_per_minute" and err.data["limit"] == 4
            assert 1 <= err.data["retry_after_seconds"] <= 60
            # The session survives a refusal.
            await c.list_tools()
        for _ in range(6):
            r = await free.call_tool("inc", {"x": 1})
            assert not r.is_error, r.content

        # /metrics of both replicas parse, and add up to what was done.
        totals = {}
        async with httpx2.AsyncClient() as http:
            for replica in (a, b):
                base = replica.url.rsplit("/mcp", 1)[0]
                r = await http.get(f"{base}/metrics")
                assert r.status_code == 200
                for family in text_string_to_metric_families(r.text):
                    for sample in family.samples:
                        if sample.name in ("autolearn_skill_calls_total", "autolearn_quota_rejections_total"):
                            labels = tuple(sorted(sample.labels.items()))
                            totals[(sample.name, labels)] = totals.get((sample.name, labels), 0) + sample.value
        calls = lambda tenant, outcome: totals.get(
            ("autolearn_skill_calls_total", (("outcome", outcome), ("tenant", tenant))), 0)
        assert calls("capped", "ok") == 4, totals
        assert calls("capped", "quota_exceeded") == 2, totals
        assert calls("free", "ok") == 6, totals
        assert totals[("autolearn_quota_rejections_total",
                       (("quota", "calls_per_minute"), ("tenant", "capped")))] == 2
