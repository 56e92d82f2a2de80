/*
 * The commitments view (/commitments): filters (town, year, topic, status, words), the matching
 * commitments grouped by topic with targets, deadline, status and a link to the sentence in the
 * report, follow-up evidence on demand, and CSV export. The list comes in pages (the API's limit);
 * a button under it loads the next. Data: GET /api/commitments and
 * GET /api/commitments/:id. Every text from the API is inserted with textContent, never as HTML.
 */
import { basketButton, el, fillSelect, formParams, navigation, setFormFields } from '/assets/drafting-common.js';
import { FOLLOW_UP_STATUS_LABELS as STATUS, TOPICS } from '/assets/labels.js';
const FIELDS = ['town', 'year', 'topic', 'status', 'q'];

const $ = (id) => document.getElementById(id);

/** The document view, with the sentence highlighted and the clause marked in it. */
function sourceLink(c, label) {
  const params = new URLSearchParams({ start: String(c.start), end: String(c.end), qs: String(c.quote.start), qe: String(c.quote.end) });
  return el('a', { href: `/documents/${encodeURIComponent(c.docId)}?${params}`, target: '_blank', rel: 'noopener', textContent: label });
}

const filtersFromForm = () => formParams($('filters'), FIELDS);
const setForm = (params) => setFormFields(params, FIELDS);

/** Towns and years from the reports, so the filters offer only what exists. */
async function loadChoices() {
  fillSelect($('f-topic'), TOPICS);
  fillSelect($('f-status'), Object.keys(STATUS), (s) => STATUS[s]);
  try {
    const res = await fetch('/api/documents', { headers: { accept: 'application/json' } });
    if (!res.ok) return;
    const { documents } = await res.json();
    fillSelect($('f-town'), [...new Set(documents.map((d) => d.town).filter(Boolean))]);
    fillSelect($('f-year'), [...new Set(documents.flatMap((d) => d.years))].sort((a, b) => b - a), (y) => `${y}年`);
  } catch {
    // The list still loads; the filters then offer only what the URL names.
  }
}

function targetChips(targets) {
  if (!targets.length) return el('span', { className: 'muted', textContent: '—' });
  return el('ul', { className: 'chips' }, ...targets.map((t) => el('li', { className: 'chip', textContent: t.what ? `${t.what} ${t.text}` : t.text })));
}

function statusBadge(c) {
  return el('span', { className: `status ${c.status}`, textContent: STATUS[c.status] ?? c.status, title: c.statusNote || '' });
}

