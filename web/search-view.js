/*
 * The search mode, shared by the search page (/search?q=&town=&year=&role=&page=, or
 * ?like=<chunkId>) and the staff page's 检索 tab: a form with town, year and role filters,
 * results grouped by town and report with a count per town, the matching words highlighted, each
 * passage's year and whether it is review or plan; "更多类似", "他镇写法", "原文" and "加入草稿" on
 * every result. Data: GET /api/search?group=town. Text from the API is inserted as text only.
 */
import { addToBasket, documentHref, el, fillSelect, formParams, getJson, highlighted, reportChoices, sentenceSpans, setFormFields, similarHref } from './drafting-common.js';
import { ROLE_LABELS as ROLE } from './labels.js';

const PAGE_SIZE = 10;
const FIELDS = ['q', 'town', 'year', 'role'];
const $ = (id) => document.getElementById(id);

/** The sentence around the first highlighted word (or the first sentence): what "他镇写法" compares. */
function focusSentence(p) {
  const spans = sentenceSpans(p.text);
  const first = p.matches?.[0]?.[0] ?? 0;
  const [s, e] = spans.find(([a, b]) => first >= a && first < b) ?? spans[0] ?? [0, p.text.length];
  return { start: p.start + s, end: p.start + e };
}

/**
 * The words selected inside a passage's text element, as document offsets, or undefined. The
 * text is the passage's own characters (marks only wrap some of them), so counting the characters
 * before the selection gives its offset.
 */
function selectedSpan(textEl, p) {
  const sel = document.getSelection();
  if (!sel || !sel.rangeCount || sel.isCollapsed) return undefined;
  const range = sel.getRangeAt(0);
  if (!textEl.contains(range.startContainer) || !textEl.contains(range.endContainer)) return undefined;
  const before = document.createRange();
  before.selectNodeContents(textEl);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  const end = start + range.toString().length;
  return end > start && end <= p.text.length ? { start: p.start + start, end: p.start + end } : undefined;
}

function resultCard(p) {
  const sentence = focusSentence(p);
  const preview = { text: p.text, town: p.town, title: p.title, date: p.date, section: p.section };
  const text = el('p', { className: 'text' }, highlighted(p.text, p.matches));
  // A selection is read when the pointer goes down on a button (a click may move it).
  let selected;
  const remember = () => (selected = selectedSpan(text, p));
  const add = el('button', { type: 'button', className: 'btn small add-basket', textContent: '加入草稿', title: '加入整段；先选中文字则只加入所选' });
  add.addEventListener('pointerdown', remember);
  add.addEventListener('click', () => {
    const span = selected ?? selectedSpan(text, p);
    selected = undefined;
    addToBasket(span ? { chunkId: p.chunkId, ...span, preview: { ...preview, text: p.text.slice(span.start - p.start, span.end - p.start) } } : { chunkId: p.chunkId, start: p.start, end: p.end, preview });
    add.textContent = '已加入';
  });
  const similar = el('a', { className: 'btn small', href: similarHref(p.chunkId, sentence.start, sentence.end), textContent: '他镇写法', title: '所选文字（或含检索词的句子）在其他报告中的写法' });
  similar.addEventListener('pointerdown', remember);
  similar.addEventListener('click', (event) => {
    const span = selected ?? selectedSpan(text, p);
    selected = undefined;
    if (!span) return;
    event.preventDefault();
    location.href = similarHref(p.chunkId, span.start, span.end);
  });
  return el(
    'article',
    { className: 'result' },
    el(
      'p',
      { className: 'meta' },
      el('span', { className: `badge ${p.role}`, textContent: ROLE[p.role] ?? p.role }),
      p.years?.length ? el('span', { className: 'badge', textContent: `${p.years.join('、')}年` }) : undefined,
      el('span', { textContent: p.section || '（报告开头）' }),
    ),
    text,
    el(
      'div',
      { className: 'actions' },
      add,
      el('a', { className: 'btn small', href: `/search?${new URLSearchParams({ like: p.chunkId })}`, textContent: '更多类似' }),
      similar,
      el('a', { className: 'btn small', href: documentHref(p.docId, p), target: '_blank', rel: 'noopener', textContent: '原文' }),
    ),
  );
}

