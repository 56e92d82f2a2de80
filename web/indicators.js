/*
 * The indicator view (/indicators?indicator=&town=&year=): one row per indicator, town and
 * period with target, estimate and outcome side by side (each figure links to its sentence in
 * the report), a chart of the chosen indicator (chart.js, served from this origin), and CSV /
 * Excel export. Data: GET /api/indicators. Text from the API is inserted as text only.
 */
import { documentHref, el, fillSelect, getJson, navigation } from './drafting-common.js';

const $ = (id) => document.getElementById(id);
const KINDS = [
  ['target', '目标'],
  ['estimate', '预计'],
  ['outcome', '实际'],
];
const COLOURS = { target: '#0b57d0', estimate: '#c79a00', outcome: '#116329' };
const FIELDS = ['indicator', 'town', 'year'];
let chart;

function figureLink(f) {
  return el('a', { href: documentHref(f.citation.docId, f.citation.passage, f.citation), target: '_blank', rel: 'noopener', textContent: f.text, title: f.citation.text });
}

/** Rows keyed by indicator, town, period; cells by kind. */
function pivot(figures) {
  const rows = new Map();
  for (const f of figures) {
    const key = `${f.indicator}|${f.town}|${f.period}`;
    if (!rows.has(key)) rows.set(key, { indicator: f.indicator, town: f.town, period: f.period, year: f.year, cells: { target: [], estimate: [], outcome: [] }, labels: new Set() });
    const row = rows.get(key);
    row.cells[f.kind].push(f);
    row.labels.add(f.label);
  }
  return [...rows.values()];
}

function renderTable(figures, indicators) {
  const rows = pivot(figures);
  const order = (r) => indicators.indexOf(r.indicator);
  rows.sort((a, b) => order(a) - order(b) || a.town.localeCompare(b.town, 'zh') || a.period.localeCompare(b.period));
  const groups = new Map();
  for (const r of rows) groups.set(r.indicator, [...(groups.get(r.indicator) ?? []), r]);
  const table = el(
    'table',
    { className: 'indicators' },
    el('caption', { className: 'sr', textContent: '各镇指标：目标、预计与实际' }),
    el('thead', {}, el('tr', {}, ...['镇（街道）', '时期', ...KINDS.map(([, l]) => l), '报告中的名称'].map((h) => el('th', { scope: 'col', textContent: h })))),
    ...[...groups].map(([indicator, list]) =>
      el(
        'tbody',
        {},
        el('tr', {}, el('th', { scope: 'rowgroup', colSpan: 6, textContent: indicator })),
        ...list.map((r) =>
          el(
            'tr',
            {},
            el('td', { textContent: r.town }),
            el('td', { textContent: r.period }),
            ...KINDS.map(([kind]) => {
              const cell = el('td', { className: `num ${kind}` });
              r.cells[kind].forEach((f, i) => cell.append(...(i ? [el('br')] : []), figureLink(f)));
              if (!r.cells[kind].length) cell.append(el('span', { className: 'muted', textContent: '—' }));
              return cell;
            }),
            el('td', { className: 'muted', textContent: [...r.labels].join('、') }),
          ),
        ),
      ),
    ),
  );
  $('table').replaceChildren(rows.length ? table : el('p', { className: 'muted', textContent: '没有符合条件的指标数字。' }));
}

/** A grouped bar chart of one indicator: x = town and period, one bar per kind (one unit only). */
function renderChart(figures, indicator) {
  const box = $('chart-box');
  const Chart = window.Chart;
  const chosen = figures.filter((f) => f.indicator === indicator);
  const unit = chosen[0]?.unit;
  const same = chosen.filter((f) => f.unit === unit);
  if (!Chart || !indicator || same.length === 0) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  const labels = [...new Set(same.map((f) => `${f.town} ${f.period}`))];
  const datasets = KINDS.map(([kind, label]) => ({
    label,
    backgroundColor: COLOURS[kind],
    data: labels.map((l) => same.find((f) => `${f.town} ${f.period}` === l && f.kind === kind)?.value ?? null),
  })).filter((d) => d.data.some((v) => v !== null));
  chart?.destroy();
  const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
  chart = new Chart($('chart'), {
    type: 'bar',
    data: { labels, datasets },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: reduce ? false : { duration: 300 },
      plugins: { title: { display: true, text: `${indicator}（${unit}）` }, legend: { position: 'bottom' } },
      scales: { y: { beginAtZero: true, title: { display: true, text: unit } } },
    },
  });
  $('chart').setAttribute('aria-label', `${indicator}（${unit}）：${same.map((f) => `${f.town}${f.period}${KINDS.find(([k]) => k === f.kind)[1]}${f.text}`).join('；')}`);
}

function paramsFromForm() {
  const data = new FormData($('filters'));
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const v = String(data.get(name) ?? '').trim();
    if (v) params.set(name, v);
  }
  return params;
}

let choicesLoaded = false;
async function load(params) {
  const query = params.toString();
  $('csv').href = `/api/indicators?${query ? `${query}&` : ''}format=csv`;
  $('xlsx').href = `/api/indicators?${query ? `${query}&` : ''}format=xlsx`;
  try {
    const data = await getJson(`/api/indicators${query ? `?${query}` : ''}`);
    if (!choicesLoaded) {
      fillSelect($('f-indicator'), data.indicators);
      fillSelect($('f-town'), data.towns);
      fillSelect($('f-year'), data.years, (y) => `${y}年`);
      for (const name of FIELDS) $(`f-${name}`).value = params.get(name) ?? '';
      choicesLoaded = true;
    }
    renderTable(data.figures, data.indicators);
    // The chart shows the chosen indicator, or the first of the list (地区生产总值) the table holds.
    renderChart(data.figures, params.get('indicator') || data.indicators.find((name) => data.figures.some((f) => f.indicator === name)));
    const towns = new Set(data.figures.map((f) => f.town)).size;
    $('summary').textContent = `共 ${data.total} 个数字，来自 ${towns} 个镇（街道）；点数字查看原文。`;
  } catch (err) {
    $('summary').textContent = `加载失败：${err.message}`;
  }
}

$('top').append(navigation());
for (const name of FIELDS) {
  $(`f-${name}`).addEventListener('change', () => {
    const params = paramsFromForm();
    history.pushState(null, '', params.toString() ? `?${params}` : location.pathname);
    load(params);
  });
}
window.addEventListener('popstate', () => {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) $(`f-${name}`).value = params.get(name) ?? '';
  load(params);
});
// chart.js is a deferred classic script: it has run before this module (modules are deferred too, and run in order).
load(new URLSearchParams(location.search));
