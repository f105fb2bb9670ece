"""The layer graph for a projector: zoom and pan (mouse, keyboard, buttons), search, colour by a measure.

Graphviz's SVG (ui.graphs.to_svg) is drawn inside st.iframe with a small self-written script
(below, no CDN: nothing is fetched at run time). st.graphviz_chart only scales the whole drawing to the
column, which is how VGG-16's graph became 11 px text on a 4,650 px page; here "fit" never lets the
smallest label fall below MIN_TEXT_PX on screen (the graph scrolls or pans instead), and zooming out stops
at the same limit.

Colouring: each node's measure (parameters, multiply-adds, output size) is summed over the analysis rows
folded into it (explorer.graph.layout) and mapped to a log colour scale with a legend, as Google's Model
Explorer does.
"""

from __future__ import annotations

import json
import math
import re

import streamlit as st

from explorer.graph import layout, max_depth, node_count

MIN_TEXT_PX = 14  # the smallest graph label on screen, at any zoom
FIT_NODES = 14  # presenter mode's default depth: the deepest view with at most this many nodes
MEASURES = {"params": "parameters", "mult_adds": "multiply-adds", "output": "output size (values)"}


def fitting_depth(analysis, fold: bool = True, budget: int = FIT_NODES) -> int:
    """The deepest view that draws at most `budget` nodes, so that the graph fits a 720p screen at 14 px."""
    best = 1
    for d in range(1, max_depth(analysis) + 1):
        if node_count(analysis, d, fold) <= budget:
            best = d
    return best


def node_measures(analysis, depth: int, fold: bool) -> dict[str, dict]:
    """node id -> {params, mult_adds, output}: the rows folded into each drawn node, summed."""
    out = {}
    for node in layout(analysis, depth, fold).nodes:
        if not node.rows:
            continue
        last = node.rows[-1].output_shape
        out[node.id] = {
            "params": sum(r.params for r in node.rows) * node.repeat,
            "mult_adds": sum(r.mult_adds for r in node.rows) * node.repeat,
            "output": math.prod(last) if last else 0,
        }
    return out