/** Follow-up evidence of one commitment, fetched when its row is opened. */
async function showDetail(c, holder) {
  holder.replaceChildren(el('p', { className: 'muted', textContent: '正在加载后续报告中的情况…' }));
  try {
    const res = await fetch(`/api/commitments/${encodeURIComponent(c.id)}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { followUp } = await res.json();
    const parts = [el('p', {}, statusBadge({ status: followUp.status, statusNote: followUp.note }), ` ${followUp.note}`)];
    if (followUp.laterDocuments.length) {
      parts.push(el('p', { className: 'muted', textContent: `查阅的后续报告：${followUp.laterDocuments.map((d) => `${d.title}（${d.date}）`).join('、')}` }));
    }
    for (const e of followUp.evidence) {
      const checks = e.checks.filter((k) => k.achieved).map((k) => `目标 ${k.target.text} → 报告 ${k.achieved.text}${k.reached ? '（达到）' : '（未达到）'}`);
      parts.push(
        el(
          'blockquote',
          { className: 'evidence' },
          el('p', { textContent: e.citation.text }),
          checks.length ? el('p', { className: 'muted', textContent: checks.join('；') }) : undefined,
          el('p', { className: 'muted' }, `${e.citation.title} · ${e.citation.section} · `, sourceLink(e.citation, '原文')),
        ),
      );
    }
    holder.replaceChildren(...parts);
  } catch {
    holder.replaceChildren(el('p', { className: 'muted', textContent: '后续情况暂时无法加载。' }));
  }
}

function commitmentRow(c) {
  const detail = el('div', { className: 'detail', hidden: true });
  const toggle = el('button', { type: 'button', className: 'link', textContent: '后续情况' });
  toggle.setAttribute('aria-expanded', 'false');
  toggle.addEventListener('click', () => {
    const open = detail.hidden;
    detail.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
    if (open && !detail.dataset.loaded) {
      detail.dataset.loaded = '1';
      showDetail(c, detail);
    }
  });
  const clause = el('td', { className: 'clause' }, el('span', { textContent: c.clause, title: c.citation.text }), el('span', { className: 'firm', textContent: c.firmness === 'deliverable' ? '交付' : '推进' }));
  const row = el(
    'tr',
    {},
    clause,
    el('td', {}, targetChips(c.targets)),
    el('td', { textContent: c.deadline ?? '—' }),
    el('td', {}, statusBadge(c), el('br'), toggle),
    el(
      'td',
      { className: 'source' },
      el('span', { textContent: `${c.town} · ${c.year}年` }),
      el('br'),
      sourceLink(c.citation, '原文'),
      el('span', { className: 'muted', textContent: ` ${c.citation.section.split(' > ').at(-1) ?? ''}` }),
      el('br'),
      // The sentence of the commitment goes into the draft basket (resolved on the server at export).
      c.citation.chunkId ? basketButton({ chunkId: c.citation.chunkId, start: c.citation.start, end: c.citation.end, preview: { text: c.citation.text, town: c.town, title: c.citation.title, date: c.citation.date, section: c.citation.section } }) : undefined,
    ),
  );
  const detailRow = el('tr', { className: 'detail-row' }, el('td', { colSpan: 5 }, detail));
  return [row, detailRow];
}

function render(data) {
  const groups = new Map();
  for (const c of data.commitments) {
    if (!groups.has(c.topic)) groups.set(c.topic, []);
    groups.get(c.topic).push(c);
  }
  const sections = TOPICS.filter((t) => groups.has(t)).map((topic) => {
    const list = groups.get(topic);
    const id = `topic-${TOPICS.indexOf(topic)}`;
    return el(
      'section',
      { className: 'group' },
      el('h2', { id, textContent: `${topic}（${list.length}）` }),
      el(
        'table',
        {},
        el('thead', {}, el('tr', {}, ...['承诺', '量化目标', '时限', '完成情况', '出处'].map((h) => el('th', { scope: 'col', textContent: h })))),
        el('tbody', {}, ...list.flatMap(commitmentRow)),
      ),
    );
  });
  const more = [];
  if (data.commitments.length < data.total) {
    // The API's page size (its limit), not a number of this page's own.
    const button = el('button', { type: 'button', className: 'btn more', textContent: `再显示 ${Math.min(data.limit, data.total - data.commitments.length)} 项` });
    button.addEventListener('click', () => loadMore(data));
    more.push(button);
  }
  $('results').replaceChildren(...(sections.length ? sections : [el('p', { className: 'muted', textContent: '没有符合条件的承诺。' })]), ...more);
  const statusText = Object.entries(data.byStatus)
    .map(([s, n]) => `${STATUS[s] ?? s} ${n}`)
    .join('，');
  const shown = data.commitments.length < data.total ? `，已显示 ${data.commitments.length} 项` : '';
  $('summary').textContent = `共 ${data.total} 项承诺${statusText ? `（${statusText}）` : ''}，按主题分组${shown}。`;
}

/** One page of the list for the filters in `query`, from `offset`; undefined when it failed (the summary says why). */
async function fetchPage(query, offset) {
  const params = new URLSearchParams(query);
  // A page size in the page's own address (?limit=50) goes to the API; otherwise the API's default.
  const limit = new URLSearchParams(location.search).get('limit');
  if (limit) params.set('limit', limit);
  if (offset > 0) params.set('offset', String(offset));
  const text = params.toString();
  try {
    const res = await fetch(`/api/commitments${text ? `?${text}` : ''}`, { headers: { accept: 'application/json' } });
    if (res.status === 503) {
      $('summary').textContent = '索引正在加载，请稍后刷新。';
      return undefined;
    }
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      $('summary').textContent = `查询失败：${body?.error?.message ?? `HTTP ${res.status}`}`;
      return undefined;
    }
    return { ...(await res.json()), query };
  } catch {
    $('summary').textContent = '承诺清单暂时无法加载。';
    return undefined;
  }
}

/** The next page appended to what is shown (same filters). */
async function loadMore(shown) {
  const next = await fetchPage(shown.query, shown.commitments.length);
  if (next) render({ ...next, commitments: [...shown.commitments, ...next.commitments] });
}

async function load(params, { push = false } = {}) {
  const query = params.toString();
  $('csv').href = `/api/commitments?${query ? `${query}&` : ''}format=csv`;
  if (push) history.pushState(null, '', query ? `?${query}` : location.pathname);
  $('summary').textContent = '正在加载…';
  const data = await fetchPage(query, 0);
  if (data) render(data);
}

$('filters').addEventListener('submit', (event) => {
  event.preventDefault();
  load(filtersFromForm(), { push: true });
});
for (const name of ['town', 'year', 'topic', 'status']) $(`f-${name}`).addEventListener('change', () => load(filtersFromForm(), { push: true }));
window.addEventListener('popstate', () => {
  const params = new URLSearchParams(location.search);
  setForm(params);
  load(params);
});

document.querySelector('header.top')?.append(navigation());
if (!document.querySelector('link[href="/assets/drafting.css"]')) document.head.append(el('link', { rel: 'stylesheet', href: '/assets/drafting.css' }));
await loadChoices();
const initial = new URLSearchParams(location.search);
setForm(initial);
load(filtersFromForm());
