// The browser side of the HTML report (lib/cli/html-report.ts): its stylesheet and script,
// inlined into the page. Plain ES2020 with no imports; `dagre` is the inlined layout library.
// Lists render at most a few hundred rows and the graph shows a neighbourhood, so pages of
// 10,000 tables and 100,000 columns stay responsive.

export const REPORT_PAGE_CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:12px 20px;display:flex;gap:20px;align-items:baseline}
header h1{font-size:18px;margin:0}
#verdict.ok{color:#7ee2a8}#verdict.bad{color:#ff9b9b}
main{padding:12px 20px;display:grid;gap:14px;grid-template-columns:minmax(0,1fr)}
@media(min-width:1100px){main{grid-template-columns:minmax(0,1fr) minmax(0,1fr)}#catalog,#lineage{grid-column:1/-1}}
section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:10px 14px;overflow:auto}
h2{font-size:15px;margin:0 0 8px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:0}dt{color:#5a6373}dd{margin:0}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px;border-bottom:1px solid #eef0f3;vertical-align:top}
th{color:#5a6373;font-weight:600}tr.pick{cursor:pointer}tr.pick:hover{background:#eef4ff}
td.desc{color:#5a6373;max-width:420px}.error{color:#b42318}.warning{color:#9a6700}
#search{width:100%;box-sizing:border-box;padding:7px 9px;font-size:14px;border:1px solid #c4cad3;border-radius:4px;margin-bottom:8px}
.more{color:#5a6373;margin-top:6px}
svg text{font:12px system-ui,sans-serif}
.node rect{fill:#eef4ff;stroke:#6b8ccf}.node.picked rect{fill:#1d4ed8;stroke:#1d4ed8}.node.picked text{fill:#fff}
.node.up rect{fill:#ecfdf3;stroke:#3f9c6b}.node.down rect{fill:#fff6e5;stroke:#c98a1b}.node.external rect{stroke-dasharray:4 3}
.node{cursor:pointer}.edge{fill:none;stroke:#8a94a6;stroke-width:1.3}
`

export const REPORT_PAGE_JS = `
'use strict';
(function () {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  const s = data.summary;
  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  const T = data.tables.length;
  const label = (n) => (n < T ? data.tables[n][1] : data.externals[n - T]);
  const where = (t) => [data.strings[t[2]], data.strings[t[3]]].filter(Boolean).join('.');

  $('command').textContent = s.command;
  const verdict = $('verdict');
  verdict.textContent = s.valid ? 'valid' : 'failed: ' + s.errors + ' error' + (s.errors === 1 ? '' : 's');
  verdict.className = s.valid ? 'ok' : 'bad';
  document.title = 'secoda-convert ' + s.command + (s.valid ? ' (valid)' : ' (failed)');

  const fig = [];
  for (const [k, v] of Object.entries(s.resources)) if (v > 0) fig.push([k.replace('_', ' ') + 's', v]);
  fig.push(['lineage edges', s.lineage.total + ' (' + s.lineage.table + ' table-level, ' + s.lineage.column + ' column-level)']);
  fig.push(['errors', s.errors], ['warnings', s.warnings]);
  fig.push(['input', s.input.bytes.toLocaleString('en-US') + ' bytes in ' + s.seconds + ' s (' + s.mbPerSecond + ' MB/s)']);
  for (const [k, v] of Object.entries(s.notes)) fig.push([k, v]);
  for (const [k, v] of Object.entries(s.counters)) fig.push([k, v]);
  $('figures').innerHTML = fig.map(([k, v]) => '<dt>' + esc(k) + '</dt><dd data-figure="' + esc(k) + '">' + esc(v) + '</dd>').join('');

  if (s.upload) {
    const u = s.upload;
    $('upload').hidden = false;
    let h = '<dl>';
    h += '<dt>synced</dt><dd>' + (u.synced ? 'yes' : u.dryRun ? 'no (dry run)' : 'no: nothing was synced') + '</dd>';
    if (u.integrationId) h += '<dt>integration</dt><dd>' + esc(u.integrationId) + ' (' + esc(u.endpoint) + ')</dd>';
    if (u.status !== undefined) h += '<dt>server</dt><dd>HTTP ' + esc(u.status) + (u.response ? ': ' + esc(String(u.response).slice(0, 300)) : '') + '</dd>';
    if (u.bytes !== undefined) h += '<dt>body</dt><dd>' + esc(u.bytes) + ' bytes, ' + esc(u.framing) + ', ' + esc(u.retries) + ' retries</dd>';
    if (u.stale) h += '<dt>stale guard</dt><dd id="stale">' + esc(u.stale.added) + ' added, ' + esc(u.stale.kept) + ' kept, ' + esc(u.stale.archived) + ' archived; the previous upload had ' + esc(u.stale.previous) + '</dd>';
    $('upload-body').innerHTML = h + '</dl>';
  }

  const diags = s.diagnostics;
  $('diagnostics-body').innerHTML = diags.length === 0 ? '<p>None.</p>' :
    '<table><thead><tr><th>where</th><th>code</th><th>message</th></tr></thead><tbody>' +
    diags.slice(0, 500).map((d) => '<tr class="' + d.severity + '"><td>' + esc((d.file || '') + (d.line ? ':' + d.line : '')) + '</td><td>' + esc(d.severity + ' ' + d.code) + '</td><td>' + esc(d.message) + '</td></tr>').join('') +
    '</tbody></table>' + (diags.length > 500 ? '<p class="more">' + (diags.length - 500) + ' more in the JSON summary.</p>' : '');

  const groups = new Map();
  const colsPerTable = new Uint32Array(T);
  for (const c of data.columns) if (c[0] >= 0) colsPerTable[c[0]]++;
  data.tables.forEach((t, i) => {
    const k = (data.strings[t[2]] || '(no database)') + '\\u0000' + (data.strings[t[3]] || '(no schema)');
    const g = groups.get(k) || { tables: 0, columns: 0 };
    g.tables++; g.columns += colsPerTable[i];
    groups.set(k, g);
  });
  $('counts-body').innerHTML = '<table id="counts-table"><thead><tr><th>database</th><th>schema</th><th>tables</th><th>columns</th></tr></thead><tbody>' +
    [...groups].sort().map(([k, g]) => { const [d, sc] = k.split('\\u0000'); return '<tr><td>' + esc(d) + '</td><td>' + esc(sc) + '</td><td>' + g.tables + '</td><td>' + g.columns + '</td></tr>'; }).join('') +
    '</tbody></table>';

  // search: tables and columns, at most LIMIT rows drawn
  const LIMIT = 200;
  const results = $('results');
  function search(q) {
    q = q.trim().toLowerCase();
    const rows = [];
    let total = 0;
    for (let i = 0; i < T; i++) {
      const t = data.tables[i];
      if (!q || t[1].toLowerCase().includes(q) || t[0].toLowerCase().includes(q) || t[5].toLowerCase().includes(q)) {
        if (rows.length < LIMIT) rows.push('<tr class="pick" data-table="' + i + '"><td>' + esc(t[4]) + '</td><td>' + esc(where(t)) + '</td><td><b>' + esc(t[1]) + '</b></td><td></td><td></td><td class="desc">' + esc(t[5]) + '</td></tr>');
        total++;
      }
    }
    if (q) for (let i = 0; i < data.columns.length; i++) {
      const c = data.columns[i];
      if (c[1].toLowerCase().includes(q) || c[2].toLowerCase().includes(q) || c[4].toLowerCase().includes(q)) {
        const t = c[0] >= 0 ? data.tables[c[0]] : null;
        if (rows.length < LIMIT) rows.push('<tr class="pick" data-table="' + c[0] + '" data-column="' + i + '"><td>column</td><td>' + esc(t ? where(t) : '') + '</td><td>' + esc(t ? t[1] : '?') + '.<b>' + esc(c[1]) + '</b></td><td>' + esc(c[2]) + '</td><td>' + (c[3] ? 'PK' : '') + '</td><td class="desc">' + esc(c[4]) + '</td></tr>');
        total++;
      }
    }
    results.innerHTML = '<table><thead><tr><th>kind</th><th>database.schema</th><th>name</th><th>type</th><th>key</th><th>description</th></tr></thead><tbody>' + rows.join('') + '</tbody></table>' +
      '<p class="more" id="result-count">' + total + ' match' + (total === 1 ? '' : 'es') + (total > LIMIT ? ', the first ' + LIMIT + ' shown: narrow the search' : '') + '</p>';
  }
  let timer;
  $('search').addEventListener('input', (e) => { clearTimeout(timer); timer = setTimeout(() => search(e.target.value), 120); });
  results.addEventListener('click', (e) => {
    const tr = e.target.closest('tr[data-table]');
    if (tr && Number(tr.dataset.table) >= 0) pick(Number(tr.dataset.table));
  });
  search('');

  // lineage: adjacency once, neighbourhoods on demand
  const up = new Map(), down = new Map();
  for (const [a, b] of data.edges) {
    (down.get(a) || down.set(a, []).get(a)).push(b);
    (up.get(b) || up.set(b, []).get(b)).push(a);
  }
  const DEPTH = 2, MAX_NODES = 120;
  function around(start) {
    const role = new Map([[start, 'picked']]);
    const edges = [];
    for (const [adj, name] of [[up, 'up'], [down, 'down']]) {
      let frontier = [start];
      for (let d = 0; d < DEPTH && frontier.length && role.size < MAX_NODES; d++) {
        const next = [];
        for (const n of frontier) for (const m of adj.get(n) || []) {
          edges.push(name === 'up' ? [m, n] : [n, m]);
          if (!role.has(m) && role.size < MAX_NODES) { role.set(m, name); next.push(m); }
        }
        frontier = next;
      }
    }
    return { role, edges: edges.filter(([a, b]) => role.has(a) && role.has(b)) };
  }
  function draw(container, nodes, edges, onPick) {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 50, marginx: 8, marginy: 8 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const [id, n] of nodes) g.setNode(String(id), { label: n.label, width: Math.min(260, 16 + n.label.length * 7), height: 26, cls: n.cls, pick: n.pick });
    for (const [a, b] of edges) g.setEdge(String(a), String(b));
    dagre.layout(g);
    const gr = g.graph();
    let svg = '<svg xmlns="http://www.w3.org/2000/svg" width="' + Math.ceil(gr.width) + '" height="' + Math.ceil(gr.height) + '" role="img">';
    for (const e of g.edges()) {
      const pts = g.edge(e).points;
      svg += '<path class="edge" marker-end="url(#arrow)" d="M' + pts.map((p) => p.x.toFixed(1) + ' ' + p.y.toFixed(1)).join(' L') + '"/>';
    }
    svg += '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0 0L10 5L0 10z" fill="#8a94a6"/></marker></defs>';
    for (const id of g.nodes()) {
      const n = g.node(id);
      const text = n.label.length > 36 ? n.label.slice(0, 35) + '…' : n.label;
      svg += '<g class="node ' + n.cls + '" data-node="' + esc(id) + '"' + (n.pick !== undefined ? ' data-table="' + n.pick + '"' : '') + ' transform="translate(' + (n.x - n.width / 2).toFixed(1) + ',' + (n.y - n.height / 2).toFixed(1) + ')"><title>' + esc(n.label) + '</title><rect rx="4" width="' + n.width + '" height="' + n.height + '"/><text x="8" y="17">' + esc(text) + '</text></g>';
    }
    container.innerHTML = svg + '</svg>';
    container.onclick = (e) => { const el = e.target.closest('[data-table]'); if (el && onPick) onPick(Number(el.dataset.table)); };
  }
  function pick(t) {
    const { role, edges } = around(t);
    $('lineage-hint').textContent = 'Around ' + label(t) + ': ' + [...role.values()].filter((r) => r === 'up').length + ' upstream, ' + [...role.values()].filter((r) => r === 'down').length + ' downstream (two steps each way; click a node to move there).';
    const nodes = [...role].map(([n, r]) => [n, { label: n < T ? where(data.tables[n]) + '.' + label(n) : label(n), cls: r + (n >= T ? ' external' : ''), pick: n < T ? n : undefined }]);
    draw($('graph'), nodes, edges, pick);
    // column level: the edges into and out of this table's columns
    const ce = data.columnEdges.filter((e) => e[2] === t || e[3] === t);
    const cg = $('column-graph');
    if (ce.length === 0) { cg.innerHTML = ''; return; }
    const colLabel = (ref) => typeof ref === 'number' ? (data.columns[ref][0] >= 0 ? label(data.columns[ref][0]) : '?') + '.' + data.columns[ref][1] : ref;
    const cnodes = new Map();
    const cedges = [];
    for (const [a, b, na, nb] of ce.slice(0, 300)) {
      const ka = 'c' + a, kb = 'c' + b;
      if (!cnodes.has(ka)) cnodes.set(ka, { label: colLabel(a), cls: na === t ? 'picked' : 'up' });
      if (!cnodes.has(kb)) cnodes.set(kb, { label: colLabel(b), cls: nb === t ? 'picked' : 'down' });
      cedges.push([ka, kb]);
    }
    draw(cg, [...cnodes], cedges, null);
    cg.insertAdjacentHTML('afterbegin', '<h3>Column-level (' + ce.length + ' edge' + (ce.length === 1 ? '' : 's') + ')</h3>');
  }
  window.secodaReport = { pick, search };
})();
`
