// SPDX-License-Identifier: Apache-2.0
// The inspector page: reads the token from ?token= once (then keeps it in sessionStorage and
// drops it from the address bar), loads the stats history, follows /api/events (Server-Sent
// Events; polling /api/stats when the stream fails), polls the log, shows the scene tree and
// drives the pause switch. Graphs are drawn on <canvas> by hand: no library, no network but
// this server. Every text from the server is inserted with textContent, never as HTML.
'use strict';

(function () {
  const TOKEN_KEY = 'openrr-inspector-token';
  const MAX_SAMPLES = 1200; // 5 minutes at 250 ms
  const STAGE_COLORS = {
    pose_to_present: '#d8dde6', uplink: '#4fa3ff', render: '#7ee08a', encode: '#e8b04a',
    transport: '#c586ff', decode: '#ff8f6b', present: '#5fd4d0',
  };

  // ---- token ----------------------------------------------------------------------------
  const params = new URLSearchParams(location.search);
  // ?poll=1: poll /api/stats instead of the event stream (proxies that buffer event streams;
  // headless browsers, whose virtual time stands still while a stream is open).
  const forcePoll = params.get('poll') === '1';
  let token = params.get('token');
  if (token) {
    try { sessionStorage.setItem(TOKEN_KEY, token); } catch (e) { /* private mode */ }
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? '?' + rest : '') + location.hash);
  } else {
    try { token = sessionStorage.getItem(TOKEN_KEY); } catch (e) { token = null; }
  }

  const $ = (id) => document.getElementById(id);

  function showError(text) {
    const el = $('error');
    el.textContent = text;
    el.hidden = !text;
  }

  async function api(path, options) {
    const opts = Object.assign({ cache: 'no-store' }, options || {});
    opts.headers = Object.assign({ Authorization: 'Bearer ' + (token || '') }, opts.headers || {});
    const r = await fetch(path, opts);
    if (r.status === 401) {
      setConn('bad', 'unauthorized');
      showError('The inspector refused the token: open the page with ?token=<token>.');
      throw new Error('unauthorized');
    }
    if (!r.ok) throw new Error(path + ': HTTP ' + r.status);
    return r;
  }

  function setConn(cls, text) {
    const el = $('conn');
    el.className = 'pill ' + cls;
    el.textContent = text;
  }

  // ---- samples ----------------------------------------------------------------------------
  const samples = []; // {t, frame_time_ms, fps, stage_ms{}, bitrate_kbps, primitives, ...}
  let stageNames = Object.keys(STAGE_COLORS);

  function addSample(s) {
    if (samples.length && s.t <= samples[samples.length - 1].t) return false;
    samples.push(s);
    if (samples.length > MAX_SAMPLES) samples.splice(0, samples.length - MAX_SAMPLES);
    return true;
  }

  function fromHistory(h) {
    const out = [];
    for (let i = 0; i < h.t.length; i++) {
      const stage = {};
      for (const name of Object.keys(h.stage_ms)) stage[name] = h.stage_ms[name][i];
      out.push({
        t: h.t[i], frame_time_ms: h.frame_time_ms[i], fps: h.fps[i], stage_ms: stage,
        bitrate_kbps: h.bitrate_kbps[i], primitives: h.primitives[i], draws: h.draws[i],
        cpu_percent: h.cpu_percent[i], resident_bytes: h.resident_bytes[i],
      });
    }
    return out;
  }

  // ---- graphs -----------------------------------------------------------------------------
  const fmt = (v, digits) => (v === null || v === undefined || !isFinite(v) ? '–' : v.toFixed(digits));
  const GRAPHS = [
    { id: 'g-frame', value: 'v-frame', series: [{ get: (s) => s.frame_time_ms, color: '#4fa3ff' }],
      text: (s) => fmt(s.frame_time_ms, 1) + ' ms', unit: 'ms' },
    { id: 'g-fps', value: 'v-fps', series: [{ get: (s) => s.fps, color: '#7ee08a' }],
      text: (s) => fmt(s.fps, 1), unit: 'fps' },
    { id: 'g-latency', value: 'v-latency', series: [], unit: 'ms',
      text: (s) => 'pose→present ' + fmt(s.stage_ms.pose_to_present, 1) + ' ms' },
    { id: 'g-bitrate', value: 'v-bitrate',
      series: [{ get: (s) => (s.bitrate_kbps === null ? null : s.bitrate_kbps / 1000), color: '#c586ff' }],
      text: (s) => fmt(s.bitrate_kbps / 1000, 1) + ' Mbit/s', unit: 'Mbit/s' },
    { id: 'g-primitives', value: 'v-primitives',
      series: [{ get: (s) => s.primitives / 1e6, color: '#e8b04a' }],
      text: (s) => fmt(s.primitives / 1e6, 2) + ' M, ' + s.draws + ' draws', unit: 'M' },
    { id: 'g-cpu', value: 'v-cpu', series: [{ get: (s) => s.cpu_percent, color: '#ff8f6b' }],
      text: (s) => fmt(s.cpu_percent, 0) + ' %', unit: '%' },
    { id: 'g-memory', value: 'v-memory',
      series: [{ get: (s) => s.resident_bytes / 1048576, color: '#5fd4d0' }],
      text: (s) => fmt(s.resident_bytes / 1048576, 0) + ' MiB', unit: 'MiB' },
  ];

  function setupLatency() {
    const g = GRAPHS[2];
    g.series = stageNames.map((name) => ({
      get: (s) => (s.stage_ms ? s.stage_ms[name] : null), color: STAGE_COLORS[name] || '#888', name,
    }));
    const legend = $('latency-legend');
    legend.textContent = '';
    for (const se of g.series) {
      const item = document.createElement('span');
      const swatch = document.createElement('i');
      swatch.style.background = se.color; // CSSOM, allowed by the page's CSP
      item.appendChild(swatch);
      item.appendChild(document.createTextNode(se.name.replace(/_/g, ' ')));
      legend.appendChild(item);
    }
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
    return 10 * p;
  }

  function drawGraph(g) {
    const fig = $(g.id);
    const canvas = fig.querySelector('canvas');
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; }
    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, w, h);
    fig.dataset.samples = String(samples.length);
    if (!samples.length) return;
    $(g.value).textContent = g.text(samples[samples.length - 1]);

    let max = 0;
    for (const s of samples) for (const se of g.series) {
      const v = se.get(s);
      if (v !== null && v !== undefined && isFinite(v) && v > max) max = v;
    }
    max = niceMax(max * 1.05);
    const t1 = samples[samples.length - 1].t;
    const t0 = Math.min(samples[0].t, t1 - 30000); // at least 30 s across
    const left = 40 * dpr, bottom = h - 14 * dpr, top = 4 * dpr, right = w - 2 * dpr;
    const x = (t) => left + ((t - t0) / (t1 - t0 || 1)) * (right - left);
    const y = (v) => bottom - (v / max) * (bottom - top);

    ctx.font = 10 * dpr + 'px sans-serif';
    ctx.fillStyle = '#8a93a3';
    ctx.strokeStyle = '#2c323d';
    ctx.lineWidth = 1;
    for (const f of [0, 0.5, 1]) {
      const yy = Math.round(y(max * f)) + 0.5;
      ctx.beginPath(); ctx.moveTo(left, yy); ctx.lineTo(right, yy); ctx.stroke();
      const label = max * f >= 100 ? (max * f).toFixed(0) : +(max * f).toPrecision(3);
      ctx.fillText(String(label), 2 * dpr, yy + 3 * dpr);
    }
    const span = Math.round((t1 - t0) / 1000);
    ctx.fillText('−' + (span >= 60 ? Math.floor(span / 60) + ':' + String(span % 60).padStart(2, '0') : span + ' s'),
                 left, h - 2 * dpr);
    ctx.fillText('now', right - 20 * dpr, h - 2 * dpr);

    ctx.lineWidth = 1.5 * dpr;
    for (const se of g.series) {
      ctx.strokeStyle = se.color;
      ctx.beginPath();
      let pen = false;
      for (const s of samples) {
        const v = se.get(s);
        if (v === null || v === undefined || !isFinite(v)) { pen = false; continue; }
        if (pen) ctx.lineTo(x(s.t), y(v)); else ctx.moveTo(x(s.t), y(v));
        pen = true;
      }
      ctx.stroke();
    }
  }

  let drawPending = false;
  function redraw() {
    // data-samples is set at once (a test reads it); the drawing waits for the next frame.
    for (const g of GRAPHS) $(g.id).dataset.samples = String(samples.length);
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; GRAPHS.forEach(drawGraph); });
  }
  window.addEventListener('resize', redraw);

  // ---- status line and pause switch -----------------------------------------------------
  let pauseTouched = 0;
  function showStatus(s) {
    const client = $('client');
    client.className = 'pill ' + (s.client_connected ? 'ok' : '');
    client.textContent = s.client_connected ? 'client ' + (s.client || 'connected') : 'no client';
    $('codec').textContent = 'codec ' + (s.codec || '–');
    if (Date.now() - pauseTouched > 1500) $('pause').checked = !!s.paused;
  }

  $('pause').addEventListener('change', async (ev) => {
    const want = ev.target.checked;
    pauseTouched = Date.now();
    try {
      await api('/api/pause', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ paused: want }),
      });
    } catch (e) {
      ev.target.checked = !want;
      showError('Pause failed: ' + e.message);
    }
  });

  // ---- live data: SSE, else polling ----------------------------------------------------
  function onSample(s) {
    if (addSample(s)) { showStatus(s); redraw(); }
  }

  async function loadStats() {
    const r = await api('/api/stats');
    const doc = await r.json();
    if (doc.stages && doc.stages.length) { stageNames = doc.stages; setupLatency(); }
    for (const s of fromHistory(doc.history)) addSample(s);
    if (doc.latest) { addSample(doc.latest); showStatus(doc.latest); }
    redraw();
  }

  let pollTimer = null;
  function startPolling() {
    if (pollTimer) return;
    setConn('', 'polling');
    pollTimer = setInterval(() => loadStats().catch(() => setConn('bad', 'disconnected')), 1000);
  }

  function startEvents() {
    if (forcePoll || !window.EventSource) { startPolling(); return; }
    let errors = 0;
    const es = new EventSource('/api/events?token=' + encodeURIComponent(token || ''));
    es.addEventListener('open', () => { errors = 0; setConn('ok', 'live'); });
    es.addEventListener('stats', (ev) => {
      try { onSample(JSON.parse(ev.data)); } catch (e) { /* a broken event: skip it */ }
    });
    es.addEventListener('error', () => {
      errors++;
      if (es.readyState === EventSource.CLOSED || errors >= 3) { es.close(); startPolling(); }
      else setConn('bad', 'reconnecting');
    });
  }

  // ---- log ------------------------------------------------------------------------------------
  function two(n, w) { return String(n).padStart(w || 2, '0'); }
  function clock(t) {
    const d = new Date(t);
    return two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds()) + '.' + two(d.getMilliseconds(), 3);
  }

  async function loadLog() {
    const level = $('log-level').value;
    const r = await api('/api/log?level=' + encodeURIComponent(level));
    const doc = await r.json();
    const box = $('log');
    const atBottom = box.scrollTop + box.clientHeight >= box.scrollHeight - 4;
    box.textContent = '';
    for (const l of doc.lines) {
      const row = document.createElement('div');
      row.className = 'log-line';
      const t = document.createElement('span');
      t.className = 't';
      t.textContent = clock(l.t) + ' ';
      const lv = document.createElement('span');
      lv.className = 'lv lv-' + l.level;
      lv.textContent = l.level;
      row.appendChild(t);
      row.appendChild(lv);
      row.appendChild(document.createTextNode(' [' + l.module + '] ' + l.message));
      box.appendChild(row);
    }
    box.dataset.lines = String(doc.lines.length);
    $('log-count').textContent = '(' + doc.lines.length + ' lines, ' + level + ' and above)';
    if (atBottom) box.scrollTop = box.scrollHeight;
  }
  $('log-level').addEventListener('change', () => loadLog().catch(() => {}));

  // ---- scene tree -------------------------------------------------------------------------
  function nodeLabel(node, count) {
    const frag = document.createDocumentFragment();
    const name = document.createElement('b');
    name.textContent = node.name !== undefined ? String(node.name) : '(node)';
    frag.appendChild(name);
    if (node.id !== undefined) frag.appendChild(document.createTextNode(' #' + node.id));
    if (node.type !== undefined) {
      const type = document.createElement('span');
      type.className = 'type';
      type.textContent = ' ' + node.type;
      frag.appendChild(type);
    }
    const props = [];
    for (const [k, v] of Object.entries(node)) {
      if (['name', 'id', 'type', 'children'].includes(k)) continue;
      props.push(k + '=' + (typeof v === 'object' ? JSON.stringify(v) : String(v)));
    }
    if (props.length) {
      const p = document.createElement('span');
      p.className = 'props';
      p.textContent = '  ' + props.join('  ');
      frag.appendChild(p);
    }
    count.n++;
    return frag;
  }

  function buildTree(node, depth, count) {
    if (node === null || typeof node !== 'object' || Array.isArray(node)) {
      const leaf = document.createElement('div');
      leaf.className = 'leaf';
      leaf.textContent = JSON.stringify(node);
      return leaf;
    }
    const kids = Array.isArray(node.children) ? node.children : [];
    if (!kids.length) {
      const leaf = document.createElement('div');
      leaf.className = 'leaf node';
      leaf.appendChild(nodeLabel(node, count));
      return leaf;
    }
    const det = document.createElement('details');
    det.className = 'node';
    det.open = depth < 2;
    const sum = document.createElement('summary');
    sum.appendChild(nodeLabel(node, count));
    det.appendChild(sum);
    if (depth < 64) for (const k of kids) det.appendChild(buildTree(k, depth + 1, count));
    return det;
  }

  async function loadScene() {
    const r = await api('/api/scene');
    const doc = await r.json();
    const box = $('scene');
    box.textContent = '';
    const count = { n: 0 };
    if (doc.scene === null || doc.scene === undefined) box.textContent = 'No scene.';
    else box.appendChild(buildTree(doc.scene, 0, count));
    box.dataset.nodes = String(count.n);
  }
  $('scene-refresh').addEventListener('click', () => loadScene().catch(() => {}));

  // ---- timing capture -------------------------------------------------------------------------
  $('trace').addEventListener('click', async (ev) => {
    ev.preventDefault();
    try {
      const blob = await (await api('/api/trace')).blob();
      const url = URL.createObjectURL(blob);
      const a = document.createElement('a');
      a.href = url;
      a.download = 'openrr-trace.json';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      showError('Timing capture failed: ' + e.message);
    }
  });

  // ---- start ------------------------------------------------------------------------------------
  setupLatency();
  if (!token) {
    setConn('bad', 'no token');
    showError('No token: open the page with ?token=<token>.');
    return;
  }
  loadStats().then(startEvents, (e) => { if (e.message !== 'unauthorized') startPolling(); });
  loadLog().catch(() => {});
  setInterval(() => loadLog().catch(() => {}), 2000);
  loadScene().catch(() => {});
})();
