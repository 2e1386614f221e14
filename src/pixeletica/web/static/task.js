// A task's page: progress from the Server-Sent Events stream, then the results.
import { api, badge, bytes, el } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const taskId = decodeURIComponent(window.location.pathname.split("/").filter(Boolean).pop());
const files = (id) => `/api/conversion/${encodeURIComponent(taskId)}/files/${encodeURIComponent(id)}`;

/** The pictures shown, by category, and what each one is (its alt text). */
const PICTURES = {
  dithered: () => "Dithered picture",
  rendered: (f) => `Render, ${f.group.replaceAll("_", " ")}`,
  map_preview: () => "Map art: exactly the colours the maps show",
  height_map: () => "Map art's levels: black lowest, white highest",
};

function show(task) {
  $("status-badge").replaceChildren(badge(task.status));
  $("step").textContent = task.status === "processing" && task.step ? `— ${task.step}` : "";
  const value = task.status === "completed" ? 100 : task.progress || 0;
  $("progress").value = value;
  $("percent").textContent = `${value} %`;
  $("error").textContent = task.status === "failed" ? `The conversion failed: ${task.error || "no reason given"}` : "";
  document.title = `Pixeletica — ${task.status} ${value} %`;
}

function follow() {
  const stream = new EventSource(`/api/conversion/${encodeURIComponent(taskId)}/events`);
  stream.addEventListener("progress", (e) => show(JSON.parse(e.data)));
  stream.addEventListener("end", (e) => {
    stream.close();
    const task = JSON.parse(e.data);
    if (task.status === "deleted") { $("error").textContent = "This task was deleted."; return; }
    show(task);
    if (task.status === "completed") results(task);
  });
  stream.onerror = async () => {  // the server went away: fall back to asking now and then
    stream.close();
    const answer = await api(`/api/conversion/${encodeURIComponent(taskId)}`);
    if (answer.ok) {
      show(answer.data);
      if (answer.data.status === "completed") return results(answer.data);
      if (answer.data.status !== "failed") setTimeout(follow, 2000);
    } else {
      $("error").textContent = answer.detail;
    }
  };
}

function flatten(categories) {
  const out = [];
  for (const [category, value] of Object.entries(categories)) {
    const add = (item, group) => out.push({ ...item, category, group });
    if (Array.isArray(value)) value.forEach((v) => add(v, category));
    else if (value && value.fileId) add(value, category);
    else if (value) for (const [group, list] of Object.entries(value)) list.forEach((v) => add(v, group));
  }
  return out;
}

function fidelity(quality) {
  if (!quality || !Number.isFinite(quality.blurredDeltaE2000)) return;
  $("fidelity").replaceChildren(
    "Fidelity: ", el("strong", { text: `${quality.blurredDeltaE2000.toFixed(2)} ΔE2000 blurred` }),
    `, ${quality.meanDeltaE2000.toFixed(2)} per block. `, el("span", { class: "hint", text: `(${quality.explanation})` }));
  $("fidelity").hidden = false;
}

async function results(task) {
  fidelity(task.quality);
  const listing = await api(`/api/conversion/${encodeURIComponent(taskId)}/files`);
  if (!listing.ok) { $("error").textContent = listing.detail; return; }
  const all = flatten(listing.data.categories);
  const pictures = all.filter((f) => f.type === "image/png" && f.category in PICTURES);
  $("gallery").replaceChildren(...pictures.map((f) =>
    el("figure", {}, el("a", { href: files(f.fileId) },
      el("img", { src: files(f.fileId), alt: PICTURES[f.category](f), loading: "lazy" })),
      el("figcaption", { text: `${f.filename} (${bytes(f.size)})` }))));
  const zip = el("a", { class: "button primary", id: "download-zip", href: `/api/conversion/${encodeURIComponent(taskId)}/download`, download: "" }, "Download everything (ZIP)");
  $("downloads").replaceChildren(zip, ...all.filter((f) => f.category !== "task_zip").map((f) =>
    el("a", { class: "button", href: files(f.fileId), download: f.filename, text: `${f.filename} · ${bytes(f.size)}` })));
  const materials = all.find((f) => f.fileId === "materials_json");
  if (materials) {  // map art lists its materials in its CSV and text files
    $("materials-section").hidden = false;
    const data = await (await fetch(files(materials.fileId))).json();
    $("materials-summary").textContent = `${data.total_blocks.toLocaleString()} blocks (${data.width} x ${data.height}), ${data.materials.length} kinds; air: ${data.air.toLocaleString()}`;
    $("materials").tBodies[0].replaceChildren(...data.materials.map((m) => el("tr", {},
      el("td", {}, m.name, " ", el("code", { text: m.block_id })),
      el("td", { class: "num", text: m.count.toLocaleString() }),
      el("td", { text: m.summary }),
      el("td", { class: "num", text: m.shulker_boxes_exact.toFixed(2) }))));
  }
  const map = await fetch(`/api/map/${encodeURIComponent(taskId)}/metadata.json`);
  if (map.ok) {
    $("map-section").hidden = false;
    $("map-link").href = `/map/${encodeURIComponent(taskId)}`;
    $("map").src = `/map/${encodeURIComponent(taskId)}`;
  }
  $("results").hidden = false;
}

async function start() {
  $("title").textContent = `Conversion ${taskId.slice(0, 8)}`;
  const answer = await api(`/api/conversion/${encodeURIComponent(taskId)}`);
  if (!answer.ok) { $("error").textContent = answer.status === 404 ? `There is no task ${taskId}.` : answer.detail; return; }
  show(answer.data);
  if (answer.data.status === "completed") results(answer.data);
  else if (answer.data.status !== "failed") follow();
}

start();
