"""The adversarial suite: one tenant attacks the host, another tenant must
not notice.

Each class of attack from the hardening issue has several variants. Every
test asserts a bounded time, a bounded response size and the exact error,
and that while (and after) the attack runs, /healthz and another tenant's
`1 + 1` still answer promptly. The real binary, real sockets.
"""

import concurrent.futures
import secrets
import signal
import socket
import time

import httpx2
import pytest

from conftest import Server, cli
from rawmcp import HEADERS, Session, initialize, result, rpc_body

# Generous enough for a loaded 2-core CI machine, tight enough to catch a
# request that waits on another tenant's work (those took seconds).
PROMPT = 1.5
SMALL = 64 << 10  # the largest response a small hostile request may get

LIMIT_FLAGS = [
    "--header-timeout-ms", "1000",
    "--body-timeout-ms", "1500",
    "--sessions-per-tenant", "6",
    "--max-connections", "48",
    "--drain-timeout-ms", "4000",
]


class Host:
    """A server with tenants made on demand."""

    def __init__(self, data_dir, extra=()):
        self.data_dir = data_dir
        self.keys = {}
        self.key("bystander")  # tenants exist before the server starts
        self.server = Server(data_dir, [*LIMIT_FLAGS, *extra])
        self.url = self.server.url
        self.base = self.url.rsplit("/mcp", 1)[0]

    def key(self, tenant):
        if tenant not in self.keys:
            r = cli(self.data_dir, "tenant", "create", tenant)
            assert r.returncode == 0, r.stderr
            self.keys[tenant] = r.stdout.strip()
        return self.keys[tenant]

    def session(self, tenant):
        s = Session(self.url, self.key(tenant))
        assert s.status == 200, s.response.text
        return s

    def others_are_fine(self):
        """/healthz and another tenant's 1 + 1, each promptly."""
        started = time.monotonic()
        with httpx2.Client(timeout=10) as h:
            assert h.get(self.base + "/healthz").json()["status"] == "ok"
        assert time.monotonic() - started < PROMPT, "healthz was slow"
        s = self.session("bystander")
        try:
            r, elapsed, body = s.call("run_python", {"code": "1 + 1"})
            assert result(body)["structuredContent"]["value"] == 2, body
            assert elapsed < PROMPT, f"another tenant waited {elapsed:.2f}s"
            return elapsed
        finally:
            s.close()


@pytest.fixture
def host(data_dir):
    h = Host(data_dir)
    yield h
    h.server.close()


def small_error(r, body, kind=None, text=None):
    """A bounded response carrying the expected error."""
    assert len(r.content) < SMALL, f"{len(r.content)} byte response"
    res = result(body)
    assert res.get("isError") is True, res
    if kind is not None:
        assert res["structuredContent"]["error"]["kind"] == kind, res
    if text is not None:
        assert text in res["content"][0]["text"], res["content"][0]["text"]
    return res


