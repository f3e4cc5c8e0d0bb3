"use strict";
// The explorer's page: plain JavaScript, no framework, nothing fetched from elsewhere. The server filters,
// sorts and pages; this file keeps the view in the URL's hash (so the back button and links work) and
// draws the charts as SVG. Text from the run is only ever set as textContent, never parsed as HTML.

const SVG = "http://www.w3.org/2000/svg";
const NOTHING = "∅";
const OPS = {"=": ["eq", "correct"], S: ["sub", "substitution"], D: ["del", "deletion"], I: ["ins", "insertion"]};
const PAGE = 50;
const state = {summary: null, errors: null, list: [], listHash: "#/utterances", filled: false, ticket: 0, form: null};

// ---- small helpers ----

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  setProps(node, props);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  setProps(node, attrs);
  node.append(...children.flat(Infinity).filter((c) => c !== null && c !== undefined));
  return node;
}

function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

function setProps(node, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
}

async function getJSON(url) {
  const response = await fetch(url);
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${url}: ${response.status} ${body.error || ""}`);
  return body;
}

function status(text) {
  document.getElementById("status").textContent = text;
}

const fmt = {
  rate: (x) => (x === null || x === undefined ? "–" : x.toFixed(3)),
  exact: (x) => (x === null || x === undefined ? "–" : String(x)), // as eval.json has it
  seconds: (x) => x.toFixed(2),
  delta: (x) => (x === null || x === undefined ? "–" : (x > 0 ? "+" : "") + x.toFixed(3)),
  percent: (x) => (x === null || x === undefined ? "–" : `${(100 * x).toFixed(1)}%`),
};

const RATE = () => state.summary.rate.toUpperCase();

function hashOf(view, params) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v !== null && v !== undefined));
  return `#/${view}${query.toString() ? "?" + query : ""}`;
}

function go(view, params = {}) {
  location.hash = hashOf(view, params);
}

// ---- routing ----