function render(data) {
  const groups = data.groups ?? [];
  $('results').replaceChildren(
    ...(groups.length
      ? groups.map((g) =>
          el(
            'section',
            { className: 'town-group' },
            el('h2', { textContent: `${g.town}（${g.count} 段）` }),
            ...g.reports.map((r) =>
              el('section', { className: 'report-group' }, el('h3', { textContent: `《${r.title}》 ${r.date} · ${r.count} 段` }), ...r.results.map(resultCard)),
            ),
          ),
        )
      : [el('p', { className: 'muted', textContent: '没有找到相关段落。' })]),
  );
  const towns = groups.length;
  const what = data.mode === 'exact' ? `原话“${data.phrase}”` : data.mode === 'like' ? '与所选段落相近的段落' : '相关段落';
  $('summary').textContent = `${what}共 ${data.total} 段；本页 ${data.results.length} 段，来自 ${towns} 个镇（街道）。`;
  $('pager').hidden = data.total <= PAGE_SIZE;
  $('prev').disabled = data.page <= 1;
  $('next').disabled = !data.hasMore;
  $('page-no').textContent = `第 ${data.page} / ${Math.max(1, Math.ceil(data.total / PAGE_SIZE))} 页`;
}

/** The form and result areas, built in `root`; ids match the search page's tests and labels. */
function build(root) {
  const field = (label, control, grow) => el('label', grow ? { className: 'grow' } : {}, label, control);
  const select = (id, name, options) => el('select', { id, name }, ...options.map(([value, text]) => el('option', { value, textContent: text })));
  const form = el(
    'form',
    { id: 'search-form', className: 'filters', role: 'search', ariaLabel: '检索报告' },
    field('主题或原话', el('input', { type: 'search', name: 'q', id: 'f-q', maxLength: 500, placeholder: '如：乡村振兴、“优化营商环境”', autocomplete: 'off' }), true),
    field('镇（街道）', select('f-town', 'town', [['', '全部']])),
    field('年份', select('f-year', 'year', [['', '全部']])),
    field('部分', select('f-role', 'role', [['', '全部'], ['review', ROLE.review], ['plan', ROLE.plan]])),
    el('button', { type: 'submit', className: 'btn primary', textContent: '检索' }),
  );
  const summary = el('p', { id: 'summary', className: 'summary', role: 'status' });
  summary.setAttribute('aria-live', 'polite');
  const pager = el('nav', { className: 'pager', id: 'pager', hidden: true, ariaLabel: '翻页' }, el('button', { type: 'button', className: 'btn', id: 'prev', textContent: '上一页' }), el('span', { id: 'page-no', className: 'muted' }), el('button', { type: 'button', className: 'btn', id: 'next', textContent: '下一页' }));
  root.replaceChildren(form, summary, el('div', { id: 'results', tabIndex: -1 }), pager);
}

/**
 * Mounts the search in `root`. With `useUrl` (the search page) the query lives in the URL and
 * the back button works; without (the staff page's tab) it stays in the page.
 */
export async function mountSearch(root, { useUrl = true } = {}) {
  build(root);
  let current = useUrl ? new URLSearchParams(location.search) : new URLSearchParams();

  const paramsFromForm = () => formParams($('search-form'), FIELDS);
  const setForm = (params) => setFormFields(params, FIELDS);

  async function load(params) {
    if (!params.get('q') && !params.get('like')) {
      $('summary').textContent = '输入主题或原话开始检索。';
      $('results').replaceChildren();
      $('pager').hidden = true;
      return;
    }
    const query = new URLSearchParams(params);
    query.set('group', 'town');
    query.set('k', String(PAGE_SIZE));
    if (!query.get('page')) query.set('page', '1');
    $('summary').textContent = '正在检索…';
    try {
      render(await getJson(`/api/search?${query}`));
    } catch (err) {
      $('summary').textContent = `检索失败：${err.message}`;
      $('results').replaceChildren();
    }
  }

  function go(params) {
    current = params;
    if (useUrl) history.pushState(null, '', `?${params}`);
    load(params);
  }

  /** Set once the user types, picks or searches: the filter choices arriving later must not undo it. */
  let touched = false;
  $('search-form').addEventListener('input', () => (touched = true));
  $('search-form').addEventListener('submit', (event) => {
    touched = true;
    event.preventDefault();
    go(paramsFromForm());
  });
  const turn = (delta) => {
    const params = new URLSearchParams(current);
    params.set('page', String(Math.max(1, Number(params.get('page') || '1') + delta)));
    go(params);
    $('results').focus();
  };
  $('prev').addEventListener('click', () => turn(-1));
  $('next').addEventListener('click', () => turn(1));
  if (useUrl) {
    window.addEventListener('popstate', () => {
      current = new URLSearchParams(location.search);
      setForm(current);
      load(current);
    });
  }

  try {
    const { towns, years } = await reportChoices();
    fillSelect($('f-town'), towns);
    fillSelect($('f-year'), years, (y) => `${y}年`);
  } catch {
    // The filters then offer only what the URL names.
  }
  // What the user typed or searched while the choices loaded (a slow network) stays as it is.
  if (touched) return;
  setForm(current);
  load(current);
}
