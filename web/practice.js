// The Learning panel's practice view: the curriculum (domains and their
// mastery), projects in the manager's order with Start, the active
// project's progress (project and phase bars, live from `practice` events
// on the feed), Work for some hours, Complete, and the completion report.

import { api, el } from "./lib.js";

const MAX_STEPS = 200;

export function init() {
  document.getElementById("work-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const hours = Number(document.getElementById("work-hours").value);
    await act(() => api("/learning/project/work", { body: { hours } }));
  });
  document.getElementById("complete-go").addEventListener("click", async () => {
    const report = await act(() => api("/learning/project/complete", { method: "POST" }));
    if (report) showReport(report);
  });
}

/** Run an action; show its refusal (409, 503, ...) in the panel. */
async function act(fn) {
  const problem = document.getElementById("practice-error");
  problem.textContent = "";
  try {
    const out = await fn();
    await refresh();
    return out;
  } catch (e) {
    problem.textContent = e.message;
    return null;
  }
}

function duration(seconds) {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(2)} h`;
}

function meter(label, value, attrs = {}) {
  return el("div", { class: "meter" },
    el("span", { class: "muted" }, label),
    el("progress", { max: "100", value: String(value), ...attrs }),
    el("span", { class: "num" }, `${value.toFixed(1)}%`));
}

function projectRow(p) {
  const start = p.status === "not_started" && p.ready
    ? el("button", { type: "button", class: "secondary", "data-start": p.project_id,
      onclick: () => act(() => api("/learning/project/start", { body: { project_id: p.project_id } })) }, "Start")
    : null;
  return el("li", { "data-project": p.project_id, "data-status": p.status },
    el("span", { class: `status ${p.status}` }, p.status.replace("_", " ")), " ",
    el("strong", {}, p.name), " ",
    el("span", { class: "muted" }, `${p.domain} · priority ${p.priority} · ${p.goals} goals · complexity ${p.complexity}`),
    p.ready ? null : el("span", { class: "muted" }, ` · needs ${p.requires.join(", ")}`),
    " ", start);
}

function activeCard(a) {
  const box = document.getElementById("practice-active");
  box.dataset.progress = a ? String(a.progress) : "";
  box.dataset.working = a ? String(a.working) : "false";
  document.getElementById("work-go").disabled = !a || a.working;
  document.getElementById("complete-go").disabled = !a || a.working;
  if (!a) {
    box.replaceChildren(el("p", { class: "muted" }, "No project in progress: start one below."));
    return;
  }
  const held = a.held_back.total ? `${a.held_back.passed}/${a.held_back.total}` : "not run yet";
  box.replaceChildren(
    el("h3", {}, `${a.name} `, el("span", { class: "muted" }, a.working ? "· working" : "· idle")),
    meter("Project", a.progress, { id: "practice-progress", "aria-label": "project progress" }),
    meter(`Phase ${a.phase}/5: ${a.phase_name}`, a.phase_progress, { id: "phase-progress", "aria-label": "phase progress" }),
    el("dl", { class: "facts" },
      el("dt", {}, "Iterations"), el("dd", { "data-n": "iterations" }, String(a.iterations)),
      el("dt", {}, "Solutions tested"), el("dd", {}, String(a.solutions_tested)),
      el("dt", {}, "Edge cases found"), el("dd", {}, String(a.edge_cases_found)),
      el("dt", {}, "Learnings"), el("dd", {}, String(a.learnings)),
      el("dt", {}, "Skills published"), el("dd", { "data-n": "published" }, `${a.skills_published} of ${a.goals}`),
      el("dt", {}, "Held-back tests passed"), el("dd", {}, held),
      a.waiting.length ? el("dt", {}, "Waiting for prerequisites") : null,
      a.waiting.length ? el("dd", {}, a.waiting.join(", ")) : null,
      el("dt", {}, "Worked"), el("dd", {}, duration(a.worked_seconds))));
}

export async function refresh() {
  let overview, progress;
  try {
    [overview, progress] = await Promise.all([api("/learning/curriculum/overview"), api("/learning/progress")]);
  } catch { return; }
  const c = overview.curriculum;
  document.getElementById("practice-summary").replaceChildren(el("dl", { class: "facts" },
    el("dt", {}, "Domains"), el("dd", {}, `${c.total_domains} (${c.domains_mastered} mastered)`),
    el("dt", {}, "Projects completed"), el("dd", { "data-n": "completed" }, `${c.projects_completed} of ${c.total_projects}`),
    el("dt", {}, "Goals with a trusted skill"), el("dd", {}, `${c.goals_trusted} of ${c.total_goals}`)));
  document.getElementById("practice-domains").replaceChildren(...Object.entries(overview.domains).map(([id, d]) =>
    el("li", { "data-domain": id }, meter(d.name, d.mastery))));
  activeCard(progress.active_project);
  const { projects } = await api("/learning/projects/priority").catch(() => ({ projects: [] }));
  document.getElementById("practice-projects").replaceChildren(...projects.map(projectRow));
}

function showReport(r) {
  const k = r.kpis;
  const pass = r.held_back.pass_rate === null ? "none run" : `${r.held_back.pass_rate}% (${r.held_back.passed}/${r.held_back.total})`;
  document.getElementById("practice-report").replaceChildren(
    el("h3", {}, `Completed: ${r.name}`),
    el("dl", { class: "facts", "data-trust": String(r.trust_score) },
      el("dt", {}, "Trust score"), el("dd", {}, String(r.trust_score)),
      el("dt", {}, "Code quality"), el("dd", {}, String(k.code_quality_score)),
      el("dt", {}, "Test coverage"), el("dd", {}, String(k.test_coverage)),
      el("dt", {}, "Performance"), el("dd", {}, String(k.performance_score)),
      el("dt", {}, "Documentation"), el("dd", {}, String(k.documentation_score)),
      el("dt", {}, "Skills published"), el("dd", {}, `${r.skills_published} of ${r.goals}`),
      el("dt", {}, "Held-back pass rate"), el("dd", {}, pass),
      el("dt", {}, "Learnings"), el("dd", {}, String(r.learnings_count)),
      el("dt", {}, "Domain mastery"), el("dd", {}, `${r.domain_mastery}%`)));
}

/** A `practice` event from the feed: one finished step. */
export function onStep(s) {
  const what = typeof s.result?.trust === "number"
    ? `${s.status === "done" ? "published" : "kept as a draft"}, trust ${s.result.trust}`
    : s.status;
  const list = document.getElementById("practice-steps");
  list.prepend(el("li", { "data-action": s.action, class: s.status },
    el("span", { class: "badge" }, s.action), " ", el("code", {}, s.goal_id || s.project_id), " ",
    el("span", { class: "muted" }, `phase ${s.phase} · ${what} · ${s.progress.toFixed(1)}%`)));
  while (list.children.length > MAX_STEPS) list.lastElementChild.remove();
}

/** Background work stopped; say why when it failed. */
export function onStopped(e) {
  if (e.error) document.getElementById("practice-error").textContent = `Work stopped: ${e.error}`;
}
