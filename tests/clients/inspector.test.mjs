// MCP Inspector's command line (@modelcontextprotocol/inspector, pinned),
// as the README shows it: it lists the learned skills (the Skills
// extension), gets one, and reads a skill's directory.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServer, serverEnv, bin, root } from "./server.mjs";

const dataDir = mkdtempSync(join(tmpdir(), "autolearn-inspector-"));
const env = serverEnv(dataDir);
const inspector = join(root, "tests/clients/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js");
let server;
let url;

before(async () => {
  // The skill `make run` stores.
  execFileSync(bin, [
    "skill", "add", join(root, "examples/skills/word_stats.py"), "--name", "word_stats", "--entry", "word_stats",
    "--description", "Count the words in a text and list the most common ones.",
    "--examples", JSON.stringify([{ input: { text: "the cat and the hat" }, output: { words: 5, unique: 4, top: ["the", "cat", "and"] } }]),
  ], { env, stdio: ["ignore", "ignore", "inherit"] });
  ({ proc: server, url } = await startServer(env));
});

after(() => {
  server?.kill("SIGTERM");
  rmSync(dataDir, { recursive: true, force: true });
});

/** `mcp-inspector --cli URL ARGS...`, its JSON output parsed. */
function cli(...args) {
  const out = execFileSync(process.execPath, [inspector, "--cli", url, ...args], {
    env: { ...process.env, MCP_CATALOG_PATH: join(dataDir, "inspector-catalog.json") },
    timeout: 60_000,
  });
  return JSON.parse(out.toString());
}

test("the Inspector's CLI lists, gets and browses a learned skill", () => {
  const { skills } = cli("--method", "skills/list");
  assert.deepEqual(skills.map((s) => s.uri), ["skill://word-stats/SKILL.md"]);
  assert.equal(skills[0].frontmatter.metadata["autolearn-name"], "word_stats");
  assert.equal(skills[0].resources.length, 3);

  const { skill } = cli("--method", "skills/get", "--uri", "skill://word-stats/SKILL.md");
  assert.deepEqual(skill, skills[0]);

  const dir = cli("--method", "resources/directory/read", "--uri", "skill://word-stats/scripts");
  assert.deepEqual(dir.resources.map((r) => r.uri), ["skill://word-stats/scripts/word_stats.py"]);
});
