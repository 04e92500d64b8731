// The Skills panel: list and search; one skill in full (code, schemas,
// KPIs, trust, versions, edge cases); a run form made from its input
// schema; retire. New skill is in newskill.js.

import { api, el, confirmAction } from "./lib.js";
import { python, json, block } from "./highlight.js";

let selected = null;
let query = "";

export function init() {
  let timer;
  document.getElementById("skill-search").addEventListener("input", (e) => {
    clearTimeout(timer);
    timer = setTimeout(() => { query = e.target.value.trim(); refresh(); }, 150);
  });
}

function trustBar(trust) {
  const bar = el("span", { class: "bar" });
  // Through the CSSOM: the page's CSP allows no inline style attributes.
  bar.style.width = `${Math.max(0, Math.min(100, trust)) * 0.04}rem`;
  return el("span", { class: `trust ${trust >= 70 ? "high" : "low"}`, title: `trust ${trust}` }, bar, ` ${trust}`);
}

export async function refresh() {
  let list;
  try {
    list = (await api(`/skills${query ? `?q=${encodeURIComponent(query)}` : ""}`)).skills;
  } catch { return; }
  const published = list.filter((s) => s.status === "published").length;
  document.getElementById("skill-count").textContent = String(published);
  const ul = document.getElementById("skill-list");
  ul.replaceChildren(...list.map((s) => el("li", {},
    el("button", { type: "button", class: `skill ${s.name === selected ? "selected" : ""}`, "data-skill": s.name, onclick: () => show(s.name) },
      el("span", { class: "name" }, s.name),
      el("span", { class: `status ${s.status}` }, s.status),
      el("span", { class: "muted" }, ` v${s.version} · ${s.provenance}`),
      trustBar(s.trust),
      el("span", { class: "desc muted" }, s.description)))));
  if (!list.length) ul.append(el("li", { class: "muted" }, query ? "No skill matches." : "No skills yet: run an example in the Chat panel."));
  if (selected && !list.some((s) => s.name === selected) && !query) {
    selected = null;
    document.getElementById("skill-detail").replaceChildren(el("p", { class: "muted" }, "Pick a skill."));
  } else if (selected) {
    show(selected, true);
  }
}

function section(title, ...body) {
  return el("section", {}, el("h3", {}, title), ...body);
}

function kpiTable(kpis) {
  const rows = Object.entries(kpis ?? {}).filter(([, v]) => v !== null && typeof v !== "object");
  return el("table", { class: "kpis" }, el("tbody", {}, rows.map(([k, v]) => el("tr", {}, el("th", { scope: "row" }, k.replaceAll("_", " ")), el("td", {}, String(v))))));
}

/** Show `node` (the New skill form) in the detail pane. */
export function openPane(node) {
  selected = null;
  for (const b of document.querySelectorAll("#skill-list .skill")) b.classList.remove("selected");
  document.getElementById("skill-detail").replaceChildren(node);
  node.querySelector("textarea, input")?.focus();
}

async function show(name, quiet = false) {
  selected = name;
  for (const b of document.querySelectorAll("#skill-list .skill")) b.classList.toggle("selected", b.dataset.skill === name);
  let s;
  try {
    s = await api(`/skills/${encodeURIComponent(name)}`);
  } catch (e) {
    if (!quiet) document.getElementById("skill-detail").replaceChildren(el("p", { class: "error" }, e.message));
    return;
  }
  const m = s.manifest;
  const detail = document.getElementById("skill-detail");
  const keepResult = quiet ? detail.querySelector(".run-result")?.cloneNode(true) : null;
  detail.replaceChildren(...[
    el("header", {},
      el("h2", {}, m.name),
      el("span", { class: `status ${s.status}` }, s.status),
      el("span", { class: "muted" }, ` v${s.version} · ${s.provenance} · `),
      el("span", { class: "muted", "data-runtime": m.runtime ?? "core", title: "the interpreter it runs on" },
        m.runtime === "data" ? "data runtime (numpy, pandas) · " : "core runtime · "),
      trustBar(s.trust)),
    el("p", {}, m.description),
    el("p", { class: "muted mono" }, `sha256 ${s.id}`),
    s.status === "published" ? runForm(m, keepResult) : el("p", { class: "muted" }, `A ${s.status} skill is not callable.`),
    section("Code", block(python(m.source), "code")),
    section("Input schema", block(json(m.input_schema))),
    m.output_schema ? section("Output schema", block(json(m.output_schema))) : null,
    m.examples?.length ? section(`Examples (${m.examples.length})`, block(json(m.examples))) : null,
    section("KPIs", kpiTable(s.kpis)),
    section("Versions and lineage", el("table", { class: "versions" },
      el("thead", {}, el("tr", {}, ["Version", "Status", "From", "Trust", "Created", "sha256"].map((h) => el("th", { scope: "col" }, h)))),
      el("tbody", {}, (s.versions ?? []).map((v) => el("tr", {},
        el("td", {}, `v${v.version}`), el("td", {}, v.status), el("td", {}, v.provenance), el("td", {}, String(v.trust)),
        el("td", {}, v.created_at), el("td", { class: "mono" }, v.id.slice(0, 12))))))),
    section(`Edge cases (${s.edge_cases?.length ?? 0})`, s.edge_cases?.length ? block(json(s.edge_cases)) :
      el("p", { class: "muted" }, "None recorded: edge cases come from generation, where candidates disagree on inputs.")),
    s.status !== "retired" ? el("div", { class: "row" }, el("button", { type: "button", class: "danger", "data-action": "retire", onclick: () => retire(name) }, "Retire")) : null,
  ].filter(Boolean));
}

