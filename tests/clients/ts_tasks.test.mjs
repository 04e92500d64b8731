// Long work as tasks (the MCP Tasks extension, SEP-2663), driven by the
// official TypeScript packages at protocol 2026-07-28: @modelcontextprotocol/client
// v2 and @modelcontextprotocol/ext-tasks, whose task session polls
// tasks/get, routes the task's input requests to the application and
// answers them with tasks/update, and cancels with tasks/cancel. The
// model is the fake OpenAI endpoint; its two candidate programs for a
// discount disagree on out-of-range discounts, so generate_skill has a
// question for the person.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient } from "@modelcontextprotocol/ext-tasks/client";
import { startServer, serverEnv, bin } from "./server.mjs";
import { startFakeOpenAI } from "./fake_openai.mjs";

const dataDir = mkdtempSync(join(tmpdir(), "autolearn-tasks-"));
let fake;
let server;
let url;
let env;
const keys = {};

before(async () => {
  fake = await startFakeOpenAI();
  env = serverEnv(dataDir, { AUTOLEARN_LLM: "openai", OPENAI_BASE_URL: fake.url, OPENAI_API_KEY: "" });
  for (const tenant of ["acme", "globex", "initech", "umbrella"]) {
    keys[tenant] = execFileSync(bin, ["tenant", "create", tenant], { env }).toString().trim();
  }
  ({ proc: server, url } = await startServer(env));
});

after(() => {
  server?.kill("SIGTERM");
  fake?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const CLIENT_INFO = { name: "autolearn-tasks-test", version: "1.0.0" };
/** The per-request framing of a raw 2026-07-28 request that takes tasks. */
const META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
  "io.modelcontextprotocol/clientCapabilities": { extensions: { "io.modelcontextprotocol/tasks": {} } },
};
let nextId = 1;

/** The host-owned raw request path ext-tasks needs for 2026-07-28 task
 * traffic: one JSON-RPC request per HTTP POST, with the routing headers. */
function rawDispatch(tenant) {
  return async (request, options = {}) => {
    const body = { jsonrpc: "2.0", id: request.id ?? nextId++, ...request };
    const params = body.params ?? {};
    const headers = {
      "Content-Type": "application/json",
      Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": "2026-07-28",
      "Mcp-Method": body.method,
      Authorization: `Bearer ${keys[tenant]}`,
    };
    const name = params.taskId ?? params.name ?? params.uri;
    if (typeof name === "string") headers["Mcp-Name"] = name;
    const res = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), signal: options.signal });
    let text = await res.text();
    if ((res.headers.get("content-type") ?? "").includes("text/event-stream")) {
      text = text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5)).filter((l) => l.trim()).at(-1) ?? "";
    }
    const reply = JSON.parse(text);
    return reply.error ? { kind: "error", error: reply.error } : { kind: "result", result: reply.result };
  };
}

