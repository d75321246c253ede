// storylens page: parses what the user gives, sends it to /v1/classify in batches (spans of
// findings come back with each item), refines on demand through /v1/rewrite and records
// verdicts with /v1/feedback. No framework, no build step.
"use strict";

const BATCH = 64;
const $ = (id) => document.getElementById(id);
const state = { rows: [], shown: 0, controller: null };

function headers() {
  const h = { "content-type": "application/json" };
  const key = $("apikey").value.trim();
  if (key) h.authorization = "Bearer " + key;
  return h;
}

function status(text) { $("status").textContent = text; }

// ---- reading input -------------------------------------------------------------------------

/** RFC 4180 CSV (quotes, doubled quotes, newlines in quotes); `sep` is "," or "\t". */
function parseCsv(text, sep) {
  const rows = []; let row = []; let field = ""; let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i++; }
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) { row.push(field); field = ""; }
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field); rows.push(row); row = []; field = "";
    } else field += c;
  }
  if (field !== "" || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** Items (objects in any shape the API reads) with the line each came from. */
function itemsFrom(name, text) {
  text = text.replace(/^\ufeff/, "");
  const lower = name.toLowerCase();
  const out = [];
  if (lower.endsWith(".json")) {
    const data = JSON.parse(text);
    (Array.isArray(data) ? data : [data]).forEach((v, i) => out.push({ line: i + 1, item: v }));
  } else if (/\.(jsonl|ndjson)$/.test(lower)) {
    text.split(/\r?\n/).forEach((l, i) => {
      if (!l.trim()) return;
      try { out.push({ line: i + 1, item: JSON.parse(l) }); }
      catch (e) { out.push({ line: i + 1, error: "not valid JSON: " + e.message }); }
    });
  } else if (/\.(csv|tsv)$/.test(lower)) {
    const rows = parseCsv(text, lower.endsWith(".tsv") ? "\t" : ",");
    const head = (rows.shift() || []).map((h) => h.trim().toLowerCase());
    const col = (...names) => names.map((n) => head.indexOf(n)).find((i) => i >= 0);
    const title = col("summary", "title", "text", "story", "user story");
    const desc = col("description", "body");
    const id = col("issue key", "key", "id", "number");
    if (title === undefined) throw new Error("no Summary, Title or Text column in " + name);
    rows.forEach((r, i) => {
      if (!r.some((f) => f.trim())) return;
      const t = (r[title] || "").trim();
      if (!t) { out.push({ line: i + 2, error: "the title column is empty" }); return; }
      out.push({ line: i + 2, item: { id: id !== undefined ? r[id] : undefined, title: t, description: desc !== undefined ? r[desc] : undefined } });
    });
  } else {
    text.split(/\r?\n/).forEach((l, i) => { if (l.trim()) out.push({ line: i + 1, item: { title: l.trim() } }); });
  }
  return out;
}

// ---- talking to the server -----------------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** POSTs JSON; waits visibly and retries on 429; explains 401. */
async function post(path, body, signal) {
  for (;;) {
    const resp = await fetch(path, { method: "POST", headers: headers(), body: JSON.stringify(body), signal });
    if (resp.status === 429 || resp.status === 503) {
      const wait = Math.max(1, parseInt(resp.headers.get("retry-after") || "1", 10));
      for (let s = wait; s > 0; s--) { status(`The server is busy; retrying in ${s} s…`); await sleep(1000); }
      continue;
    }
    const json = await resp.json().catch(() => ({}));
    if (resp.status === 401) throw new Error("The API key is missing, wrong or expired: enter a valid key above.");
    if (!resp.ok) { const e = new Error(json.error || resp.statusText); e.status = resp.status; throw e; }
    return json;
  }
}

/** Classifies one batch; a batch refused for one bad item is retried item by item. */
async function classify(batch, signal) {
  const good = batch.filter((b) => b.item);
  try {
    const res = await post("/v1/classify", { items: good.map((b) => b.item) }, signal);
    good.forEach((b, i) => { b.result = res.results[i]; });
  } catch (e) {
    if (e.status !== 422 || good.length === 1) { good.forEach((b) => { b.error = e.message; }); if (e.status !== 422) throw e; return; }
    for (const b of good) await classify([b], signal);
  }
}

// ---- rendering -----------------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else if (k.startsWith("on")) e.addEventListener(k.slice(2), v); else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** The item's text with the findings' spans marked. */
function highlighted(text, findings) {
  const spans = (findings || []).map((f) => f.span).filter(Boolean).sort((a, b) => a.start - b.start);
  const enc = new TextEncoder(); const dec = new TextDecoder();
  const bytes = enc.encode(text); const frag = document.createDocumentFragment(); let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    frag.append(dec.decode(bytes.slice(at, s.start)), el("mark", {}, dec.decode(bytes.slice(s.start, s.end))));
    at = s.end;
  }
  frag.append(dec.decode(bytes.slice(at)));
  return frag;
}

