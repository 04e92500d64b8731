// "New skill" in the Skills panel: a request and examples go to the
// generation pipeline; each step streams in from the live feed (the spec,
// every candidate with its code and how it did on the examples, the
// clusters and the disputed inputs); when candidates that pass disagree, a
// question card offers their answers; the end says published or draft, and
// why.

import { api, el, reviewButtons } from "./lib.js";
import { python, json, block } from "./highlight.js";

const PLACEHOLDER = '[\n  {"input": {"price": 100, "discount": 10}, "output": 90.0},\n  {"input": {"price": 80, "discount": 25}, "output": 60.0}\n]';

let current = null;          // {id, box, steps, candidates: Map}
const early = [];            // events that beat the 202 (bounded)

export function init(onOpen) {
  document.getElementById("new-skill").addEventListener("click", () => onOpen(form()));
}

function form() {
  const status = el("p", { class: "muted", role: "status" });
  const f = el("form", { class: "run-form", id: "new-skill-form" },
    el("h2", {}, "New skill"),
    el("p", { class: "muted" }, "Say what the skill should do and give worked examples: they are the hard gate every candidate must pass. When candidates that pass disagree, you are asked which answer is right; when they agree but are too few to trust, whether their answer is."),
    el("div", { class: "field" }, el("label", { for: "new-request" }, "Request *"),
      el("textarea", { id: "new-request", rows: "3", required: "" })),
    el("div", { class: "field" }, el("label", { for: "new-examples" }, "Examples (a JSON array of {input, output})"),
      el("textarea", { id: "new-examples", rows: "5", class: "mono", placeholder: PLACEHOLDER })),
    el("div", { class: "field" }, el("label", { for: "new-name" }, "Name (optional)"),
      el("input", { id: "new-name", type: "text", pattern: "[A-Za-z][A-Za-z0-9_\\-]*" })),
    el("div", { class: "field" }, el("label", { for: "new-runtime" }, "Runtime"),
      el("select", { id: "new-runtime" },
        el("option", { value: "" }, "chosen from the request"),
        el("option", { value: "core" }, "core: the standard library"),
        el("option", { value: "data" }, "data: numpy and pandas too"))),
    el("div", { class: "row" }, el("button", { type: "submit", id: "new-go" }, "Generate"), status),
    el("ol", { id: "gen-steps", class: "steps", "aria-live": "polite" }),
    el("div", { id: "gen-result" }));
  f.addEventListener("submit", async (e) => {
    e.preventDefault();
    const request = f.querySelector("#new-request").value.trim();
    const text = f.querySelector("#new-examples").value.trim();
    let examples = [];
    if (text) {
      try { examples = JSON.parse(text); } catch (err) {
        status.textContent = `The examples are not valid JSON: ${err.message}`;
        return;
      }
      if (!Array.isArray(examples)) { status.textContent = "The examples must be a JSON array."; return; }
    }
    const name = f.querySelector("#new-name").value.trim();
    const body = { request, examples };
    if (name) body.name = name;
    const runtime = f.querySelector("#new-runtime").value;
    if (runtime) body.runtime = runtime;
    status.textContent = "starting…";
    f.querySelector("#new-go").disabled = true;
    f.querySelector("#gen-steps").replaceChildren();
    f.querySelector("#gen-result").replaceChildren();
    try {
      const { generation } = await api("/generations", { body });
      current = { id: generation, box: f, candidates: new Map() };
      f.dataset.generation = generation;
      f.setAttribute("aria-busy", "true");
      status.textContent = "working: this takes seconds with a hosted model, minutes with the embedded one";
      for (const event of early.splice(0)) onEvent(event);
    } catch (err) {
      status.textContent = err.message;
      f.querySelector("#new-go").disabled = false;
    }
  });
  return f;
}

function outcomeText(o) {
  if (o.value !== undefined) return JSON.stringify(o.value);
  return `raises ${o.error}`;
}

