/*
 * The document view (/documents/:docId?start=&end=&qs=&qe=): a report's cleaned text, with the
 * cited passage (start/end) and the quoted sentence in it (qs/qe) highlighted and scrolled into
 * view. Offsets index the `text` of GET /api/documents/:docId. Text is inserted as text only.
 */
import { addToBasket, el as make, navigation, similarHref } from './drafting-common.js';
import { ROLE_LABELS as ROLE } from './labels.js';

/** Where each rendered text node starts in the document's text: a selection maps back to offsets. */
const OFFSETS = new WeakMap();

const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c != null));
  return node;
};

function readParams(length) {
  const q = new URLSearchParams(location.search);
  const int = (name) => {
    const v = q.get(name);
    return v !== null && /^\d{1,9}$/.test(v) ? Number(v) : undefined;
  };
  const range = (a, b) => (a !== undefined && b !== undefined && a < b && b <= length ? [a, b] : undefined);
  return { passage: range(int('start'), int('end')), quote: range(int('qs'), int('qe')) };
}

/**
 * Renders the text line by line. Every line is cut at the boundaries of the passage, the quote
 * and the section headings; each piece becomes a text node, wrapped in <mark> or <strong> as the
 * ranges covering it say.
 */
function renderText(doc, passage, quote) {
  const text = doc.text;
  // Indexed over all sections, as the table of contents links them (#s-<index>).
  const headings = doc.sections.map((s, i) => ({ ...s, i })).filter((s) => s.heading);
  const bodyStartOf = (s) => (s.bodyStart ?? s.start + s.heading.length);
  const frag = document.createDocumentFragment();
  let firstMark = null;
  let lineStart = 0;
  while (lineStart <= text.length) {
    let lineEnd = text.indexOf('\n', lineStart);
    if (lineEnd < 0) lineEnd = text.length;
    if (lineEnd > lineStart && text.slice(lineStart, lineEnd).trim()) {
      const inLine = headings.filter((s) => s.start >= lineStart && s.start < lineEnd && s.heading);
      const cuts = new Set([lineStart, lineEnd]);
      for (const [a, b] of [passage, quote, ...inLine.map((s) => [s.start, Math.min(bodyStartOf(s), lineEnd)])].filter(Boolean)) {
        if (a > lineStart && a < lineEnd) cuts.add(a);
        if (b > lineStart && b < lineEnd) cuts.add(b);
      }
      const points = [...cuts].sort((x, y) => x - y);
      const heading = inLine.length > 0 && inLine[0].start === lineStart && bodyStartOf(inLine[0]) >= lineEnd;
      const line = heading ? el(`h${Math.min(5, 2 + (inLine[0].level || 0))}`, { className: 'sec' }) : el('p');
      if (inLine[0]) line.id = `s-${inLine[0].i}`;
      for (let k = 0; k + 1 < points.length; k++) {
        const [a, b] = [points[k], points[k + 1]];
        let node = document.createTextNode(text.slice(a, b));
        OFFSETS.set(node, a);
        const inside = (r) => r && a >= r[0] && b <= r[1];
        if (!heading && inLine.some((s) => a >= s.start && b <= bodyStartOf(s))) node = el('strong', {}, node);
        if (inside(passage)) {
          // Where the passage starts and ends is announced by CSS (::before/::after), so that
          // selecting and copying the text does not pick up the announcement.
          const mark = el('mark', { className: `${inside(quote) ? 'passage quote' : 'passage'}${a === passage[0] ? ' first' : ''}${b === passage[1] ? ' last' : ''}` });
          mark.append(node);
          node = mark;
          firstMark ??= mark;
        }
        line.append(node);
      }
      frag.append(line);
    }
    lineStart = lineEnd + 1;
  }
  return { frag, firstMark };
}

function renderToc(doc) {
  const toc = document.getElementById('toc');
  const items = doc.sections
    .map((s, i) => ({ ...s, i }))
    .filter((s) => s.heading && (s.level ?? 1) <= 2);
  toc.replaceChildren(
    ...items.map((s) => el('li', { className: `lvl${s.level ?? 1}` }, el('a', { href: `#s-${s.i}`, textContent: s.heading }), el('span', { className: 'muted', textContent: ` ${ROLE[s.role] || ''}` }))),
  );
  if (!items.length) toc.closest('nav').hidden = true;
}