function textOf(b) { return b.item ? (b.item.title || b.item.text || (b.item.fields && b.item.fields.summary) || "") : ""; }

function rowView(b) {
  const li = el("li", { class: "item", "data-label": b.result ? b.result.label : "error" });
  if (!b.result) {
    li.append(el("span", { class: "badge error" }, "error"), " ", el("span", { class: "meta" }, `line ${b.line}: ${b.error}`));
    return li;
  }
  const r = b.result;
  li.append(
    el("div", { class: "text" }, highlighted(textOf(b), r.findings)),
    el("div", { class: "meta" }, el("span", { class: "badge " + r.label }, r.label), ` ${(r.confidence * 100).toFixed(0)}% · quality ${r.quality}/100 · line ${b.line}`),
  );
  if (r.findings.length) {
    li.append(el("ul", { class: "findings" }, ...r.findings.map((f) =>
      el("li", {}, el("span", { class: "sev-" + f.severity }, f.code), `: ${f.message} Fix: ${f.suggestion}`))));
  }
  const box = el("div", { class: "refine-slot" });
  li.append(el("button", { type: "button", class: "secondary", onclick: () => refine(b, box) }, "Refine"), box);
  return li;
}

async function refine(b, box) {
  box.replaceChildren(el("p", { class: "meta" }, "Refining…"));
  try {
    const res = await post("/v1/rewrite", { items: [b.item] });
    const r = res.results[0];
    const suggestion = r.story || r.task || "";
    const edit = el("textarea", { rows: "2", "aria-label": "Edited suggestion" }); edit.value = suggestion; edit.hidden = true;
    const note = el("p", { class: "meta", role: "status" });
    const send = async (verdict) => {
      if (verdict === "edit" && edit.hidden) { edit.hidden = false; edit.focus(); return; }
      try {
        await post("/v1/feedback", {
          project: $("project").value.trim() || "web", item_id: b.result.id, item_text: textOf(b),
          suggested_label: r.label, suggested_disposition: r.disposition, suggested_story: r.story,
          verdict, corrected_text: verdict === "edit" ? edit.value : undefined,
        });
        note.textContent = `Recorded: ${verdict}.`;
        if (verdict === "edit") b.edited = edit.value;
      } catch (e) { note.textContent = "Not recorded: " + e.message; }
    };
    box.replaceChildren(el("div", { class: "refine" },
      el("div", {}, el("b", {}, r.disposition), suggestion ? ": " + suggestion : ""),
      el("div", { class: "meta" }, r.why),
      r.acceptance_criteria.length ? el("ul", {}, ...r.acceptance_criteria.map((c) => el("li", {}, c))) : null,
      edit,
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: () => send("accept") }, "Accept"),
        el("button", { type: "button", class: "secondary", onclick: () => send("edit") }, "Edit"),
        el("button", { type: "button", class: "secondary", onclick: () => send("reject") }, "Reject")),
      note));
  } catch (e) { box.replaceChildren(el("p", { class: "meta" }, "Refinement failed: " + e.message)); }
}

function bars(target, entries, total) {
  target.replaceChildren(...entries.map(([name, n, cls]) => {
    const fill = el("div", { class: "fill " + (cls || "") });
    // Through the CSSOM: the page's policy forbids inline style attributes.
    fill.style.width = `${total ? (100 * n) / total : 0}%`;
    return el("div", { class: "bar" }, el("span", {}, name), fill, el("span", {}, String(n)));
  }));
}

/** The same figures as the HTML report of `storylens score --report`. */
function summarise() {
  const done = state.rows.filter((b) => b.result);
  const stories = done.filter((b) => b.result.label === "story").length;
  const tasks = done.length - stories;
  const disguised = done.filter((b) => b.result.label === "task" && b.result.findings.some((f) => f.code === "disguised-task")).length;
  const codes = {};
  done.forEach((b) => b.result.findings.forEach((f) => { codes[f.code] = (codes[f.code] || 0) + 1; }));
  const meanQ = done.length ? Math.round(done.reduce((s, b) => s + b.result.quality, 0) / done.length) : 0;
  $("tiles").replaceChildren(
    ...[["items", done.length], ["stories", stories], ["tasks", tasks], ["tasks in disguise", disguised],
      ["unreadable", state.rows.length - done.length], ["mean quality", meanQ]].map(([k, v]) => el("div", { class: "tile" }, el("b", {}, String(v)), k)));
  bars($("share"), [["stories", stories], ["tasks", tasks, "task"]], done.length);
  const sorted = Object.entries(codes).sort((a, b) => b[1] - a[1]);
  bars($("codes"), sorted, done.length);
  const sel = $("f-code"); const keep = sel.value;
  sel.replaceChildren(el("option", { value: "" }, "any"), ...sorted.map(([c]) => el("option", {}, c))); sel.value = keep;
  const worst = [...done].sort((a, b) => a.result.quality - b.result.quality).slice(0, 10);
  $("worst").replaceChildren(...worst.map((b) => el("li", {}, `${textOf(b)} (${b.result.quality}/100)`)));
  $("summary").hidden = false;
}

