// The web UI's shared helpers, which every panel imports: the signed-in
// state, the REST client, element building, and the yes/no dialog. It
// imports no panel, so the modules form no circle: app.js boots, the
// panels (chat, skills, panels, practice) build on this.

/** Where the key is kept between visits. */
export const KEY = "autolearn-key";
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

/**
 * A person's word on a draft skill: two buttons ("correct" publishes it,
 * "wrong" retires it) and a status line; `done(verdict)` after the server
 * took it. `labels` names the two buttons.
 */
export function reviewButtons(skill, labels, done = () => {}) {
  const status = el("span", { class: "muted", role: "status" });
  const buttons = [];
  const send = async (verdict) => {
    for (const b of buttons) b.disabled = true;
    try {
      await api(`/skills/${encodeURIComponent(skill.name)}/review`, { body: { verdict, id: skill.id } });
      for (const b of buttons) b.remove();
      done(verdict, status);
    } catch (e) {
      status.textContent = e.message;
      for (const b of buttons) b.disabled = false;
    }
  };
  buttons.push(
    el("button", { type: "button", "data-review": "correct", onclick: () => send("correct") }, labels.correct),
    el("button", { type: "button", class: "secondary", "data-review": "wrong", onclick: () => send("wrong") }, labels.wrong));
  return el("div", { class: "row" }, ...buttons, status);
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

/** Ask for an API key (the API answered 401). */
export function askKey(message) {
  const dialog = document.getElementById("key-dialog");
  document.getElementById("key-error").textContent = message;
  if (!dialog.open) dialog.showModal();
}
