"""Raw MCP over HTTP, for tests that must control every byte: legacy
sessions by hand, keys, timings and response sizes."""

import json
import time

import httpx2

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def initialize(version="2025-11-25", id=1):
    return {
        "jsonrpc": "2.0",
        "id": id,
        "method": "initialize",
        "params": {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "raw", "version": "1"}},
    }


def rpc_body(response):
    """The JSON-RPC message of a JSON or single-event SSE response."""
    text = response.text
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        data = [line[5:].strip() for line in text.splitlines() if line.startswith("data:") and line[5:].strip()]
        return json.loads(data[-1])
    return json.loads(text)


class Session:
    """One legacy MCP session of one tenant (key None: no Authorization)."""

    def __init__(self, url, key=None, timeout=60):
        self.url = url
        self.http = httpx2.Client(timeout=timeout)
        self.auth = {"Authorization": f"Bearer {key}"} if key else {}
        r = self.http.post(url, json=initialize(), headers={**HEADERS, **self.auth})
        self.status = r.status_code
        self.response = r
        self.id = r.headers.get("mcp-session-id")
        self.headers = {**HEADERS, **self.auth, "mcp-protocol-version": "2025-11-25"}
        if self.id:
            self.headers["mcp-session-id"] = self.id
            self.http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=self.headers)
        self._next = 10

    def post(self, message, headers=None):
        return self.http.post(self.url, json=message, headers=headers or self.headers)

    def call(self, name, arguments, headers=None):
        """tools/call: (http response, seconds, JSON-RPC message or None)."""
        self._next += 1
        started = time.monotonic()
        r = self.post(
            {"jsonrpc": "2.0", "id": self._next, "method": "tools/call", "params": {"name": name, "arguments": arguments}},
            headers,
        )
        elapsed = time.monotonic() - started
        try:
            body = rpc_body(r)
        except (ValueError, IndexError):
            body = None
        return r, elapsed, body

    def close(self):
        self.http.close()


def result(body):
    assert body is not None and "result" in body, body
    return body["result"]
