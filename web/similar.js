/*
 * "How others put it" (/similar?chunkId=&start=&end=): the selected sentence, then the closest
 * sentences of other towns' reports (and the same town's other years), one column per town,
 * each with its source, a link to the document view and "加入草稿". Data: GET /api/similar.
 * Text from the API is inserted as text only.
 */
import { basketButton, documentHref, el, getJson, navigation, sourceText } from './drafting-common.js';
import { ROLE_LABELS as ROLE } from './labels.js';

const $ = (id) => document.getElementById(id);

function sentenceCard(s) {
  return el(
    'article',
    { className: 'sentence-card' },
    el('p', { className: 'text', textContent: s.text }),
    el('p', { className: 'meta' }, el('span', { className: `badge ${s.role}`, textContent: ROLE[s.role] ?? s.role }), s.relation === 'other-year' ? el('span', { className: 'badge', textContent: '本镇其他年份' }) : undefined, sourceText(s)),
    el(
      'div',
      { className: 'actions' },
      basketButton({ chunkId: s.chunkId, start: s.start, end: s.end, preview: { text: s.text, town: s.town, title: s.title, date: s.date, section: s.section } }),
      el('a', { className: 'btn small', href: documentHref(s.docId, s.passage, s), target: '_blank', rel: 'noopener', textContent: '原文' }),
      el('span', { className: 'muted', textContent: `相似度 ${s.score.toFixed(2)}` }),
    ),
  );
}

async function main() {
  $('top').append(navigation());
  const params = new URLSearchParams(location.search);
  const query = new URLSearchParams();
  for (const name of ['chunkId', 'start', 'end']) if (params.get(name)) query.set(name, params.get(name));
  query.set('k', '12');
  if (!params.get('chunkId')) {
    $('status').textContent = '请先在检索结果、问答或报告原文中选择一句话，再点“他镇写法”。';
    return;
  }
  let data;
  try {
    data = await getJson(`/api/similar?${query}`);
  } catch (err) {
    $('status').textContent = `查找失败：${err.message}`;
    return;
  }
  const s = data.source;
  $('source').replaceChildren(
    el('h2', { id: 'source-h', className: 'sr', textContent: '所选句子' }),
    el('p', { className: 'text', textContent: s.text }),
    el('p', { className: 'meta muted', textContent: sourceText(s) }),
    el('div', { className: 'actions' }, basketButton({ chunkId: s.chunkId, start: s.start, end: s.end, preview: { text: s.text, town: s.town, title: s.title, date: s.date, section: s.section } }), el('a', { className: 'btn small', href: documentHref(s.docId, s.passage, s), target: '_blank', rel: 'noopener', textContent: '原文' })),
  );
  $('similar').replaceChildren(
    ...(data.towns.length
      ? data.towns.map((t) => el('section', { className: 'town-column', ariaLabel: t.town }, el('h2', { textContent: `${t.town}（${t.sentences.length} 句）` }), ...t.sentences.map(sentenceCard)))
      : [el('p', { className: 'muted', textContent: '其他报告中没有相近的句子。' })]),
  );
}

main();
