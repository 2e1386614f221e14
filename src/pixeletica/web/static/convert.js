// The conversion page: pick an image, choose options, see a live preview, submit -> the task's page.
import { api, bytes, el } from "/static/common.js";

const $ = (id) => document.getElementById(id);
const state = { file: null, natural: null, options: null, previewTimer: 0, previewAbort: null, previewUrl: "" };
const FORMAT_LABELS = {
  litematic: "Litematica (.litematic)", schem: "WorldEdit (.schem)", nbt: "Structure blocks (.nbt)", mcfunction: "Function (.mcfunction)",
};
const LINE_LABELS = {
  no_lines: "Plain", block_grid_only: "Block lines", chunk_lines_only: "Chunk lines", both: "Block and chunk lines",
};
const RESAMPLE_LABELS = { lanczos: "smooth (photographs)", nearest: "nearest (pixel art)" };
const FACE_LABELS = { side: "side (walls)", top: "top (floors)" };
const KIND_LABELS = {
  flat: "flat — one level, one shade", staircase: "staircase — three shades by height", "map-file": "map file — nothing to build, four shades",
};
const FRAMING_LABELS = { crop: "crop (fill the maps)", fit: "fit (whole picture, padded)" };
const SUPPORT_LABELS = { none: "none", needed: "under blocks that need it", all: "under every block" };
const LAYOUT_LABELS = { auto: "auto (by game version)", legacy: "legacy (data/map_<n>.dat)", modern: "modern (data/minecraft/maps/<n>.dat)" };
/** The metadata fields of an API error that a map-art control shows, when the control's id is not the field's name. */
const FIELD_INPUTS = { dithering_algorithm: "algorithm", maps: "maps_across", exclude_colours: "map-colours", map_blocks: "map-blocks" };

function fill(select, items, chosen, label = (x) => x) {
  select.replaceChildren(...items.map((item) => {
    const value = typeof item === "string" ? item : item.name;
    return el("option", { value, selected: value === chosen, text: label(item) });
  }));
}

async function loadOptions() {
  const answer = await api("/api/options");
  if (!answer.ok) { $("err-form").textContent = `Could not load the options: ${answer.detail}`; return; }
  const o = (state.options = answer.data);
  fill($("algorithm"), o.algorithms, o.default_algorithm, (a) => `${a.name.replaceAll("_", " ")} — ${a.description}`);
  fill($("metric"), o.metrics, o.default_metric, (m) => `${m.name} — ${m.description}`);
  // The form starts at the server's defaults: what a request that names nothing is converted with.
  const given = o.conversion_defaults, exported = o.export_defaults;
  fill($("resample"), o.resamplings, given.resample, (r) => RESAMPLE_LABELS[r] || r);
  fill($("face"), o.faces, given.face, (f) => FACE_LABELS[f] || f);
  for (const id of ["strength", "seed", "alpha_threshold"]) $(id).value = given[id];
  for (const id of ["serpentine", "survival_only", "no_gravity"]) $(id).checked = given[id];
  for (const id of ["image_division", "origin_x", "origin_y", "origin_z"]) $(id).value = exported[id];
  for (const id of ["block_line_color", "chunk_line_color"]) $(id).value = exported[id].slice(0, 7).toLowerCase();
  $("categories").replaceChildren(...o.categories.map((c) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "category", value: c }), c.replaceAll("_", " "))));
  const defaults = exported.line_visibilities;
  $("lines").replaceChildren(...o.line_visibilities.map((v) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "lines", value: v, checked: defaults.includes(v) }),
      LINE_LABELS[v] || v)));
  $("formats").replaceChildren(...o.schematic_formats.map((f) =>
    el("label", { class: "check" }, el("input", { type: "checkbox", name: "format", value: f, checked: true }), FORMAT_LABELS[f] || f)));
  fill($("orientation"), o.orientations, exported.orientation);
  fill($("facing"), o.facings, o.default_facing);
  fill($("game_version"), ["", ...o.game_versions], "", (v) => (v ? v : `any (schematics for ${o.default_game_version})`));
  fill($("priority"), o.priorities, o.default_priority);
  $("width").max = o.limits.max_size;
  $("height").max = o.limits.max_size;
  fillMapArt(o.map_art, o.game_versions[0]);
}

const colourName = (name) => name.replace(/^COLOR_/, "").toLowerCase().replaceAll("_", " ");
/** Whether game version a ("1.19.4") came after b ("1.13"), part by part as numbers. */
function newer(a, b) {
  const x = a.split(".").map(Number), y = b.split(".").map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) > (y[i] || 0);
  }
  return false;
}
const chip = (rgb) => el("span", { class: "chip", "aria-hidden": "true", style: `background: rgb(${rgb.join(",")})` });