function parseHash() {
  const [path, query] = location.hash.replace(/^#/, "").split("?");
  const params = Object.fromEntries(new URLSearchParams(query || ""));
  if (path.startsWith("/u/")) return {view: "utterance", id: decodeURIComponent(path.slice(3)), params};
  const view = path.replace(/^\//, "") || "summary";
  const views = ["summary", "utterances", "errors", ...(state.summary.compare ? ["compare"] : [])];
  return {view: views.includes(view) ? view : "summary", params};
}

async function route() {
  const {view, id, params} = parseHash();
  const section = {summary: "summary", utterances: "list", compare: "list", errors: "errors", utterance: "utterance"}[view];
  for (const node of document.querySelectorAll(".view")) node.hidden = node.id !== section;
  for (const tab of document.querySelectorAll("#tabs a")) tab.classList.toggle("active", tab.dataset.view === view);
  status("");
  try {
    if (view === "summary") renderSummary();
    else if (view === "errors") await renderErrors();
    else if (view === "utterance") await renderUtterance(id);
    else await renderList(view, params);
  } catch (error) {
    status(error.message);
  }
}

// ---- summary ----

function renderSummary() {
  const s = state.summary;
  const root = document.getElementById("summary");
  if (root.childElementCount) return; // drawn once: the run does not change while the server runs
  fill(root,
    el("div", {class: "cards"}, headlineCard(s), testSetCard(s), corpusCard(s.corpus), lmCard(s), vocabularyCard(s.vocabulary)),
    el("h2", {text: `${RATE()} by group`}),
    el("p", {class: "hint", text: "Click a bar to list its utterances."}),
    el("div", {class: "charts"}, Object.entries(s.groups).map(([name, rows]) => groupChart(name, rows))),
  );
}

function headlineCard(s) {
  const decodings = Object.entries(s.decodings);
  const rates = decodings.length ? Object.keys(decodings[0][1]) : Object.keys(s.headline);
  return el("div", {class: "card"},
    el("h2", {text: "Test error rates"}),
    el("p", {class: "big"}, `${RATE()} `,
      el("span", {id: "headline-rate", dataset: {value: s.headline[s.rate]}, text: fmt.exact(s.headline[s.rate])}),
      el("small", {text: ` (${s.decoding === "ngram" ? "with the LM" : "greedy"})`})),
    decodings.length ? el("table", {class: "small"},
      el("tr", {}, el("th"), rates.map((r) => el("th", {text: r.toUpperCase()}))),
      decodings.map(([name, values]) => el("tr", {dataset: {decoding: name}},
        el("th", {text: name === "ngram" ? "with the LM" : "greedy"}),
        rates.map((r) => el("td", {dataset: {rate: r}, text: fmt.exact(values[r])}))))) : null,
    el("p", {text: `${s.edits.substitutions} substitutions, ${s.edits.deletions} deletions, ${s.edits.insertions} insertions`}));
}

function testSetCard(s) {
  const audio = s.audio_seconds ? ` · ${(s.audio_seconds / 60).toFixed(1)} min of audio` : "";
  return el("div", {class: "card"},
    el("h2", {text: "Test set"}),
    el("p", {class: "big", text: `${s.utterances} clips`}),
    el("p", {text: `${"speaker" in s.filters ? s.filters.speaker.length + " speakers" : ""}${audio}`}),
    el("p", {}, el("a", {href: hashOf("utterances", {sort: "rate", desc: "1"}), text: `The worst ${RATE()} first →`})));
}

function corpusCard(corpus) {
  if (!corpus) return null;
  const splits = Object.keys(corpus.utterances || {});
  const row = (label, key, show = String) => el("tr", {}, el("th", {text: label}),
    splits.map((split) => el("td", {text: show((corpus[key] || {})[split] ?? "–")})));
  return el("div", {class: "card"},
    el("h2", {text: `Corpus (${corpus.source})`}),
    el("table", {class: "small"}, el("tr", {}, el("th"), splits.map((split) => el("th", {text: split}))),
      row("clips", "utterances"), row("speakers", "speakers"), row("hours", "hours")));
}

function lmCard(s) {
  const lm = s.lm;
  if (!lm) return null;
  if (!lm.order) return el("div", {class: "card"}, el("h2", {text: "Language model"}), el("p", {text: "none: greedy decoding"}));
  const oov = lm.oov_rate || {};
  return el("div", {class: "card"},
    el("h2", {text: "Language model"}),
    el("p", {text: `${lm.order}-gram, ${lm.vocabulary} words, ${lm.sentences} sentences`}),
    el("p", {}, "Test words it does not know: ", el("b", {id: "oov-test", text: fmt.percent(oov.test)}),
      ` (dev ${fmt.percent(oov.dev)})`));
}

function vocabularyCard(vocabulary) {
  if (!vocabulary) return null;
  const unseen = vocabulary.unseen_test ? `; ${vocabulary.unseen_test.count} test ${state.summary.unit === "phone" ? "phones" : "characters"} it lacks` : "";
  return el("div", {class: "card wide"},
    el("h2", {text: "Vocabulary"}),
    el("p", {text: `${vocabulary.tokens.length} tokens${unseen}`}),
    el("p", {class: "tokens-list", text: vocabulary.tokens.join(" ")}));
}

function groupChart(name, rows) {
  const rate = state.summary.rate;
  const most = Math.max(1, ...rows.map((r) => r[rate] || 0));
  const label = 200, width = 360, height = 20;
  const chart = svg("svg", {class: "bars", viewBox: `0 0 ${label + width + 110} ${rows.length * height + 4}`,
                            width: label + width + 110, height: rows.length * height + 4});
  rows.forEach((row, k) => {
    const y = k * height + 2;
    const bar = svg("g", {class: "bar", tabindex: 0, dataset: {group: name, value: row.value},
                          onclick: () => go("utterances", {[name]: row.value, sort: "rate", desc: "1"})},
      svg("title", {}, `${name} ${row.value}: ${rate.toUpperCase()} ${row[rate]}, ${row.utterances} clips`),
      svg("text", {x: label - 6, y: y + 14, "text-anchor": "end"}, String(row.value)),
      svg("rect", {x: label, y: y + 2, width: Math.max(1, (width * (row[rate] || 0)) / most), height: height - 5}),
      svg("text", {x: label + (width * (row[rate] || 0)) / most + 4, y: y + 14, class: "value"},
          `${fmt.rate(row[rate])} · ${row.utterances}`));
    chart.append(bar);
  });
  return el("figure", {class: "chart"}, el("figcaption", {text: `${rate.toUpperCase()} by ${name} (clips)`}),
    el("div", {class: "scroll"}, chart));
}

// ---- the utterance table (and compare mode's list of changes) ----

function tableColumns(view) {
  const s = state.summary, R = RATE();
  const other = s.compare ? s.compare.name : null;
  return [
    {key: "id", label: "id", first: "asc"},
    "speaker" in s.filters ? {key: "speaker", label: "speaker", first: "asc"} : null,
    {key: "seconds", label: "s", first: "desc", show: fmt.seconds, number: true},
    {key: "rate", label: R, first: "desc", show: fmt.rate, number: true},
    s.with_lm ? {key: "greedy_rate", label: `greedy ${R}`, first: "desc", show: fmt.rate, number: true} : null,
    other ? {key: "other_rate", label: `${R} at ${other}`, first: "desc", show: fmt.rate, number: true} : null,
    other ? {key: "delta", label: "change", first: "asc", show: fmt.delta, number: true} : null,
    {key: "reference", label: "reference"},
    {key: "hypothesis", label: s.with_lm ? "hypothesis (LM)" : "hypothesis"},
    other && view === "compare" ? {key: "other_hypothesis", label: `hypothesis at ${other}`} : null,
  ].filter(Boolean);
}

function defaults(view) {
  return view === "compare" ? {sort: "delta", desc: "0", change: "changed"} : {sort: "rate", desc: "1"};
}

async function renderList(view, given) {
  const params = {...defaults(view), ...given};
  const columns = tableColumns(view);
  const ticket = ++state.ticket, asked = location.hash;
  state.listHash = asked || "#/utterances";
  renderComparison(view);
  renderFilters(view, params);
  renderHead(view, params, columns);
  const query = new URLSearchParams(Object.entries({limit: PAGE, ...params}).filter(([k, v]) => !(k === "change" && v === "any")));
  const page = await getJSON(`/api/utterances?${query}`);
  if (ticket !== state.ticket) return; // a newer view was asked for meanwhile
  renderRows(page.rows, columns);
  renderPager(view, params, page);
  markFilled(page, asked);
}

function update(changes) {
  // from the hash as it is now, so that no handler acts on a view that has since changed
  const {view, params} = parseHash();
  go(view, {...params, ...changes, offset: ""});
}

function markFilled(page, asked) {
  // what the table shows, and when it first held rows: tests/test_explorer_e2e.py waits for these and reads
  // how long the page took to become usable
  document.body.dataset.shown = asked;
  document.body.dataset.rows = String(page.rows.length);
  if (!state.filled) {
    state.filled = true;
    document.body.dataset.readyMs = String(Math.round(performance.now()));
  }
}

function renderHead(view, params, columns) {
  const head = document.querySelector("#table thead");
  head.replaceChildren(el("tr", {}, columns.map((column) => {
    const sorted = params.sort === column.key;
    const arrow = sorted ? (params.desc === "1" ? " ▼" : " ▲") : "";
    const next = sorted ? (params.desc === "1" ? "0" : "1") : (column.first === "desc" ? "1" : "0");
    const sortable = column.first !== undefined;
    return el("th", {class: [column.number ? "num" : "", sortable ? "sortable" : ""].join(" "), dataset: {col: column.key},
                     "aria-sort": sorted ? (params.desc === "1" ? "descending" : "ascending") : null,
                     onclick: sortable ? () => update({sort: column.key, desc: next}) : null},
      column.label + arrow);
  })));
}

function renderRows(rows, columns) {
  state.list = rows.map((row) => row.id);
  const body = document.querySelector("#table tbody");
  body.replaceChildren(...rows.map((row) => el("tr", {dataset: {id: row.id}, tabindex: 0,
      onclick: () => go(`u/${encodeURIComponent(row.id)}`), onkeydown: (e) => e.key === "Enter" && go(`u/${encodeURIComponent(row.id)}`)},
    columns.map((column) => cell(row, column)))));
  if (!rows.length) body.append(el("tr", {}, el("td", {colspan: columns.length, class: "empty", text: "No utterance matches."})));
}

function cell(row, column) {
  const value = row[column.key];
  const props = {dataset: {col: column.key, value: value ?? ""}, class: column.number ? "num" : "text"};
  if (column.key === "delta" && value) props.class += value < 0 ? " better" : " worse";
  if (column.key === "rate" && row.lm_worse) props.title = "the LM made this one worse than greedy decoding";
  return el("td", props, column.show ? column.show(value) : String(value ?? ""));
}

function renderPager(view, params, page) {
  const offset = Number(params.offset || 0);
  const to = (start) => () => go(view, {...parseHash().params, offset: start || ""});
  document.getElementById("pager").replaceChildren(
    el("button", {type: "button", id: "previous", disabled: offset === 0, onclick: to(Math.max(0, offset - PAGE))}, "‹ previous"),
    el("span", {id: "range", text: page.total ? ` ${offset + 1}–${offset + page.rows.length} of ${page.total} ` : " none "}),
    el("button", {type: "button", id: "next", disabled: offset + PAGE >= page.total, onclick: to(offset + PAGE)}, "next ›"));
}

function renderFilters(view, params) {
  // built once per view and then only kept in step with the hash: typing in the search box keeps its focus
  const form = document.getElementById("filters");
  if (state.form !== view) {
    form.replaceChildren(...filterControls(view));
    state.form = view;
  }
  const search = document.getElementById("search");
  if (document.activeElement !== search) search.value = params.q || "";
  for (const select of form.querySelectorAll("select[data-group]")) select.value = params[select.dataset.group] || "";
  const worse = document.getElementById("lm-worse");
  if (worse) worse.checked = params.lm_worse === "1";
  const change = document.getElementById("change");
  if (change) change.value = params.change || "any";
  document.getElementById("chips").replaceChildren(...filterChips(params));
}

function filterControls(view) {
  const s = state.summary;
  const search = el("input", {type: "search", id: "search", placeholder: "search id and text"});
  let timer;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => update({q: search.value}), 300); });
  const selects = Object.entries(s.filters).map(([name, values]) => el("label", {}, `${name} `,
    el("select", {id: `filter-${name}`, dataset: {group: name}, onchange: (e) => update({[name]: e.target.value})},
      el("option", {value: "", text: "all"}), values.map((v) => el("option", {value: v, text: v})))));
  const worse = s.with_lm ? el("label", {}, el("input", {type: "checkbox", id: "lm-worse",
    onchange: (e) => update({lm_worse: e.target.checked ? "1" : ""})}), " LM made it worse") : null;
  const change = s.compare ? el("label", {}, "against ", el("b", {text: s.compare.name}), " ",
    el("select", {id: "change", onchange: (e) => update({change: e.target.value})},
      ["any", "better", "worse", "changed", "same"].map((c) => el("option", {value: c, text: c})))) : null;
  return [search, ...selects, worse, change, el("span", {id: "chips"})].filter(Boolean);
}

