// A local stand-in for the OpenAI API at the LLM's network boundary, for the
// web UI test: a model solving the demo examples as recorded in
// tests/fixtures/agent_recorded.json (the same recording the Rust tests
// replay). Given run_python it plays the recorded steps, then calls finish;
// given skills, it calls the one whose description is the task. Asked for
// a spec or candidate code of the tiny practice curriculum, it answers as
// recorded in tests/fixtures/practice_recorded.json (by sampling
// temperature, as the Rust fake does).
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const examples = JSON.parse(readFileSync(join(root, "examples/demo/examples.json"), "utf8")).examples;
const recorded = JSON.parse(readFileSync(join(root, "tests/fixtures/agent_recorded.json"), "utf8")).steps;
const practice = JSON.parse(readFileSync(join(root, "tests/fixtures/practice_recorded.json"), "utf8"));

// Candidates for the web UI's New skill, by sampling temperature: two
// programs pass the examples and split on out-of-range discounts (one
// clamps them), so the pipeline has a question to ask; a third passes them
// too but ignores the request's rounding, so it is ruled out.
const RIGHT = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    return round(price * (1 - discount / 100), 2)\n";
const CLAMPED = "def net_price(price, discount):\n    \"\"\"Price after a discount.\"\"\"\n    d = max(0, min(100, discount))\n    return round(price * (1 - d / 100), 2)\n";
const UNROUNDED = "def net_price(price, discount):\n    return price * (1 - discount / 100)\n";
const generations = [["Apply a percentage discount", { "0.0": RIGHT, "0.6": CLAMPED, "0.9": UNROUNDED, "1.1": CLAMPED }]];

// A plain completion: a practice spec, candidate code, or an empty object.
function plain(body) {
  const prompt = body.messages.at(-1)?.content ?? "";
  if (prompt.startsWith("This Python function was built")) return "{}";
  const generation = generations.find(([needle]) => prompt.includes(needle));
  if (generation) {
    const code = generation[1][(body.temperature ?? 0).toFixed(1)];
    return "```python\n" + (code ?? "def broken(:\n") + "```";
  }
  const table = prompt.startsWith("Design a function") ? practice.specs : practice.candidates;
  const hit = table.find(([needle]) => prompt.includes(needle));
  if (!hit) return "{}";
  if (table === practice.specs) return JSON.stringify(hit[1]);
  const code = hit[1][(body.temperature ?? 0).toFixed(1)];
  return "```python\n" + (code ?? "def broken(:\n") + "```";
}

const call = (name, args) => ({
  role: "assistant",
  content: null,
  tool_calls: [{ id: "call_1", type: "function", function: { name, arguments: JSON.stringify(args) } }],
});

// A wrong answer to the same steps: the last one's value with every
// integer in it off by one.
function wrong(steps) {
  const last = steps.at(-1).split("\n");
  const value = last.pop();
  return [...steps.slice(0, -1), [...last, "import json, re",
    `json.loads(re.sub(r'\\b(\\d+)\\b', lambda m: str(int(m.group(1)) + 1), json.dumps(${value})))`].join("\n")];
}

function answer(body) {
  const messages = body.messages;
  if (!body.tools) return { role: "assistant", content: plain(body) };
  const task = messages.find((m) => m.role === "user")?.content ?? "";
  const example = examples.find((e) => task.startsWith(e.task));
  const tools = body.tools.map((t) => t.function);
  if (tools.some((t) => t.name === "run_python")) {
    const done = messages.filter((m) => m.role === "tool").length;
    // FAKE_OPENAI_WRONG: a model that reads the data but answers wrongly
    // (every count off by one).
    const steps = example ? (process.env.FAKE_OPENAI_WRONG ? wrong(recorded[example.id]) : recorded[example.id]) : [];
    return done < steps.length ? call("run_python", { code: steps[done] }) : call("finish", {});
  }
  const head = task.slice(0, 60);
  const fit = tools.find((t) => (t.description ?? "").startsWith(head));
  return fit ? call(fit.name, {}) : call("solve_step_by_step", {});
}

/** Start the fake; resolves to {url, requests, close}. */
export function startFakeOpenAI() {
  const requests = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => { body += c; });
    req.on("end", () => {
      const parsed = JSON.parse(body);
      requests.push(parsed);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ choices: [{ message: answer(parsed) }], usage: { prompt_tokens: 300, completion_tokens: 40 } }));
    });
  });
  return new Promise((ok) => server.listen(0, "127.0.0.1", () => ok({
    url: `http://127.0.0.1:${server.address().port}/v1`,
    requests,
    close: () => server.close(),
  })));
}

// Run as a program (the Python tests do): print the URL, serve until killed.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const fake = await startFakeOpenAI();
  console.log(fake.url);
}