/** The map-art section from /api/options map_art: its choices, defaults, colours and their blocks. */
function fillMapArt(m, oldestVersion) {
  fill($("map_art"), ["", ...m.kinds], "", (k) => (k ? KIND_LABELS[k] || k : "off — a block picture"));
  const [across, down] = m.default_maps.split("x");
  for (const [id, value] of [["maps_across", across], ["maps_down", down]]) {
    $(id).value = value;
    $(id).max = m.max_maps_side;
  }
  fill($("map_framing"), m.framings, m.default_framing, (f) => FRAMING_LABELS[f] || f);
  fill($("map_preset"), m.presets, m.default_preset, (p) => p);
  fill($("support"), m.support_modes, m.default_support, (s) => SUPPORT_LABELS[s] || s);
  fill($("map_layout"), m.layouts, m.default_layout, (l) => LAYOUT_LABELS[l] || l);
  $("support_block").value = m.default_support_block;
  $("map_id").value = m.default_map_id;
  $("map-colours").replaceChildren(...m.colours.map((c) =>
    el("label", { class: "check", title: c.name },
      el("input", { type: "checkbox", name: "map-colour", value: c.name, checked: true }), chip(c.rgb), colourName(c.name))));
  const blockLabel = (b) => [b.name, newer(b.since, oldestVersion) && `${b.since}+`, b.needs_support && "needs support", b.flammable && "burns"]
    .filter(Boolean).join(" · ");
  $("map-blocks").replaceChildren(...m.colours.map((c) => el("div", { class: "field" },
    el("label", { for: `map-block-${c.name}` }, chip(c.rgb), colourName(c.name)),
    el("select", { id: `map-block-${c.name}`, "data-colour": c.name, "data-default": c.default_block || "" },
      ...(c.default_block ? [] : [el("option", { value: "", selected: true, text: "not used unless chosen" })]),
      ...c.blocks.map((b) => el("option", { value: b.id, selected: b.id === c.default_block, text: blockLabel(b) }))))));
  showMapArt();
}

/** Show the map-art controls that apply to the kind chosen (none when map art is off). */
function showMapArt() {
  const kind = $("map_art").value;
  $("map-art-options").hidden = !kind;
  $("size").disabled = Boolean(kind);  // the maps set the size
  $("max_height-field").hidden = kind !== "staircase";
  $("max_height-hint").hidden = kind !== "staircase";
  for (const id of ["support-field", "support_block-field"]) $(id).hidden = kind === "map-file";  // nothing to build
}

/** Map art starts on a map's edge: the origin moves between the two defaults as map art is turned on or off. */
function moveOrigin(on) {
  const o = state.options;
  const [from, to] = on ? [o.export_defaults, o.map_art.default_origin] : [o.map_art.default_origin, o.export_defaults];
  for (const axis of ["origin_x", "origin_z"]) {
    const was = typeof from === "number" ? from : from[axis], now = typeof to === "number" ? to : to[axis];
    if ($(axis).value.trim() === String(was)) $(axis).value = now;
  }
}

function checked(name) {
  return [...document.querySelectorAll(`input[name="${name}"]:checked`)].map((i) => i.value);
}

/** The number in a field; left out of the request (the server's default) when the field is empty. */
function numberOrDefault(id) {
  const raw = $(id).value.trim();
  return raw === "" ? undefined : Number(raw);
}

/** The `metadata` of POST /api/conversion/start, from the form. */
function metadata() {
  const meta = {
    width: numberOrDefault("width"), height: numberOrDefault("height"),
    dithering_algorithm: $("algorithm").value, metric: $("metric").value,
    line_visibilities: checked("lines"),
    block_line_color: `${$("block_line_color").value}FF`, chunk_line_color: `${$("chunk_line_color").value}FF`,
    chunk_labels: $("chunk_labels").checked,
    image_division: numberOrDefault("image_division"),
    origin_x: numberOrDefault("origin_x"), origin_y: numberOrDefault("origin_y"), origin_z: numberOrDefault("origin_z"),
    generate_schematic: $("generate_schematic").checked,
    orientation: $("orientation").value, facing: $("facing").value,
    priority: $("priority").value,
    strength: numberOrDefault("strength"), serpentine: $("serpentine").checked, seed: numberOrDefault("seed"),
    resample: $("resample").value, face: $("face").value, alpha_threshold: numberOrDefault("alpha_threshold"),
    survival_only: $("survival_only").checked, no_gravity: $("no_gravity").checked,
  };
  const categories = checked("category");
  if (categories.length) meta.include_categories = categories;
  if ($("game_version").value) meta.game_version = $("game_version").value;
  if (meta.generate_schematic) meta.schematic_formats = checked("format");
  if ($("map_art").value) {
    delete meta.width;  // the maps give the size
    delete meta.height;
    Object.assign(meta, mapArtMetadata());
  }
  for (const key of Object.keys(meta)) if (meta[key] === undefined) delete meta[key];
  return meta;
}