function filterChips(params) {
  const chips = [["word", params.word && `word “${params.word}”`, {word: ""}],
    ["error", params.eunit && `${params.eunit} error “${params.eref}” → “${params.ehyp}”`, {eunit: "", eref: "", ehyp: ""}]];
  return chips.filter(([, text]) => text).map(([name, text, clear]) => el("button", {type: "button", class: "chip",
    dataset: {filter: name}, title: "remove this filter", onclick: () => update(clear)}, `${text} ✕`));
}

function renderComparison(view) {
  const root = document.getElementById("comparison");
  const c = state.summary.compare;
  if (view !== "compare" || !c) return root.replaceChildren();
  const R = RATE(), here = state.summary.headline[state.summary.rate], there = c.headline[c.rate];
  root.replaceChildren(el("div", {class: "cards"},
    el("div", {class: "card"}, el("h2", {text: `Against ${c.name}`}),
      el("p", {class: "big"}, `${R} ${fmt.exact(there)} → ${fmt.exact(here)}`),
      el("p", {}, el("span", {class: "better", id: "better", text: `${c.better} better`}), " · ",
        el("span", {class: "worse", id: "worse", text: `${c.worse} worse`}), ` · ${c.same} the same`),
      c.only_here || c.only_there ? el("p", {class: "hint", text: `${c.only_here} only here, ${c.only_there} only at ${c.name}`}) : null),
    el("figure", {class: "card chart"}, el("figcaption", {text: `Change of each changed clip's ${R} (negative: better here)`}),
      histogram(c.changes))));
}

