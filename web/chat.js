// The Chat panel: the smart examples, the prompt, and each run of the
// consumer agent streaming its steps (from the live feed) as they happen.

import { api, el, reviewButtons } from "./lib.js";
import { python, json, block } from "./highlight.js";

const runs = new Map();      // chat id -> {card, steps, prompt, started}
// Events of chats whose card is not up yet: the agent starts before the
// browser has read the answer that names the chat. Bounded: other pages'
// chats land here too.
const early = new Map();     // chat id -> [event]
const MAX_EARLY_CHATS = 16;
const finished = [];         // {prompt, report, n}
let examples = [];
let enabled = true;

export function init() {
  document.getElementById("chat-form").addEventListener("submit", (e) => {
    e.preventDefault();
    send(document.getElementById("prompt").value);
  });
  document.getElementById("prompt").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      send(e.target.value);
    }
  });
}

export function setEnabled(on) {
  enabled = on;
  document.getElementById("send").disabled = !on;
  document.getElementById("chat-status").textContent = on ? "" :
    "The chat needs a language model: run `make run` (it fetches the embedded one) or set OPENAI_API_KEY, then restart.";
}

export function clear() {
  runs.clear();
  early.clear();
  finished.length = 0;
  document.getElementById("transcript").replaceChildren();
}

function promptOf(example, variant) {
  return `${example.task}\n\n\`\`\`${example.lang}\n${variant ? example.variant : example.data}\`\`\`\n`;
}

export async function loadExamples() {
  try {
    examples = (await api("/examples")).examples;
  } catch { return; }
  const box = document.getElementById("examples");
  box.replaceChildren(...examples.map((ex) => el("div", { class: "example", "data-example": ex.id },
    el("h3", {}, ex.title),
    el("p", { class: "muted" }, ex.blurb),
    el("div", { class: "row" },
      el("button", { type: "button", "data-run": "data", onclick: () => send(promptOf(ex, false)) }, "Run"),
      el("button", { type: "button", class: "secondary", "data-run": "variant", onclick: () => send(promptOf(ex, true)) }, "Run on new data")))));
}

async function send(prompt) {
  if (!prompt.trim() || !enabled) return;
  document.getElementById("prompt").value = prompt;
  const status = document.getElementById("chat-status");
  status.textContent = "";
  let chat;
  try {
    ({ chat } = await api("/agent", { body: { prompt } }));
  } catch (e) {
    status.textContent = e.message;
    return;
  }
  const steps = el("ol", { class: "steps" });
  const task = prompt.replace(/```[\s\S]*?(```|$)/g, "").trim();
  const data = [...prompt.matchAll(/```[^\n]*\n([\s\S]*?)(```|$)/g)].map((m) => m[1]);
  const card = el("li", { class: "run", "data-chat": chat, "aria-busy": "true" },
    el("div", { class: "run-prompt" }, el("strong", {}, "You: "), task),
    data.length ? el("details", {}, el("summary", {}, `data (${data.map((d) => `${d.split("\n").filter(Boolean).length} lines`).join(", ")})`), block(data.join("\n---\n"))) : null,
    steps,
    el("div", { class: "run-summary muted" }, "working…"));
  document.getElementById("transcript").prepend(card);
  runs.set(chat, { card, steps, prompt, started: performance.now() });
  const waiting = early.get(chat) ?? [];
  early.delete(chat);
  for (const event of waiting) onEvent(event);
}