/** Appends the rows answered since the last call, in input order (batches finish out of
 * order); everything is re-rendered only when a filter or sort is set. */
function renderNew() {
  if ($("f-label").value || $("f-code").value || $("f-sort").value !== "order") { render(); return; }
  const list = $("rows");
  while (state.shown < state.rows.length) {
    const b = state.rows[state.shown];
    if (!b.result && !b.error && b.item) break;
    list.append(rowView(b));
    state.shown++;
  }
  $("results").hidden = state.rows.length === 0;
}

function render() {
  state.shown = state.rows.length;
  const label = $("f-label").value; const code = $("f-code").value; const sort = $("f-sort").value;
  let rows = state.rows.filter((b) => (!label || (b.result && b.result.label === label)) && (!code || (b.result && b.result.findings.some((f) => f.code === code))));
  if (sort === "quality") rows = [...rows].sort((a, b) => (a.result ? a.result.quality : -1) - (b.result ? b.result.quality : -1));
  if (sort === "confidence") rows = [...rows].sort((a, b) => (a.result ? a.result.confidence : -1) - (b.result ? b.result.confidence : -1));
  $("rows").replaceChildren(...rows.map(rowView));
  $("results").hidden = state.rows.length === 0;
}

function exportCsv() {
  const q = (s) => '"' + String(s ?? "").replace(/"/g, '""') + '"';
  const lines = [["line", "id", "text", "label", "confidence", "quality", "findings", "edited"].join(",")];
  for (const b of state.rows) {
    const r = b.result || {};
    lines.push([b.line, q(r.id), q(textOf(b)), r.label || "error", r.confidence ?? "", r.quality ?? "", q((r.findings || []).map((f) => f.code).join(";")), q(b.edited)].join(","));
  }
  const a = el("a", { href: URL.createObjectURL(new Blob([lines.join("\n")], { type: "text/csv" })), download: "storylens.csv" });
  document.body.append(a); a.click(); a.remove();
}

// ---- the run -------------------------------------------------------------------------------

async function run(entries) {
  state.rows = entries; state.shown = 0; state.controller = new AbortController();
  $("rows").replaceChildren();
  $("run").disabled = true; $("cancel").disabled = false; $("export").disabled = true;
  const bar = $("progress"); bar.max = Math.max(1, entries.length); bar.value = 0;
  const started = performance.now();
  try {
    // Two batches in flight: the server packs them into model batches while the page renders.
    let next = 0; let done = 0;
    const worker = async () => {
      while (next < entries.length) {
        const batch = entries.slice(next, next + BATCH); next += BATCH;
        await classify(batch, state.controller.signal);
        done += batch.length; bar.value = done;
        status(`${done} of ${entries.length} items`);
        summarise(); renderNew();
      }
    };
    await Promise.all([worker(), worker()]);
    status(`${entries.length} items in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    document.body.dataset.done = "true";
  } catch (e) {
    status(e.name === "AbortError" ? `Cancelled after ${bar.value} items.` : e.message);
  } finally {
    $("run").disabled = false; $("cancel").disabled = true; $("export").disabled = state.rows.length === 0;
    summarise(); render();
  }
}

async function start() {
  const file = $("file").files[0];
  try {
    const entries = file ? itemsFrom(file.name, await file.text()) : itemsFrom("pasted.txt", $("items").value);
    if (!entries.length) { status("Nothing to analyse: paste items or choose a file."); return; }
    await run(entries);
  } catch (e) { status(e.message); }
}

$("run").addEventListener("click", start);
$("cancel").addEventListener("click", () => state.controller && state.controller.abort());
$("export").addEventListener("click", exportCsv);
for (const id of ["f-label", "f-code", "f-sort"]) $(id).addEventListener("change", render);
$("apikey").value = sessionStorage.getItem("storylens-key") || "";
$("apikey").addEventListener("change", () => sessionStorage.setItem("storylens-key", $("apikey").value));

// `#items=<lines>` runs at once (links to a set of items; the browser test uses it).
const preset = new URLSearchParams(location.hash.slice(1)).get("items");
if (preset !== null) { $("items").value = preset; start(); }
