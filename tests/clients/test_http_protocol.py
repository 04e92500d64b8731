"""Raw HTTP against /mcp: what a buggy or hostile client sends must get the
right JSON-RPC or HTTP error, never a 500, and the server keeps serving."""

import httpx2
import pytest

from conftest import Server
from rawmcp import HEADERS, initialize, rpc_body


@pytest.fixture
def http(server):
    with httpx2.Client(timeout=30) as c:
        yield c


def session(http, url, version="2025-11-25"):
    r = http.post(url, json=initialize(version), headers=HEADERS)
    assert r.status_code == 200, r.text
    sid = r.headers["mcp-session-id"]
    headers = {**HEADERS, "mcp-session-id": sid, "mcp-protocol-version": version}
    http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    return headers


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_each_supported_protocol_version_is_negotiated(server, http, version):
    r = http.post(server.url, json=initialize(version), headers=HEADERS)
    assert r.status_code == 200
    assert rpc_body(r)["result"]["protocolVersion"] == version


def test_malformed_json_is_a_client_error(server, http):
    r = http.post(server.url, content=b'{"jsonrpc": "2.0", "id": 1, "method": ', headers=HEADERS)
    assert 400 <= r.status_code < 500, (r.status_code, r.text)


def test_unknown_method_is_method_not_found(server, http):
    headers = session(http, server.url)
    r = http.post(server.url, json={"jsonrpc": "2.0", "id": 7, "method": "tools/frobnicate"}, headers=headers)
    assert r.status_code < 500
    assert rpc_body(r)["error"]["code"] == -32601


def test_wrong_params_are_invalid_params(server, http):
    headers = session(http, server.url)
    r = http.post(server.url, json={"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": 42}}, headers=headers)
    assert r.status_code < 500
    # rmcp cannot parse this as a tools/call at all and answers "method not
    # found"; the spec would prefer -32602. An error either way, never a 500.
    assert rpc_body(r)["error"]["code"] in (-32602, -32601)
    r = http.post(server.url, json={"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "run_python", "arguments": {"code": 5}}}, headers=headers)
    assert rpc_body(r)["error"]["code"] == -32602


def test_an_oversized_body_is_refused_with_413(server, http):
    big = {"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x" * (5 << 20)}}
    r = http.post(server.url, json=big, headers=HEADERS)
    assert r.status_code == 413


def test_a_foreign_host_header_is_refused(server, http):
    r = http.post(server.url, json=initialize(), headers={**HEADERS, "Host": "evil.example"})
    assert r.status_code == 403


def test_a_foreign_origin_is_refused(server, http):
    r = http.post(server.url, json=initialize(), headers={**HEADERS, "Origin": "http://evil.example"})
    assert r.status_code == 403


def test_healthz(server, http):
    r = http.get(server.url.replace("/mcp", "/healthz"))
    assert r.status_code == 200 and r.json()["status"] == "ok"
    # Which language model generation uses (none here: nothing is configured).
    assert r.json()["llm"]["backend"] == "none"


def test_the_server_keeps_serving_after_all_that(server, http):
    for bad in [b"", b"[]", b"null", b'{"jsonrpc": "1.0"}', b"\xff\xfe"]:
        r = http.post(server.url, content=bad, headers=HEADERS)
        assert r.status_code < 500, (bad, r.status_code, r.text)
    headers = session(http, server.url)
    r = http.post(server.url, json={"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "run_python", "arguments": {"code": "6 * 7"}}}, headers=headers)
    assert rpc_body(r)["result"]["structuredContent"]["value"] == 42


def test_keys_are_required_once_tenants_exist(data_dir):
    from conftest import cli

    key = cli(data_dir, "tenant", "create", "acme").stdout.strip()
    s = Server(data_dir)
    try:
        # A rejected request's body is never read, so the server closes that
        # connection: each request gets its own.
        def post(headers):
            with httpx2.Client(timeout=30) as http:
                return http.post(s.url, json=initialize(), headers=headers)

        refused = post(HEADERS)
        assert refused.status_code == 401
        assert post({**HEADERS, "Authorization": "Bearer alk_not_a_key"}).status_code == 401
        assert post({**HEADERS, "Authorization": f"Bearer {key}"}).status_code == 200

        # A client learns how to authenticate from the refusal (RFC 9728):
        # bearer keys in the header, and no authorization server to ask.
        challenge = refused.headers["www-authenticate"]
        assert challenge.startswith("Bearer resource_metadata=")
        metadata_url = challenge.split('"')[1]
        with httpx2.Client(timeout=30) as http:
            metadata = http.get(metadata_url).json()
            assert metadata["resource"] == s.url
            assert metadata["bearer_methods_supported"] == ["header"]
            assert "authorization_servers" not in metadata

            # And where to connect, before connecting: the Server Card, public.
            card = http.get(s.url.removesuffix("/mcp") + "/.well-known/mcp/server-card.json")
            assert card.status_code == 200
            assert card.headers["content-type"] == "application/mcp-server-card+json"
            remote = card.json()["remotes"][0]
            assert remote["type"] == "streamable-http" and remote["url"] == s.url
            assert "2026-07-28" in remote["supportedProtocolVersions"]
            catalog = http.get(s.url.removesuffix("/mcp") + "/.well-known/ai-catalog.json").json()
            assert catalog["entries"][0]["url"].endswith("/.well-known/mcp/server-card.json")
    finally:
        assert s.stop() == 0


def test_a_public_address_without_tenants_refuses_to_start(data_dir):
    from conftest import BIN, server_env
    import subprocess

    r = subprocess.run([str(BIN), "serve", "--addr", "0.0.0.0:0"], env=server_env(data_dir), capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "without auth" in r.stderr


def test_tenant_names_and_duplicates_are_checked(data_dir):
    from conftest import cli

    assert cli(data_dir, "tenant", "create", "acme").returncode == 0
    dup = cli(data_dir, "tenant", "create", "acme")
    assert dup.returncode == 2 and "already exists" in dup.stderr
    assert cli(data_dir, "tenant", "create", "bad name!").returncode == 2