function histogram(values) {
  if (!values.length) return el("p", {text: "No clip changed."});
  const bins = 21, low = Math.min(...values, -0.01), high = Math.max(...values, 0.01);
  const width = (high - low) / bins, counts = new Array(bins).fill(0);
  for (const v of values) counts[Math.min(bins - 1, Math.floor((v - low) / width))] += 1;
  const most = Math.max(...counts), W = 420, H = 120, step = W / bins;
  return svg("svg", {class: "histogram", viewBox: `0 0 ${W} ${H + 18}`, width: W, height: H + 18},
    counts.map((n, k) => svg("rect", {x: k * step + 1, width: step - 2, y: H - (H * n) / most, height: (H * n) / most,
      class: low + (k + 0.5) * width < 0 ? "better" : "worse"}, svg("title", {}, `${n} clips, ${fmt.delta(low + k * width)} to ${fmt.delta(low + (k + 1) * width)}`))),
    svg("text", {x: 0, y: H + 14}, fmt.delta(low)), svg("text", {x: W, y: H + 14, "text-anchor": "end"}, fmt.delta(high)));
}

// ---- one utterance ----

async function renderUtterance(id) {
  const root = document.getElementById("utterance");
  const u = await getJSON(`/api/utterance/${encodeURIComponent(id)}`);
  const s = state.summary, at = state.list.indexOf(id);
  const neighbour = (k) => (k >= 0 && k < state.list.length ? `#/u/${encodeURIComponent(state.list[k])}` : null);
  const groups = Object.keys(s.filters).filter((g) => g !== "speaker" && u[g] !== undefined);
  const audio = u.audio ? el("audio", {controls: true, preload: "auto", src: u.audio, id: "player"}) : null;
  fill(root,
    el("nav", {class: "utterance-nav"}, el("a", {href: state.listHash, text: "← the list"}),
      neighbour(at - 1) ? el("a", {href: neighbour(at - 1), text: "‹ previous"}) : null,
      neighbour(at + 1) ? el("a", {href: neighbour(at + 1), text: "next ›"}) : null),
    el("h2", {text: u.id}),
    el("p", {class: "facts"}, [
      u.speaker !== undefined ? `speaker ${u.speaker}` : null, `${fmt.seconds(u.seconds)} s`,
      ...groups.map((g) => `${g} ${u[g]}`), `${RATE()} ${fmt.rate(u.rate)}`,
      s.with_lm ? `greedy ${fmt.rate(u.greedy_rate)}` : null,
      s.compare && u.other_rate !== null && u.other_rate !== undefined ? `at ${s.compare.name} ${fmt.rate(u.other_rate)} (${fmt.delta(u.delta)})` : null,
    ].filter(Boolean).join(" · ")),
    audio || el("p", {class: "hint", text: "No audio: data/encoded is not in the workspace (dvc pull data/encoded)."}),
    audio && u.outline ? waveform(u.outline, audio) : null,
    el("div", {class: "legend"}, Object.values(OPS).slice(1).map(([cls, name]) => el("span", {class: `tok ${cls}`, text: name})),
      s.lm && s.lm.order ? el("span", {class: "tok oov-sample", text: "not in the LM's vocabulary"}) : null),
    u.alignments.map(alignmentView));
  document.body.dataset.utterance = u.id; // shown: what the browser tests wait for
}

