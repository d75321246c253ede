// storylens page: parses what the user gives, streams it through /v1/score (rows come back as
// they are scored, with the findings' spans; the summary, near-duplicates included, comes last
// from the same code as `storylens score --report`), refines on demand through /v1/rewrite,
// records verdicts with /v1/feedback and exports the report through /v1/report.
// No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { rows: [], shown: 0, controller: null, summary: null };

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

/** Streams the items through /v1/score: `onLine` gets each answered line as it arrives.
 * A busy or loading server is waited for visibly, before any line is sent. */
async function scoreStream(items, signal, onLine) {
  const body = new Blob(items.map((i) => JSON.stringify(i) + "\n"), { type: "application/x-ndjson" });
  let resp;
  for (;;) {
    const h = headers(); h["content-type"] = "application/x-ndjson";
    resp = await fetch("/v1/score?detail=true&duplicates=true", { method: "POST", headers: h, body, signal });
    if (resp.status !== 429 && resp.status !== 503) break;
    const wait = Math.max(1, parseInt(resp.headers.get("retry-after") || "1", 10));
    for (let s = wait; s > 0; s--) { status(`The server is busy; retrying in ${s} s…`); await sleep(1000); }
  }
  if (resp.status === 401) throw new Error("The API key is missing, wrong or expired: enter a valid key above.");
  if (!resp.ok) { const json = await resp.json().catch(() => ({})); throw new Error(json.error || resp.statusText); }
  const reader = resp.body.getReader(); const dec = new TextDecoder(); let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += dec.decode(value, { stream: true });
    let nl;
    while ((nl = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, nl).trim(); buf = buf.slice(nl + 1);
      if (line) onLine(JSON.parse(line));
    }
    if (done) break;
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
  if (b.duplicateOf) li.append(el("div", { class: "meta dup" }, `Near-duplicate of line ${b.duplicateOf}`));
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

/** The summary the server computed (the same figures as `storylens score --report`); rows the
 * page itself could not read are added to the unreadable count. */
function summarise() {
  const sum = state.summary;
  if (!sum) { $("summary").hidden = true; return; }
  const unreadable = sum.errors + state.rows.filter((b) => !b.item).length;
  const meanQ = sum.rows ? Math.round(sum.quality_sum / sum.rows) : 0;
  $("tiles").replaceChildren(
    ...[["items", sum.rows], ["stories", sum.stories], ["tasks", sum.tasks], ["tasks in disguise", sum.disguised],
      ["unreadable", unreadable], ["mean quality", meanQ], ["near-duplicate groups", (sum.duplicates || []).length]]
      .map(([k, v]) => el("div", { class: "tile" }, el("b", {}, String(v)), k)));
  bars($("share"), [["stories", sum.stories], ["tasks", sum.tasks, "task"]], sum.rows);
  const sorted = Object.entries(sum.findings).sort((a, b) => b[1] - a[1]);
  bars($("codes"), sorted, sum.rows);
  const sel = $("f-code"); const keep = sel.value;
  sel.replaceChildren(el("option", { value: "" }, "any"), ...sorted.map(([c]) => el("option", {}, c))); sel.value = keep;
  const textAt = (line) => { const b = state.byLine.get(line); return b ? textOf(b) : `line ${line}`; };
  $("worst").replaceChildren(...sum.worst.slice(0, 10).map((w) => el("li", {}, `${textAt(w.line)} (${w.quality}/100)`)));
  const groups = sum.duplicates || [];
  $("dups").replaceChildren(...groups.map((g) => el("li", {},
    `${g.items.length} items, similarity ${g.similarity.toFixed(2)}: `,
    el("ul", {}, ...g.items.map((m) => el("li", {}, `line ${state.byLine.get(m.line) ? state.byLine.get(m.line).line : m.line}: ${textAt(m.line)}`))))));
  $("dups-none").hidden = groups.length > 0;
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
  state.rows = entries; state.shown = 0; state.controller = new AbortController(); state.summary = null;
  $("rows").replaceChildren(); summarise();
  $("run").disabled = true; $("cancel").disabled = false; $("export").disabled = true; $("report").disabled = true;
  const bar = $("progress"); bar.max = Math.max(1, entries.length); bar.value = entries.filter((b) => !b.item).length;
  const started = performance.now();
  // Line k of the stream is the k-th readable entry.
  const sent = entries.filter((b) => b.item);
  state.byLine = new Map(sent.map((b, i) => [i + 1, b]));
  let painted = 0;
  try {
    if (sent.length) {
      await scoreStream(sent.map((b) => b.item), state.controller.signal, (msg) => {
        if (msg.summary) { state.summary = msg.summary; return; }
        const b = state.byLine.get(msg.line);
        if (!b) return;
        if (msg.error) b.error = msg.error; else b.result = msg.result;
        bar.value++;
        // Painting every line would make the browser the bottleneck on big files.
        if (bar.value - painted >= 64 || bar.value === bar.max) {
          painted = bar.value; status(`${bar.value} of ${entries.length} items`); renderNew();
        }
      });
    }
    if (!state.summary) throw new Error("The server ended the stream early; the rows above are all it answered.");
    for (const g of state.summary.duplicates || []) {
      const first = state.byLine.get(g.items[0].line);
      for (const m of g.items.slice(1)) { const b = state.byLine.get(m.line); if (b && first) b.duplicateOf = first.line; }
    }
    status(`${entries.length} items in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    document.body.dataset.done = "true";
  } catch (e) {
    status(e.name === "AbortError" ? `Cancelled after ${bar.value} items.` : e.message);
  } finally {
    $("run").disabled = false; $("cancel").disabled = true; $("export").disabled = state.rows.length === 0;
    $("report").disabled = !state.summary;
    summarise(); render();
  }
}

/** The HTML report of this run, rendered by the server from its own summary. */
async function reportHtml() {
  const resp = await fetch("/v1/report", { method: "POST", headers: headers(), body: JSON.stringify({ summary: state.summary, format: "html" }) });
  if (!resp.ok) { const json = await resp.json().catch(() => ({})); throw new Error(json.error || resp.statusText); }
  return resp.text();
}

async function exportReport() {
  try {
    const html = await reportHtml();
    const a = el("a", { href: URL.createObjectURL(new Blob([html], { type: "text/html" })), download: "storylens-report.html" });
    document.body.append(a); a.click(); a.remove();
  } catch (e) { status("The report could not be made: " + e.message); }
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
$("report").addEventListener("click", exportReport);
for (const id of ["f-label", "f-code", "f-sort"]) $(id).addEventListener("change", render);
$("apikey").value = sessionStorage.getItem("storylens-key") || "";
$("apikey").addEventListener("change", () => sessionStorage.setItem("storylens-key", $("apikey").value));

// `#items=<lines>` runs at once (links to a set of items; the browser test uses it).
const preset = new URLSearchParams(location.hash.slice(1)).get("items");
if (preset !== null) { $("items").value = preset; start(); }
