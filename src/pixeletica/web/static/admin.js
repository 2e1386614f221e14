// The task dashboard: sign in with the admin token (exchanged for an HttpOnly cookie), then
// tasks with filters, sorting, paging and live updates, a task's detail and actions, analytics.
import { api, badge, bytes, confirmDialog, el, seconds, when } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const view = { sort: "created", order: "newest", offset: 0, total: 0, selected: null, timer: 0, charts: {} };
const LIVE_MS = 3000;

// --- signing in ---------------------------------------------------------------------------

async function signedIn() {
  return (await api("/api/admin/session")).ok;
}

async function signIn(event) {
  event.preventDefault();
  $("err-token").textContent = "";
  const answer = await api("/api/admin/session", { method: "POST", json: { token: $("token").value } });
  $("token").value = "";
  if (!answer.ok) {
    $("err-token").textContent = answer.status === 403 ? "That is not the admin token." : answer.detail;
    $("token").setAttribute("aria-invalid", "true");
    $("token").focus();
    return;
  }
  $("token").removeAttribute("aria-invalid");
  enter();
}

async function signOut() {
  await api("/api/admin/session", { method: "DELETE" });
  clearInterval(view.timer);
  $("dash").hidden = true;
  $("signin").hidden = false;
  $("token").focus();
}

function enter() {
  $("signin").hidden = true;
  $("dash").hidden = false;
  // "Stuck after" starts at the server's TASK_MAX_PROCESSING_TIME, as the monitor's own sweep.
  api("/api/options").then((answer) => {
    if (answer.ok && !$("stuck-time").dataset.touched) $("stuck-time").value = answer.data.limits.max_processing_seconds;
  });
  $("stuck-time").addEventListener("input", () => { $("stuck-time").dataset.touched = "1"; }, { once: true });
  refresh();
  clearInterval(view.timer);
  view.timer = setInterval(() => { if ($("live").checked) refresh(); }, LIVE_MS);
}

/** An admin call; a lost session sends the user back to the sign-in form. */
async function admin(path, options) {
  const answer = await api(path, options);
  if (answer.status === 401) {
    await signOut();
    $("err-token").textContent = "Your session has ended: sign in again.";
  }
  return answer;
}

// --- tasks --------------------------------------------------------------------------------

function query() {
  const params = new URLSearchParams({ limit: $("f-limit").value, offset: view.offset, sort: view.sort, order: view.order });
  if ($("f-status").value) params.set("status", $("f-status").value);
  if ($("f-search").value.trim()) params.set("search", $("f-search").value.trim());
  if ($("f-after").value) params.set("created_after", new Date($("f-after").value).toISOString());
  if ($("f-before").value) params.set("created_before", new Date($("f-before").value).toISOString());
  return params;
}

async function loadTasks() {
  const answer = await admin(`/api/tasks?${query()}`);
  if (!answer.ok) { $("result").textContent = answer.detail; return; }
  const { tasks, total, offset } = answer.data;
  view.total = total;
  $("tasks").tBodies[0].replaceChildren(...tasks.map(row));
  if (!tasks.length) $("tasks").tBodies[0].append(el("tr", {}, el("td", { colspan: 9, text: "No task matches." })));
  const last = offset + tasks.length;
  $("page").textContent = total ? `${offset + 1}–${last} of ${total}` : "0 tasks";
  $("prev").disabled = offset === 0;
  $("next").disabled = last >= total;
}

function row(task) {
  const open = el("button", { type: "button", class: "mono", "aria-label": `Open task ${task.id}`, onclick: () => select(task.id) }, task.id.slice(0, 8));
  return el("tr", { class: task.id === view.selected ? "selected" : null, "data-id": task.id },
    el("td", {}, open),
    el("td", { text: task.input_name }),
    el("td", {}, badge(task.status)),
    el("td", { text: task.priority }),
    el("td", { class: "num", text: `${task.status === "completed" ? 100 : task.progress} %` }),
    el("td", { text: when(task.created_at) }),
    el("td", { text: when(task.updated_at) }),
    el("td", { class: "num", text: `${task.attempt}/${task.max_attempts}` }),
    el("td", { text: task.error_code ? `${task.error_code}: ${task.error || ""}` : "" }));
}

function sortBy(column) {
  if (view.sort === column) view.order = view.order === "newest" ? "oldest" : "newest";
  else { view.sort = column; view.order = "newest"; }
  document.querySelectorAll("button.sort").forEach((b) => {
    b.parentElement.setAttribute("aria-sort", b.dataset.sort !== view.sort ? "none" : view.order === "newest" ? "descending" : "ascending");
  });
  view.offset = 0;
  loadTasks();
}

// --- one task -------------------------------------------------------------------------------