// One field per input property, by type; prefilled from the first example.
function runForm(m, keepResult) {
  const props = m.input_schema?.properties ?? {};
  const required = new Set(m.input_schema?.required ?? []);
  const sample = m.examples?.[0]?.input ?? {};
  const fields = Object.entries(props).map(([key, p]) => {
    const id = `in-${key}`;
    const type = Array.isArray(p.type) ? p.type.find((t) => t !== "null") : p.type;
    const value = sample[key];
    let input;
    if (type === "boolean") input = el("input", { id, name: key, type: "checkbox", checked: value === true, "data-type": "boolean" });
    else if (type === "integer" || type === "number") input = el("input", { id, name: key, type: "number", step: type === "integer" ? "1" : "any", value: value ?? "", "data-type": type });
    else if (type === "string") input = el("textarea", { id, name: key, rows: String(Math.min(8, Math.max(1, String(value ?? "").split("\n").length))), "data-type": "string" }, value ?? "");
    else input = el("textarea", { id, name: key, rows: "3", "data-type": "json", class: "mono" }, value === undefined ? "" : JSON.stringify(value));
    return el("div", { class: "field" }, el("label", { for: id }, key, required.has(key) ? " *" : "", p.description ? el("span", { class: "muted" }, ` — ${p.description}`) : null), input);
  });
  const result = keepResult ?? el("div", { class: "run-result", "aria-live": "polite" });
  const form = el("form", { class: "run-form", "data-form": m.name }, el("h3", {}, "Run"), ...fields,
    el("div", { class: "row" }, el("button", { type: "submit" }, "Run")), result);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const input = {};
    for (const f of form.querySelectorAll("[name]")) {
      const t = f.dataset.type;
      if (t === "boolean") input[f.name] = f.checked;
      else if (f.value === "") continue;
      else if (t === "integer") input[f.name] = parseInt(f.value, 10);
      else if (t === "number") input[f.name] = Number(f.value);
      else if (t === "json") {
        try { input[f.name] = JSON.parse(f.value); } catch {
          result.replaceChildren(el("p", { class: "error" }, `${f.name}: not valid JSON`));
          return;
        }
      } else input[f.name] = f.value;
    }
    result.replaceChildren(el("p", { class: "muted" }, "running…"));
    try {
      const r = await api(`/skills/${encodeURIComponent(m.name)}/run`, { body: { input } });
      result.replaceChildren(el("p", { class: "muted" }, `v${r.version} · ${r.elapsed_ms.toFixed(1)} ms · fuel ${r.fuel.toLocaleString()}`), block(json(r.result), "out result"));
    } catch (err) {
      result.replaceChildren(el("p", { class: "error" }, `${err.kind}: ${err.message}`));
    }
  });
  return form;
}

async function retire(name) {
  if (!await confirmAction(`Retire ${name}?`, "It stops being a tool; its versions stay stored.", "Retire")) return;
  try {
    await api(`/skills/${encodeURIComponent(name)}/retire`, { body: {} });
  } catch (e) {
    alert(e.message);
  }
}