function alignmentView(a) {
  const units = {word: "words", char: "characters", phone: "phones"}[state.summary.unit];
  return el("div", {class: "alignment", dataset: {name: a.name, errors: a.errors}},
    el("h3", {text: `${a.name === "ngram" ? "with the LM" : a.name}: ${a.errors} errors`}),
    el("div", {class: "tokens", "aria-label": `reference above, hypothesis below, aligned by ${units}`},
      a.tokens.map((t) => el("span", {class: `tok ${OPS[t.op][0]}`, title: t.op === "=" ? null : `${OPS[t.op][1]}: ${t.ref} → ${t.hyp}`,
                                    dataset: {op: t.op}},
        el("span", {class: `ref${t.oov ? " oov" : ""}`, title: t.oov ? "not in the LM's vocabulary" : null, text: t.ref}),
        el("span", {class: "hyp", text: t.hyp})))));
}

function waveform(outline, audio) {
  const W = outline.low.length, H = 100, mid = H / 2;
  const peak = Math.max(1e-4, ...outline.high, ...outline.low.map((v) => -v)); // drawn to the clip's own peak
  const y = (v) => (mid - (0.95 * mid * v) / peak).toFixed(1);
  const d = outline.low.map((low, x) => `M${x + 0.5} ${y(outline.high[x])}V${(Number(y(low)) + 0.5).toFixed(1)}`).join("");
  const head = svg("line", {class: "playhead", x1: 0, x2: 0, y1: 0, y2: H});
  const chart = svg("svg", {class: "wave", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", id: "waveform"},
    svg("path", {d}), head);
  chart.addEventListener("click", (event) => {
    const box = chart.getBoundingClientRect();
    audio.currentTime = ((event.clientX - box.left) / box.width) * outline.seconds;
    audio.play();
  });
  const move = () => {
    const x = (W * audio.currentTime) / outline.seconds;
    head.setAttribute("x1", x);
    head.setAttribute("x2", x);
    if (!audio.paused) requestAnimationFrame(move);
  };
  audio.addEventListener("play", move);
  audio.addEventListener("seeked", move);
  return el("figure", {class: "waveform"}, chart, el("figcaption", {text: `${outline.seconds.toFixed(2)} s · click to play from there`}));
}

// ---- errors ----

async function renderErrors() {
  const root = document.getElementById("errors");
  if (root.childElementCount) return;
  state.errors = state.errors || await getJSON("/api/errors");
  const e = state.errors, units = [...new Set(e.top.map((r) => r.unit))];
  fill(root,
    el("p", {class: "hint", text: "From metrics/eval/top_errors.tsv and confusions.tsv; click a row or a cell for the utterances it happens in."}),
    el("div", {class: "blocks"},
      el("div", {id: "top-errors", class: "blocks"}, units.map((unit) => topErrors(unit, e.top.filter((r) => r.unit === unit)))),
      e.confusions && e.confusions.rows.length ? confusionMatrix(e.confusions) : null,
      e.oov.length ? oovWords(e.oov) : null));
}

function topErrors(unit, rows) {
  const name = {word: "word", char: "character", phone: "phone"}[unit] || unit;
  return el("div", {},
    el("h2", {text: `Most frequent ${name} errors`}),
    el("table", {class: "errors", dataset: {unit}},
      el("tr", {}, ["kind", "reference", "hypothesis", "count", "clips"].map((h) => el("th", {text: h}))),
      rows.map((r) => el("tr", {class: "link", tabindex: 0, onclick: () => go("utterances", {eunit: r.unit, eref: r.reference, ehyp: r.hypothesis})},
        el("td", {text: r.kind}),
        el("td", {class: r.oov ? "oov" : null, title: r.oov ? "not in the LM's vocabulary" : null, text: r.reference}),
        el("td", {text: r.hypothesis}), el("td", {class: "num", text: r.count}), el("td", {class: "num", text: r.utterances})))));
}

function confusionMatrix(m) {
  const cell = 26, left = 60, top = 40, most = Math.max(1, ...m.counts.flat());
  const W = left + m.cols.length * cell, H = top + m.rows.length * cell;
  const chart = svg("svg", {class: "matrix", viewBox: `0 0 ${W} ${H}`, width: W, height: H},
    m.cols.map((c, j) => svg("text", {x: left + j * cell + cell / 2, y: top - 8, "text-anchor": "middle"}, c)),
    m.rows.map((r, i) => svg("text", {x: left - 8, y: top + i * cell + cell / 2 + 4, "text-anchor": "end"}, r)),
    m.rows.map((r, i) => m.cols.map((c, j) => {
      const n = m.counts[i][j];
      return n ? svg("rect", {x: left + j * cell + 1, y: top + i * cell + 1, width: cell - 2, height: cell - 2,
        "fill-opacity": 0.15 + (0.85 * n) / most, class: "link", onclick: () => go("utterances", {eunit: m.unit, eref: r, ehyp: c})},
        svg("title", {}, `${r} → ${c}: ${n}`)) : null;
    })));
  const name = m.unit === "char" ? "character" : m.unit;
  return el("div", {},
    el("h2", {text: `Confusions: ${name}s heard as others`}),
    el("figure", {class: "chart"},
      el("figcaption", {text: `reference (rows) → hypothesis (columns), the ${m.rows.length} with most errors; ${NOTHING}: nothing`}),
      chart));
}

function oovWords(words) {
  return el("div", {},
    el("h2", {text: "Test words the LM does not know"}),
    el("table", {id: "oov-words", class: "errors"}, el("tr", {}, ["word", "count", "clips"].map((h) => el("th", {text: h}))),
      words.map((w) => el("tr", {class: "link", tabindex: 0, onclick: () => go("utterances", {word: w.word})},
        el("td", {class: "oov", text: w.word}), el("td", {class: "num", text: w.count}), el("td", {class: "num", text: w.utterances})))));
}

// ---- start ----

async function start() {
  try {
    state.summary = await getJSON("/api/summary");
  } catch (error) {
    return status(error.message);
  }
  const s = state.summary;
  document.querySelector('#tabs a[data-view="compare"]').hidden = !s.compare;
  document.getElementById("run").textContent = `${RATE()} ${fmt.exact(s.headline[s.rate])} on ${s.utterances} test clips` +
    (s.compare ? ` · compared with ${s.compare.name}` : "");
  window.addEventListener("hashchange", route);
  route();
}

start();
