"""AutoLearn through the official MCP Python SDK (`mcp` on PyPI)."""

import json

import anyio
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from conftest import BIN, Server, cli, server_env

pytestmark = pytest.mark.anyio

TEXT = "the quick brown fox jumps over the lazy dog"


def structured(result):
    assert result.structured_content is not None, result
    return result.structured_content


class Notifications:
    """Collects what the server sends on its own initiative."""

    def __init__(self):
        self.seen = []

    async def __call__(self, message):
        self.seen.append(repr(message))

    def tools_changed(self):
        return sum("tools/list_changed" in m or "ToolListChanged" in m for m in self.seen)

    def updated(self, uri):
        return any(uri in m and ("updated" in m or "Updated" in m) for m in self.seen)


async def solve_by_hand(client):
    """The agent works the task out step by step with run_python."""
    r1 = await client.call_tool("run_python", {"code": "words = text.split()\nwords", "inputs": {"text": TEXT}})
    assert not r1.is_error, r1
    words = structured(r1)["value"]
    assert words == TEXT.split()
    r2 = await client.call_tool(
        "run_python",
        {"code": "lengths = [len(w) for w in words]\nround(sum(lengths) / len(lengths), 3)", "inputs": {"words": words}},
    )
    assert not r2.is_error, r2
    return structured(r2)["value"]


async def test_the_seed_demo_run_python_then_crystallize_then_call(server):
    notes = Notifications()
    async with Client(server.url, mode="legacy", message_handler=notes) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert {"run_python", "create_skill", "crystallize", "search_skills", "get_skill", "retire_skill"} <= names

        value = await solve_by_hand(client)
        assert value == 3.889

        r = await client.call_tool("crystallize", {"request": "Average word length of a text", "name": "avg_word_length"})
        assert not r.is_error, r.content
        assert structured(r)["published"] is True

        with anyio.fail_after(10):
            while notes.tools_changed() == 0:
                await anyio.sleep(0.05)

        tools = {t.name: t for t in (await client.list_tools()).tools}
        tool = tools["avg_word_length"]
        assert tool.input_schema["properties"]["text"]["type"] == "string"
        assert tool.annotations.read_only_hint is True

        outputs = set()
        for _ in range(20):
            r = await client.call_tool("avg_word_length", {"text": "a bb ccc dddd"})
            assert not r.is_error, r.content
            outputs.add(json.dumps(structured(r), sort_keys=True))
        assert outputs == {json.dumps({"result": 2.5})}


async def test_crystallizing_the_same_trace_twice_returns_the_existing_skill(server):
    async with Client(server.url, mode="legacy") as client:
        await solve_by_hand(client)
        first = structured(await client.call_tool("crystallize", {"request": "Average word length", "name": "awl"}))
        # The trace closed when it became a skill; the same work done again
        # gives the same skill back, not a duplicate.
        await solve_by_hand(client)
        again = structured(await client.call_tool("crystallize", {"request": "Average word length", "name": "awl2"}))
        assert first["published"] is True
        assert again["existing"] is True and again["skill"]["name"] == "awl"


async def test_crystallize_refuses_traces_not_worth_a_skill(server):
    async with Client(server.url, mode="legacy") as client:
        r = await client.call_tool("crystallize", {"request": "nothing done yet"})
        assert r.is_error and "no code" in r.content[0].text
        await client.call_tool("run_python", {"code": "import random\nrandom.random()", "inputs": {}, "trace": "rand"})
        r = await client.call_tool("crystallize", {"request": "a random number", "trace": "rand"})
        assert r.is_error and "not deterministic" in r.content[0].text
        await client.call_tool("run_python", {"code": "1 / 0", "trace": "div"})
        r = await client.call_tool("crystallize", {"request": "divide", "trace": "div"})
        assert r.is_error and "all 1 steps of the trace failed" in r.content[0].text
        r = await client.call_tool("crystallize", {"request": "nothing", "trace": "never-used"})
        assert r.is_error and "no trace" in r.content[0].text


