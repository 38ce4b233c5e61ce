/**
 * Renders report data as one self-contained HTML page (no external file, font or script): first a table of
 * contents and a summary across the paintings — agreement of each method with the expert regions (mean over
 * every region × prompt, ± the spread across paintings), per dimension, and the paintings where each method
 * agrees least — then per painting a large overlay with the expert regions drawn over it and its colour bar
 * (numbers and the method's unit), a method × prompt grid of small multiples (click one to show it large;
 * plain links and buttons, so the keyboard works), the zero-shot probe answers as bars, and a metrics table per
 * region × method × prompt. The page works without JavaScript (everything is visible); a few lines of inline
 * script add the click-to-enlarge, the overlay toggle and the regions toggle.
 *
 * @example
 * await writeFile('report/index.html', renderReportHtml(data));
 */
import { colorbarHtml, methodInfo } from './legend.ts';
import type { ReportData, ReportPainting } from './report-data.ts';
import {
  type AgreementMetric,
  type AgreementRow,
  disagreements,
  METRIC_INFO,
  type MethodSummary,
  summarizeAgreement,
} from './summary.ts';

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(s: unknown): string {
  return String(s).replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

const fmt = (v: number, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '–');

const CSS = `
:root { color-scheme: light; --fg: #1a1a1a; --muted: #555; --line: #d6d6d6; --accent: #0b5cad; --bg: #fafaf8; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header.top { padding: 16px 24px; border-bottom: 1px solid var(--line); background: #fff; }
header.top h1 { margin: 0 0 4px; font-size: 22px; }
header.top p { margin: 2px 0; color: var(--muted); }
nav.toc { padding: 8px 24px; display: flex; flex-wrap: wrap; gap: 6px 14px; border-bottom: 1px solid var(--line); background: #fff; }
nav.toc a { color: var(--accent); }
main { padding: 8px 24px 40px; max-width: 1400px; }
section.painting { border-bottom: 1px solid var(--line); padding: 18px 0 24px; }
section.painting h2 { margin: 0; font-size: 19px; }
.meta { color: var(--muted); margin: 2px 0 10px; }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 2fr); gap: 20px; align-items: start; }
@media (max-width: 1000px) { .layout { grid-template-columns: 1fr; } }
.stage { position: relative; width: 100%; background: #222; }
.stage img { display: block; width: 100%; height: auto; }
.stage svg { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; }
.stage svg .region { fill: none; stroke: #00e5ff; stroke-width: 3; vector-effect: non-scaling-stroke; }
.stage svg .region-halo { fill: none; stroke: #000; stroke-width: 5; vector-effect: non-scaling-stroke; opacity: .6; }
.stage svg .region *, .stage svg .region-halo * { vector-effect: non-scaling-stroke; }
.stage.no-regions svg { display: none; }
figcaption { margin-top: 6px; color: var(--muted); }
.controls { display: flex; gap: 8px; margin: 8px 0; flex-wrap: wrap; }
button { font: inherit; border: 1px solid #888; background: #fff; color: var(--fg); border-radius: 4px; padding: 3px 10px; cursor: pointer; }
button:focus-visible, a:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
button[aria-pressed="true"] { background: var(--accent); color: #fff; border-color: var(--accent); }
.colorbar { width: 300px; max-width: 100%; font-size: 12px; color: var(--muted); }
.colorbar .cb-bar { height: 10px; border: 1px solid #999; }
.colorbar .cb-ticks { position: relative; height: 15px; margin: 0 2px; font-variant-numeric: tabular-nums; }
.colorbar .cb-ticks .tick { position: absolute; top: 1px; transform: translateX(-50%); white-space: nowrap; }
section.summary { border-bottom: 1px solid var(--line); padding: 14px 0 18px; }
section.summary h2 { margin: 0 0 6px; font-size: 19px; }
section.summary table { width: auto; margin: 4px 0 12px; }
section.summary td.n small { color: var(--muted); }
section.summary ol { margin: 4px 0; padding-left: 20px; font-size: 13px; }
.worst { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 6px 20px; }
.grid { display: grid; gap: 6px; margin: 14px 0; align-items: center; }
.grid .head { font-weight: 600; font-size: 13px; overflow-wrap: anywhere; }
.grid button.cell { padding: 0; border: 2px solid transparent; background: none; position: relative; }
.grid button.cell[aria-pressed="true"] { border-color: var(--accent); }
.grid button.cell img { display: block; width: 100%; height: auto; }
.grid button.cell span { position: absolute; left: 0; bottom: 0; background: rgba(0,0,0,.72); color: #fff; font-size: 12px; padding: 1px 5px; }
.probes h3, .metrics h3 { font-size: 15px; margin: 10px 0 6px; }
.probe { margin-bottom: 10px; }
.probe .dim { font-weight: 600; text-transform: capitalize; }
.probe .row { display: grid; grid-template-columns: minmax(0, 11em) 1fr 3.5em; gap: 6px; align-items: center; font-size: 13px; }
.probe .row .b { background: #e4e4e4; height: 10px; }
.probe .row .b i { display: block; height: 100%; background: var(--accent); }
.probe .row .p { text-align: right; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.notes { color: var(--muted); font-size: 13px; }
`;

const SCRIPT = `
document.addEventListener('click', (ev) => {
  const cell = ev.target.closest('button.cell');
  if (cell) {
    const sec = cell.closest('section');
    const img = sec.querySelector('.stage img');
    img.src = cell.querySelector('img').src;
    img.dataset.overlay = img.src;
    img.alt = cell.dataset.caption;
    sec.querySelector('figcaption .what').textContent = cell.dataset.caption;
    sec.querySelectorAll('button.cell').forEach((b) => b.setAttribute('aria-pressed', String(b === cell)));
    sec.querySelector('button.toggle-overlay').setAttribute('aria-pressed', 'true');
    sec.querySelectorAll('.cb').forEach((c) => { c.hidden = c.dataset.k !== cell.dataset.k; });
    return;
  }
  const t = ev.target.closest('button.toggle-overlay, button.toggle-regions');
  if (!t) return;
  const sec = t.closest('section');
  const on = t.getAttribute('aria-pressed') !== 'true';
  t.setAttribute('aria-pressed', String(on));
  if (t.classList.contains('toggle-regions')) sec.querySelector('.stage').classList.toggle('no-regions', !on);
  else {
    const img = sec.querySelector('.stage img');
    img.dataset.overlay ??= img.src;
    img.src = on ? img.dataset.overlay : sec.querySelector('.stage').dataset.plain;
  }
});
`;

function renderProbes(p: ReportPainting): string {
  if (p.probes.length === 0) return '';
  const dims = p.probes
    .map(
      (d) =>
        `<div class="probe"><div class="dim">${escapeHtml(d.dimension)}</div>${d.top
          .slice(0, 4)
          .map(
            (t) =>
              `<div class="row"><span>${escapeHtml(t.label)}</span><span class="b" role="img" aria-label="${fmt(100 * t.p, 0)} percent"><i style="width:${(100 * t.p).toFixed(1)}%"></i></span><span class="p">${fmt(100 * t.p, 1)}%</span></div>`,
          )
          .join('')}</div>`,
    )
    .join('');
  return `<div class="probes"><h3>What CLIP answers (zero-shot)</h3>${dims}</div>`;
}

function renderMetrics(p: ReportPainting): string {
  if (p.metrics.length === 0)
    return p.regions.length ? '' : '<p class="notes">No expert regions for this painting.</p>';
  const rows = p.metrics
    .map(
      (m) =>
        `<tr><td>${escapeHtml(m.region)}</td><td>${escapeHtml(m.dimension)}</td><td>${escapeHtml(m.method)}</td><td>${escapeHtml(m.prompt)}</td><td class="n">${fmt(m.pointing, 0)}</td><td class="n">${fmt(m.energy)}</td><td class="n">${fmt(m.auroc)}</td><td class="n">${fmt(m.iouTopK)}</td></tr>`,
    )
    .join('');
  return `<div class="metrics"><h3>Agreement with expert regions</h3><table><thead><tr><th scope="col">region</th><th scope="col">dimension</th><th scope="col">method</th><th scope="col">prompt</th><th scope="col">pointing</th><th scope="col">energy</th><th scope="col">AUROC</th><th scope="col">IoU@k</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function renderPainting(p: ReportPainting, i: number, data: ReportData): string {
  const first = p.overlays[0];
  const caption = (o: ReportPainting['overlays'][number]) =>
    `${o.method} · “${o.prompt}” · score ${fmt(o.score)}`;
  const regions = p.regions
    .map(
      (r) =>
        `<g data-region="${escapeHtml(r.id)}"><title>${escapeHtml(r.label)}</title><g class="region-halo">${r.svg}</g><g class="region">${r.svg}</g></g>`,
    )
    .join('');
  const cols = data.prompts.length;
  const grid = [
    `<div class="head"></div>`,
    ...data.prompts.map((pr) => `<div class="head">“${escapeHtml(pr)}”</div>`),
    ...data.methods.flatMap((m) => [
      `<div class="head">${escapeHtml(m)}</div>`,
      ...data.prompts.map((pr) => {
        const o = p.overlays.find((x) => x.method === m && x.prompt === pr);
        if (!o) return '<div></div>';
        return `<button class="cell" type="button" aria-pressed="${o === first}" data-k="${p.overlays.indexOf(o)}" data-caption="${escapeHtml(caption(o))}"><img src="${o.src}" alt="${escapeHtml(`${m} map for “${pr}”`)}" loading="lazy"><span>${fmt(o.score)}</span></button>`;
      }),
    ]),
  ].join('');
  const meta = Object.entries(p.meta)
    .map(([k, v]) => `<span title="${escapeHtml(k)}">${escapeHtml(v)}</span>`)
    .join(' · ');
  return `<section class="painting" id="p${i}" data-file="${escapeHtml(p.file)}">
<h2>${escapeHtml(p.title)}</h2><p class="meta">${meta || escapeHtml(p.file)}</p>
<div class="layout"><div>
<figure style="margin:0"><div class="stage" data-plain="${p.image}"><img src="${first?.src ?? p.image}" alt="${escapeHtml(first ? caption(first) : p.title)}"><svg viewBox="0 0 ${p.width} ${p.height}" preserveAspectRatio="none" aria-hidden="true">${regions}</svg></div>
<figcaption><span class="what">${escapeHtml(first ? caption(first) : '')}</span></figcaption></figure>
<div class="controls"><button type="button" class="toggle-overlay" aria-pressed="true">Heatmap</button>${p.regions.length ? '<button type="button" class="toggle-regions" aria-pressed="true">Expert regions</button>' : ''}
</div>
${p.overlays.map((o, k) => `<div class="cb" data-k="${k}"${o === first ? '' : ' hidden'}>${colorbarHtml({ lo: o.min, hi: o.max, signed: o.signed, unit: `${o.method}: ${methodInfo(o.method).unit}` })}</div>`).join('')}
<div class="grid" style="grid-template-columns: 8em repeat(${cols}, minmax(0, 1fr))">${grid}</div>
</div><div>${renderProbes(p)}</div></div>
${renderMetrics(p)}
</section>`;
}

/**
 * The whole report page.
 *
 * @example
 * const html = renderReportHtml(await collectReportData(clip, opts));
 */
export function renderReportHtml(data: ReportData): string {
  const toc = [
    '<a href="#summary">Summary</a>',
    ...data.paintings.map(
      (p, i) =>
        `<a href="#p${i}">${escapeHtml(p.title.length > 40 ? `${p.title.slice(0, 38)}…` : p.title)}</a>`,
    ),
    ...(data.notes.length ? ['<a href="#notes">Notes</a>'] : []),
  ].join('');
  const notes = data.notes.length
    ? `<details class="notes" id="notes"><summary>${data.notes.length} note(s)</summary><ul>${data.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul></details>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title><meta name="generator" content="artprobe">
<style>${CSS}</style></head>
<body>
<header class="top"><h1>${escapeHtml(data.title)}</h1>
<p>Model <b>${escapeHtml(data.model || 'unknown')}</b> · view ${escapeHtml(data.view)} · methods ${data.methods.map(escapeHtml).join(', ')} · prompts ${data.prompts.map((p) => `“${escapeHtml(p)}”`).join(', ')}</p>
<p>Generated ${escapeHtml(data.generated)}. Heatmaps: inferno for unsigned maps, red–blue for signed ones (red = positive evidence); each map's colour bar gives its range in the method's unit, and weak values are left transparent. Cyan outlines: expert regions.</p>${notes}</header>
<nav class="toc" aria-label="Contents">${toc}</nav>
<main>${renderSummary(data)}
${data.paintings.map((p, i) => renderPainting(p, i, data)).join('\n')}</main>
<script>${SCRIPT}</script>
</body></html>
`;
}

/** The report's metric rows as summary rows. */
function agreementRows(data: ReportData): AgreementRow[] {
  return data.paintings.flatMap((p) =>
    p.metrics.map((m) => ({
      painting: p.file,
      title: p.title,
      method: m.method,
      target: m.prompt,
      regionId: m.regionId,
      region: m.region,
      dimension: m.dimension,
      pointing: m.pointing,
      energy: m.energy,
      auroc: m.auroc,
      iouTopK: m.iouTopK,
      deletion: m.deletion,
      insertion: m.insertion,
    })),
  );
}

/** The summary's metrics (deletion / insertion when the report computed them). */
const SUMMARY_METRICS: AgreementMetric[] = [
  'pointing',
  'energy',
  'auroc',
  'iouTopK',
  'deletion',
  'insertion',
];

function summaryTable(list: MethodSummary[], withDimension: boolean, shown: AgreementMetric[]): string {
  const head = `<tr><th scope="col">method</th>${withDimension ? '<th scope="col">dimension</th>' : ''}<th scope="col">rows</th><th scope="col">paintings</th>${shown.map((k) => `<th scope="col" title="${escapeHtml(METRIC_INFO[k].help)}">${escapeHtml(METRIC_INFO[k].name)}</th>`).join('')}</tr>`;
  const body = list
    .map(
      (s) =>
        `<tr data-method="${escapeHtml(s.method)}"${withDimension ? ` data-dimension="${escapeHtml(s.dimension ?? '')}"` : ''}><th scope="row">${escapeHtml(s.method)}</th>${withDimension ? `<td>${escapeHtml(s.dimension ?? '')}</td>` : ''}<td class="n">${s.n}</td><td class="n">${s.paintings}</td>${shown
          .map(
            (k) =>
              `<td class="n" data-metric="${k}" data-mean="${Number.isFinite(s.mean[k]) ? s.mean[k] : ''}">${fmt(s.mean[k])}${Number.isFinite(s.spread[k].sd) ? ` <small>± ${fmt(s.spread[k].sd)}</small>` : ''}</td>`,
          )
          .join('')}</tr>`,
    )
    .join('');
  return `<table><thead>${head}</thead><tbody>${body}</tbody></table>`;
}

/** The summary across paintings (first section of the report). */
function renderSummary(data: ReportData): string {
  const rows = agreementRows(data);
  const intro = `<p class="notes">${data.paintings.length} painting(s), ${data.methods.length} method(s), ${data.prompts.length} prompt(s).</p>`;
  if (!rows.length)
    return `<section class="summary" id="summary"><h2>Summary</h2>${intro}<p class="notes">No expert regions matched these paintings, so there is no agreement to summarise.</p></section>`;
  const s = summarizeAgreement(rows);
  const shown = SUMMARY_METRICS.filter((k) => s.metrics.includes(k));
  const index = new Map(data.paintings.map((p, i) => [p.file, i]));
  const worst = s.byMethod
    .map((m) => {
      const list = disagreements(rows, m.method, 'auroc').slice(0, 5);
      return `<div><b>${escapeHtml(m.method)}</b><ol>${list
        .map(
          (d) =>
            `<li><a href="#p${index.get(d.painting) ?? 0}">${escapeHtml(d.title ?? d.painting)}</a> · AUROC ${fmt(d.value)}</li>`,
        )
        .join('')}</ol></div>`;
    })
    .join('');
  return `<section class="summary" id="summary"><h2>Summary: agreement with the expert regions</h2>${intro}
<p class="notes">Mean over every region × prompt of the method (as <code>artprobe regions score</code>), ± the standard deviation across paintings (each painting's mean first).${shown.includes('deletion') ? " Deletion / insertion: faithfulness of each map to the model (area under the prompt's logit as the map's strongest pixels are removed from, or put back into a blurred copy of, the model's input; lower deletion and higher insertion are more faithful), one value per map, repeated on its regions." : ''}</p>
${summaryTable(s.byMethod, false, shown)}
<h3>Per dimension</h3>${summaryTable(s.byMethodDimension, true, shown)}
<h3>Least agreement (AUROC, lowest first)</h3><div class="worst">${worst}</div></section>`;
}