def _clean_svg(svg: bytes) -> str:
    """Graphviz's SVG without its XML prologue, sized in px (1 unit = 1 px at zoom 1)."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    return re.sub(r'(width|height)="([\d.]+)pt"', r'\1="\2"', text, count=2)


def show(svg: bytes, measures: dict, key: str, height: int = 520, measure: str = "none") -> None:
    """The zoomable graph. measure: 'none' or one of MEASURES, the colouring chosen at first."""
    data = json.dumps({"measures": measures, "names": MEASURES, "min_px": MIN_TEXT_PX, "measure": measure})
    data = data.replace("</", "<\\/")  # a script element ends at "</": JSON allows "\/" for "/"
    page = PAGE.replace("__SVG__", _clean_svg(svg)).replace("__DATA__", data)  # our own DOT's SVG, labels escaped
    st.iframe(page, height=height, alt="Layer graph: zoom, pan, find a layer, colour by a measure")


PAGE = """
<style>
 body{margin:0;font-family:Helvetica,Arial,sans-serif;font-size:15px;color:#111}
 #bar{display:flex;gap:6px;align-items:center;flex-wrap:wrap;margin-bottom:4px}
 #bar button{font-size:15px;min-width:34px;padding:2px 8px;border:1px solid #888;border-radius:5px;background:#fff}
 #bar input,#bar select{font-size:15px;padding:2px 4px}
 #view{position:relative;overflow:hidden;border:1px solid #ccc;border-radius:6px;cursor:grab;outline:none}
 #view:focus{border-color:#1c7ed6}
 #stage{transform-origin:0 0;position:absolute;left:0;top:0}
 #legend{font-size:14px;margin-top:4px;display:flex;gap:8px;align-items:center}
 #ramp{width:180px;height:12px;border:1px solid #999}
 .hit polygon,.hit path,.hit ellipse{stroke:#e03131 !important;stroke-width:4px !important}
 .dim{opacity:.25}
 @media (prefers-color-scheme: dark){body{color:#eee}}
</style>
<div id="bar">
 <button id="out" title="Zoom out (-)">−</button><button id="in" title="Zoom in (+)">+</button>
 <button id="fit" title="Fit to width, labels at least 14 px (0)">Fit</button>
 <button id="one" title="Actual size (1)">1:1</button>
 <input id="find" placeholder="find a layer…" size="14" aria-label="find a layer">
 <span id="found"></span>
 <select id="measure" aria-label="colour by"><option value="none">colour: kind</option></select>
 <span style="font-size:13px;color:#666">drag to pan · wheel or +/− to zoom · arrows pan</span>
</div>
<div id="view" tabindex="0"><div id="stage">__SVG__</div></div>
<div id="legend"></div>
<script id="data" type="application/json">__DATA__</script>
<script>
(function(){
 const data = JSON.parse(document.getElementById('data').textContent);
 const view = document.getElementById('view'), stage = document.getElementById('stage');
 const svg = stage.querySelector('svg');
 view.style.height = (window.innerHeight - 80) + 'px';
 const W = parseFloat(svg.getAttribute('width')), H = parseFloat(svg.getAttribute('height'));
 let minFont = Infinity;
 svg.querySelectorAll('text').forEach(t => { const f = parseFloat(t.getAttribute('font-size') || '14');
   if (f < minFont) minFont = f; });
 if (!isFinite(minFont)) minFont = 14;
 const floor = data.min_px / minFont;  // the smallest zoom at which every label is >= min_px on screen
 let s = 1, x = 0, y = 0;
 function apply(){ stage.style.transform = `translate(${x}px,${y}px) scale(${s})`; window.graphZoom = s;
   window.graphMinTextPx = minFont * s; }
 function zoomAt(f, cx, cy){ const n = Math.max(floor, Math.min(8, s * f)); x = cx - (cx - x) * n / s;
   y = cy - (cy - y) * n / s; s = n; apply(); }
 function fit(){ s = Math.max(floor, Math.min(view.clientWidth / W, view.clientHeight / H, 3));
   x = Math.max(0, (view.clientWidth - W * s) / 2); y = 0; apply(); }
 document.getElementById('in').onclick = () => zoomAt(1.25, view.clientWidth / 2, view.clientHeight / 2);
 document.getElementById('out').onclick = () => zoomAt(0.8, view.clientWidth / 2, view.clientHeight / 2);
 document.getElementById('fit').onclick = fit;
 document.getElementById('one').onclick = () => { s = Math.max(1, floor); apply(); };
 view.addEventListener('wheel', e => { e.preventDefault(); const r = view.getBoundingClientRect();
   zoomAt(e.deltaY < 0 ? 1.15 : 1 / 1.15, e.clientX - r.left, e.clientY - r.top); }, {passive: false});
 let drag = null;
 view.addEventListener('pointerdown', e => { drag = [e.clientX - x, e.clientY - y]; view.setPointerCapture(e.pointerId);
   view.style.cursor = 'grabbing'; });
 view.addEventListener('pointermove', e => {
   if (drag) { x = e.clientX - drag[0]; y = e.clientY - drag[1]; apply(); } });
 view.addEventListener('pointerup', () => { drag = null; view.style.cursor = 'grab'; });
 view.addEventListener('keydown', e => {
   const step = 60, c = [view.clientWidth / 2, view.clientHeight / 2];
   const k = e.key;
   if (k === '+' || k === '=') zoomAt(1.25, ...c); else if (k === '-') zoomAt(0.8, ...c);
   else if (k === '0') fit(); else if (k === '1') { s = Math.max(1, floor); apply(); }
   else if (k === 'ArrowUp') { y += step; apply(); } else if (k === 'ArrowDown') { y -= step; apply(); }
   else if (k === 'ArrowLeft') { x += step; apply(); } else if (k === 'ArrowRight') { x -= step; apply(); }
   else return;
   e.preventDefault(); e.stopPropagation(); });
 const nodes = [...svg.querySelectorAll('g.node')];
 const idOf = g => (g.querySelector('title') || {}).textContent || '';
 const find = document.getElementById('find'), found = document.getElementById('found');
 find.addEventListener('input', () => {
   const q = find.value.trim().toLowerCase(); let hits = [];
   nodes.forEach(g => { const hit = q && g.textContent.toLowerCase().includes(q);
     g.classList.toggle('hit', !!hit); g.classList.toggle('dim', !!q && !hit); if (hit) hits.push(g); });
   found.textContent = q ? `${hits.length} found` : '';
   if (hits.length) { const b = hits[0].getBBox(); x = view.clientWidth / 2 - (b.x + b.width / 2) * s;
     const m = svg.querySelector('g'); const t = m.transform.baseVal.consolidate();
     const oy = t ? t.matrix.f : 0, ox = t ? t.matrix.e : 0;
     x = view.clientWidth / 2 - (b.x + ox + b.width / 2) * s; y = view.clientHeight / 2 - (b.y + oy + b.height / 2) * s;
     apply(); }
 });
 const sel = document.getElementById('measure');
 Object.entries(data.names).forEach(([k, v]) => { const o = document.createElement('option'); o.value = k;
   o.textContent = 'colour: ' + v; sel.appendChild(o); });
 const original = new Map();
 nodes.forEach(g => g.querySelectorAll('polygon,path,ellipse').forEach(p => original.set(p, p.getAttribute('fill'))));
 const human = n => {
   for (const [v, u] of [[1e12,'T'],[1e9,'G'],[1e6,'M'],[1e3,'k']]) if (n >= v) return (n / v).toFixed(1) + ' ' + u;
   return String(n); };
 const ramp = t => `hsl(${210 - 210 * t},80%,${88 - 40 * t}%)`;  // pale blue (small) to deep red (large)
 function colour(m){
   const legend = document.getElementById('legend'); legend.innerHTML = '';
   original.forEach((f, p) => p.setAttribute('fill', f));
   if (m === 'none') return;
   const vals = nodes.map(g => (data.measures[idOf(g)] || {})[m]).filter(v => v > 0);
   if (!vals.length) { legend.textContent = 'No node has a ' + data.names[m] + ' above zero.'; return; }
   const lo = Math.log10(Math.min(...vals)), hi = Math.log10(Math.max(...vals));
   nodes.forEach(g => { const v = (data.measures[idOf(g)] || {})[m];
     const f = v > 0 ? ramp(hi > lo ? (Math.log10(v) - lo) / (hi - lo) : 1) : '#ffffff';
     g.querySelectorAll('polygon,path,ellipse').forEach(p => p.setAttribute('fill', f)); });
   legend.innerHTML = `<span>${data.names[m]}:</span><span>${human(Math.min(...vals))}</span>` +
     `<span id="ramp" style="background:linear-gradient(90deg,${ramp(0)},${ramp(.5)},${ramp(1)})"></span>` +
     `<span>${human(Math.max(...vals))}</span><span style="color:#666">(log scale; white: none)</span>`;
 }
 sel.onchange = () => colour(sel.value);
 if (data.measure !== 'none') { sel.value = data.measure; colour(data.measure); }
 fit();
})();
</script>
"""
