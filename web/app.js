/*
 * The staff page (/): the list of reports with links to their document view, and the one-tag
 * embedding snippet. The chat itself is the widget (widget.js, inline mode with filters).
 * Text from the API is inserted as text only.
 */
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

async function showReports() {
  const list = document.getElementById('report-list');
  try {
    const res = await fetch('/api/documents', { headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    const { documents } = await res.json();
    list.replaceChildren(
      ...documents.map((d) =>
        el(
          'li',
          {},
          el('a', { href: `/documents/${encodeURIComponent(d.docId)}`, textContent: d.title || d.docId }),
          el('span', { className: 'muted', textContent: ` ${[d.town, d.date].filter(Boolean).join(' · ')}` }),
        ),
      ),
    );
  } catch {
    const retry = el('button', { type: 'button', className: 'btn', textContent: '重试' });
    retry.addEventListener('click', showReports);
    list.replaceChildren(el('li', { className: 'muted' }, '报告列表暂时无法加载。', retry));
  }
}

function showEmbedCode() {
  const code = document.getElementById('embed-code');
  code.textContent = `<script src="${location.origin}/widget.js" data-town="梅李镇" async></script>`;
}

showEmbedCode();
showReports();
