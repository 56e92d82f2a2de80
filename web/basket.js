/*
 * The draft basket (/basket): the items kept in localStorage, each shown as the server resolves
 * it (POST /api/drafts/resolve: its text and source come from the index, not from the page);
 * reordering by drag and drop or by keyboard (buttons, Alt+ArrowUp/Down), a note per item,
 * removing, clearing, and export to docx or Markdown (POST /api/drafts/export). Text is
 * inserted as text only.
 */
import { announce, basket, documentHref, el, getJson, navigation, sourceText } from './drafting-common.js';

const $ = (id) => document.getElementById(id);
const TITLE_KEY = 'qa.basket.title';
/** Resolved text and source per item id, from the server. */
let resolved = new Map();
let problem = '';

async function resolveAll() {
  const items = basket.items();
  resolved = new Map();
  problem = '';
  if (!items.length) return;
  try {
    const { items: out } = await getJson('/api/drafts/resolve', { method: 'POST', body: JSON.stringify({ items: items.map(payload) }) });
    out.forEach((r, i) => resolved.set(items[i].id, r));
  } catch (err) {
    problem = err.message;
  }
}

const payload = (i) => ({ chunkId: i.chunkId, ...(i.start !== undefined ? { start: i.start } : {}), ...(i.end !== undefined ? { end: i.end } : {}), ...(i.note ? { note: i.note } : {}) });

function move(from, to) {
  const items = basket.items();
  if (to < 0 || to >= items.length || from === to) return;
  const [item] = items.splice(from, 1);
  items.splice(to, 0, item);
  basket.save(items);
  render();
  // Focus follows the moved item, so a keyboard user can keep moving it.
  const li = $('basket').children[to];
  const same = li?.querySelector(from < to ? '.down' : '.up');
  (same && !same.disabled ? same : li?.querySelector(from < to ? '.up' : '.down') ?? li)?.focus();
  announce(`已移到第 ${to + 1} 条`);
}

function itemRow(item, index, count) {
  const r = resolved.get(item.id);
  const text = r?.text ?? item.preview?.text ?? '（正在读取原文…）';
  const source = r ? sourceText({ ...r.source, title: r.source.title }) : item.preview ? sourceText(item.preview) : '';
  const note = el('textarea', { value: item.note ?? '', maxLength: 1000, placeholder: '备注（导出时附在引文后）', ariaLabel: `第 ${index + 1} 条的备注` });
  note.addEventListener('change', () => {
    const items = basket.items();
    const at = items.findIndex((i) => i.id === item.id);
    if (at >= 0) {
      items[at].note = note.value;
      basket.save(items);
    }
  });
  const up = el('button', { type: 'button', className: 'btn small up', textContent: '上移', disabled: index === 0, ariaLabel: `上移第 ${index + 1} 条` });
  const down = el('button', { type: 'button', className: 'btn small down', textContent: '下移', disabled: index === count - 1, ariaLabel: `下移第 ${index + 1} 条` });
  const remove = el('button', { type: 'button', className: 'btn small remove', textContent: '移除', ariaLabel: `移除第 ${index + 1} 条` });
  up.addEventListener('click', () => move(index, index - 1));
  down.addEventListener('click', () => move(index, index + 1));
  remove.addEventListener('click', () => {
    basket.save(basket.items().filter((i) => i.id !== item.id));
    render();
    announce('已移除');
    ($('basket').children[Math.min(index, basket.items().length - 1)] ?? $('basket')).focus();
  });
  const li = el(
    'li',
    { className: 'basket-item', draggable: true, tabIndex: 0 },
    el('span', { className: 'n', textContent: String(index + 1), title: '拖动排序' }),
    el(
      'div',
      {},
      el('p', { className: 'text', textContent: text }),
      el('p', { className: 'meta muted' }, source, r ? ' · ' : '', r ? el('a', { href: documentHref(r.source.docId, { start: r.source.start, end: r.source.end }), target: '_blank', rel: 'noopener', textContent: '原文' }) : undefined),
      note,
    ),
    el('div', { className: 'actions' }, up, down, remove),
  );
  li.dataset.id = item.id;
  li.setAttribute('aria-label', `第 ${index + 1} 条：${text.slice(0, 30)}`);
  li.addEventListener('keydown', (event) => {
    if (!event.altKey || (event.key !== 'ArrowUp' && event.key !== 'ArrowDown')) return;
    event.preventDefault();
    move(index, index + (event.key === 'ArrowUp' ? -1 : 1));
  });
  // Mouse: drag an item onto another to put it before that one.
  li.addEventListener('dragstart', (event) => {
    event.dataTransfer.setData('text/plain', String(index));
    event.dataTransfer.effectAllowed = 'move';
    li.classList.add('dragging');
  });
  li.addEventListener('dragend', () => li.classList.remove('dragging'));
  li.addEventListener('dragover', (event) => {
    event.preventDefault();
    li.classList.add('drop-before');
  });
  li.addEventListener('dragleave', () => li.classList.remove('drop-before'));
  li.addEventListener('drop', (event) => {
    event.preventDefault();
    li.classList.remove('drop-before');
    const from = Number(event.dataTransfer.getData('text/plain'));
    // The dragged item takes the place of the one it is dropped on.
    if (Number.isInteger(from)) move(from, index);
  });
  return li;
}

function render() {
  const items = basket.items();
  $('basket').replaceChildren(...items.map((item, i) => itemRow(item, i, items.length)));
  if (!items.length) $('basket').replaceChildren(el('li', { className: 'basket-empty muted', textContent: '草稿篮是空的。在检索结果、问答引用、报告原文、承诺清单或他镇写法中点“加入草稿”。' }));
  $('summary').textContent = problem ? `有条目无法读取：${problem}` : `共 ${items.length} 条。`;
  for (const id of ['export-docx', 'export-md', 'clear']) $(id).disabled = items.length === 0;
}

async function exportAs(format) {
  const items = basket.items();
  if (!items.length) return;
  const title = $('title').value.trim();
  $('summary').textContent = '正在导出…';
  try {
    const res = await fetch('/api/drafts/export', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...(title ? { title } : {}), format, items: items.map(payload) }) });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      throw new Error(body?.error?.message ?? `HTTP ${res.status}`);
    }
    const blob = await res.blob();
    const a = el('a', { href: URL.createObjectURL(blob), download: `${title || '草稿摘录'}.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    $('summary').textContent = `已导出 ${items.length} 条（${format === 'docx' ? 'Word' : 'Markdown'}）。`;
  } catch (err) {
    $('summary').textContent = `导出失败：${err.message}`;
  }
}

$('top').append(navigation());
$('title').value = localStorage.getItem(TITLE_KEY) ?? '';
$('title').addEventListener('input', () => localStorage.setItem(TITLE_KEY, $('title').value));
$('export-docx').addEventListener('click', () => exportAs('docx'));
$('export-md').addEventListener('click', () => exportAs('md'));
$('clear').addEventListener('click', () => {
  if (!basket.items().length) return;
  basket.clear();
  render();
  announce('草稿篮已清空');
});
// Items added in another tab (the chat, a search) appear here too.
document.addEventListener('qa:basket-changed', async (event) => {
  if (!event.detail?.external || document.activeElement?.tagName === 'TEXTAREA') return;
  await resolveAll();
  render();
});
render();
await resolveAll();
render();
