/*
 * What the drafting pages share (search, similar sentences, basket, indicators, and the staff
 * page's navigation): building elements, the draft basket kept in localStorage, the links
 * between the views, highlighted text, and the chat's "qa:basket-add" event. Every text from
 * the API or the user is inserted as text nodes, never parsed as HTML.
 */

const BASKET_KEY = 'qa.basket.v1';
const MAX_ITEMS = 200;

export const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c !== undefined && c !== null && c !== ''));
  return node;
};

/** The passage text with each [start, end) of `matches` wrapped in <mark>, all as text nodes. */
export function highlighted(text, matches = []) {
  const frag = document.createDocumentFragment();
  let at = 0;
  for (const [s, e] of matches) {
    if (s < at || e > text.length || s >= e) continue;
    if (s > at) frag.append(text.slice(at, s));
    frag.append(el('mark', { className: 'hit', textContent: text.slice(s, e) }));
    at = e;
  }
  if (at < text.length) frag.append(text.slice(at));
  return frag;
}

/** The document view at a passage (start/end), with a sentence in it highlighted (qs/qe). */
export function documentHref(docId, passage, quote) {
  const params = new URLSearchParams({ start: String(passage.start), end: String(passage.end) });
  if (quote) {
    params.set('qs', String(quote.start));
    params.set('qe', String(quote.end));
  }
  return `/documents/${encodeURIComponent(docId)}?${params}`;
}

export function similarHref(chunkId, start, end) {
  const params = new URLSearchParams({ chunkId });
  if (start !== undefined && end !== undefined) {
    params.set('start', String(start));
    params.set('end', String(end));
  }
  return `/similar?${params}`;
}

/** Where a passage comes from, as one line: town · 《title》 · date · section. */
export function sourceText(p) {
  return [p.town, p.title ? `《${p.title}》` : '', p.date, p.section].filter(Boolean).join(' · ');
}

// ---- the basket -------------------------------------------------------------------------

function read() {
  try {
    const items = JSON.parse(localStorage.getItem(BASKET_KEY) ?? '[]');
    return Array.isArray(items) ? items.filter((i) => i && typeof i.chunkId === 'string') : [];
  } catch {
    return [];
  }
}

function write(items) {
  localStorage.setItem(BASKET_KEY, JSON.stringify(items.slice(0, MAX_ITEMS)));
  document.dispatchEvent(new CustomEvent('qa:basket-changed', { detail: { count: items.length } }));
}

export const basket = {
  items: read,
  save: write,
  /**
   * Adds an item {chunkId, start?, end?, preview?}; the same span twice is kept once. Returns
   * false when it was already there. The preview (text, town, title, section) is only for
   * display: the basket page and the export resolve every item on the server.
   */
  add(item) {
    if (!item || typeof item.chunkId !== 'string' || !item.chunkId) return false;
    const items = read();
    const same = (i) => i.chunkId === item.chunkId && i.start === item.start && i.end === item.end;
    if (items.some(same)) return false;
    items.push({
      id: `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`,
      chunkId: item.chunkId,
      ...(Number.isInteger(item.start) ? { start: item.start } : {}),
      ...(Number.isInteger(item.end) ? { end: item.end } : {}),
      note: '',
      ...(item.preview ? { preview: item.preview } : {}),
    });
    write(items);
    return true;
  },
  clear() {
    write([]);
  },
};

// Another tab's change shows here too.
window.addEventListener('storage', (event) => {
  if (event.key === BASKET_KEY) document.dispatchEvent(new CustomEvent('qa:basket-changed', { detail: { count: read().length, external: true } }));
});

/** A polite status line for "added" messages (one per page). */
function announcer() {
  let live = document.getElementById('basket-status');
  if (!live) {
    live = el('p', { id: 'basket-status', className: 'basket-toast', role: 'status' });
    live.setAttribute('aria-live', 'polite');
    document.body.append(live);
  }
  return live;
}

let toastTimer;
export function announce(text) {
  const live = announcer();
  live.textContent = text;
  live.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => live.classList.remove('show'), 4000);
}