function stepItem(step) {
  switch (step.kind) {
    case "task":
      return step.attachments.length ? el("li", { class: "step" }, "Data bound as variables: ", el("code", {}, step.attachments.join("; "))) : null;
    case "search":
      return el("li", { class: "step" }, step.hits.length ? `Published skills that match: ${step.hits.join(", ")}` : "No published skill matches.");
    case "judged":
      return el("li", { class: "step" }, step.skill ? el("span", {}, "The model chose the skill ", el("code", {}, step.skill)) : "No skill fits: reasoning step by step.");
    case "skill_call":
      return el("li", { class: `step ${step.ok ? "" : "failed"}`, "data-kind": "skill_call" },
        el("div", {}, `${step.ok ? "Called" : "Failed calling"} skill `, el("code", {}, step.skill), ` in ${step.ms} ms`),
        // A success is the answer, shown next; a failure is shown here.
        step.ok ? null : block(json(step.output), "out"));
    case "code":
      return el("li", { class: "step", "data-kind": "code" },
        el("div", {}, step.step === 0 ? "Parsing the table (the agent's own step): run_python" :
          `Step ${step.step}${step.attempt > 1 ? `, candidate ${step.attempt}` : ""}: run_python`), block(python(step.code), "code"));
    case "output":
      return el("li", { class: `step ${step.ok ? "" : "failed"}`, "data-kind": "output" },
        el("div", {}, step.ok ? `Step ${step.step} result` : `Step ${step.step} failed`),
        step.stdout ? block(step.stdout, "stdout") : null,
        block(json(step.output), "out"));
    case "crystallize":
      if (step.draft) return draftItem(step);
      return el("li", { class: "step crystallize", "data-kind": "crystallize" },
        step.published ? el("span", {}, "Crystallized: published the skill ", el("code", {}, step.skill)) :
          step.skill ? el("span", {}, "The skill ", el("code", {}, step.skill), " already does this.") :
            `Not crystallized: ${step.reason ?? "no reason given"}`);
    case "answer":
      return el("li", { class: "step answer", "data-kind": "answer" }, el("div", {}, el("strong", {}, "Answer")), block(json(step.answer), "out"));
    default:
      return null;
  }
}

// A crystallized draft waits for the person: only an answer they confirm
// becomes a tool; a wrong one is recorded and retired.
function draftItem(step) {
  const item = el("li", { class: "step crystallize", "data-kind": "crystallize", "data-draft": step.skill },
    el("div", {}, "Crystallized the draft ", el("code", {}, step.skill), ": is the answer below right?"));
  item.append(reviewButtons({ name: step.skill, id: step.id },
    { correct: "Correct, keep it as a skill", wrong: "Wrong" },
    (verdict, status) => {
      item.dataset.reviewed = verdict;
      status.textContent = verdict === "correct" ?
        `Published: the skill ${step.skill} answers this from now on.` :
        "Recorded as wrong: it will not become a skill.";
    }));
  return item;
}

export function onEvent(event) {
  const run = runs.get(event.chat);
  if (!run) {
    if (!early.has(event.chat) && early.size >= MAX_EARLY_CHATS) early.delete(early.keys().next().value);
    const list = early.get(event.chat) ?? [];
    if (list.length < 500) list.push(event);
    early.set(event.chat, list);
    return;
  }
  if (event.type === "agent_step") {
    const item = stepItem(event.step);
    if (item) run.steps.append(item);
    return;
  }
  run.card.removeAttribute("aria-busy");
  const summary = run.card.querySelector(".run-summary");
  if (event.error) {
    run.card.classList.add("failed");
    summary.textContent = `Failed: ${event.error}`;
    return;
  }
  const r = event.report;
  const earlier = finished.filter((f) => f.prompt === run.prompt);
  const n = finished.length + 1;
  finished.push({ prompt: run.prompt, report: r, n });
  const path = r.skill_used ? "skill" : "reasoning";
  run.card.dataset.path = path;
  const parts = [
    r.skill_used ? `Answered by the skill ${r.skill_used}` : "Solved step by step",
    `${(r.elapsed_ms / 1000).toFixed(r.elapsed_ms < 10000 ? 2 : 1)} s`,
    `${r.llm_calls} model call${r.llm_calls === 1 ? "" : "s"}, ${r.llm_tokens} tokens`,
    `tools: ${r.tools_called.join(", ")}`,
  ];
  const first = earlier[0];
  if (first) {
    const same = JSON.stringify(first.report.answer) === JSON.stringify(r.answer);
    const faster = first.report.elapsed_ms / Math.max(r.elapsed_ms, 1);
    parts.push(`${same ? "same answer as" : "a different answer from"} run ${first.n}` + (faster > 1 ? `, ${faster.toFixed(faster < 10 ? 1 : 0)}× faster` : ""));
    run.card.dataset.same = String(same);
  }
  summary.replaceChildren(el("span", { class: `badge ${path}` }, path === "skill" ? "skill path" : "reasoning path"), " ", parts.join(" · "));
}
