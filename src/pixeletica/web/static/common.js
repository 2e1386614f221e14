// What every page shares: calling the JSON API, building elements, formatting.

/** Call the API; resolves to {ok, status, data, detail} (detail: the error a person can read). */
export async function api(path, { method = "GET", json, form } = {}) {
  const headers = { "X-Requested-With": "pixeletica", Accept: "application/json" };
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  let response;
  try {
    response = await fetch(path, { method, headers, body, credentials: "same-origin" });
  } catch (err) {
    return { ok: false, status: 0, data: null, detail: "Pixeletica does not answer; is the server running?" };
  }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json().catch(() => null) : null;
  return { ok: response.ok, status: response.status, data, detail: response.ok ? "" : describe(data, response) };
}

function describe(data, response) {
  const detail = data && data.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return `${response.status} ${response.statusText}`;
}

/** el("p", {class: "hint"}, "text", child, ...) */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child !== null && child !== undefined) node.append(child);
  return node;
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB"];
  let value = n / 1024, i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i += 1; }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

export function seconds(s) {
  if (s === undefined || s === null) return "–";
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(1)} s`;
  return `${(s / 60).toFixed(1)} min`;
}

export function badge(status) {
  return el("span", { class: `badge ${status}`, text: status });
}

/** Ask before doing something (a real <dialog>: focus stays inside, Escape cancels). */
export function confirmDialog(message, confirmLabel = "Confirm") {
  return new Promise((resolve) => {
    const ok = el("button", { class: "primary", type: "submit", value: "ok", text: confirmLabel });
    const cancel = el("button", { type: "submit", value: "cancel", text: "Cancel" });
    const dialog = el("dialog", { "aria-labelledby": "confirm-text" },
      el("form", { method: "dialog" }, el("p", { id: "confirm-text", text: message }), el("div", { class: "actions" }, ok, cancel)));
    document.body.append(dialog);
    dialog.addEventListener("close", () => { resolve(dialog.returnValue === "ok"); dialog.remove(); });
    dialog.showModal();
    cancel.focus();
  });
}