/** Adds to the basket and says so. */
export function addToBasket(item) {
  const added = basket.add(item);
  announce(added ? `已加入草稿篮（共 ${basket.items().length} 条）` : '这一段已在草稿篮中');
  return added;
}

/** An "加入草稿" button for an item. */
export function basketButton(item, label = '加入草稿') {
  const button = el('button', { type: 'button', className: 'btn small add-basket', textContent: label });
  button.addEventListener('click', () => {
    addToBasket(item);
    button.textContent = '已加入';
  });
  return button;
}

/** The chat's citation rows send this event (widget with data-basket="true"). */
export function listenForChatItems() {
  document.addEventListener('qa:basket-add', (event) => {
    const d = event.detail ?? {};
    addToBasket({ chunkId: d.chunkId, start: d.start, end: d.end, ...(d.text ? { preview: { text: String(d.text).slice(0, 400) } } : {}) });
  });
}

// ---- navigation -------------------------------------------------------------------------

const LINKS = [
  ['/', '问答'],
  ['/search', '检索'],
  ['/basket', '草稿篮'],
  ['/commitments', '承诺清单'],
  ['/indicators', '指标对照'],
];

/** The links between the staff views, with the basket's count; the current page is marked. */
export function navigation() {
  const here = location.pathname.replace(/\/+$/, '') || '/';
  const count = el('span', { className: 'count', textContent: String(basket.items().length) });
  const nav = el(
    'nav',
    { className: 'drafting-nav' },
    el(
      'ul',
      {},
      ...LINKS.map(([href, label]) => {
        const a = el('a', { href, textContent: label });
        if (href === '/basket') a.append(' ', count);
        if (href === here) a.setAttribute('aria-current', 'page');
        return el('li', {}, a);
      }),
    ),
  );
  nav.setAttribute('aria-label', '工作台');
  count.setAttribute('aria-label', '条');
  document.addEventListener('qa:basket-changed', () => (count.textContent = String(basket.items().length)));
  return nav;
}

/** Fetches JSON; throws an Error carrying the API's message. */
export async function getJson(url, init) {
  const res = await fetch(url, { headers: { accept: 'application/json', ...(init?.body ? { 'content-type': 'application/json' } : {}) }, ...init });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
  return body;
}

/** Towns and years of the reports, for filter selects. */
export async function reportChoices() {
  const { documents } = await getJson('/api/documents');
  return {
    towns: [...new Set(documents.map((d) => d.town).filter(Boolean))],
    years: [...new Set(documents.flatMap((d) => d.years))].sort((a, b) => b - a),
  };
}

/** The non-empty values of `form`'s fields named in `fields`, as query parameters. */
export function formParams(form, fields) {
  const data = new FormData(form);
  const params = new URLSearchParams();
  for (const name of fields) {
    const value = String(data.get(name) ?? '').trim();
    if (value) params.set(name, value);
  }
  return params;
}

/** Sets each control `f-<name>` of `fields` from `params`; a select gains an option for a value it lacks (a shared link). */
export function setFormFields(params, fields) {
  for (const name of fields) {
    const field = document.getElementById(`f-${name}`);
    const value = params.get(name) ?? '';
    if (field.tagName === 'SELECT' && value && ![...field.options].some((o) => o.value === value)) field.append(el('option', { value, textContent: value }));
    field.value = value;
  }
}

export function fillSelect(select, values, labelOf = (v) => String(v)) {
  const current = select.value;
  select.replaceChildren(el('option', { value: '', textContent: '全部' }), ...values.map((v) => el('option', { value: String(v), textContent: labelOf(v) })));
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

/** Sentence ends inside a passage: [start, end) offsets relative to its text. */
export function sentenceSpans(text) {
  const spans = [];
  let from = 0;
  for (const m of text.matchAll(/[。！？；!?;]+/g)) {
    const end = m.index + m[0].length;
    if (text.slice(from, end).trim()) spans.push([from, end]);
    from = end;
  }
  if (text.slice(from).trim()) spans.push([from, text.length]);
  return spans;
}