async function main() {
  const article = document.getElementById('doc-text');
  const status = document.getElementById('doc-status');
  let docId = '';
  try {
    docId = decodeURIComponent(location.pathname.replace(/\/+$/, '').split('/').pop() || '');
  } catch {
    // A malformed escape: no such document.
  }
  let res;
  try {
    res = await fetch(`/api/documents/${encodeURIComponent(docId)}`, { headers: { accept: 'application/json' } });
  } catch {
    res = null;
  }
  if (!res || !res.ok) {
    status.textContent = res && res.status === 404 ? '没有找到这份报告，它可能已被移除。' : '报告暂时无法加载。';
    if (!res || res.status !== 404) {
      const retry = el('button', { type: 'button', className: 'btn', textContent: '重试' });
      retry.addEventListener('click', () => location.reload());
      status.append(' ', retry);
    }
    return;
  }
  const doc = await res.json();
  document.title = `${doc.title} · 报告原文`;
  document.getElementById('doc-title').textContent = doc.title;
  document.getElementById('doc-meta').textContent = [doc.town, doc.district, doc.date, doc.years?.length ? `涉及 ${doc.years.join('、')} 年` : ''].filter(Boolean).join(' · ');
  renderToc(doc);
  const { passage, quote } = readParams(doc.text.length);
  const { frag, firstMark } = renderText(doc, passage, quote);
  status.remove();
  article.replaceChildren(frag);
  if (firstMark) {
    firstMark.id = 'passage';
    firstMark.tabIndex = -1;
    const reduce = matchMedia('(prefers-reduced-motion: reduce)').matches;
    firstMark.scrollIntoView({ block: 'center', behavior: reduce ? 'auto' : 'smooth' });
    firstMark.focus({ preventScroll: true });
  }
  return doc;
}

/** The document offset of a DOM boundary point inside the article, or undefined. */
function offsetOf(container, offset) {
  if (OFFSETS.has(container)) return OFFSETS.get(container) + offset;
  const walker = (root) => document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const child = container.childNodes[offset];
  if (child) {
    const first = OFFSETS.has(child) ? child : walker(child).nextNode();
    if (first && OFFSETS.has(first)) return OFFSETS.get(first);
  }
  const all = walker(container);
  let last;
  for (let n = all.nextNode(); n; n = all.nextNode()) last = n;
  return last && OFFSETS.has(last) ? OFFSETS.get(last) + last.length : undefined;
}

/**
 * The bar under the text: "加入草稿" and "他镇写法" for the selected words, or, with nothing
 * selected, for the quoted sentence (or passage) the page was opened at, so that keyboard users
 * reach it too. The server names the passage holding the selection (GET /api/drafts/locate).
 */
function selectionBar(doc, fallback) {
  const docId = doc.docId;
  const label = make('span', { className: 'what' });
  const add = make('button', { type: 'button', className: 'btn small', textContent: '加入草稿' });
  const similar = make('button', { type: 'button', className: 'btn small', textContent: '他镇写法' });
  const bar = make('div', { className: 'selection-bar', role: 'region', ariaLabel: '所选文字' }, label, add, similar);
  const article = document.getElementById('doc-text');
  let span;
  const update = () => {
    const sel = document.getSelection();
    let chosen;
    if (sel && sel.rangeCount && !sel.isCollapsed && article.contains(sel.anchorNode) && article.contains(sel.focusNode)) {
      const range = sel.getRangeAt(0);
      const start = offsetOf(range.startContainer, range.startOffset);
      const end = offsetOf(range.endContainer, range.endOffset);
      if (start !== undefined && end !== undefined && end > start) chosen = { start, end, label: `所选 ${end - start} 字` };
    }
    span = chosen ?? fallback;
    bar.hidden = !span;
    if (span) label.textContent = span.label;
  };
  const locate = async () => {
    const res = await fetch(`/api/drafts/locate?${new URLSearchParams({ docId, start: String(span.start), end: String(span.end) })}`, { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  };
  add.addEventListener('click', async () => {
    if (!span) return;
    try {
      const at = await locate();
      addToBasket({ chunkId: at.chunkId, start: at.start, end: at.end, preview: { text: doc.text.slice(at.start, at.end), town: doc.town, title: doc.title, date: doc.date } });
    } catch {
      label.textContent = '无法加入：所选文字不在报告正文中';
    }
  });
  similar.addEventListener('click', async () => {
    if (!span) return;
    try {
      const at = await locate();
      location.href = similarHref(at.chunkId, at.start, at.end);
    } catch {
      label.textContent = '无法查找：所选文字不在报告正文中';
    }
  });
  document.addEventListener('selectionchange', update);
  update();
  return bar;
}

async function withDrafting() {
  if (!document.querySelector('link[href="/assets/drafting.css"]')) document.head.append(make('link', { rel: 'stylesheet', href: '/assets/drafting.css' }));
  document.querySelector('header.top')?.append(navigation());
  const doc = await main();
  if (!doc) return;
  const { passage, quote } = readParams(doc.text.length);
  const range = quote ?? passage;
  const fallback = range ? { start: range[0], end: range[1], text: doc.text.slice(range[0], range[1]), label: quote ? '引用的句子' : '引用的段落' } : undefined;
  document.querySelector('main').after(selectionBar(doc, fallback));
}

withDrafting();
