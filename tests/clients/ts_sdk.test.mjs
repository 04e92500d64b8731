// AutoLearn through the official MCP TypeScript SDK (@modelcontextprotocol/sdk),
// over Streamable HTTP and stdio, against the real binary.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { startServer, serverEnv, bin } from "./server.mjs";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ToolListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";

const dataDir = mkdtempSync(join(tmpdir(), "autolearn-ts-"));
const env = serverEnv(dataDir);
let server;
let url;

before(async () => {
  ({ proc: server, url } = await startServer(env));
});

after(() => {
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

async function connect() {
  const client = new Client({ name: "autolearn-ts-test", version: "1.0.0" });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

test("run_python returns the value and records the step", async () => {
  const client = await connect();
  const r = await client.callTool({ name: "run_python", arguments: { code: "sorted(set(xs))", inputs: { xs: [3, 1, 3, 2] } } });
  assert.equal(r.isError ?? false, false);
  assert.deepEqual(r.structuredContent.value, [1, 2, 3]);
  assert.equal(r.structuredContent.step, 1);
  await client.close();
});

test("a published skill appears live, as a tool and as resources", async () => {
  const client = await connect();
  let changed = 0;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => { changed += 1; });
  const created = await client.callTool({
    name: "create_skill",
    arguments: {
      name: "title_case",
      description: "Title-case every word of a text.",
      entry: "title_case",
      code: "def title_case(text):\n    \"\"\"Title-case every word.\"\"\"\n    return ' '.join(w.capitalize() for w in text.split())\n",
      examples: [{ input: { text: "hello big world" }, output: "Hello Big World" }],
    },
  });
  assert.equal(created.isError ?? false, false, JSON.stringify(created.content));
  for (let i = 0; i < 100 && changed === 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(changed > 0, "no notifications/tools/list_changed after publishing");

  const { tools } = await client.listTools();
  const tool = tools.find((t) => t.name === "title_case");
  assert.ok(tool, "new tool not listed");
  assert.equal(tool.annotations.readOnlyHint, true);
  const r = await client.callTool({ name: "title_case", arguments: { text: "learned once, called often" } });
  assert.deepEqual(r.structuredContent, { result: "Learned Once, Called Often" });

  const { resources } = await client.listResources();
  const listed = resources.find((r) => r.uri === "skill://title-case/SKILL.md");
  assert.ok(listed, "the skill's SKILL.md is not listed");
  assert.equal(listed.name, "title-case");
  const md = await client.readResource({ uri: listed.uri });
  assert.match(md.contents[0].text, /^---\nname: title-case\n/);
  // The URIs a skill had before the Skills extension still read.
  const src = await client.readResource({ uri: "skill://title_case/source" });
  assert.match(src.contents[0].text, /def title_case/);
  const doc = await client.readResource({ uri: "skill://title_case/doc" });
  assert.match(doc.contents[0].text, /tests passed: 1\/1/);
  await client.close();
});

test("errors: a skill failure is isError, an unknown tool a protocol error", async () => {
  const client = await connect();
  const r = await client.callTool({ name: "run_python", arguments: { code: "[][1]" } });
  assert.equal(r.isError, true);
  assert.equal(r.structuredContent.error.kind, "exception");
  assert.equal(r.structuredContent.error.error_type, "IndexError");
  await assert.rejects(client.callTool({ name: "no_such_tool", arguments: {} }), /unknown tool/i);
  await assert.rejects(client.readResource({ uri: "skill://nope/source" }));
  await client.close();
});

test("the workflow prompt", async () => {
  const client = await connect();
  const { prompts } = await client.listPrompts();
  assert.ok(prompts.some((p) => p.name === "learn_skill"));
  const p = await client.getPrompt({ name: "learn_skill", arguments: { task: "sum a list" } });
  assert.match(p.messages[0].content.text, /crystallize/);
  await client.close();
});

test("stdio transport", async () => {
  const client = new Client({ name: "autolearn-ts-stdio", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: bin, args: ["mcp"], env }));
  const r = await client.callTool({ name: "run_python", arguments: { code: "n ** 2", inputs: { n: 12 } } });
  assert.equal(r.structuredContent.value, 144);
  await client.close();
});

test("the README walkthrough over stdio: run_python twice, crystallize, call the skill", async () => {
  const client = new Client({ name: "autolearn-ts-walkthrough", version: "1.0.0" });
  await client.connect(new StdioClientTransport({ command: bin, args: ["mcp"], env }));
  const call = async (name, args) => {
    const r = await client.callTool({ name, arguments: args });
    assert.equal(r.isError ?? false, false, JSON.stringify(r.content));
    return r.structuredContent;
  };
  const first = await call("run_python", { code: "words = text.split()\nwords", inputs: { text: "the quick brown fox" } });
  const second = await call("run_python", { code: "round(sum(len(w) for w in words) / len(words), 3)", inputs: { words: first.value } });
  assert.equal(second.value, 4.0);
  assert.equal(second.trace, first.trace);
  const made = await call("crystallize", { request: "Average word length of a text", name: "ts_avg_word_length" });
  assert.equal(made.skill.name, "ts_avg_word_length");
  assert.deepEqual(await call("call_skill", { name: "ts_avg_word_length", input: { text: "a bb ccc dddd" } }), { result: 2.5 });
  assert.deepEqual(await call("ts_avg_word_length", { text: "hello world" }), { result: 5.0 });
  await client.close();
});
