// AutoLearn's web UI: boot, the API client, the live feed, tabs, dialogs.
// No framework and no build step: the binary embeds these files as they are.

import * as chat from "./chat.js";
import * as skills from "./skills.js";
import * as panels from "./panels.js";
import * as practice from "./practice.js";

const KEY = "autolearn-key";
export const state = { key: localStorage.getItem(KEY) || "", tenant: null, llm: null };

export class ApiError extends Error {
  constructor(status, kind, message) {
    super(message);
    this.status = status;
    this.kind = kind;
  }
}

/** Call the REST API as the signed-in tenant. */
export async function api(path, { method, body } = {}) {
  const headers = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (state.key) headers.authorization = `Bearer ${state.key}`;
  const response = await fetch(`/api${path}`, {
    method: method || (body !== undefined ? "POST" : "GET"),
    headers,
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let data;
  try { data = JSON.parse(text); } catch { data = { error: { kind: "http", message: text } }; }
  if (response.status === 401) {
    askKey(state.key ? "That key is not valid." : "");
    throw new ApiError(401, "unauthorized", "an API key is needed");
  }
  if (!response.ok) throw new ApiError(response.status, data.error?.kind ?? "http", data.error?.message ?? text);
  return data;
}

/** Make an element: el("p", {class: "x"}, "text", child, ...). Text is never parsed as HTML. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

/** Ask yes or no in a dialog. */
export function confirmAction(title, text, yes = "Yes") {
  const dialog = document.getElementById("confirm-dialog");
  document.getElementById("confirm-title").textContent = title;
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-yes").textContent = yes;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true }));
}

function askKey(message) {
  const dialog = document.getElementById("key-dialog");
  document.getElementById("key-error").textContent = message;
  if (!dialog.open) dialog.showModal();
}

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