function stepItem(step) {
  switch (step.step) {
    case "spec":
      return el("li", { class: "step", "data-kind": "spec" }, "Spec: the function ", el("code", {}, step.entry), `, tried on ${step.inputs} inputs`);
    case "candidate": {
      const result = el("span", { class: "badge" }, "running…");
      const item = el("li", { class: "step", "data-kind": "candidate", "data-candidate": String(step.index) },
        el("details", {}, el("summary", {}, `Candidate ${step.index + 1}${step.round ? ` (repair round ${step.round})` : ""} `, result),
          block(python(step.code), "code")));
      current.candidates.set(step.index, result);
      return item;
    }
    case "tested": {
      const badge = current.candidates.get(step.index);
      if (badge) {
        const ok = step.passed === step.examples;
        badge.textContent = `${step.passed}/${step.examples} examples`;
        badge.className = `badge ${ok ? "passed" : "failed"}`;
        badge.closest("li").dataset.passed = String(ok);
      }
      return null;
    }
    case "decided": {
      const v = step.verdict;
      for (const c of v.ruled_out) {
        const badge = current.candidates.get(c);
        if (badge) {
          badge.textContent = "breaks the request";
          badge.className = "badge failed";
          badge.closest("li").dataset.passed = "false";
        }
      }
      return el("li", { class: "step", "data-kind": "decided" },
        `${v.passing.length} candidate${v.passing.length === 1 ? " passes" : "s pass"} the examples; `,
        v.ruled_out.length ? `${v.ruled_out.length} more pass${v.ruled_out.length === 1 ? "es" : ""} them but break${v.ruled_out.length === 1 ? "s" : ""} what the request says of every result (such as its rounding), so ${v.ruled_out.length === 1 ? "it does" : "they do"} not count; ` : "",
        `candidate ${v.winner + 1} wins` + (v.group.length > 1 ? `, with ${v.group.length - 1} more behaving exactly the same; ` : ", no other behaving exactly the same; "),
        v.disputed.length ? `they disagree on ${v.disputed.length} input${v.disputed.length === 1 ? "" : "s"}; ` : "they agree on every input; ",
        `agreement ${(100 * step.agreement).toFixed(0)}%.`);
    }
    case "asked":
      return el("li", { class: "step", "data-kind": "asked" }, "For ", el("code", {}, step.question.call), ": ",
        step.answer === null ? "no answer, so the evidence decides." :
          step.answer === "invalid" ? "you said the input is invalid." : `you said ${JSON.stringify(step.answer.value)}.`);
    case "repair":
      return el("li", { class: "step failed", "data-kind": "repair" }, el("div", {}, `No candidate passed: repair round ${step.round}.`));
    default:
      return null;
  }
}

