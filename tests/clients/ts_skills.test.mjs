// Learned skills as Agent Skills (the MCP Skills extension, SEP-2640), read
// by the official TypeScript client v2 (@modelcontextprotocol/client) at
// protocol 2026-07-28: its SkillsClient checks every file against the
// digest and size the server listed, and SKILL.md's front matter against
// the listed one. Two tenants, so one never sees the other's skills.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { SkillsClient, SkillVerificationError } from "@modelcontextprotocol/client/ext/skills";
import { startServer, serverEnv, bin } from "./server.mjs";

const dataDir = mkdtempSync(join(tmpdir(), "autolearn-skills-"));
const env = serverEnv(dataDir);
const keys = {};
let server;
let url;

before(async () => {
  for (const tenant of ["acme", "globex"]) {
    keys[tenant] = execFileSync(bin, ["tenant", "create", tenant], { env }).toString().trim();
  }
  ({ proc: server, url } = await startServer(env));
});

after(() => {
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

async function connect(tenant) {
  const client = new Client(
    { name: "autolearn-skills-test", version: "1.0.0" },
    { versionNegotiation: { mode: { pin: "2026-07-28" } } },
  );
  const headers = { Authorization: `Bearer ${keys[tenant]}` };
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

const CODE = "def title_case(text):\n    \"\"\"Title-case every word.\"\"\"\n    return ' '.join(w.capitalize() for w in text.split())\n";

async function publish(client, name, code = CODE) {
  const r = await client.callTool({
    name: "create_skill",
    arguments: {
      name,
      description: "Title-case every word of a text: \"the\" and all.",
      entry: "title_case",
      code,
      examples: [{ input: { text: "hello big world" }, output: "Hello Big World" }],
    },
  });
  assert.equal(r.isError ?? false, false, JSON.stringify(r.content));
  return r.structuredContent;
}

test("a published skill is an Agent Skill whose files verify, and retiring it removes it", async () => {
  const acme = await connect("acme");
  await publish(acme, "title_case");
  const skills = new SkillsClient(acme);
  assert.equal(skills.supported, true);
  assert.equal(skills.directoryRead, true);

  const listing = await skills.list();
  assert.equal(listing.ttlMs, 0);
  assert.equal(listing.cacheScope, "private");
  const entry = listing.skills.find((s) => s.frontmatter.name === "title-case");
  assert.ok(entry, JSON.stringify(listing.skills.map((s) => s.uri)));
  assert.equal(entry.uri, "skill://title-case/SKILL.md");
  assert.equal(entry.frontmatter.metadata["autolearn-name"], "title_case");

  // SKILL.md: digest, size and front matter checked by the client.
  const md = await skills.read(entry);
  assert.equal(md.verified, true);
  assert.deepEqual(md.frontmatter, entry.frontmatter);
  assert.match(md.body, /`call_skill` with `\{"name": "title_case", "input": \{"text":"hello big world"\}\}`/);
  assert.match(md.body, /tests: 1 of 1 passed/);

  const script = await skills.read(entry, "scripts/title_case.py");
  assert.equal(script.verified, true);
  assert.equal(script.text, CODE);

  // The manifest file is the exact text AutoLearn hashes into the skill's id.
  const manifest = await skills.read(entry, "references/manifest.json");
  const id = createHash("sha256").update("autolearn-skill-v1\n").update(manifest.bytes).digest("hex");
  assert.equal(id, entry.frontmatter.metadata["autolearn-id"]);
  assert.equal(JSON.parse(manifest.text).source, CODE);

  const got = await skills.get(entry.uri);
  assert.deepEqual(got.skill, entry);
  const dir = await skills.readDirectory("skill://title-case");
  assert.deepEqual(
    dir.resources.map((r) => [r.uri, r.mimeType]).sort(),
    [
      ["skill://title-case/SKILL.md", "text/markdown"],
      ["skill://title-case/references", "inode/directory"],
      ["skill://title-case/scripts", "inode/directory"],
    ],
  );

  // A new version changes the files; a copy read before no longer verifies.
  const better = CODE.replace("Title-case every word.", "Title-case every word, split on spaces.");
  await publish(acme, "title_case", better);
  await assert.rejects(skills.read(entry, "scripts/title_case.py"), SkillVerificationError);
  const [fresh] = (await skills.list()).skills.filter((s) => s.frontmatter.name === "title-case");
  assert.equal((await skills.read(fresh, "scripts/title_case.py")).text, better);

  // A draft is never served.
  await acme.callTool({ name: "run_python", arguments: { code: "len(text.split())", inputs: { text: "a b c" } } });
  const draft = await acme.callTool({
    name: "crystallize",
    arguments: { request: "Count the words of a text", name: "count_words", draft: true },
  });
  assert.equal(draft.isError ?? false, false, JSON.stringify(draft.content));
  const got2 = await acme.callTool({ name: "get_skill", arguments: { name: "count_words" } });
  assert.equal(got2.structuredContent.status, "draft");
  assert.equal((await skills.list()).skills.some((s) => s.frontmatter.name === "count-words"), false);
  await assert.rejects(skills.get("skill://count-words/SKILL.md"), /-32602|no skill is served/);

  const retired = await acme.callTool({ name: "retire_skill", arguments: { name: "title_case" } });
  assert.equal(retired.isError ?? false, false);
  assert.equal((await skills.list()).skills.some((s) => s.uri === entry.uri), false);
  await assert.rejects(skills.get(entry.uri), /-32602|no skill is served/);
  await acme.close();
});

test("a tenant never sees another tenant's skills", async () => {
  const acme = await connect("acme");
  await publish(acme, "acme_only");
  const globex = await connect("globex");
  const theirs = new SkillsClient(globex);
  assert.deepEqual((await theirs.list()).skills, []);
  await assert.rejects(theirs.get("skill://acme-only/SKILL.md"), /-32602|no skill is served/);
  await assert.rejects(globex.readResource({ uri: "skill://acme-only/SKILL.md" }));
  const ours = (await new SkillsClient(acme).list()).skills.map((s) => s.uri);
  assert.ok(ours.includes("skill://acme-only/SKILL.md"), JSON.stringify(ours));
  await acme.close();
  await globex.close();
});
