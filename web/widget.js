/*
 * 乡镇政府工作报告问答 — the embeddable chat widget. One tag on a town website:
 *   <script src="https://qa.example.gov.cn/widget.js" data-town="梅李镇" async></script>
 * Options (data attributes): data-api (API base URL; default: this script's origin), data-town
 * (default town filter), data-title, data-accent (a CSS colour), data-position (bottom-right |
 * bottom-left), data-open ("true": start open), data-mode ("inline" with data-target, a CSS
 * selector: render inside that element instead of floating), data-filters ("true": town and year
 * selectors), data-welcome (the first line), data-presets (first questions, separated by |),
 * data-contact (how to reach a person when the reports do not answer; these three override the
 * town's settings from the service's config/towns.json), data-basket ("true": each citation gets
 * a "加入草稿" button that fires a `qa:basket-add` event on the page's document). Renders in a Shadow DOM, adds one global (window.TownQA), loads nothing but its own
 * API, and inserts every piece of corpus or user text as text, never as HTML.
 */
(() => {
  'use strict';
  if (window.TownQA) return;

  const script = document.currentScript || [...document.querySelectorAll('script[src]')].find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  const ds = (script && script.dataset) || {};
  const httpUrl = (value, base) => {
    try {
      const url = new URL(value, base);
      return url.protocol === 'http:' || url.protocol === 'https:' ? url : null;
    } catch {
      return null;
    }
  };
  const scriptUrl = script ? httpUrl(script.src, location.href) : null;
  const apiUrl = (ds.api && httpUrl(ds.api, location.href)) || scriptUrl || new URL(location.href);
  const API = (ds.api ? apiUrl.href : apiUrl.origin).replace(/\/+$/, '');
  const opts = {
    town: (ds.town || '').trim(),
    title: (ds.title || '').trim(),
    accent: (ds.accent || '').trim(),
    left: ds.position === 'bottom-left',
    inline: ds.mode === 'inline',
    target: ds.target || '',
    filters: ds.filters === 'true',
    open: ds.open === 'true',
    welcome: (ds.welcome || '').trim(),
    presets: (ds.presets || '').split('|').map((q) => q.trim()).filter(Boolean).slice(0, 6),
    contact: (ds.contact || '').trim(),
    basket: ds.basket === 'true',
  };
  const TITLE = opts.title || (opts.town ? `${opts.town}政务问答` : '政府工作报告问答');
  const MAX_CHARS = 500;
  const MAX_TURNS = 20;
  const HISTORY_TURNS = 5;
  const TIMEOUT_MS = 60000;
  const STORE_KEY = `townqa:v1:${API}|${opts.town}`;
  // Labels and town suffixes of src/domain/, written in by the server as it serves this file.
  const SHARED = /*@shared*/{}/*@shared*/;
  const ROLE = SHARED.roles || {};
  const TOWN_SUFFIX = new RegExp(`(${(SHARED.townSuffixes || []).join('|')})$`);
  /** A town's name without its suffix (梅李 for 梅李镇), as sites and residents write it. */
  const bareTown = (t) => t.replace(TOWN_SUFFIX, '');
  /** True when a text names a town by its full name or its stem (a one-character stem names nothing). */
  const namesTown = (text, t) => text.includes(t) || (bareTown(t).length >= 2 && text.includes(bareTown(t)));
  const reduceMotion = () => window.matchMedia && matchMedia('(prefers-reduced-motion: reduce)').matches;

  const STYLES = `
:host{all:initial}
*{box-sizing:border-box}
.root{font:15px/1.6 system-ui,-apple-system,"PingFang SC","Hiragino Sans GB","Microsoft YaHei","Noto Sans CJK SC","Source Han Sans SC",sans-serif;color:#1f2328;letter-spacing:normal;word-spacing:normal;text-transform:none;text-indent:0;text-align:left;text-shadow:none;white-space:normal;visibility:visible;direction:ltr;cursor:auto;-webkit-text-size-adjust:100%}
button,select,textarea{font:inherit;color:inherit}
.sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
:focus-visible{outline:3px solid var(--ring);outline-offset:2px}
.launcher{position:fixed;bottom:20px;right:20px;z-index:2147483000;display:flex;align-items:center;gap:8px;min-height:52px;padding:0 20px 0 16px;border:0;border-radius:26px;background:var(--accent);color:var(--on-accent);font-size:16px;font-weight:600;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.25);transition:transform .15s}
.launcher:hover{transform:translateY(-2px)}
.launcher[hidden]{display:none}
.left .launcher{right:auto;left:20px}
.launcher svg{width:24px;height:24px;fill:currentColor}
.panel{position:fixed;bottom:84px;right:20px;z-index:2147483001;display:flex;flex-direction:column;width:400px;max-width:calc(100vw - 24px);height:min(640px,calc(100vh - 104px));background:#fff;border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.28);overflow:hidden;animation:rise .18s ease-out}
.left .panel{right:auto;left:20px}
.panel[hidden]{display:none}
@keyframes rise{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}
.inline{height:100%}
.inline .panel{position:relative;bottom:auto;right:auto;left:auto;z-index:auto;width:100%;max-width:none;height:100%;min-height:460px;box-shadow:none;border:1px solid #d0d7de;animation:none}
.head{display:flex;align-items:center;gap:4px;padding:10px 8px 10px 16px;background:var(--accent);color:var(--on-accent)}
.head h2{flex:1;margin:0;font-size:17px;line-height:1.3}
.head small{display:block;font-size:12px;font-weight:400;opacity:.92}
.icon{display:inline-flex;align-items:center;justify-content:center;min-width:44px;min-height:44px;padding:0 6px;border:0;border-radius:8px;background:transparent;color:inherit;cursor:pointer;font-size:14px}
.icon:hover{background:rgba(255,255,255,.16)}
.icon svg{width:22px;height:22px;fill:currentColor}
.head :focus-visible{outline-color:var(--on-accent)}
.filters{display:flex;gap:8px;padding:8px 12px;border-bottom:1px solid #d0d7de;background:#f6f8fa;font-size:14px}
.filters label{display:flex;align-items:center;gap:4px}
.filters select{min-height:36px;padding:2px 6px;border:1px solid #8c959f;border-radius:6px;background:#fff}
.log{flex:1;overflow-y:auto;padding:12px;overscroll-behavior:contain;scroll-behavior:smooth}
.intro{margin:4px 0 8px;color:#57606a;font-size:14px}
.sugg{display:flex;flex-direction:column;gap:8px;margin:0;padding:0;list-style:none}
.sugg button{width:100%;min-height:44px;padding:8px 12px;border:1px solid #d0d7de;border-radius:10px;background:#fff;text-align:left;cursor:pointer;line-height:1.45}
.sugg button:hover{border-color:var(--accent-text);color:var(--accent-text)}
.msg{max-width:92%;margin:8px 0;padding:10px 12px;border-radius:12px;overflow-wrap:anywhere;word-break:break-word}
.user{margin-left:auto;background:var(--accent);color:var(--on-accent);white-space:pre-wrap;border-bottom-right-radius:4px}
.bot{background:#f3f4f6;border-bottom-left-radius:4px}
.bot.notfound{background:#fff8e6;border:1px solid #d4a72c}
.bot.partial{background:#fff;border:1px dashed #57606a}
.bot.partial .badge{color:#424a53}
.contact{margin:8px 0 0;padding:6px 10px;border-radius:8px;background:#fff;border:1px solid #d0d7de;font-size:14px}
.contact b{font-weight:700}
.fb{display:flex;flex-wrap:wrap;align-items:center;gap:6px;margin-top:8px;font-size:13px;color:#57606a}
.fb .btn{display:inline-flex;align-items:center;gap:4px}
.fb .btn svg{width:16px;height:16px;fill:currentColor}
.fb .btn[aria-pressed=true]{border-color:var(--accent-text);color:var(--accent-text);font-weight:700}
.fb-form{display:flex;flex-direction:column;gap:6px;width:100%;margin-top:4px}
.fb-form textarea{min-height:56px;padding:6px 8px;border:1px solid #8c959f;border-radius:8px;resize:vertical;font-size:14px}
.fb-reasons{display:flex;flex-wrap:wrap;gap:6px}
.next{margin:6px 0 4px}
.next p{margin:0 0 4px;color:#57606a;font-size:13px}
.next ul{display:flex;flex-wrap:wrap;gap:6px;margin:0;padding:0;list-style:none}
.next button{min-height:36px;padding:4px 12px;border:1px solid var(--accent-text);border-radius:18px;background:#fff;color:var(--accent-text);cursor:pointer;font-size:13px;text-align:left;line-height:1.4}
.link{color:var(--accent-text);font-weight:600}
.cite-row{display:flex;align-items:stretch}
.cite-row .cite-t{flex:1}
.cite-row .add{flex:none;align-self:center;margin-right:8px}
.cite-t .src{display:flex;flex-direction:column;min-width:0}
.cite-t .sec{color:#57606a;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.bot.failed{background:#fff1f0;border:1px solid #cf222e}
.badge{margin:0 0 6px;font-weight:700;font-size:14px;color:#7d4e00}
.answer{margin:0;white-space:pre-wrap}
.pending{margin:0;color:#57606a}
.pending::after{content:"…";animation:blink 1s steps(2) infinite}
@keyframes blink{50%{opacity:0}}
.marker{color:var(--accent-text);font-weight:700;text-decoration:none;padding:0 1px;border-radius:3px}
.marker:hover{text-decoration:underline}
.cites-h{margin:10px 0 4px;font-size:13px;font-weight:700;color:#57606a}
.cites{margin:0;padding:0;list-style:none;display:flex;flex-direction:column;gap:6px}
.cite{border:1px solid #d0d7de;border-radius:8px;background:#fff}
.cite.flash{animation:flash 1.2s}
@keyframes flash{0%{box-shadow:0 0 0 3px var(--ring)}100%{box-shadow:none}}
.cite-t{display:flex;gap:6px;width:100%;min-height:44px;padding:8px 10px;border:0;background:transparent;text-align:left;cursor:pointer;font-size:13px;line-height:1.45}
.cite-t .n{flex:none;color:var(--accent-text);font-weight:700}
.cite-t .chev{margin-left:auto;transition:transform .15s}
.cite-t[aria-expanded=true] .chev{transform:rotate(180deg)}
.cite-b{padding:0 10px 10px;font-size:13px}
.cite-b[hidden]{display:none}
.meta{margin:0 0 4px;color:#57606a;font-size:13px}
.note{margin:6px 0 0}
.passage{margin:6px 0;padding:8px 10px;border-left:3px solid #8c959f;background:#f6f8fa;white-space:pre-wrap;line-height:1.65}
mark{background:#ffe58f;color:#1f2328;padding:0 1px;border-radius:2px}
mark::before,mark::after{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(100%);white-space:nowrap}
mark::before{content:"（引用句开始）"}
mark::after{content:"（引用句结束）"}
.doc-link{color:var(--accent-text);font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:8px;margin-top:8px}
.btn{min-height:36px;padding:4px 12px;border:1px solid #8c959f;border-radius:8px;background:#fff;cursor:pointer;font-size:13px}
.btn:hover{border-color:var(--accent-text);color:var(--accent-text)}
.btn.primary{background:var(--accent);border-color:var(--accent);color:var(--on-accent)}
.err{margin:0}
.composer{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid #d0d7de;background:#fff}
.composer textarea{flex:1;min-height:44px;max-height:120px;padding:10px;border:1px solid #8c959f;border-radius:10px;resize:none;line-height:1.45;font-size:16px}
.send{min-width:64px;min-height:44px;border:0;border-radius:10px;background:var(--accent);color:var(--on-accent);font-weight:600;cursor:pointer}
.send:disabled{opacity:.6;cursor:default}
.foot{margin:0;padding:0 12px 8px;color:#57606a;font-size:12px;background:#fff}
@media (max-width:480px){
.panel:not(.in){inset:0;bottom:0;right:0;left:0;width:100%;max-width:none;height:100%;border-radius:0}
.launcher{bottom:16px;right:16px}
.left .launcher{left:16px}
.msg{max-width:100%}
}
@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important;scroll-behavior:auto!important}}
@media (forced-colors:active){.launcher,.send,.user,.btn.primary{border:1px solid}}
`;

  // ---------- DOM helpers: text only, never markup ----------
  const h = (tag, attrs, ...children) => {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === false || v == null) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) if (c != null && c !== false) el.append(typeof c === 'string' ? document.createTextNode(c) : c);
    return el;
  };
  const svg = (d, flip) => {
    const ns = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('aria-hidden', 'true');
    s.setAttribute('focusable', 'false');
    if (flip) s.setAttribute('transform', 'rotate(180)');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', d);
    s.append(p);
    return s;
  };
  const ICON_CHAT = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zm3 6v2h2v-2H7zm4 0v2h2v-2h-2zm4 0v2h2v-2h-2z';
  const ICON_CLOSE = 'M18.3 5.7 12 12l6.3 6.3-1.4 1.4L10.6 13.4 4.3 19.7 2.9 18.3 9.2 12 2.9 5.7 4.3 4.3l6.3 6.3 6.3-6.3z';
  const ICON_UP = 'M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6c-.4.4-.6.9-.6 1.4v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z';
  const ICON_CLEAR = 'M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 0v8h2v-8h-2z';

  // ---------- state ----------
  const memory = {};
  const store = {
    get() {
      try {
        return JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
      } catch {
        return memory.v || null;
      }
    },
    set(v) {
      memory.v = v;
      try {
        sessionStorage.setItem(STORE_KEY, JSON.stringify(v));
      } catch {
        /* storage full or disabled: the conversation lives in memory only */
      }
    },
  };
  const saved = store.get() || {};
  const state = {
    turns: Array.isArray(saved.turns) ? saved.turns.filter((t) => t && typeof t.question === 'string').slice(-MAX_TURNS) : [],
    open: opts.inline || Boolean(saved.open) || opts.open,
    town: typeof saved.town === 'string' ? saved.town : opts.town,
    year: typeof saved.year === 'string' ? saved.year : '',
    towns: null,
    suggestions: null,
    settings: null,
    history: true,
    busy: null,
    seq: 0,
  };
  for (const t of state.turns) {
    // A turn cut short by the navigation is offered again instead of shown half done.
    if (t.status === 'streaming') Object.assign(t, { status: 'error', error: { kind: 'network', text: '页面跳转中断了这次回答，请重试。' } });
    // Feedback cut short by the navigation can be given again.
    if (t.rated && t.rated.state === 'sending') t.rated = undefined;
    if (!t.id) t.id = ++state.seq;
    state.seq = Math.max(state.seq, t.id);
  }
  const persist = () =>
    store.set({
      open: !opts.inline && state.open,
      town: state.town,
      year: state.year,
      turns: state.turns.slice(-MAX_TURNS).map(({ id, question, answer, found, outcome, reason, answerId, mode, rewritten, citations, status, error, rated, next, standalone }) => ({ id, question, answer, found, outcome, reason, answerId, mode, rewritten, citations, status, error, rated, next, standalone })),
    });

  // ---------- API ----------
  const api = (path) => `${API}${path}`;
  async function getJson(path) {
    const res = await fetch(api(path), { headers: { accept: 'application/json' }, credentials: 'omit' });
    if (!res.ok) throw Object.assign(new Error(`HTTP ${res.status}`), { status: res.status });
    return res.json();
  }

  /** Parses a text/event-stream body into {event, data} objects as they arrive. */
  async function* readEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += value;
      buf = buf.replace(/\r\n?/g, '\n');
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (!line || line[0] === ':') continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
          if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
      }
    }
  }

  /** The town filter for a question: none when the question names another town the service knows. */
  function townFilter(question) {
    const town = state.town;
    if (!town) return undefined;
    const towns = state.towns || [];
    if (towns.length && !towns.includes(town)) return undefined;
    const other = towns.find((t) => t !== town && namesTown(question, t));
    return other ? undefined : town;
  }

  function requestBody(turn) {
    const body = { question: turn.question };
    const filters = {};
    // A next-question chip is sent exactly as the service checked it: its town, no year, no history.
    const town = typeof turn.standalone === 'string' ? turn.standalone : townFilter(turn.question);
    if (town) filters.town = town;
    if (state.year && !turn.standalone) filters.year = Number(state.year);
    if (Object.keys(filters).length) body.filters = filters;
    if (state.history && !turn.standalone) {
      const prior = state.turns.filter((t) => t.id < turn.id && t.status === 'done').slice(-HISTORY_TURNS);
      // Bounded so that five turns stay well inside the server's 16 KB body limit.
      if (prior.length) body.history = prior.map((t) => ({ question: t.question.slice(0, 200), answer: (t.answer || '').slice(0, 600) }));
    }
    return body;
  }

  /** Turns a failed request into what the user reads, and whether a retry may help. */
  function describeFailure(status, payload, retryAfter) {
    const code = payload && payload.error && payload.error.code;
    if (status === 429 || code === 'E_RATE_LIMITED') {
      const s = Number(retryAfter);
      return { kind: 'rate', text: `提问太频繁了，请${s > 0 ? `${s}秒后` : '稍等片刻'}再试。感谢您的耐心！` };
    }
    if (code === 'E_QUESTION_TOO_LONG') return { kind: 'input', text: `问题太长了，请精简到${MAX_CHARS}字以内。` };
    if (code === 'E_QUESTION_MISSING') return { kind: 'input', text: '请先输入问题。' };
    if (code === 'E_UNKNOWN_FILTER') return { kind: 'input', text: '所选的镇或年份暂时没有报告，请调整筛选条件后再问。' };
    if (status === 503) return { kind: 'retry', text: '问答服务正在准备中，请稍后重试。' };
    if (status >= 400 && status < 500) return { kind: 'input', text: '这个问题暂时无法处理，请换个说法再试。' };
    return { kind: 'retry', text: '问答服务暂时出了点问题，请稍后重试。' };
  }

  async function ask(turn) {
    if (state.busy) return;
    const ctrl = new AbortController();
    const timer = setTimeout(() => ctrl.abort(), TIMEOUT_MS);
    state.busy = ctrl;
    Object.assign(turn, { status: 'streaming', answer: '', citations: [], found: undefined, outcome: undefined, reason: undefined, answerId: undefined, rated: undefined, next: undefined, mode: undefined, rewritten: undefined, error: undefined });
    renderTurn(turn);
    updateComposer();
    // Saved now, so a navigation mid-answer leaves the question with a retry on the next page.
    persist();
    announce('正在查找报告，请稍候。');
    const live = () => state.busy === ctrl && state.turns.includes(turn);
    try {
      let res;
      for (;;) {
        res = await fetch(api('/api/ask/stream'), {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
          body: JSON.stringify(requestBody(turn)),
          credentials: 'omit',
          signal: ctrl.signal,
        });
        if (res.ok || res.status !== 400 || !state.history) break;
        // A server that does not take `history` yet says so by naming it: ask again without.
        const payload = await res.clone().json().catch(() => null);
        const message = (payload && payload.error && payload.error.message) || '';
        if (!/history/.test(message)) break;
        state.history = false;
      }
      if (!res.ok) {
        const payload = await res.json().catch(() => null);
        return fail(turn, describeFailure(res.status, payload, res.headers.get('retry-after')));
      }
      let done = false;
      for await (const { event, data } of readEvents(res.body)) {
        if (!live()) return;
        if (event === 'meta') Object.assign(turn, { found: data.found, outcome: outcomeOf(data), reason: data.reason, mode: data.mode, rewritten: data.rewrittenQuestion, citations: data.citations || [] });
        else if (event === 'delta') turn.answer += data.text || '';
        else if (event === 'replace') turn.answer = data.text || '';
        else if (event === 'done') {
          Object.assign(turn, { answer: data.answer, found: data.found, outcome: outcomeOf(data), reason: data.reason, answerId: typeof data.answerId === 'string' ? data.answerId : undefined, mode: data.mode, rewritten: data.rewrittenQuestion, citations: data.citations || [] });
          done = true;
        } else if (event === 'error') return fail(turn, describeFailure(500, data, null));
        renderTurn(turn);
      }
      if (!done) throw new Error('stream ended early');
      turn.status = 'done';
      renderTurn(turn);
      announce(`${OUTCOME_SPOKEN[turn.outcome] || '回答'}：${spoken(turn.answer)}${turn.outcome !== 'answered' && contactLine() ? `。${contactLine()}` : ''}`);
      loadNext(turn);
    } catch (err) {
      if (!live()) return;
      fail(turn, err && err.name === 'AbortError' ? { kind: 'retry', text: '等待时间过长，请重试。' } : { kind: 'retry', text: '暂时连不上问答服务，请检查网络后重试。' });
    } finally {
      clearTimeout(timer);
      if (state.busy === ctrl) state.busy = null;
      persist();
      updateComposer();
    }
  }

  function fail(turn, error) {
    Object.assign(turn, { status: 'error', error });
    renderTurn(turn);
    announce(error.text);
  }

  const spoken = (text) => (text || '').replace(/\[(\d+)\]/g, '（引用$1）');

  /** answered | partial | not_found: the service's status, or (an older service) its found flag. */
  const outcomeOf = (data) => (['answered', 'partial', 'not_found'].includes(data.status) ? data.status : data.found ? 'answered' : 'not_found');
  const OUTCOME_SPOKEN = { answered: '回答', partial: '报告只部分回答了这个问题', not_found: '未在报告中找到依据' };

  /** How to reach a person: the page's data-contact, else the town's settings. */
  function contactLine() {
    const s = state.settings || {};
    const contact = opts.contact || s.contact;
    if (!contact) return '';
    return `需要人工帮助：${contact}${!opts.contact && s.hours ? `（${s.hours}）` : ''}`;
  }

  /** Two or three follow-ups the service has checked it answers, offered under the latest answer. */
  async function loadNext(turn) {
    if (!turn.answerId) return;
    try {
      const data = await getJson(`/api/next-questions?answerId=${encodeURIComponent(turn.answerId)}`);
      if (!state.turns.includes(turn) || turn.status !== 'done') return;
      turn.next = (Array.isArray(data.questions) ? data.questions : []).filter((q) => q && typeof q.question === 'string').slice(0, 3);
      persist();
      renderNext(turn);
    } catch {
      /* no chips: asking still works */
    }
  }

  async function sendFeedback(turn, body) {
    turn.rated = { ...(turn.rated || {}), state: 'sending' };
    renderFeedback(turn);
    try {
      const res = await fetch(api('/api/feedback'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ answerId: turn.answerId, ...body }),
        credentials: 'omit',
      });
      turn.rated = { rating: body.rating, state: res.ok ? 'sent' : res.status === 429 ? 'rate' : 'error' };
    } catch {
      turn.rated = { rating: body.rating, state: 'error' };
    }
    persist();
    renderFeedback(turn);
    announce(turn.rated.state === 'sent' ? '感谢您的反馈。' : '反馈没有发送成功，请稍后再试。');
  }

  // ---------- rendering ----------
  let host, root, ui;

  function docUrl(c) {
    const q = new URLSearchParams({ start: c.start, end: c.end });
    if (c.quote) {
      q.set('qs', c.quote.start);
      q.set('qe', c.quote.end);
    }
    return `${API}/documents/${encodeURIComponent(c.docId)}?${q}`;
  }

  const sourceLine = (c) => [c.town, `《${c.title}》`, c.date].filter(Boolean).join(' · ');
  /** The quoted sentence (or the passage), as the text it is. */
  const quoteOf = (c) => (c.quote ? (c.text || '').slice(Math.max(0, c.quote.start - c.start), Math.max(0, c.quote.end - c.start)) : '') || c.text || '';
  /** What tells one citation of a report from another when collapsed: its section and first words. */
  const previewOf = (c) => {
    const section = (c.section || '').split(' > ').pop() || '';
    const words = [...quoteOf(c).trim()];
    return [section && `§ ${[...section].slice(0, 18).join('')}${[...section].length > 18 ? '…' : ''}`, words.length && `“${words.slice(0, 16).join('')}${words.length > 16 ? '…' : ''}”`].filter(Boolean).join(' · ');
  };

  /** The passage as text nodes, with the quoted sentence (document offsets) in a <mark>. */
  function passageNodes(c) {
    const text = c.text || '';
    if (!c.quote) return [text];
    const a = Math.max(0, Math.min(text.length, c.quote.start - c.start));
    const b = Math.max(a, Math.min(text.length, c.quote.end - c.start));
    if (b <= a) return [text];
    return [text.slice(0, a), h('mark', {}, text.slice(a, b)), text.slice(b)];
  }

  /** A citation marker, a path of the service's pages, or an absolute URL. */
  const LINKABLE = /\[(\d+)\]|(?<![\w/.])\/(?:commitments|documents\/)[^\s,，。;；:：)）]*|https?:\/\/[^\s,，。;；)）]+/g;
  /** The absolute URL of a path or URL on the service; empty for anything elsewhere (never linked). */
  function serviceLink(text) {
    try {
      const url = text.startsWith('/') ? new URL(API + text) : new URL(text);
      return url.href.startsWith(`${API}/`) ? url.href : '';
    } catch {
      return '';
    }
  }
  const absoluteLinks = (text) => (text || '').replace(/(?<![\w/.])\/(?:commitments|documents\/)[^\s,，。;；:：)）]*/g, (p) => serviceLink(p) || p);

  const citedNumbers = (answer) => new Set([...(answer || '').matchAll(/\[(\d+)\]/g)].map((m) => Number(m[1])));

  function answerNodes(turn, byN) {
    const nodes = [];
    let last = 0;
    const text = turn.answer || '';
    for (const m of text.matchAll(LINKABLE)) {
      nodes.push(text.slice(last, m.index));
      const c = m[1] ? byN.get(Number(m[1])) : undefined;
      const href = m[1] ? '' : serviceLink(m[0]);
      if (href) {
        // A page of the service (the commitment list): absolute, so it opens the service, not the host site.
        nodes.push(h('a', { class: 'link', href, target: '_blank', rel: 'noopener', text: /^\/commitments/.test(m[0]) || href.startsWith(`${API}/commitments`) ? '打开承诺清单' : m[0] }, h('span', { class: 'sr', text: '（在新窗口打开）' }), ' ↗'));
      } else if (c) {
        nodes.push(
          h('a', {
            class: 'marker',
            href: docUrl(c),
            'data-n': c.n,
            'aria-label': `引用${c.n}：${sourceLine(c)}`,
            text: m[0],
            onclick: (e) => {
              if (e.ctrlKey || e.metaKey || e.shiftKey || e.button) return;
              e.preventDefault();
              showCitation(turn, c.n);
            },
          }),
        );
      } else nodes.push(m[0]);
      last = m.index + m[0].length;
    }
    nodes.push(text.slice(last));
    return nodes;
  }

  function citationItem(turn, c) {
    const bodyId = `qa-c-${turn.id}-${c.n}`;
    const toggle = h(
      'button',
      { type: 'button', class: 'cite-t', 'aria-expanded': 'false', 'aria-controls': bodyId },
      h('span', { class: 'n', text: `[${c.n}]` }),
      h('span', { class: 'src' }, h('span', { text: sourceLine(c) }), h('span', { class: 'sec', text: previewOf(c) })),
      h('span', { class: 'chev', 'aria-hidden': 'true', text: '▾' }),
    );
    const body = h(
      'div',
      { class: 'cite-b', id: bodyId, hidden: true, role: 'region', 'aria-label': `引用${c.n}的原文` },
      h('p', { class: 'meta', text: `章节：${c.section || '（无）'}` }),
      h('p', { class: 'meta', text: `类型：${ROLE[c.role] || '其他'}${c.date ? `　日期：${c.date}` : ''}` }),
      h('blockquote', { class: 'passage' }, passageNodes(c)),
      h('a', { class: 'doc-link', href: docUrl(c), target: '_blank', rel: 'noopener' }, '在原文中查看', h('span', { class: 'sr', text: '（在新窗口打开）' }), ' ↗'),
    );
    toggle.addEventListener('click', () => setExpanded(toggle, body, toggle.getAttribute('aria-expanded') !== 'true'));
    const row = h('div', { class: 'cite-row' }, toggle);
    if (opts.basket) {
      // The drafting page owns the basket: the widget only says what to add.
      const span = c.quote ? { start: c.quote.start, end: c.quote.end } : { start: c.start, end: c.end };
      const add = h('button', { type: 'button', class: 'btn add', 'aria-label': `把引用${c.n}加入草稿`, text: '加入草稿' });
      add.addEventListener('click', () => {
        document.dispatchEvent(new CustomEvent('qa:basket-add', { detail: { chunkId: c.chunkId, ...span } }));
        add.textContent = '已加入';
        announce(`引用${c.n}已加入草稿。`);
      });
      row.append(add);
    }
    return h('li', { class: 'cite', 'data-n': c.n }, row, body);
  }

  function setExpanded(toggle, body, open) {
    toggle.setAttribute('aria-expanded', String(open));
    body.hidden = !open;
  }

  function showCitation(turn, n) {
    const item = ui.log.querySelector(`[data-turn="${turn.id}"] .cite[data-n="${n}"]`);
    if (!item) return;
    const toggle = item.querySelector('.cite-t');
    setExpanded(toggle, item.querySelector('.cite-b'), true);
    item.classList.remove('flash');
    void item.offsetWidth;
    item.classList.add('flash');
    item.scrollIntoView({ block: 'nearest', behavior: reduceMotion() ? 'auto' : 'smooth' });
    toggle.focus({ preventScroll: true });
  }

  function plainText(turn) {
    const lines = [`问：${turn.question}`, `答：${absoluteLinks(turn.answer)}`];
    const cited = citedNumbers(turn.answer);
    const list = (turn.citations || []).filter((c) => (turn.found ? cited.has(c.n) : true));
    if (list.length) {
      lines.push(turn.found ? '出处：' : turn.outcome === 'partial' ? '相关段落（没有完全回答）：' : '最接近的段落（仅供参考）：');
      for (const c of list) {
        const quote = c.quote ? c.text.slice(Math.max(0, c.quote.start - c.start), Math.max(0, c.quote.end - c.start)) : '';
        lines.push(`[${c.n}] ${c.town}《${c.title}》${c.date ? `（${c.date}）` : ''}${c.section ? `，${c.section}` : ''}`);
        lines.push(`    “${(turn.found && quote) || c.text}”`);
      }
    }
    return lines.join('\n');
  }

  async function copyTurn(turn, button) {
    const text = plainText(turn);
    let ok = false;
    try {
      await navigator.clipboard.writeText(text);
      ok = true;
    } catch {
      // No clipboard permission (an http page, a restrictive host): the old way.
      const area = h('textarea', { class: 'sr', readonly: true, 'aria-hidden': 'true' });
      area.value = text;
      root.append(area);
      area.select();
      try {
        ok = document.execCommand('copy');
      } catch {
        ok = false;
      }
      area.remove();
    }
    button.textContent = ok ? '已复制' : '复制失败';
    announce(ok ? '已复制答案和出处。' : '复制失败，请手动选择文字复制。');
    setTimeout(() => (button.textContent = '复制答案和出处'), 2000);
  }

  const REASONS = ['答案不对', '没有回答我的问题', '引用不对'];
  const BADGE = { not_found: '未在报告中找到依据', partial: '报告只部分回答了这个问题' };

  function renderTurn(turn) {
    let el = ui.log.querySelector(`[data-turn="${turn.id}"]`);
    if (!el) {
      el = h('div', { class: 'turn', 'data-turn': turn.id });
      ui.log.append(el);
    }
    const byN = new Map((turn.citations || []).map((c) => [c.n, c]));
    const bot = h('div', { class: 'msg bot', 'aria-busy': String(turn.status === 'streaming') });
    const outcome = turn.outcome || (turn.found === false ? 'not_found' : turn.found ? 'answered' : undefined);
    if (turn.status === 'error' && turn.error) {
      bot.classList.add('failed');
      bot.append(h('p', { class: 'err', role: 'alert', text: turn.error.text }));
      if (turn.error.kind !== 'input') {
        bot.append(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'btn primary retry', onclick: () => ask(turn), text: '重试' })));
      }
    } else {
      // A partial answer is neither styled as an answer nor as nothing: its own frame and badge.
      if (outcome === 'not_found' || outcome === 'partial') {
        bot.classList.add(outcome === 'partial' ? 'partial' : 'notfound');
        bot.append(h('p', { class: 'badge', text: BADGE[outcome] }));
      }
      // A follow-up is answered as the service understood it: say how.
      if (turn.rewritten && turn.rewritten !== turn.question) bot.append(h('p', { class: 'meta', text: `按“${turn.rewritten}”理解` }));
      if (turn.answer) bot.append(h('p', { class: 'answer' }, answerNodes(turn, byN)));
      else bot.append(h('p', { class: 'pending', text: '正在查找报告' }));
      if (turn.mode && turn.mode !== 'extractive' && turn.answer) bot.append(h('p', { class: 'meta note', text: '此回答由AI依据报告原文整理，请核对引用来源。' }));
      const contact = turn.status === 'done' && outcome !== 'answered' ? contactLine() : '';
      if (contact) bot.append(h('p', { class: 'contact' }, h('b', { text: '需要人工帮助：' }), contact.replace(/^需要人工帮助：/, '')));
      const cited = citedNumbers(turn.answer);
      const list = (turn.citations || []).filter((c) => (outcome === 'answered' || (outcome === undefined && turn.found !== false) ? cited.has(c.n) : outcome === 'partial' && cited.size ? cited.has(c.n) : true));
      if (list.length && (turn.status === 'done' || outcome === 'answered')) {
        const headId = `qa-h-${turn.id}`;
        const head = outcome === 'not_found' ? '最接近的段落（仅供参考，并非答案）' : outcome === 'partial' ? '相关段落（没有完全回答您的问题）' : '引用来源';
        bot.append(h('p', { class: 'cites-h', id: headId, text: head }), h('ol', { class: 'cites', 'aria-labelledby': headId }, list.map((c) => citationItem(turn, c))));
      }
      if (turn.status === 'done') {
        const copy = h('button', { type: 'button', class: 'btn copy', text: '复制答案和出处' });
        copy.addEventListener('click', () => copyTurn(turn, copy));
        bot.append(h('div', { class: 'actions' }, copy));
        if (turn.answerId) bot.append(h('div', { class: 'fb', role: 'group', 'aria-label': '这个回答有帮助吗' }));
      }
    }
    // Keep open citations open across re-renders while the answer streams in.
    const open = [...el.querySelectorAll('.cite-t[aria-expanded=true]')].map((b) => b.closest('.cite').dataset.n);
    el.replaceChildren(h('div', { class: 'msg user' }, h('span', { class: 'sr', text: '我的问题：' }), turn.question), bot);
    for (const n of open) {
      const item = el.querySelector(`.cite[data-n="${n}"]`);
      if (item) setExpanded(item.querySelector('.cite-t'), item.querySelector('.cite-b'), true);
    }
    renderFeedback(turn);
    renderNext(turn);
    if (turn.status !== 'done') scrollToEnd();
  }

  /** 👍/👎 under an answer; a 👎 opens quick reasons and a short comment. Updated in place. */
  function renderFeedback(turn) {
    const box = ui.log.querySelector(`[data-turn="${turn.id}"] .fb`);
    if (!box) return;
    const rated = turn.rated || {};
    if (rated.state === 'sent') return box.replaceChildren(h('span', { text: rated.rating === 'up' ? '感谢您的肯定！' : '感谢反馈，我们会转给工作人员改进。' }));
    // Drawn icons, not emoji: a government PC without an emoji font would show empty boxes.
    const up = h('button', { type: 'button', class: 'btn up', 'aria-pressed': String(rated.rating === 'up'), disabled: rated.state === 'sending' }, svg(ICON_UP), '有帮助');
    const down = h('button', { type: 'button', class: 'btn down', 'aria-pressed': String(rated.rating === 'down'), 'aria-expanded': String(rated.rating === 'down'), disabled: rated.state === 'sending' }, svg(ICON_UP, true), '没帮助');
    up.addEventListener('click', () => sendFeedback(turn, { rating: 'up' }));
    down.addEventListener('click', () => {
      turn.rated = { rating: 'down', state: 'open' };
      renderFeedback(turn);
      box.querySelector('.fb-reasons button').focus();
    });
    const parts = [h('span', { text: '这个回答有帮助吗？' }), up, down];
    if (rated.rating === 'down' && rated.state !== 'sending') {
      let reason = rated.reason || '';
      const reasons = REASONS.map((r) => {
        const b = h('button', { type: 'button', class: 'btn reason', 'aria-pressed': String(r === reason), text: r });
        b.addEventListener('click', () => {
          reason = reason === r ? '' : r;
          turn.rated.reason = reason;
          for (const x of box.querySelectorAll('.reason')) x.setAttribute('aria-pressed', String(x.textContent === reason));
        });
        return b;
      });
      const comment = h('textarea', { class: 'comment', maxlength: '500', rows: '2', placeholder: '可以补充说明（选填，请勿填写个人信息）', 'aria-label': '补充说明（选填）' });
      comment.value = rated.comment || '';
      comment.addEventListener('input', () => (turn.rated.comment = comment.value));
      const submit = h('button', { type: 'button', class: 'btn primary submit', text: '提交反馈' });
      submit.addEventListener('click', () => sendFeedback(turn, { rating: 'down', ...(reason ? { reason } : {}), ...(comment.value.trim() ? { comment: comment.value.trim().slice(0, 500) } : {}) }));
      parts.push(h('div', { class: 'fb-form' }, h('div', { class: 'fb-reasons', role: 'group', 'aria-label': '哪里不对' }, reasons), comment, h('div', {}, submit)));
    }
    if (rated.state === 'error' || rated.state === 'rate') parts.push(h('span', { role: 'alert', text: rated.state === 'rate' ? '提交太频繁了，请稍后再试。' : '反馈没有发送成功，请稍后再试。' }));
    box.replaceChildren(...parts);
  }

  /** Next-question chips, under the latest answer only. */
  function renderNext(turn) {
    const el = ui.log.querySelector(`[data-turn="${turn.id}"]`);
    if (!el) return;
    const old = el.querySelector('.next');
    const latest = state.turns[state.turns.length - 1] === turn;
    if (!latest || !turn.next || !turn.next.length || turn.status !== 'done') return old && old.remove();
    const headId = `qa-n-${turn.id}`;
    const box = h(
      'div',
      { class: 'next' },
      h('p', { id: headId, text: turn.outcome === 'answered' ? '您可能还想问：' : '报告能回答这些问题：' }),
      h('ul', { 'aria-labelledby': headId }, turn.next.map((q) => h('li', {}, h('button', { type: 'button', text: q.question, onclick: () => send(q.question, q.town || true) })))),
    );
    if (old) old.replaceWith(box);
    else el.append(box);
  }

  function scrollToEnd() {
    ui.log.scrollTop = ui.log.scrollHeight;
  }

  function renderIntro() {
    const intro = ui.log.querySelector('.intro-box');
    if (state.turns.length) {
      if (intro) intro.remove();
      return;
    }
    const welcome = opts.welcome || (state.settings && state.settings.welcome) || `您好！我可以根据${state.town || '各镇'}的政府工作报告回答问题，并注明出处。`;
    const box = h('div', { class: 'intro-box' }, h('p', { class: 'intro', text: welcome }));
    // The page's presets, else the town's (config/towns.json), else questions derived from its reports.
    const presets = opts.presets.length ? opts.presets : state.settings && Array.isArray(state.settings.presets) ? state.settings.presets : [];
    const list = presets.length ? presets.map((question) => ({ question })) : state.suggestions;
    if (list && list.length) {
      box.append(
        h('p', { class: 'intro', id: 'qa-sugg-h', text: '您可以这样问：' }),
        h('ul', { class: 'sugg', 'aria-labelledby': 'qa-sugg-h' }, list.map((s) => h('li', {}, h('button', { type: 'button', text: s.question, onclick: () => send(s.question) })))),
      );
    }
    if (intro) intro.replaceWith(box);
    else ui.log.prepend(box);
  }

  function renderAll() {
    ui.log.replaceChildren();
    renderIntro();
    for (const t of state.turns) renderTurn(t);
    scrollToEnd();
  }

  function announce(text) {
    ui.status.textContent = '';
    setTimeout(() => (ui.status.textContent = text), 50);
  }

  function updateComposer() {
    ui.send.disabled = Boolean(state.busy);
    ui.send.setAttribute('aria-label', state.busy ? '正在回答，请稍候' : '发送问题');
  }

  // ---------- actions ----------
  function send(text, standalone) {
    const question = (text || '').trim();
    if (!question || state.busy) return;
    const turn = { id: ++state.seq, question: [...question].slice(0, MAX_CHARS).join(''), ...(standalone ? { standalone } : {}) };
    const previous = state.turns[state.turns.length - 1];
    state.turns.push(turn);
    if (previous) renderNext(previous);
    if (state.turns.length > MAX_TURNS) {
      state.turns.splice(0, state.turns.length - MAX_TURNS);
      renderAll();
    }
    renderIntro();
    ask(turn);
  }

  function clear() {
    if (state.busy) state.busy.abort();
    state.busy = null;
    state.turns = [];
    persist();
    renderAll();
    updateComposer();
    announce('对话已清空。');
    ui.input.focus();
  }

  function setOpen(open, focus = true) {
    if (opts.inline) open = true;
    state.open = open;
    ui.panel.hidden = !open;
    if (ui.launcher) {
      ui.launcher.setAttribute('aria-expanded', String(open));
      ui.launcher.hidden = open && window.innerWidth <= 480;
    }
    persist();
    if (open) {
      loadSuggestions();
      if (focus) ui.input.focus();
      scrollToEnd();
    } else if (focus && ui.launcher) ui.launcher.focus();
  }

  let loadingSettings = null;
  /** The town's welcome line, presets and contact (config/towns.json on the service). */
  function loadSettings(force) {
    if (loadingSettings && !force) return loadingSettings;
    loadingSettings = getJson(`/api/widget-settings${state.town ? `?town=${encodeURIComponent(state.town)}` : ''}`)
      .then((data) => {
        state.settings = data && typeof data.settings === 'object' && data.settings ? data.settings : {};
        renderIntro();
        // Answers restored from an earlier page get their contact line now.
        for (const t of state.turns) if (t.status === 'done' && t.outcome && t.outcome !== 'answered') renderTurn(t);
      })
      .catch(() => {
        loadingSettings = null;
      });
    return loadingSettings;
  }

  let loading = null;
  function loadSuggestions(force) {
    loadSettings(force);
    if (loading && !force) return loading;
    const query = (town) => getJson(`/api/suggestions${town ? `?town=${encodeURIComponent(town)}` : ''}`);
    loading = query(state.town)
      // A town the service does not know by that exact name ("梅李" for 梅李镇): ask for all.
      .catch((err) => (err.status === 400 && state.town ? query('') : Promise.reject(err)))
      .then((data) => {
        if (Array.isArray(data.towns)) setTowns(data.towns);
        const list = Array.isArray(data.suggestions) ? data.suggestions : [];
        state.suggestions = list.filter((s) => !state.town || s.town === state.town).slice(0, 6);
        if (!state.suggestions.length) state.suggestions = list.slice(0, 6);
        renderIntro();
      })
      .catch(() => {
        loading = null;
      });
    return loading;
  }

  /** Learns the towns the service knows, and settles the town option on one of them. */
  function setTowns(towns) {
    state.towns = towns;
    if (state.town && !towns.includes(state.town)) {
      state.town = towns.find((t) => bareTown(t) === bareTown(state.town)) || '';
    }
  }

  async function loadFilters() {
    try {
      const { documents } = await getJson('/api/documents');
      const towns = [...new Set(documents.map((d) => d.town).filter(Boolean))];
      const years = [...new Set(documents.flatMap((d) => d.years || []))].sort();
      setTowns(towns);
      fillSelect(ui.townSel, [['', '全部镇（街道）'], ...towns.map((t) => [t, t])], state.town);
      fillSelect(ui.yearSel, [['', '全部年份'], ...years.map((y) => [String(y), `${y}年`])], state.year);
    } catch {
      /* the filters stay at "all"; asking still works */
    }
  }

  function fillSelect(sel, options, value) {
    sel.replaceChildren(...options.map(([v, label]) => h('option', { value: v, text: label })));
    sel.value = options.some(([v]) => v === value) ? value : '';
  }

  // ---------- build ----------
  function build() {
    host = document.createElement('town-qa');
    // What a site stylesheet could set on the host element itself (`* {...}` rules) and that would
    // reach inside: pinned inline, which outranks even the site's !important rules.
    for (const [k, v] of [['display', 'block'], ['transform', 'none'], ['filter', 'none'], ['opacity', '1'], ['visibility', 'visible'], ['contain', 'none'], ['zoom', '1']]) host.style.setProperty(k, v, 'important');
    if (opts.inline) host.style.setProperty('height', '100%');
    const shadow = host.attachShadow({ mode: 'open' });
    try {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLES);
      shadow.adoptedStyleSheets = [sheet];
    } catch {
      shadow.append(h('style', { text: STYLES }));
    }
    root = h('div', { class: `root${opts.left ? ' left' : ''}${opts.inline ? ' inline' : ''}`, lang: 'zh-CN' });
    shadow.append(root);

    const input = h('textarea', { id: 'qa-input', rows: '1', maxlength: String(MAX_CHARS), placeholder: '请输入您的问题…', 'aria-describedby': 'qa-foot', enterkeyhint: 'send' });
    const sendBtn = h('button', { type: 'submit', class: 'send', text: '发送' });
    const form = h('form', { class: 'composer', 'aria-label': '提问' }, h('label', { class: 'sr', for: 'qa-input', text: '输入问题，按回车发送，Shift加回车换行' }), input, sendBtn);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value;
      if (!text.trim() || state.busy) return;
      input.value = '';
      send(text);
    });
    input.addEventListener('keydown', (e) => {
      // isComposing: Enter that confirms a pinyin candidate must not send the question.
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        form.requestSubmit();
      }
    });

    const head = h('div', { class: 'head' }, h('h2', { id: 'qa-title' }, TITLE, h('small', { text: '答案摘自政府工作报告原文' })), h('button', { type: 'button', class: 'icon', 'aria-label': '清空对话', title: '清空对话', onclick: clear }, svg(ICON_CLEAR)));
    if (!opts.inline) head.append(h('button', { type: 'button', class: 'icon', 'aria-label': '关闭问答窗口', title: '关闭', onclick: () => setOpen(false) }, svg(ICON_CLOSE)));

    const log = h('div', { class: 'log', role: 'region', 'aria-label': '对话记录', tabindex: '-1' });
    const status = h('div', { class: 'sr', role: 'status', 'aria-live': 'polite' });
    const panel = h('div', { class: `panel${opts.inline ? ' in' : ''}`, id: 'qa-panel', role: opts.inline ? 'region' : 'dialog', 'aria-labelledby': 'qa-title', hidden: true }, head);
    ui = { panel, log, status, input, send: sendBtn };

    if (opts.filters) {
      ui.townSel = h('select', { 'aria-label': '按镇筛选' });
      ui.yearSel = h('select', { 'aria-label': '按年份筛选' });
      fillSelect(ui.townSel, [['', '全部镇（街道）']], '');
      fillSelect(ui.yearSel, [['', '全部年份']], '');
      ui.townSel.addEventListener('change', () => {
        state.town = ui.townSel.value;
        persist();
        loadSuggestions(true);
      });
      ui.yearSel.addEventListener('change', () => {
        state.year = ui.yearSel.value;
        persist();
      });
      panel.append(h('div', { class: 'filters', role: 'group', 'aria-label': '筛选' }, h('label', {}, '镇', ui.townSel), h('label', {}, '年份', ui.yearSel)));
      loadFilters();
    }
    panel.append(log, status, form, h('p', { class: 'foot', id: 'qa-foot', text: '回答均摘自报告原文并标注出处，请以原文为准。' }));
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !opts.inline) {
        e.stopPropagation();
        setOpen(false);
      }
    });

    if (!opts.inline) {
      ui.launcher = h('button', { type: 'button', class: 'launcher', 'aria-label': `打开${TITLE}`, 'aria-controls': 'qa-panel', 'aria-expanded': 'false', 'aria-haspopup': 'dialog', onclick: () => setOpen(!state.open) }, svg(ICON_CHAT), h('span', { 'aria-hidden': 'true', text: '问一问' }));
      root.append(ui.launcher);
    }
    root.append(panel);

    const target = opts.inline && opts.target ? document.querySelector(opts.target) : null;
    (target || document.body).append(host);
    applyAccent();
    renderAll();
    updateComposer();
    setOpen(state.open, false);
  }

  /** The accent colour, and text colours that keep WCAG AA contrast against it and on white. */
  function applyAccent() {
    const fallback = '#b3261e';
    const accent = opts.accent && window.CSS && CSS.supports('color', opts.accent) ? opts.accent : fallback;
    const probe = h('span', { hidden: true });
    probe.style.color = accent;
    root.append(probe);
    const rgb = (getComputedStyle(probe).color.match(/[\d.]+/g) || [179, 38, 30]).slice(0, 3).map(Number);
    probe.remove();
    const lum = (c) => {
      const [r, g, b] = c.map((v) => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const L = lum(rgb);
    const onWhite = 1.05 / (L + 0.05);
    const onBlack = (L + 0.05) / 0.05;
    host.style.setProperty('--accent', accent);
    host.style.setProperty('--on-accent', onWhite >= 4.5 || onWhite >= onBlack ? '#fff' : '#111');
    // Links and markers sit on light backgrounds: a light accent falls back to a dark ink there.
    host.style.setProperty('--accent-text', onWhite >= 4.8 ? accent : '#1f2328');
    host.style.setProperty('--ring', onWhite >= 3 ? accent : '#0b57d0');
  }

  const ready = (fn) => (...args) => (ui ? fn(...args) : undefined);
  window.TownQA = Object.freeze({
    open: ready(() => setOpen(true)),
    close: ready(() => setOpen(false)),
    clear: ready(() => clear()),
    ask: ready((question) => {
      setOpen(true, false);
      send(String(question));
    }),
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', build, { once: true });
  else build();
})();
