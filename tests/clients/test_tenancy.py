"""An operator managing tenants with the CLI while real MCP clients (the
official Python SDK) use them: a second key, a revoked key refused on the
very session it opened, an expired key refused with a clear error, a
removed tenant, and the audit trail of all of it."""

import json
import time

import anyio
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from conftest import Server, cli

pytestmark = pytest.mark.anyio


def with_key(server, key):
    client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
    return streamable_http_client(server.url, http_client=client)


def listed(data_dir):
    out = cli(data_dir, "tenant", "list", "--json")
    assert out.returncode == 0, out.stderr
    return {t["name"]: t for t in json.loads(out.stdout)["tenants"]}


async def ping_status(server, key):
    """Whether `key` is admitted, asked of the REST API."""
    base = server.url.rsplit("/mcp", 1)[0]
    async with httpx2.AsyncClient() as raw:
        r = await raw.get(f"{base}/api/whoami", headers={"Authorization": f"Bearer {key}"})
        return r.status_code, r.text


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")  # legacy sessions on purpose
async def test_an_operator_rotates_revokes_expires_and_removes_while_clients_work(data_dir):
    first = cli(data_dir, "tenant", "create", "acme")
    assert first.returncode == 0, first.stderr
    key1 = first.stdout.strip()
    added = cli(data_dir, "tenant", "key", "add", "acme", "--label", "laptop")
    assert added.returncode == 0, added.stderr
    key2 = added.stdout.strip()
    assert key2.startswith("alk_") and key2 != key1
    tenants = listed(data_dir)
    keys = tenants["acme"]["keys"]
    assert [k["label"] for k in keys] == ["default", "laptop"]
    assert all(k["id"].startswith("key_") for k in keys)
    text = cli(data_dir, "tenant", "list").stdout + json.dumps(tenants)
    assert key1[4:] not in text and key2[4:] not in text, "a listing never shows a key"
    laptop = keys[1]["id"]

    s = Server(data_dir)
    try:
        async with Client(with_key(s, key2), mode="legacy") as session, \
                Client(with_key(s, key1), mode="legacy") as other:
            r = await session.call_tool("run_python", {"code": "1 + 1"})
            assert not r.is_error, r.content
            # Rotation: both keys work; then the old one is revoked.
            revoked = cli(data_dir, "tenant", "key", "revoke", "acme", laptop)
            assert revoked.returncode == 0, revoked.stderr
            with anyio.fail_after(20):  # refused, not left hanging
                try:
                    r = await session.call_tool("run_python", {"code": "2 + 2"})
                    refused = r.is_error
                except Exception:  # noqa: BLE001 - the SDK's error for a 401
                    refused = True
            assert refused, "the revoked key's session still works"
            r = await other.call_tool("run_python", {"code": "3 + 3"})
            assert not r.is_error, "the tenant's other key works on"
        status, body = await ping_status(s, key2)
        assert status == 401 and "unknown API key" in body
        used = listed(data_dir)["acme"]["keys"][0]
        assert used["last_used_ms"] is not None, "the live key's use is recorded"

        # A key that expires: refused as expired, with its id.
        short = cli(data_dir, "tenant", "key", "add", "acme", "--label", "ci", "--expires", "1s")
        assert short.returncode == 0, short.stderr
        assert (await ping_status(s, short.stdout.strip()))[0] == 200
        time.sleep(1.5)
        status, body = await ping_status(s, short.stdout.strip())
        assert status == 401 and "expired" in body, body
        bad = cli(data_dir, "tenant", "key", "add", "acme", "--expires", "soon")
        assert bad.returncode == 2
        missing = cli(data_dir, "tenant", "key", "revoke", "acme", "key_nope")
        assert missing.returncode == 2 and json.loads(missing.stdout)["error"]["kind"] == "not_found"

        # Removal: its keys stop at once, its data goes.
        removed = cli(data_dir, "tenant", "remove", "acme")
        assert removed.returncode == 0, removed.stderr
        assert (await ping_status(s, key1))[0] == 401
        assert "acme" not in listed(data_dir)
    finally:
        assert s.stop() == 0

    trail = cli(data_dir, "audit", "--json")
    assert trail.returncode == 0, trail.stderr
    entries = [json.loads(line) for line in trail.stdout.splitlines()]
    actions = [e["subject"] for e in entries if e["kind"] == "admin"]
    assert actions == ["tenant_created", "key_added", "key_revoked", "key_added", "tenant_removed"], actions
    assert all(e["detail"]["actor"].startswith("cli") for e in entries)
    assert key1[4:] not in trail.stdout and key2[4:] not in trail.stdout
    assert cli(data_dir, "audit").returncode == 0
    verify = cli(data_dir, "audit", "verify")
    assert verify.returncode == 0 and json.loads(verify.stdout)["ok"]


async def test_quota_and_limit_changes_are_in_the_trail(data_dir):
    assert cli(data_dir, "tenant", "create", "acme").returncode == 0
    assert cli(data_dir, "tenant", "set-quota", "acme", "calls_per_minute=60").returncode == 0
    assert cli(data_dir, "tenant", "set-limits", "acme", "concurrent_calls=3").returncode == 0
    # Printing without a change records nothing.
    assert cli(data_dir, "tenant", "set-quota", "acme").returncode == 0
    out = cli(data_dir, "audit", "--tenant", "acme", "--json")
    entries = [json.loads(line) for line in out.stdout.splitlines()]
    assert [e["subject"] for e in entries] == ["tenant_created", "quotas_set", "limits_set"]
    assert entries[1]["detail"]["after"]["calls_per_minute"] == 60
    assert cli(data_dir, "tenant", "set-quota", "nobody", "skills=1").returncode == 2