/** The map-art fields of the metadata: what the section says, the blocks only for the colours changed. */
function mapArtMetadata() {
  const kind = $("map_art").value;
  const meta = {
    map_art: kind, maps: `${$("maps_across").value.trim()}x${$("maps_down").value.trim()}`,
    map_framing: $("map_framing").value, map_preset: $("map_preset").value, map_layout: $("map_layout").value,
    map_id: numberOrDefault("map_id"),
  };
  if (kind === "staircase") meta.max_height = numberOrDefault("max_height");
  if (kind !== "map-file") Object.assign(meta, { support: $("support").value, support_block: $("support_block").value.trim() });
  const excluded = [...document.querySelectorAll('input[name="map-colour"]:not(:checked)')].map((i) => i.value);
  if (excluded.length) meta.exclude_colours = excluded;
  const blocks = {};
  for (const select of document.querySelectorAll("#map-blocks select")) {
    if (select.value && select.value !== select.dataset.default && !excluded.includes(select.dataset.colour)) {
      blocks[select.dataset.colour] = select.value;
    }
  }
  if (Object.keys(blocks).length) meta.map_blocks = blocks;
  return meta;
}

function clearErrors() {
  document.querySelectorAll(".error").forEach((p) => { p.textContent = ""; });
  document.querySelectorAll("[aria-invalid]").forEach((n) => n.removeAttribute("aria-invalid"));
  $("err-form").textContent = "";
}

/** Put the API's error next to the field it names ("metadata.width must be ..."), else above the button. */
function showError(detail) {
  // "metadata.width must be ...", or a setting named first ("origin_x must be ...", "seed must be ...").
  const text = detail.replace(/^metadata\./, "");
  const named = /^([a-z_]+)[ :]/.exec(text);
  let field = named && $(`err-${named[1]}`) ? named[1] : null;
  if (!field && /^(?:origin_[yz]\b|a wall|the build would reach)/.test(text)) field = "origin_x";  // the origin's row
  if (!field && /^(?:seed|serpentine|metric|resample|face|alpha_threshold|strength)\b/.test(text)) field = "options";
  const side = /blocks in (width|height)/.exec(detail);
  if (!field && side) field = side[1];
  if (!field && /image_division|parts/i.test(detail)) field = "image_division";
  if (!field && /strength|resampl|alpha threshold|face/i.test(detail)) field = "options";
  if (!field && /categor/i.test(detail)) field = "include_categories";
  if (!field && /image|upload|file/i.test(detail)) field = "image";
  const slot = field && $(`err-${field}`);
  if (slot) {
    slot.textContent = detail;
    const details = slot.closest("details");
    if (details) details.open = true;
    const input = $(FIELD_INPUTS[field] || field);
    if (input) {
      input.setAttribute("aria-invalid", "true");
      (input.matches("input, select") ? input : input.querySelector("input, select"))?.focus();
    }
  } else {
    $("err-form").textContent = detail;
  }
}

async function chooseFile(file) {
  clearErrors();
  if (!file) return;
  if (!file.type.startsWith("image/") && !/\.(png|jpe?g|gif|webp|bmp|tiff?)$/i.test(file.name)) {
    $("err-image").textContent = `${file.name} is not an image (PNG, JPEG, GIF, WebP, BMP or TIFF)`;
    return;
  }
  state.file = file;
  try {
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    state.natural = { width: bitmap.width, height: bitmap.height };
    bitmap.close();
  } catch {
    state.natural = null;
  }
  const size = state.natural ? `${state.natural.width} x ${state.natural.height} px, ` : "";
  $("image-info").textContent = `${file.name} — ${size}${bytes(file.size)}`;
  $("drop-text").textContent = "Drop another image here, or choose one";
  $("submit").disabled = false;
  follow("width");
  schedulePreview();
}

/** Keep the aspect ratio: the other side follows the one just changed. */
function follow(changed) {
  if (!$("lock").checked || !state.natural) return;
  const { width: w, height: h } = state.natural;
  if (changed === "width" && $("width").value) $("height").value = Math.max(1, Math.round(($("width").value * h) / w));
  if (changed === "height" && $("height").value) $("width").value = Math.max(1, Math.round(($("height").value * w) / h));
}