async function select(taskId) {
  view.selected = taskId;
  $("detail-result").textContent = "";
  await loadDetail();
  document.querySelectorAll("#tasks tbody tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === taskId));
  $("detail").focus();
}

async function loadDetail() {
  if (!view.selected) return;
  const answer = await admin(`/api/tasks/${encodeURIComponent(view.selected)}`);
  if (!answer.ok) {
    $("detail-title").textContent = `Task ${view.selected.slice(0, 8)}`;
    $("detail-result").textContent = answer.status === 404 ? "This task no longer exists." : answer.detail;
    $("detail-actions").replaceChildren();
    return;
  }
  const t = answer.data;
  $("detail").hidden = false;
  $("detail-title").replaceChildren(`Task ${t.id.slice(0, 8)} `, badge(t.status));
  const shown = ["id", "status", "priority", "progress", "step", "input_name", "input_size", "attempt", "max_attempts",
    "worker_id", "lease_expires_at", "created_at", "queued_at", "dispatched_at", "started_at", "finished_at", "updated_at",
    "not_before", "error_code", "error"];
  $("detail-fields").replaceChildren(...shown.flatMap((key) => {
    let value = t[key];
    if (value === null || value === undefined || value === "") value = "–";
    else if (key.endsWith("_at") || key === "not_before") value = when(value);
    else if (key === "input_size") value = bytes(value);
    return [el("dt", { text: key.replaceAll("_", " ") }), el("dd", { class: key === "id" ? "mono" : null, text: String(value) })];
  }), el("dt", { text: "settings" }), el("dd", {}, el("code", { text: JSON.stringify(t.settings) })),
  el("dt", { text: "result" }), el("dd", {}, el("code", { text: JSON.stringify(t.result) })));
  $("detail-events").replaceChildren(...t.events.map((e) => el("li", {},
    el("strong", { text: `${e.from_status || "new"} → ${e.to_status}` }), ` · attempt ${e.attempt} · ${e.actor} · `,
    el("time", { datetime: e.at, text: when(e.at) }), e.message ? el("div", { class: "hint", text: e.message }) : null)));
  $("detail-files").replaceChildren(...(t.artifacts.length ? t.artifacts.map((a) => el("li", {},
    el("a", { href: `/api/conversion/${encodeURIComponent(t.id)}/files/${encodeURIComponent(a.file_id)}`, text: a.filename }),
    ` · ${a.category} · ${bytes(a.size)}`)) : [el("li", { text: "none" })]));
  $("detail-error").replaceChildren(...(t.error ? [el("h3", { text: "Error" }), el("p", { class: "error", text: `${t.error_code}: ${t.error}` })] : []),
    ...(t.traceback ? [el("h3", { text: "Traceback" }), el("pre", { text: t.traceback })] : []));
  const finished = t.status === "completed" || t.status === "failed";
  $("detail-actions").replaceChildren(
    action("Retry", finished, `Queue task ${t.id.slice(0, 8)} again?`, () => admin(`/api/tasks/${t.id}/retry`, { method: "POST" }), "Queued again"),
    action("Cancel", !finished, `Cancel task ${t.id.slice(0, 8)}? It becomes failed with the error "cancelled".`, () => admin(`/api/tasks/${t.id}/cancel`, { method: "POST" }), "Cancelled"),
    action("Mark completed", t.status !== "completed", `Mark task ${t.id.slice(0, 8)} completed by hand?`, () => admin(`/api/tasks/${t.id}`, { method: "PATCH", json: { status: "completed" } }), "Marked completed"),
    action("Mark failed", t.status !== "failed", `Mark task ${t.id.slice(0, 8)} failed by hand?`, () => admin(`/api/tasks/${t.id}`, { method: "PATCH", json: { status: "failed" } }), "Marked failed"),
    action("Delete", true, `Delete task ${t.id.slice(0, 8)} and all its files? This cannot be undone.`, () => admin(`/api/conversion/${t.id}`, { method: "DELETE" }), `Task ${t.id.slice(0, 8)} deleted`, "danger"),
  );
}

function action(label, enabled, question, run, done, kind = "") {
  return el("button", { type: "button", class: kind || null, disabled: !enabled, onclick: async () => {
    if (!(await confirmDialog(question, label))) return;
    const answer = await run();
    const gone = answer.ok && label === "Delete";
    if (gone) { view.selected = null; $("detail").hidden = true; }
    const notice = gone ? $("result") : $("detail-result");
    notice.classList.toggle("bad", !answer.ok);
    notice.textContent = answer.ok ? `${done}.` : `${label} failed: ${answer.detail}`;
    await Promise.all([loadDetail(), loadTasks(), loadAnalytics()]);
  } }, label);
}

async function resetStuck() {
  const limit = Number($("stuck-time").value || 0);
  if (!(await confirmDialog(`Mark every task processing for longer than ${limit} s as failed?`, "Reset stuck tasks"))) return;
  const answer = await admin(`/api/tasks/reset-stuck?max_time=${limit}`, { method: "POST" });
  $("result").classList.toggle("bad", !answer.ok);
  $("result").textContent = answer.ok
    ? `${answer.data.failed.length} stuck task(s) marked failed${answer.data.failed.length ? `: ${answer.data.failed.map((id) => id.slice(0, 8)).join(", ")}` : ""}.`
    : `Reset failed: ${answer.detail}`;
  await Promise.all([loadTasks(), loadDetail(), loadAnalytics()]);
}

// --- analytics ------------------------------------------------------------------------------

function chart(id, type, datasets, options = {}) {
  if (typeof Chart === "undefined") return null;
  if (!view.charts[id]) {
    view.charts[id] = new Chart($(id), {
      type, data: { labels: [], datasets: datasets.map((d) => ({ ...d, data: [] })) },
      options: { animation: false, responsive: true, maintainAspectRatio: false, plugins: { legend: { position: "bottom" } },
        scales: { y: { beginAtZero: true } }, ...options },
    });
  }
  return view.charts[id];
}

function put(c, labels, series) {
  if (!c) return;
  c.data.labels = labels;
  series.forEach((values, i) => { c.data.datasets[i].data = values; });
  c.update();
}

async function loadAnalytics() {
  const hours = Number($("window").value);
  const [timeline, stats, health] = await Promise.all([
    admin(`/api/tasks/timeline?since_hours=${hours}&buckets=24`), admin(`/api/tasks/stats?since_hours=${hours}`), api("/api/health"),
  ]);
  if (timeline.ok) {
    const b = timeline.data.buckets;
    const labels = b.map((x) => new Date(x.start).toLocaleTimeString([], hours > 24 ? { weekday: "short", hour: "2-digit" } : { hour: "2-digit", minute: "2-digit" }));
    put(chart("chart-throughput", "bar", [{ label: "completed", backgroundColor: "#2f6f3e" }, { label: "failed", backgroundColor: "#a32020" }],
      { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }), labels, [b.map((x) => x.completed), b.map((x) => x.failed)]);
    put(chart("chart-queue", "line", [{ label: "queued", borderColor: "#8a5a00", stepped: true }]), labels, [b.map((x) => x.queue_depth)]);
    put(chart("chart-times", "line", [{ label: "p50 s", borderColor: "#1a5fb4" }, { label: "p95 s", borderColor: "#a32020" }]),
      labels, [b.map((x) => x.processing_seconds.p50 ?? null), b.map((x) => x.processing_seconds.p95 ?? null)]);
  }
  if (stats.ok) {
    const s = stats.data;
    const errors = s.top_errors.length ? s.top_errors : [["none", 0]];
    put(chart("chart-errors", "bar", [{ label: "failed tasks", backgroundColor: "#a32020" }], { indexAxis: "y" }), errors.map((e) => e[0]), [errors.map((e) => e[1])]);
    $("failure-rate").textContent = `failure rate ${(s.failure_rate * 100).toFixed(1)} %`;
    const kpi = (label, value) => el("div", { class: "kpi" }, el("strong", { text: String(value) }), label);
    const items = [kpi("queued", s.counts.queued), kpi("processing", s.counts.processing), kpi("completed", s.counts.completed),
      kpi("failed", s.counts.failed), kpi("p50 processing", seconds(s.processing_seconds.p50)), kpi("p95 processing", seconds(s.processing_seconds.p95))];
    if (health.ok || health.status === 503) {
      const h = health.data || {};
      items.push(kpi("workers alive", h.workers ? h.workers.alive : "?"));
    }
    $("kpis").replaceChildren(...items);
  }
  const h = health.data || {};
  $("service-state").textContent = health.ok
    ? `Service ${h.status}. Workers seen: ${h.workers.names.join(", ") || "none"}. Monitor: ${h.monitor ? `last sweep ${when(h.monitor.last_sweep)} (${h.monitor.seconds_ago} s ago)` : "not seen"}.`
    : `Health check: ${h.detail || health.detail}`;
}

function refresh() {
  return Promise.all([loadTasks(), loadAnalytics(), loadDetail()]);
}

// --- start ------------------------------------------------------------------------------------

function wire() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("filters").addEventListener("submit", (e) => { e.preventDefault(); view.offset = 0; loadTasks(); });
  $("filters").addEventListener("change", (e) => { if (e.target.id !== "live") { view.offset = 0; loadTasks(); } });
  $("f-search").addEventListener("input", () => { view.offset = 0; loadTasks(); });
  $("prev").addEventListener("click", () => { view.offset = Math.max(0, view.offset - Number($("f-limit").value)); loadTasks(); });
  $("next").addEventListener("click", () => { view.offset += Number($("f-limit").value); loadTasks(); });
  document.querySelectorAll("button.sort").forEach((b) => b.addEventListener("click", () => sortBy(b.dataset.sort)));
  $("reset-stuck").addEventListener("click", resetStuck);
  $("window").addEventListener("change", loadAnalytics);
}

wire();
signedIn().then((yes) => { if (yes) enter(); else { $("signin").hidden = false; $("token").focus(); } });