async def test_create_skill_publishes_or_explains(server):
    async with Client(server.url, mode="legacy") as client:
        bad = await client.call_tool("create_skill", {
            "name": "inc", "description": "Add one.", "entry": "inc",
            "code": "def inc(x):\n    \"\"\"Add one.\"\"\"\n    return x + 2\n",
            "examples": [{"input": {"x": 1}, "output": 2}],
        })
        assert bad.is_error and "expected 2 but got 3" in bad.content[0].text
        good = await client.call_tool("create_skill", {
            "name": "inc", "description": "Add one.", "entry": "inc",
            "code": "def inc(x):\n    \"\"\"Add one.\"\"\"\n    return x + 1\n",
            "examples": [{"input": {"x": 1}, "output": 2}],
        })
        assert not good.is_error, good.content
        r = await client.call_tool("inc", {"x": 41})
        assert structured(r) == {"result": 42}
        found = structured(await client.call_tool("search_skills", {"query": "add"}))
        assert [s["name"] for s in found["skills"]] == ["inc"]
        shown = structured(await client.call_tool("get_skill", {"name": "inc"}))
        assert shown["manifest"]["entry"] == "inc" and shown["kpis"]["tests_passed"] == 1
        retired = await client.call_tool("retire_skill", {"name": "inc"})
        assert not retired.is_error
        assert "inc" not in {t.name for t in (await client.list_tools()).tools}


async def test_skill_failures_are_tool_errors_with_kind_and_traceback(server):
    async with Client(server.url, mode="legacy") as client:
        r = await client.call_tool("create_skill", {
            "name": "div", "description": "Divide.", "entry": "div",
            "code": "def div(a, b):\n    \"\"\"Divide.\"\"\"\n    return a / b\n",
            "examples": [{"input": {"a": 6, "b": 3}, "output": 2.0}],
        })
        assert not r.is_error, r.content
        r = await client.call_tool("div", {"a": 1, "b": 0})
        assert r.is_error
        err = structured(r)["error"]
        assert err["kind"] == "exception" and err["error_type"] == "ZeroDivisionError"
        assert "return a / b" in r.content[0].text
        r = await client.call_tool("div", {"a": "x"})
        assert r.is_error and structured(r)["error"]["kind"] == "bad_input"
        r = await client.call_tool("run_python", {"code": "while True: pass"})
        assert r.is_error and structured(r)["error"]["kind"] == "out_of_fuel"


async def test_unknown_tool_is_a_protocol_error(server):
    async with Client(server.url, mode="legacy") as client:
        with pytest.raises(Exception) as e:
            await client.call_tool("no_such_tool", {})
        assert "unknown tool" in str(e.value).lower()


async def test_the_modern_protocol_works_too(server):
    async with Client(server.url) as client:
        assert client.protocol_version
        r = await client.call_tool("run_python", {"code": "sum(xs)", "inputs": {"xs": [1, 2, 3]}})
        assert structured(r)["value"] == 6
        assert "run_python" in {t.name for t in (await client.list_tools()).tools}


async def test_stdio_transport(data_dir):
    params = StdioServerParameters(command=str(BIN), args=["mcp"], env=server_env(data_dir))
    async with Client(params, mode="legacy") as client:
        r = await client.call_tool("run_python", {"code": "x * 2", "inputs": {"x": 21}})
        assert structured(r)["value"] == 42
        assert "run_python" in {t.name for t in (await client.list_tools()).tools}