function schedulePreview() {
  clearTimeout(state.previewTimer);
  state.previewTimer = setTimeout(preview, 400);
}

async function preview() {
  if (!state.file || !state.options) return;
  const meta = metadata();
  if (meta.map_art) return previewOf(meta, mapArtSize(meta), "");
  let width = meta.width, height = meta.height;
  if (!width || !height) {
    if (!state.natural) return;
    const ratio = state.natural.height / state.natural.width;
    width = width || Math.max(1, Math.round(height / ratio));
    height = height || Math.max(1, Math.round(width * ratio));
  }
  const limit = state.options.limits.preview_max_pixels;
  let note = "";
  if (width * height > limit) {
    const shrink = Math.sqrt(limit / (width * height));
    note = ` (shown at ${Math.floor(width * shrink)} x ${Math.floor(height * shrink)}; the conversion is ${width} x ${height})`;
    width = Math.max(1, Math.floor(width * shrink));
    height = Math.max(1, Math.floor(height * shrink));
  }
  return previewOf({ ...meta, width, height }, { width, height }, note);
}

/** Blocks across and down of the maps the metadata asks for (the server says what is wrong with a bad count). */
function mapArtSize(meta) {
  const side = state.options.map_art.map_size;
  const [across, down] = meta.maps.split("x").map(Number);
  return { width: (across || 1) * side, height: (down || 1) * side, across, down };
}

/** Ask for a preview of ``meta`` at ``size`` blocks, and show it (or why there is none). */
async function previewOf(meta, size, note) {
  const { width, height } = size;
  state.previewAbort?.abort();
  const abort = (state.previewAbort = new AbortController());
  const form = new FormData();
  form.append("width", width); form.append("height", height);
  form.append("algorithm", meta.dithering_algorithm);
  form.append("image_file", state.file);
  form.append("metadata", JSON.stringify(meta));
  $("preview-status").textContent = "Updating the preview…";
  let response;
  try {
    response = await fetch("/api/conversion/preview", { method: "POST", body: form, signal: abort.signal });
  } catch (err) {
    if (err.name !== "AbortError") $("preview-status").textContent = "The preview could not be made: no answer.";
    return;
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
    $("preview-status").textContent = `No preview: ${detail || response.statusText}`;
    return;
  }
  const blob = await response.blob();
  if (state.previewUrl) URL.revokeObjectURL(state.previewUrl);
  state.previewUrl = URL.createObjectURL(blob);
  const img = $("preview");
  img.src = state.previewUrl;
  img.hidden = false;
  const how = `${meta.dithering_algorithm.replaceAll("_", " ")}, ${meta.metric}`;
  if (meta.map_art) {
    const maps = `${size.across} x ${size.down} map${size.across * size.down > 1 ? "s" : ""}`;
    img.alt = `Preview of the map art: ${maps}, ${meta.map_art}, exactly the colours the maps show`;
    $("preview-status").textContent = `Map art, ${meta.map_art}: ${maps}, ${width} x ${height} blocks`;
    return;
  }
  img.alt = `Preview: ${width} x ${height} blocks, ${how}`;
  $("preview-status").textContent = `${width} x ${height} blocks${note}`;
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  if (!state.file) { $("err-image").textContent = "Choose an image first."; $("image").focus(); return; }
  const form = new FormData();
  form.append("image_file", state.file);
  form.append("metadata", JSON.stringify(metadata()));
  $("submit").disabled = true;
  $("submit").textContent = "Sending…";
  const answer = await api("/api/conversion/start", { method: "POST", form });
  if (answer.ok) {
    window.location.assign(`/task/${answer.data.taskId}`);
    return;
  }
  $("submit").disabled = false;
  $("submit").textContent = "Convert";
  showError(answer.detail);
}

function wire() {
  const drop = $("drop");
  $("image").addEventListener("change", () => chooseFile($("image").files[0]));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) chooseFile(e.dataTransfer.files[0]);
  });
  $("width").addEventListener("input", () => follow("width"));
  $("height").addEventListener("input", () => follow("height"));
  $("convert").addEventListener("input", schedulePreview);
  $("convert").addEventListener("change", schedulePreview);
  $("convert").addEventListener("submit", submit);
  $("map_art").addEventListener("change", (e) => {
    const wasOn = !$("map-art-options").hidden;
    showMapArt();
    if (wasOn !== Boolean(e.target.value)) moveOrigin(!wasOn);
  });
  $("map-blocks").addEventListener("change", (e) => {
    if (e.target.matches("select")) e.target.classList.toggle("changed", e.target.value !== e.target.dataset.default);
  });
}

wire();
loadOptions();
