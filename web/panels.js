// The MCP spec, Execution and Learning panels.

import { api, el } from "./lib.js";
import { json, block } from "./highlight.js";

const MAX_ROWS = 500;

export function init() {}

export async function refreshMcp() {
  let view;
  try { view = await api("/mcp"); } catch { return; }
  const init = view.initialize ?? {};
  const info = init.serverInfo ?? {};
  document.getElementById("mcp-info").replaceChildren(...[
    el("dl", { class: "facts" },
      el("dt", {}, "Server"), el("dd", {}, `${info.name ?? "?"} ${info.version ?? ""}`),
      el("dt", {}, "Protocol"), el("dd", {}, init.protocolVersion ?? "?"),
      el("dt", {}, "Tools"), el("dd", { "data-tool-count": String(view.tools.length) }, String(view.tools.length))),
    el("details", {}, el("summary", {}, "Capabilities"), block(json(init.capabilities ?? {}))),
    init.instructions ? el("details", {}, el("summary", {}, "Instructions"), el("p", { class: "pre" }, init.instructions)) : null,
  ].filter(Boolean));
  document.getElementById("mcp-tools").replaceChildren(...view.tools.map((t) => el("li", { "data-tool": t.name },
    el("div", {}, el("code", { class: "name" }, t.name), t.annotations?.readOnlyHint ? el("span", { class: "badge" }, "read-only") : null),
    el("p", { class: "muted" }, t.description ?? ""),
    el("details", {}, el("summary", {}, "inputSchema"), block(json(t.inputSchema ?? {}))))));
}

function executionRow(x) {
  const when = new Date(x.at_ms);
  const outcome = x.error_kind ? el("span", { class: "error", title: x.error ?? "" }, x.error_kind) : el("code", {}, x.output ?? "");
  return el("tr", { "data-seq": String(x.seq), class: x.error_kind ? "failed" : "" },
    el("td", { title: when.toISOString() }, when.toLocaleTimeString()),
    el("td", {}, el("code", {}, x.skill), x.version ? el("span", { class: "muted" }, ` v${x.version}`) : null),
    el("td", { class: "clip" }, el("code", {}, x.input)),
    el("td", { class: "clip" }, outcome),
    el("td", { class: "num" }, x.fuel.toLocaleString()),
    el("td", { class: "num" }, (x.elapsed_us / 1000).toFixed(1)),
    el("td", {}, x.tenant));
}

export async function refreshExecutions() {
  let rows;
  try { rows = (await api("/executions?limit=200")).executions; } catch { return; }
  const body = document.querySelector("#exec-table tbody");
  body.replaceChildren(...rows.map(executionRow));
  if (!rows.length) body.append(el("tr", { class: "empty" }, el("td", { colspan: "7", class: "muted" }, "No skill calls yet.")));
}

export function addExecution(x) {
  const body = document.querySelector("#exec-table tbody");
  body.querySelector("tr.empty")?.remove();
  if (body.querySelector(`tr[data-seq="${x.seq}"]`)) return;
  body.prepend(executionRow(x));
  while (body.rows.length > MAX_ROWS) body.lastElementChild.remove();
}

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const n = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
  n.append(...children);
  return n;
}

// Trust of every skill decision over time, with the publishing line at 70.
function chart(points) {
  const box = document.getElementById("trust-chart");
  if (!points.length) {
    box.replaceChildren(el("p", { class: "muted" }, "No skill decisions yet."));
    return;
  }
  const w = 640, h = 220, pad = 32;
  const t0 = points[0].t, t1 = Math.max(points[points.length - 1].t, t0 + 1);
  const x = (t) => pad + (w - 2 * pad) * (t - t0) / (t1 - t0);
  const y = (v) => h - pad - (h - 2 * pad) * v / 100;
  const dots = points.map((p) => svg("circle", { cx: x(p.t), cy: y(p.trust), r: 4, class: p.published ? "dot published" : "dot draft" },
    svg("title", {}, `${p.subject}: trust ${p.trust}${p.published ? " (published)" : ""}`)));
  box.replaceChildren(svg("svg", { viewBox: `0 0 ${w} ${h}`, role: "img", "aria-label": `Trust of ${points.length} skill decisions over time` },
    svg("line", { x1: pad, x2: w - pad, y1: y(70), y2: y(70), class: "threshold" }),
    svg("text", { x: w - pad, y: y(70) - 4, "text-anchor": "end", class: "label" }, "publish at 70"),
    svg("line", { x1: pad, x2: pad, y1: y(0), y2: y(100), class: "axis" }),
    svg("line", { x1: pad, x2: w - pad, y1: y(0), y2: y(0), class: "axis" }),
    svg("text", { x: pad - 6, y: y(100) + 4, "text-anchor": "end", class: "label" }, "100"),
    svg("text", { x: pad - 6, y: y(0) + 4, "text-anchor": "end", class: "label" }, "0"),
    ...dots));
}

export async function refreshLearning() {
  let entries;
  try { entries = (await api("/learnings?limit=1000")).learnings; } catch { return; }
  chart(entries.filter((e) => e.kind === "decision" && typeof e.detail?.trust === "number")
    .map((e) => ({ t: e.created_ms, trust: e.detail.trust, published: e.detail.published === true, subject: e.subject })));
  const list = document.getElementById("learning-list");
  list.replaceChildren(...entries.slice(-50).reverse().map((e) => el("li", { "data-seq": String(e.seq) },
    el("span", { class: "badge" }, e.kind), " ", el("code", {}, e.subject), " ",
    el("span", { class: "muted" }, new Date(e.created_ms).toLocaleTimeString()),
    el("details", {}, el("summary", {}, "detail"), block(json(e.detail))))));
  if (!entries.length) list.append(el("li", { class: "muted" }, "Nothing learned yet."));
}