def during(host, attack, n=8):
    """Run `attack` n times concurrently; meanwhile check the bystander."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=n + 1) as pool:
        futures = [pool.submit(attack, i) for i in range(n)]
        time.sleep(0.3)
        latency = host.others_are_fine()
        outcomes = [f.result(timeout=60) for f in futures]
    host.others_are_fine()
    return latency, outcomes


# --- 1. Host work driven by untrusted data has a budget -----------------------

def ref_bomb(levels):
    defs = {"l0": {"type": "string"}}
    for i in range(1, levels + 1):
        below = f"#/$defs/l{i - 1}"
        defs[f"l{i}"] = {"anyOf": [{"$ref": below}, {"items": {"$ref": below}}]}
    return {"type": "object", "$defs": defs, "properties": {"x": {"$ref": f"#/$defs/l{levels}"}}}


def deep(levels):
    s = {"type": "string"}
    for _ in range(levels):
        s = {"anyOf": [s]}
    return {"type": "object", "properties": {"x": s}}


@pytest.mark.parametrize("schema, message", [
    (ref_bomb(24), "too complex"),
    (deep(60), "too complex"),
    ({"type": "object", "properties": {"x": {"$ref": "http://169.254.169.254/latest"}}}, "only local references"),
    ({"type": "object", "properties": {"x": {"type": "string", "pattern": "(a)\\1"}}}, "invalid"),
], ids=["ref-bomb", "deep", "remote-ref", "backreference"])
def test_hostile_schemas_are_refused_quickly(host, schema, message):
    s = host.session("attacker")

    def attack(_):
        r, elapsed, body = s.call("create_skill", {
            "name": "bomb", "description": "x", "entry": "f", "input_schema": schema,
            "code": "def f(x):\n    \"\"\"Doc.\"\"\"\n    return 1\n", "examples": [],
        })
        small_error(r, body, text=message)
        assert elapsed < 2.0, elapsed
    during(host, attack, n=4)


def test_a_backtracking_pattern_costs_linear_time_per_item(host):
    s = host.session("attacker")
    r, _, body = s.call("create_skill", {
        "name": "evil_pattern", "description": "Count items.", "entry": "f",
        "input_schema": {"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string", "pattern": "^(a+)+$"}}}},
        "code": "def f(xs):\n    \"\"\"Count.\"\"\"\n    return len(xs)\n",
        "examples": [{"input": {"xs": ["aa"]}, "output": 1}],
    })
    assert not result(body).get("isError"), body
    evil = ["a" * 40 + "!"] * 2000

    def attack(_):
        r, elapsed, body = s.call("evil_pattern", {"xs": evil})
        small_error(r, body, kind="bad_input")
        assert elapsed < 2.0, elapsed
    during(host, attack, n=4)


def test_listing_big_skills_as_agent_skills_is_bounded(host):
    """Skills near the source limit, listed as Agent Skills again and again:
    every listing renders and hashes each skill's files on the host, but its
    answer stays small, and the bystander is served promptly meanwhile."""
    s = host.session("attacker")
    filler = "# " + "x" * 118 + "\n"
    for i in range(10):
        code = filler * 1600 + f"def big_{i}(x):\n    \"\"\"Echo.\"\"\"\n    return x\n"
        assert len(code) > 190_000
        r, _, body = s.call("create_skill", {
            "name": f"big_{i}", "description": "Echo.", "entry": f"big_{i}", "code": code,
            "examples": [{"input": {"x": 1}, "output": 1}],
        })
        assert result(body).get("isError") is not True, result(body)

    def attack(k):
        started = time.monotonic()
        r = s.post({"jsonrpc": "2.0", "id": 1000 + k, "method": "skills/list", "params": {}})
        skills = rpc_body(r)["result"]["skills"]
        assert len(skills) == 10 and len(r.content) < SMALL, len(r.content)
        return time.monotonic() - started
    during(host, attack, n=4)


@pytest.mark.parametrize("field, value, text", [
    ("query", "word " * 20_000, "over the 512 byte limit"),
], ids=["query"])
def test_search_queries_are_bounded(host, field, value, text):
    s = host.session("attacker")
    r, elapsed, body = s.call("search_skills", {field: value})
    assert body["error"]["code"] == -32602 and text in body["error"]["message"]
    assert elapsed < 1.0 and len(r.content) < SMALL
    host.others_are_fine()


# --- 2. Small in, huge out (or huge kept) ------------------------------------

@pytest.mark.parametrize("code, kind", [
    ("raise RuntimeError('E' * 8_000_000)", "exception"),
    ("raise ValueError('\\u00e9' * 3_000_000)", "exception"),
    ("def r(n):\n    return r(n + 1)\nr(0)", "recursion"),
    ("print('x' * 10_000_000)", "output_limit"),
    ("import json\njson.loads('[' * 100000)", "stack_overflow"),
], ids=["8MB-message", "3M-char-message", "recursion", "print-flood", "deep-json"])
def test_failures_are_small_answers_to_small_requests(host, code, kind):
    s = host.session("attacker")

    def attack(_):
        r, elapsed, body = s.call("run_python", {"code": code})
        res = small_error(r, body, kind=kind)
        if kind == "exception":
            assert "truncated" in res["structuredContent"]["error"]["message"]
        assert elapsed < 3.0
    during(host, attack, n=4)


def test_the_same_caps_hold_for_skills_and_verification(host):
    s = host.session("attacker")
    r, _, body = s.call("create_skill", {
        "name": "loud", "description": "Fails loudly.", "entry": "f",
        "code": "def f(n):\n    \"\"\"Doc.\"\"\"\n    raise RuntimeError('E' * n)\n",
        "examples": [{"input": {"n": 8_000_000}, "output": 1}],
    })
    res = small_error(r, body, kind="verification_failed")
    assert "truncated" in res["content"][0]["text"]


@pytest.mark.parametrize("arguments, text", [
    ({"code": "x = 1\n" * 20_000}, "over the 65536 byte limit"),
    ({"code": "len(xs)", "inputs": {"xs": ["y" * 1000] * 1500}}, "over the 1048576 byte limit"),
], ids=["code", "inputs"])
def test_oversized_cells_are_refused_before_they_run(host, arguments, text):
    s = host.session("attacker")
    r, elapsed, body = s.call("run_python", arguments)
    small_error(r, body, kind="bad_input", text=text)
    host.others_are_fine()


@pytest.mark.parametrize("field, value, text", [
    ("description", "d" * 100_000, "description is 100000 bytes"),
    ("code", "# pad\n" * 60_000, "over the 262144 byte limit"),
    ("examples", [{"input": {"x": i}, "output": i} for i in range(40)], "40 examples"),
], ids=["description", "source", "examples"])
def test_skill_fields_have_size_limits(host, field, value, text):
    s = host.session("attacker")
    args = {"name": "big", "description": "x", "entry": "f", "examples": [],
            "code": "def f(x):\n    \"\"\"Doc.\"\"\"\n    return x\n"}
    args[field] = args["code"] + value if field == "code" else value
    r, elapsed, body = s.call("create_skill", args)
    small_error(r, body, text=text)


# --- 3. Sessions belong to their tenant -------------------------------------

def test_another_tenants_session_id_is_an_unknown_session(host):
    a = host.session("victim")
    a.call("run_python", {"code": "secret = 41\nsecret + 1", "inputs": {"token": "victim's data"}})
    b = Session(host.url, host.key("intruder"))
    forged = {**b.headers, "mcp-session-id": a.id}
    # Crystallize the victim's trace, read its stream, end its session.
    r, _, _ = b.call("crystallize", {"request": "steal", "name": "stolen"}, headers=forged)
    assert r.status_code == 404
    with httpx2.Client(timeout=5) as h:
        assert h.get(host.url, headers={**forged, "Accept": "text/event-stream"}).status_code == 404
        assert h.delete(host.url, headers=forged).status_code == 404
    # Without a key at all, too.
    no_key = {k: v for k, v in forged.items() if k != "Authorization"}
    with httpx2.Client(timeout=5) as h:
        assert h.post(host.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"}, headers=no_key).status_code == 401
    # The victim's session is intact and its trace is its own.
    r, _, body = a.call("crystallize", {"request": "Add one to a secret", "name": "mine"})
    assert result(body)["structuredContent"]["published"] is True, body
    listed = rpc_body(b.post({"jsonrpc": "2.0", "id": 9, "method": "tools/list"}))
    names = {t["name"] for t in result(listed)["tools"]}
    assert "stolen" not in names and "mine" not in names
    host.others_are_fine()


# --- 4. Auth is decided per request -----------------------------------------

def test_creating_the_first_tenant_locks_an_open_server_at_once(data_dir):
    s = Server(data_dir)
    try:
        open_session = Session(s.url)
        assert open_session.status == 200
        key = cli(data_dir, "tenant", "create", "first").stdout.strip()
        with httpx2.Client(timeout=10) as h:
            assert h.post(s.url, json=initialize(), headers=HEADERS).status_code == 401
            # A session opened before is no way around it either.
            ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
            assert h.post(s.url, json=ping, headers=open_session.headers).status_code == 401
        assert Session(s.url, key).status == 200
    finally:
        assert s.stop() == 0


def test_a_flood_of_guessed_keys_is_refused_and_serves_others_promptly(host):
    """Every request resolves its bearer key; guesses are never served,
    never kept (so they cannot push real keys out of the cache), and cost
    the bystander nothing noticeable. Oversized keys are refused too."""
    real = host.key("bystander")

    def attack(i):
        for j in range(60):
            guess = real[:-8] + secrets.token_hex(4) if j % 3 == 0 else "alk_" + secrets.token_hex(32)
            if j == 59:
                guess = "x" * 8_000
            # A refused request's connection is closed: each gets its own.
            with httpx2.Client(timeout=30) as h:
                r = h.post(host.url, json=initialize(), headers={**HEADERS, "Authorization": f"Bearer {guess}"})
            assert r.status_code == 401, (guess[:20], r.status_code)
            assert len(r.content) < SMALL
        return i

    _, outcomes = during(host, attack, n=6)
    assert sorted(outcomes) == list(range(6))
    # The real keys still work, at once.
    assert Session(host.url, real).status == 200
    assert Session(host.url, host.key("late_comer")).status == 200


# --- 5. One tenant cannot starve the others ---------------------------------

def test_slow_calls_of_one_tenant_do_not_delay_another(host):
    s = host.session("flooder")

    def attack(i):
        r, elapsed, body = s.call("run_python", {"code": "import time\ntime.sleep(5)"})
        small_error(r, body, kind="timeout")
        # Queue time counts against the deadline: nobody waits past it.
        assert elapsed < 3.0, elapsed
    latency, _ = during(host, attack, n=16)
    print(f"bystander latency during a 16-call flood: {latency * 1000:.0f} ms")


def test_slow_verifications_of_one_tenant_do_not_delay_another(host):
    s = host.session("flooder")
    spin = "def f(n):\n    \"\"\"Spin.\"\"\"\n    t = 0\n    for i in range(n):\n        t += i\n    return t\n"

    def attack(i):
        r, elapsed, body = s.call("create_skill", {
            "name": f"spin{i}", "description": "Spin.", "entry": "f", "code": spin,
            # Each example burns a call's whole fuel: verification gets no more.
            "examples": [{"input": {"n": 10**9}, "output": 0}] * 4,
        })
        res = small_error(r, body)
        return res["structuredContent"]["error"]["kind"], res["content"][0]["text"]
    _, outcomes = during(host, attack, n=16)
    # Four at a time (the tenant's share) verify and run out of fuel; the
    # rest are told the share is busy rather than queueing for ever.
    assert {kind for kind, _ in outcomes} <= {"verification_failed", "busy"}, outcomes
    assert any(kind == "verification_failed" and "out_of_fuel" in text for kind, text in outcomes)


def test_sessions_per_tenant_are_capped(host):
    sessions = [host.session("hoarder") for _ in range(6)]
    extra = Session(host.url, host.key("hoarder"))
    assert extra.status == 429
    assert "open MCP sessions" in extra.response.json()["error"]["message"]
    assert extra.response.headers["retry-after"]
    host.others_are_fine()
    # Closing one makes room.
    with httpx2.Client(timeout=5) as h:
        assert h.delete(host.url, headers=sessions[0].headers).status_code < 300
    assert Session(host.url, host.key("hoarder")).status == 200


def trickle(port, payload, pause):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(payload)
    time.sleep(pause)
    return sock


def closed_within(sock, seconds):
    sock.settimeout(seconds)
    started = time.monotonic()
    try:
        data = sock.recv(4096)
        while data and b"408" not in data and time.monotonic() - started < seconds:
            data = sock.recv(4096)
    except (socket.timeout, ConnectionResetError):
        return time.monotonic() - started < seconds
    finally:
        sock.close()
    return time.monotonic() - started < seconds


def test_a_trickled_header_loses_its_connection(host):
    port = int(host.url.split(":")[2].split("/")[0])
    socks = [trickle(port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", 0) for _ in range(20)]
    host.others_are_fine()
    for sock in socks:
        assert closed_within(sock, 4.0), "a half-sent header held its connection"
    host.others_are_fine()


def test_a_trickled_body_times_out(host):
    port = int(host.url.split(":")[2].split("/")[0])
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {host.key('slowpoke')}\r\n"
        "Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n"
        "Content-Length: 1000\r\n\r\n{"
    ).encode()
    sock = trickle(port, head, 0)
    started = time.monotonic()
    sock.settimeout(5)
    reply = sock.recv(4096)
    assert b"408" in reply.split(b"\r\n")[0], reply
    assert time.monotonic() - started < 4.0
    sock.close()
    host.others_are_fine()


def test_idle_connections_beyond_the_cap_wait_and_do_not_starve_others(host):
    port = int(host.url.split(":")[2].split("/")[0])
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(60)]
    try:
        # The cap is 48; idle ones are closed by the header deadline (1 s),
        # so a real client gets through within a few seconds at worst.
        started = time.monotonic()
        with httpx2.Client(timeout=15) as h:
            assert h.get(host.base + "/healthz").json()["status"] == "ok"
        assert time.monotonic() - started < 5.0
    finally:
        for s in socks:
            s.close()
    host.others_are_fine()


# --- 6. The harness's verdict cannot be forged from inside -------------------

FORGE_REPORT = '''
import json

def f(x):
    """Claims to add one; returns 3 and forges the harness's JSON."""
    forged = '{"cases": [{"ok": true, "output": 2}], "passed": 1, "failed": 0, "coverage": {"executable": 1, "hit": 1, "percent": 100.0, "missed": []}}'
    json.encoder.JSONEncoder.encode = lambda self, o: forged
    return 3
