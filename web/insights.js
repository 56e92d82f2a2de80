/*
 * The staff insights page (/admin/insights): what residents asked that the reports did not
 * answer, or that they disliked, grouped by similar wording (GET /api/admin/unanswered and
 * /api/admin/feedback). The admin token is asked for once per browser tab and kept in
 * sessionStorage; it travels only in the Authorization header, never in a URL. Text from the API
 * is inserted as text only.
 */
import { STATUS_LABELS as STATUS } from './labels.js';

const KEY = 'townqa:admin-token';
const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children.filter((c) => c != null));
  return node;
};
let list = 'unanswered';

const token = () => {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
};

async function api(path, accept = 'application/json') {
  const res = await fetch(path, { headers: { accept, authorization: `Bearer ${token()}` }, cache: 'no-store' });
  if (res.status === 401) {
    sessionStorage.removeItem(KEY);
    showLogin('口令不正确或已失效，请重新输入。');
    throw new Error('unauthorized');
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res;
}

function showLogin(message = '') {
  $('app').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = message;
  $('token').focus();
}

function query(format) {
  const q = new URLSearchParams();
  if ($('town').value) q.set('town', $('town').value);
  if (format) q.set('format', format);
  const s = q.toString();
  return `/api/admin/${list}${s ? `?${s}` : ''}`;
}

/** A stored UTC time in the reader's own time zone. */
const day = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString('zh-CN', { hour12: false, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
};

function groupItem(g) {
  const tags = [];
  for (const [s, n] of Object.entries(g.statuses || {})) if (n > 0 && s !== 'answered') tags.push(el('span', { className: `tag ${s}`, textContent: `${STATUS[s] || s} ${n}` }));
  if (g.ratings.down) tags.push(el('span', { className: 'tag down', textContent: `没帮助 ${g.ratings.down}` }));
  if (g.ratings.up) tags.push(el('span', { className: 'tag', textContent: `有帮助 ${g.ratings.up}` }));
  for (const [r, n] of Object.entries(g.reasons || {})) tags.push(el('span', { className: 'tag', textContent: `${r} ${n}` }));
  const item = el(
    'li',
    { className: 'group' },
    el('h3', {}, el('span', { className: 'count', textContent: String(g.count), title: '次数' }), g.question),
    el('p', { className: 'facts', textContent: `${g.towns.join('、') || '未指明镇'} · 首次 ${day(g.firstAt)} · 最近 ${day(g.lastAt)}` }),
    el('div', {}, ...tags),
  );
  if (g.variants.length) item.append(el('p', { className: 'facts', textContent: '相似问法：' }), el('ul', {}, ...g.variants.map((v) => el('li', { textContent: v }))));
  if (g.comments.length) item.append(el('p', { className: 'facts', textContent: '居民留言：' }), el('ul', {}, ...g.comments.map((c) => el('li', { textContent: c }))));
  return item;
}

async function load() {
  const summary = $('summary');
  summary.textContent = '正在加载…';
  try {
    const data = await (await api(query())).json();
    const groups = data.groups || [];
    summary.textContent = groups.length
      ? `${data.total} 条记录，归并为 ${groups.length} 个问题（${data.grouping === 'embedding' ? '按语义相近归并' : '按相同问法归并'}），次数多的在前。`
      : '暂无记录。';
    $('lists').replaceChildren(groups.length ? el('ol', { className: 'groups' }, ...groups.map(groupItem)) : el('p', { className: 'empty', textContent: list === 'unanswered' ? '还没有未回答或被点踩的问题。' : '还没有居民评价。' }));
  } catch (err) {
    if (err.message !== 'unauthorized') summary.textContent = '加载失败，请稍后点“刷新”重试。';
  }
}

async function loadTowns() {
  try {
    const res = await fetch('/api/documents', { headers: { accept: 'application/json' } });
    const { documents } = await res.json();
    const towns = [...new Set(documents.map((d) => d.town).filter(Boolean))];
    $('town').append(...towns.map((t) => el('option', { value: t, textContent: t })));
  } catch {
    /* all towns only */
  }
}

async function exportCsv() {
  try {
    const blob = await (await api(query('csv'), 'text/csv')).blob();
    const url = URL.createObjectURL(blob);
    const a = el('a', { href: url, download: `${list === 'unanswered' ? '未回答问题' : '居民评价'}${$('town').value ? `-${$('town').value}` : ''}.csv` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    if (err.message !== 'unauthorized') $('summary').textContent = '导出失败，请稍后重试。';
  }
}

function showApp() {
  $('login').hidden = true;
  $('app').hidden = false;
  load();
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  try {
    sessionStorage.setItem(KEY, $('token').value.trim());
  } catch {
    $('login-error').textContent = '浏览器禁止了会话存储，无法保存口令。';
    return;
  }
  $('token').value = '';
  showApp();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(KEY);
  showLogin();
});
$('refresh').addEventListener('click', load);
$('export').addEventListener('click', exportCsv);
$('town').addEventListener('change', load);
for (const tab of document.querySelectorAll('[role=tab]')) {
  tab.addEventListener('click', () => {
    list = tab.dataset.list;
    for (const t of document.querySelectorAll('[role=tab]')) t.setAttribute('aria-selected', String(t === tab));
    load();
  });
}

loadTowns();
if (token()) showApp();
else showLogin();