async function connect(tenant, onInputRequest) {
  const client = new Client(CLIENT_INFO, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  const headers = { Authorization: `Bearer ${keys[tenant]}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  const session = createTaskSessionFromClient(client, {
    endpointId: `autolearn-${tenant}`,
    rawDispatch: rawDispatch(tenant),
    v2RequestFraming: { protocolVersion: "2026-07-28", clientInfo: CLIENT_INFO, clientCapabilities: { elicitation: {} } },
    ...(onInputRequest ? { onInputRequest } : {}),
  });
  return { client, session };
}

const EXAMPLES = [
  { input: { price: 100, discount: 10 }, output: 90.0 },
  { input: { price: 80, discount: 25 }, output: 60.0 },
];
const generate = (name) => ({
  request: "Apply a percentage discount to a price, rounded to cents.",
  examples: EXAMPLES,
  name,
});

test("generate_skill runs as a task: its steps as status, its question answered, its result inlined", async () => {
  const asked = [];
  const { client, session } = await connect("acme", async (request, context) => {
    asked.push({ request, context });
    assert.equal(request.kind, "elicitation");
    // The first choice: the answer most candidate programs gave.
    return { action: "accept", content: { choice: "1" } };
  });
  try {
    const execution = await session.callTool("generate_skill", generate("net_price"));
    assert.equal(execution.kind, "task", "the server made it a task");
    const statuses = [];
    const { outcome } = await execution.settle({
      onEvent: (e) => {
        if (e.type === "task") statuses.push(e.task);
      },
    });
    assert.equal(outcome.status, "completed", JSON.stringify(outcome));
    const result = outcome.result;
    assert.notEqual(result.isError, true, JSON.stringify(result.content));
    assert.equal(result.structuredContent.skill.name, "net_price");
    // The question: a form with the candidates' answers, asked in the task.
    assert.equal(asked.length >= 1, true);
    assert.equal(asked[0].context.scope, "task");
    assert.match(asked[0].request.params.message, /disagree/);
    assert.ok(statuses.some((t) => t.status === "input_required"), "the task waited for the answer");
    const messages = statuses.map((t) => t.statusMessage ?? "");
    assert.ok(messages.some((m) => /candidate|spec drafted|pass the examples/.test(m)), JSON.stringify(messages));
    // The answer is among what the skill was built on.
    assert.ok(result.structuredContent.asked?.length >= 1, JSON.stringify(result.structuredContent));
  } finally {
    await session.close();
    await client.close();
  }
});

test("a task waiting on a question can be cancelled", async () => {
  let execution;
  let cancelled;
  const { client, session } = await connect("globex", async () => {
    cancelled = session.cancelTask(execution.handle.taskId);
    await cancelled;
    return { action: "cancel" };
  });
  try {
    execution = await session.callTool("generate_skill", generate("net_price"));
    assert.equal(execution.kind, "task");
    const { outcome } = await execution.settle();
    assert.equal(outcome.status, "cancelled", JSON.stringify(outcome));
    assert.ok(cancelled, "the question was asked before the cancel");
  } finally {
    await session.close();
    await client.close();
  }
  // Nothing was published under that name.
  const plain = new Client(CLIENT_INFO, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await plain.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${keys.globex}` } } }));
  const found = await plain.callTool({ name: "get_skill", arguments: { name: "net_price" } });
  assert.equal(found.isError, true);
  await plain.close();
});

test("a task outlives the client that started it; another tenant cannot see it", async () => {
  // The first client starts the generation, hands the task off (a
  // resumable reference) and goes away.
  const first = await connect("initech", async () => new Promise(() => {}));
  const execution = await first.session.callTool("generate_skill", generate("net_price"));
  assert.equal(execution.kind, "task");
  const taskId = execution.handle.taskId;
  let reference;
  await execution.handoff((r) => {
    reference = r;
  });
  // Handed off, the execution settles locally (detached); only then does
  // the session forget it, so closing the session leaves the task alone.
  await execution.result().catch(() => {});
  await first.session.close();
  await first.client.close();

  // Another tenant: the id is unknown.
  const stranger = await connect("globex");
  await assert.rejects(stranger.session.task(taskId).snapshot(), (e) => e.code === -32602);
  await stranger.session.close();
  await stranger.client.close();

  // The task waits on its question meanwhile; an answer that breaks the
  // question's schema is refused.
  const raw = rawDispatch("initech");
  let view;
  for (let i = 0; i < 200; i++) {
    view = (await raw({ method: "tasks/get", params: { taskId, _meta: META } })).result;
    if (view.status === "input_required") break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(view.status, "input_required", JSON.stringify(view));
  const [key] = Object.keys(view.inputRequests);
  const bad = await raw({ method: "tasks/update", params: { taskId, inputResponses: { [key]: { action: "accept", content: { choice: 7 } } }, _meta: META } });
  assert.equal(bad.kind, "error");
  assert.equal(bad.error.code, -32602);

  // The same tenant, a new client, resumes it from the reference and answers.
  const second = await connect("initech", async () => ({ action: "accept", content: { choice: "1" } }));
  try {
    const resumed = await second.session.resumeTask(reference);
    const { outcome } = await resumed.settle();
    assert.equal(outcome.status, "completed", JSON.stringify(outcome));
    assert.equal(outcome.result.structuredContent.skill.name, "net_price");
  } finally {
    await second.session.close();
    await second.client.close();
  }
});

test("a client without the tasks extension gets a plain result, its questions listed", async () => {
  const client = new Client(CLIENT_INFO, { versionNegotiation: { mode: { pin: "2026-07-28" } } });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { Authorization: `Bearer ${keys.umbrella}` } } }));
  try {
    const r = await client.callTool({ name: "generate_skill", arguments: generate("net_price") });
    assert.equal(r.resultType ?? "complete", "complete");
    assert.equal(r.taskId, undefined);
    assert.ok(r.structuredContent.questions?.length >= 1, JSON.stringify(r.structuredContent));
  } finally {
    await client.close();
  }
});