function questionCard(question) {
  const status = el("span", { class: "muted", role: "status" });
  const answer = async (body, buttons) => {
    for (const b of buttons) b.disabled = true;
    try {
      await api(`/generations/${current.id}/answer`, { body: { input: question.input, ...body } });
      card.dataset.answered = "true";
      status.textContent = "Answered: deciding again…";
      for (const b of buttons) b.remove();
      other.remove();
    } catch (err) {
      status.textContent = err.message;
      for (const b of buttons) b.disabled = false;
    }
  };
  // One choice: the candidates agree but are too few to trust, and the
  // person confirms their answer or gives the right one.
  const confirm = question.choices.length === 1;
  const buttons = [];
  for (const [i, c] of question.choices.entries()) {
    const body = c.outcome.value !== undefined ? { output: c.outcome.value } : { invalid: true };
    const text = c.outcome.value !== undefined ? outcomeText(c.outcome) : `Invalid input (${c.outcome.error})`;
    const label = confirm ? `Yes: ${text}` : text;
    const b = el("button", { type: "button", class: "secondary", "data-choice": String(i) },
      label, el("span", { class: "muted" }, ` · ${c.programs} program${c.programs === 1 ? "" : "s"}`));
    b.addEventListener("click", () => answer(body, buttons));
    buttons.push(b);
  }
  if (confirm) {
    const invalid = el("button", { type: "button", class: "secondary", "data-choice": "invalid" }, "No: the input is invalid");
    invalid.addEventListener("click", () => answer({ invalid: true }, buttons));
    buttons.push(invalid);
  }
  // Another answer, as JSON (plain text is taken as a string).
  const other = el("input", { type: "text", "data-other": "", placeholder: confirm ? "No, it is… (JSON)" : "None: it is… (JSON)", "aria-label": "The right result, as JSON" });
  const send = el("button", { type: "button", class: "secondary", "data-choice": "other" }, "Send");
  send.addEventListener("click", () => {
    const typed = other.value.trim();
    if (!typed) return;
    let value;
    try { value = JSON.parse(typed); } catch { value = typed; }
    answer({ output: value }, buttons);
  });
  const skip = el("button", { type: "button", class: "secondary", "data-choice": "skip" }, "I don't know");
  skip.addEventListener("click", () => answer({ skip: true }, buttons));
  buttons.push(send, skip);
  const lead = confirm
    ? [el("strong", {}, "Is this right? "), "Every candidate that passes your examples gives this for ", el("code", {}, question.call), ", but they are too few to trust"]
    : [el("strong", {}, "Which is right? "), "Candidates that pass your examples disagree on ", el("code", {}, question.call)];
  const card = el("li", { class: "step question", "data-kind": "question", ...(confirm ? { "data-confirm": "" } : {}) },
    el("div", {}, ...lead),
    el("div", { class: "row" }, ...buttons.slice(0, -2), other, ...buttons.slice(-2), status));
  return card;
}

function result(outcome, error) {
  if (error) return el("p", { class: "error", "data-outcome": "error" }, `${error.kind}: ${error.message}`);
  const status = outcome.published ? "published" : outcome.skill ? "draft" : "none";
  const name = outcome.skill?.name;
  return el("div", { class: "gen-outcome", "data-outcome": status },
    el("h3", {}, outcome.published ? "Published" : outcome.skill ? "Kept as a draft" : "No skill"),
    name ? el("p", {}, "The skill ", el("code", {}, name), outcome.trust !== null ? ` · trust ${outcome.trust.toFixed(1)}` : "",
      ` · ${outcome.candidates} candidates, ${outcome.llm_calls} model calls`) : null,
    outcome.reasons?.length ? el("ul", {}, outcome.reasons.map((r) => el("li", {}, r))) : null,
    outcome.questions?.length ? el("details", {}, el("summary", {}, `${outcome.questions.length} question${outcome.questions.length === 1 ? "" : "s"} left open`),
      block(json(outcome.questions.map((q) => ({ call: q.call, choices: q.choices }))))) : null,
    status === "draft" ? reviewButtons(outcome.skill, { correct: "I checked it: publish", wrong: "Wrong: discard" },
      (verdict, note) => { note.textContent = verdict === "correct" ? "Published." : "Discarded: recorded as wrong."; }) : null);
}

export function onEvent(event) {
  if (!current) {
    // The generation may start before the page has read its id.
    if (early.length < 500) early.push(event);
    return;
  }
  if (current.id !== event.generation) return;
  const steps = current.box.querySelector("#gen-steps");
  if (event.type === "generate_step") {
    const item = stepItem(event.step);
    if (item) steps.append(item);
  } else if (event.type === "generate_question") {
    steps.append(questionCard(event.question));
  } else if (event.type === "generate_done") {
    current.box.removeAttribute("aria-busy");
    current.box.querySelector("#new-go").disabled = false;
    current.box.querySelector('[role="status"]').textContent = "";
    current.box.querySelector("#gen-result").replaceChildren(result(event.outcome, event.error));
    current = null;
  }
}