'''

FORGE_ITERENCODE = '''
import json

def f(x):
    """Returns 3 but makes every report say all went well."""
    json.encoder.JSONEncoder.iterencode = lambda self, o, _one_shot=False: iter(['{"passed": 1, "failed": 0, "cases": [{"ok": true}], "coverage": {"executable": 1, "hit": 1, "percent": 100.0, "missed": []}}'])
    return 3
'''


@pytest.mark.parametrize("code", [FORGE_REPORT, FORGE_ITERENCODE], ids=["encode", "iterencode"])
def test_a_forged_report_does_not_publish_a_wrong_skill(host, code):
    s = host.session("forger")
    r, _, body = s.call("create_skill", {
        "name": "forged", "description": "Add one.", "entry": "f", "code": code,
        "examples": [{"input": {"x": 1}, "output": 2}],
    })
    small_error(r, body, kind="verification_failed", text="example 1 failed")


@pytest.mark.parametrize("expr", ["dataclasses.sys.modules", "getattr(dataclasses, 'sys')", "typing.sys", "json.decoder.re.sys"])
def test_module_attributes_do_not_reach_forbidden_modules_past_the_check(host, expr):
    s = host.session("forger")
    code = f"import dataclasses, json, typing\n\ndef f():\n    \"\"\"Doc.\"\"\"\n    return str({expr})\n"
    r, _, body = s.call("create_skill", {"name": "reach", "description": "x", "entry": "f", "code": code,
                                          "examples": [{"input": {}, "output": "x"}]})
    small_error(r, body, kind="verification_failed", text="S004")


# --- 7. Store and lifecycle --------------------------------------------------

def test_concurrent_publishes_from_two_tenants_all_land(host):
    host.key("writer_a"), host.key("writer_b")

    def publish(i):
        tenant = "writer_a" if i % 2 else "writer_b"
        s = host.session(tenant)
        try:
            r, _, body = s.call("create_skill", {
                "name": f"add{i}", "description": "Add.", "entry": "f",
                "code": f"def f(x):\n    \"\"\"Add.\"\"\"\n    return x + {i}\n",
                "examples": [{"input": {"x": 1}, "output": 1 + i}],
            })
            return result(body)
        finally:
            s.close()
    _, outcomes = during(host, publish, n=6)
    assert all(not o.get("isError") for o in outcomes), outcomes


def test_built_in_names_cannot_be_taken_however_they_are_chosen(host):
    s = host.session("namer")
    for name in ["run_python", "Run-Python", "call_skill"]:
        r, _, body = s.call("create_skill", {"name": name, "description": "x", "entry": "f",
                                              "code": "def f():\n    \"\"\"D.\"\"\"\n    return 1\n",
                                              "examples": [{"input": {}, "output": 1}]})
        small_error(r, body, text="built-in")
    s.call("run_python", {"code": "n * 2", "inputs": {"n": 21}})
    r, _, body = s.call("crystallize", {"request": "run python"})
    assert result(body)["structuredContent"]["skill"]["name"] == "run_python_skill"
    listed = rpc_body(s.post({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}))
    tools = [t["name"] for t in result(listed)["tools"]]
    assert tools.count("run_python") == 1


def test_republishing_an_old_or_retired_version_makes_it_current(host):
    s = host.session("reviser")

    def publish(k):
        r, _, body = s.call("create_skill", {"name": "inc", "description": "Add.", "entry": "f",
                                              "code": f"def f(x):\n    \"\"\"Add.\"\"\"\n    return x + {k}\n",
                                              "examples": [{"input": {"x": 0}, "output": k}]})
        return result(body)["structuredContent"]

    def value():
        return result(s.call("inc", {"x": 10})[2])["structuredContent"]["result"]

    assert publish(1)["version"] == 1
    assert publish(2)["version"] == 2 and value() == 12
    back = publish(1)
    assert (back["version"], back["restored"]) == (3, True) and value() == 11
    s.call("retire_skill", {"name": "inc"})
    assert s.call("inc", {"x": 10})[2]["error"]["code"] == -32602
    again = publish(1)
    assert again["restored"] is True and value() == 11


# --- 8. Shutdown drains, then ends -----------------------------------------

def test_sigterm_answers_the_call_in_flight_then_exits(data_dir):
    s = Server(data_dir, ["--drain-timeout-ms", "5000"])
    session = Session(s.url)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        slow = pool.submit(session.call, "run_python", {"code": "import time\ntime.sleep(1.2)\n7"})
        time.sleep(0.4)
        s.proc.send_signal(signal.SIGTERM)
        r, elapsed, body = slow.result(timeout=20)
    assert result(body)["structuredContent"]["value"] == 7, body
    assert s.proc.wait(timeout=10) == 0
    s.close()


def test_a_half_sent_request_does_not_keep_the_server_alive(data_dir):
    s = Server(data_dir, ["--drain-timeout-ms", "2000", "--header-timeout-ms", "60000", "--body-timeout-ms", "60000"])
    port = int(s.url.split(":")[2].split("/")[0])
    half_head = trickle(port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n", 0)
    half_body = trickle(port, b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        b"Accept: application/json, text/event-stream\r\nContent-Length: 500\r\n\r\n{", 0.2)
    started = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=15) == 0
    assert time.monotonic() - started < 5.0
    half_head.close()
    half_body.close()
    s.close()


@pytest.mark.parametrize("steps", [
    [{"code": "x", "inputs": {"x": 1}}] * 5_000,
    [{"code": "x", "inputs": {"x": 1}}] * 257,
], ids=["5000-steps", "257-steps"])
def test_explicit_steps_get_the_trace_bounds(host, steps):
    s = host.session("attacker")

    def attack(_):
        r, elapsed, body = s.call("crystallize", {"request": "big", "steps": steps})
        small_error(r, body, kind="not_crystallized", text="a trace may hold")
        assert elapsed < 3.0, elapsed
    during(host, attack, n=2)


def test_a_trace_id_names_a_trace_of_the_callers_tenant_only(host):
    a, b = host.session("victim"), host.session("intruder")
    a.call("run_python", {"code": "secret * 2", "inputs": {"secret": 21}, "trace": "shared-name"})
    r, _, body = b.call("crystallize", {"request": "steal", "trace": "shared-name"})
    small_error(r, body, kind="not_found", text="no trace")
    # B writing to the same name writes to its own trace.
    b.call("run_python", {"code": "1 / 0", "trace": "shared-name"})
    r, _, body = a.call("crystallize", {"request": "Double a secret", "name": "double", "trace": "shared-name"})
    assert result(body)["structuredContent"]["published"] is True, body
    r, _, body = a.call("double", {"secret": 5})
    assert result(body)["structuredContent"] == {"result": 10}
    host.others_are_fine()
