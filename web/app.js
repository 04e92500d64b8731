// AutoLearn's web UI: boot, tabs, and the live feed, which it hands to
// the panels. No framework and no build step: the binary embeds these
// files as they are. Shared helpers live in lib.js.

import { KEY, api, confirmAction, state } from "./lib.js";
import * as chat from "./chat.js";
import * as skills from "./skills.js";
import * as newskill from "./newskill.js";
import * as panels from "./panels.js";
import * as practice from "./practice.js";

// Tabs: click, or arrow keys along the tab list.
function initTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const select = (tab) => {
    for (const t of tabs) {
      const on = t === tab;
      t.setAttribute("aria-selected", String(on));
      t.tabIndex = on ? 0 : -1;
      document.getElementById(t.getAttribute("aria-controls")).hidden = !on;
    }
    history.replaceState(null, "", `#${tab.id.slice(4)}`);
  };
  for (const t of tabs) {
    t.addEventListener("click", () => select(t));
    t.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(t);
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      const tab = tabs[(next + tabs.length) % tabs.length];
      tab.focus();
      select(tab);
    });
  }
  const wanted = document.getElementById(`tab-${location.hash.slice(1)}`);
  if (wanted) select(wanted);
}

// The live feed: one WebSocket, reconnected with backoff.
let socket;
let retry = 500;
function connectFeed() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const protocols = state.key ? ["autolearn", `bearer.${state.key}`] : ["autolearn"];
  socket = new WebSocket(`${scheme}//${location.host}/api/events`, protocols);
  const live = document.getElementById("live");
  socket.addEventListener("open", () => { retry = 500; live.textContent = "live"; live.classList.add("on"); });
  socket.addEventListener("close", () => {
    live.textContent = "offline";
    live.classList.remove("on");
    setTimeout(connectFeed, retry);
    retry = Math.min(retry * 2, 10000);
  });
  socket.addEventListener("message", (e) => {
    let event;
    try { event = JSON.parse(e.data); } catch { return; }
    dispatch(event);
  });
}

// Reloads from many events in a burst collapse into one.
const pending = new Map();
function soon(name, fn) {
  clearTimeout(pending.get(name));
  pending.set(name, setTimeout(() => { pending.delete(name); fn(); }, 80));
}

function refreshAll() {
  soon("skills", skills.refresh);
  soon("mcp", panels.refreshMcp);
  soon("executions", panels.refreshExecutions);
  soon("learning", panels.refreshLearning);
  soon("practice", practice.refresh);
}

function dispatch(event) {
  switch (event.type) {
    case "hello":
      refreshAll();
      break;
    case "skill_added":
    case "skill_retired":
      soon("skills", skills.refresh);
      soon("learning", panels.refreshLearning);
      break;
    case "mcp_updated":
      soon("mcp", panels.refreshMcp);
      break;
    case "skill_executed":
      panels.addExecution(event);
      break;
    case "agent_step":
    case "agent_done":
      chat.onEvent(event);
      break;
    case "generate_step":
    case "generate_question":
    case "generate_done":
      newskill.onEvent(event);
      break;
    case "practice":
      practice.onStep(event);
      soon("practice", practice.refresh);
      soon("learning", panels.refreshLearning);
      break;
    case "practice_stopped":
      practice.onStopped(event);
      soon("practice", practice.refresh);
      break;
    case "reset":
      chat.clear();
      refreshAll();
      break;
    case "lagged":
      refreshAll();
      break;
  }
}

async function boot() {
  initTabs();
  document.getElementById("key-form").addEventListener("submit", () => {
    state.key = document.getElementById("key").value.trim();
    localStorage.setItem(KEY, state.key);
    start();
  });
  document.getElementById("reset").addEventListener("click", async () => {
    const ok = await confirmAction("Reset this tenant?",
      "This deletes every skill, trace and execution of your tenant and starts the learnings over. The demo can then run again from scratch.", "Reset");
    if (!ok) return;
    try {
      await api("/reset", { body: {} });
    } catch (e) {
      alert(`Reset failed: ${e.message}`);
    }
  });
  chat.init();
  skills.init();
  newskill.init(skills.openPane);
  panels.init();
  practice.init();
  await start();
}

async function start() {
  try {
    const me = await api("/whoami");
    state.tenant = me.tenant;
    state.llm = me.llm;
    const model = me.llm.backend === "none" ? "no model" : `${me.llm.backend}${me.llm.reasoning_model ? ` · ${me.llm.reasoning_model}` : ""}`;
    document.getElementById("who").textContent = `tenant ${me.tenant} · ${model}`;
    chat.setEnabled(me.chat);
  } catch (e) {
    if (e.status !== 401) document.getElementById("who").textContent = `not connected: ${e.message}`;
    return;
  }
  if (socket) socket.close(); else connectFeed();
  refreshAll();
  chat.loadExamples();
}

boot();