@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")  # legacy mode on purpose
async def test_tenants_are_isolated_and_keys_required(data_dir):
    key_a = cli(data_dir, "tenant", "create", "acme").stdout.strip()
    key_b = cli(data_dir, "tenant", "create", "globex").stdout.strip()
    assert key_a.startswith("alk_") and key_a != key_b
    s = Server(data_dir)
    try:
        def auth(key):
            client = httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=30)
            return streamable_http_client(s.url, http_client=client)

        async with Client(auth(key_a), mode="legacy") as a:
            r = await a.call_tool("create_skill", {
                "name": "secret", "description": "Acme only.", "entry": "f",
                "code": "def f():\n    \"\"\"Doc.\"\"\"\n    return 'acme'\n", "examples": [{"input": {}, "output": "acme"}],
            })
            assert not r.is_error, r.content
        notes_b = Notifications()
        async with Client(auth(key_a), mode="legacy") as a, Client(auth(key_b), mode="legacy", message_handler=notes_b) as b:
            assert "secret" not in {t.name for t in (await b.list_tools()).tools}
            # resources/updated names its skill, so B can tell its own event.
            await b.subscribe_resource("skill://mine/source")
            r = await a.call_tool("create_skill", {
                "name": "secret2", "description": "Acme only.", "entry": "f",
                "code": "def f():\n    \"\"\"Doc.\"\"\"\n    return 2\n", "examples": [{"input": {}, "output": 2}],
            })
            assert not r.is_error, r.content
            r = await b.call_tool("create_skill", {
                "name": "mine", "description": "Globex's.", "entry": "f",
                "code": "def f():\n    \"\"\"Doc.\"\"\"\n    return 3\n", "examples": [{"input": {}, "output": 3}],
            })
            assert not r.is_error, r.content
            with anyio.fail_after(10):
                while not notes_b.updated("skill://mine/source"):
                    await anyio.sleep(0.05)
            # Notifications arrive in event order: had Acme's publish leaked,
            # it would be here already, before B's own.
            assert notes_b.tools_changed() == 1, notes_b.seen
        async with httpx2.AsyncClient() as raw:
            r = await raw.post(s.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert r.status_code == 401
            assert r.headers["www-authenticate"].startswith('Bearer resource_metadata="')
    finally:
        assert s.stop() == 0


async def test_modern_clients_hear_of_new_skills_through_listen(server):
    """2026-07-28 is stateless: change events come via subscriptions/listen."""
    async with Client(server.url) as watcher, Client(server.url) as author:
        async with watcher.listen(tools_list_changed=True, resource_subscriptions=["skill://shout/source"]) as sub:
            r = await author.call_tool("create_skill", {
                "name": "shout", "description": "Upper-case a text.", "entry": "shout",
                "code": "def shout(text):\n    \"\"\"Upper-case.\"\"\"\n    return text.upper()\n",
                "examples": [{"input": {"text": "hi"}, "output": "HI"}],
            })
            assert not r.is_error, r.content
            kinds = []
            with anyio.fail_after(10):
                async for event in sub:
                    kinds.append(type(event).__name__)
                    if len(kinds) >= 2:
                        break
            assert any("Tool" in k for k in kinds), kinds
            assert any("Resource" in k for k in kinds), kinds
        assert "shout" in {t.name for t in (await watcher.list_tools()).tools}


async def test_tools_list_pages_through_a_large_registry(server):
    async with Client(server.url, mode="legacy") as client:
        for i in range(60):
            r = await client.call_tool("create_skill", {
                "name": f"add_{i:02d}", "description": f"Add {i}.", "entry": "f",
                "code": f"def f(x):\n    \"\"\"Add {i}.\"\"\"\n    return x + {i}\n",
                "examples": [{"input": {"x": 1}, "output": 1 + i}],
            })
            assert not r.is_error, r.content
        names, cursor, pages = [], None, 0
        while True:
            page = await client.list_tools(cursor=cursor)
            pages += 1
            names += [t.name for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        assert pages >= 2
        assert len(names) == len(set(names)) == 60 + 10  # and the built-ins
        assert {f"add_{i:02d}" for i in range(60)} <= set(names)

        uris, cursor, pages = [], None, 0
        while True:
            page = await client.list_resources(cursor=cursor)
            pages += 1
            uris += [str(r.uri) for r in page.resources]
            cursor = page.next_cursor
            if not cursor:
                break
        assert pages >= 2
        assert len(uris) == len(set(uris)) == 61  # each skill's SKILL.md, and the learnings log
        assert {f"skill://add-{i:02d}/SKILL.md" for i in range(60)} <= set(uris)


async def test_a_memoized_skill_says_so_in_meta_and_answers_the_same(server):
    """Opted in and deterministic: a repeated call is a cache hit, marked in
    `_meta` only; the result is the one the sandbox gave."""
    async with Client(server.url) as client:
        for name, memoize in [("slug_memo", True), ("slug_plain", False)]:
            r = await client.call_tool("create_skill", {
                "name": name, "description": "Make a URL slug of a title.", "entry": "f", "memoize": memoize,
                "code": "import re\ndef f(title):\n    \"\"\"Slug.\"\"\"\n    return re.sub(r'[^a-z0-9]+', '-', title.lower()).strip('-')\n",
                "examples": [{"input": {"title": "Hello, World"}, "output": "hello-world"}],
            })
            assert not r.is_error, r.content

        def hit(result):
            return (result.meta or {}).get("autolearn/cache") == "hit"

        first = await client.call_tool("slug_memo", {"title": "Fresh Ideas 2026"})
        assert not first.is_error and not hit(first)
        again = await client.call_tool("slug_memo", {"title": "Fresh Ideas 2026"})
        assert hit(again)
        assert structured(again) == structured(first) == {"result": "fresh-ideas-2026"}
        via_builtin = await client.call_tool("call_skill", {"name": "slug_memo", "input": {"title": "Fresh Ideas 2026"}})
        assert hit(via_builtin) and structured(via_builtin) == {"result": "fresh-ideas-2026"}
        other = await client.call_tool("slug_memo", {"title": "Other"})
        assert not hit(other)
        for _ in range(2):
            plain = await client.call_tool("slug_plain", {"title": "Fresh Ideas 2026"})
            assert not hit(plain), "not opted in"
        with pytest.raises(MCPError, match="memoize"):
            await client.call_tool("create_skill", {
                "name": "x", "description": "x", "entry": "f", "memoize": "yes",
                "code": "def f():\n    return 1\n", "examples": [{"input": {}, "output": 1}],
            })


async def test_a_new_skill_is_found_and_called_through_the_stable_built_ins(server):
    """Clients that ignore list_changed: search_skills, then call_skill."""
    async with Client(server.url) as client:
        for name, description, param, body in [
            ("cidr_hosts", "How many usable hosts a subnet holds.", "prefix_length", "2 ** (32 - prefix_length) - 2"),
            ("stats", "Mean of some numbers.", "values", "sum(values) / len(values)"),
            ("word_stats", "Count the words of a text.", "text", "len(text.split())"),
        ]:
            r = await client.call_tool("create_skill", {
                "name": name, "description": description, "entry": "f",
                "code": f"def f({param}):\n    \"\"\"{description}\"\"\"\n    return {body}\n",
                "examples": [{"input": {param: 24 if param == "prefix_length" else ([1, 3] if param == "values" else "a b")},
                              "output": 254 if param == "prefix_length" else (2.0 if param == "values" else 2)}],
            })
            assert not r.is_error, r.content

        async def names(query):
            r = await client.call_tool("search_skills", {"query": query})
            assert not r.is_error, r.content
            return [h["name"] for h in structured(r)["skills"]]

        assert (await names("usable hosts"))[0] == "cidr_hosts"     # description only
        assert (await names("prefix length"))[0] == "cidr_hosts"    # parameter name only
        ranked = await names("stats")
        assert ranked[0] == "stats" and "word_stats" in ranked      # exact name first
        hit = structured(await client.call_tool("search_skills", {"query": "subnet", "limit": 1}))["skills"][0]
        assert set(hit) >= {"name", "description", "input_schema", "trust"} and 0 < hit["trust"] <= 100

        r = await client.call_tool("call_skill", {"name": "cidr_hosts", "input": {"prefix_length": 30}})
        assert not r.is_error, r.content
        assert structured(r) == {"result": 2}
        r = await client.call_tool("call_skill", {"name": "cidr_hosts", "input": {"prefix_length": "x"}})
        assert r.is_error and structured(r)["error"]["kind"] == "bad_input"


async def test_every_built_in_answers_in_structured_content_errors_included(server):
    """Some clients pass only structuredContent to the model."""
    async with Client(server.url) as client:
        for name, args, kind in [
            ("get_skill", {"name": "nope"}, "not_found"),
            ("retire_skill", {"name": "nope"}, "not_found"),
            ("create_skill", {"name": "1bad", "description": "x", "entry": "f", "code": "def f(): pass", "examples": []}, "invalid_skill"),
            ("crystallize", {"request": "nothing yet"}, "not_crystallized"),
            ("run_python", {"code": "1 / 0"}, "exception"),
        ]:
            r = await client.call_tool(name, args)
            assert r.is_error, (name, r)
            assert structured(r)["error"]["kind"] == kind, (name, r.structured_content)
        for name, args in [("run_python", {"code": "1"}), ("search_skills", {"query": "x"}), ("get_skill", {"name": "nope"})]:
            assert (await client.call_tool(name, args)).structured_content is not None


async def test_data_work_with_pandas_becomes_a_data_skill(server):
    """run_python on the data runtime, crystallized: the skill runs on it too;
    create_skill takes the runtime as well. Needs `autolearn runtime fetch data`."""
    rows = [{"city": "Oslo", "sales": 3}, {"city": "Rome", "sales": 4}, {"city": "Oslo", "sales": 1}]
    async with Client(server.url, mode="legacy") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert tools["run_python"].input_schema["properties"]["runtime"]["enum"] == ["core", "data"]
        r = await client.call_tool(
            "run_python",
            {
                "code": "import pandas as pd\npd.DataFrame(rows).groupby('city')['sales'].sum()",
                "inputs": {"rows": rows},
                "runtime": "data",
                "trace": "sales",
            },
        )
        assert not r.is_error, r.content
        assert structured(r)["value"] == {"Oslo": 4, "Rome": 4}
        # The same cell on the core runtime has no pandas.
        r = await client.call_tool("run_python", {"code": "import pandas", "inputs": {}, "trace": "core"})
        assert r.is_error and "pandas" in r.content[0].text

        r = await client.call_tool("crystallize", {"request": "Sales per city", "name": "sales_per_city", "trace": "sales"})
        assert not r.is_error, r.content
        assert structured(r)["published"] is True
        r = await client.call_tool("sales_per_city", {"rows": [{"city": "Bergen", "sales": 2}]})
        assert not r.is_error, r.content
        assert structured(r) == {"Bergen": 2}

        r = await client.call_tool(
            "create_skill",
            {
                "name": "column_means",
                "description": "The mean of every numeric column.",
                "code": "import pandas as pd\n\ndef column_means(rows):\n    \"\"\"Mean of each numeric column.\"\"\"\n    return pd.DataFrame(rows).mean(numeric_only=True)\n",
                "entry": "column_means",
                "examples": [{"input": {"rows": [{"a": 1, "b": 2}, {"a": 3, "b": 4}]}, "output": {"a": 2.0, "b": 3.0}}],
                "runtime": "data",
            },
        )
        assert not r.is_error, r.content
        assert structured(r)["published"] == "column_means"
        r = await client.call_tool("call_skill", {"name": "column_means", "input": {"rows": [{"a": 10}]}})
        assert not r.is_error, r.content
        assert structured(r) == {"a": 10.0}
        with pytest.raises(MCPError, match='`runtime` must be "core" or "data"'):
            await client.call_tool("create_skill", {
                "name": "bad_runtime", "description": "x", "code": "def f():\n    return 1\n", "entry": "f",
                "examples": [], "runtime": "gpu",
            })
