/*
 * The staff page's way into the drafting workspace, included there with one <script> line:
 * links to search, the basket, /commitments and /indicators; a 问答 / 检索原文 switch that puts
 * the search mode (search-view.js) in the chat's place; and the listener that puts the chat's
 * citations into the basket (the widget, mounted with data-basket="true", dispatches
 * "qa:basket-add" on document). Its styles come with it (drafting.css).
 */
import { el, listenForChatItems, navigation } from './drafting-common.js';
import { mountSearch } from './search-view.js';

function mount() {
  if (!document.querySelector('link[href="/assets/drafting.css"]')) document.head.append(el('link', { rel: 'stylesheet', href: '/assets/drafting.css' }));
  document.querySelector('header.top')?.append(navigation());
  const chat = document.getElementById('chat');
  if (!chat) return;
  // The search takes the chat's place in the page's grid; the chat keeps its conversation meanwhile.
  const panel = el('section', { id: 'search-panel', className: 'search-panel drafting', hidden: true, ariaLabel: '检索原文', tabIndex: -1 });
  chat.before(panel);
  const tab = (label, controls) => el('button', { type: 'button', role: 'tab', className: 'mode-tab', textContent: label, id: `mode-${controls}` });
  const chatTab = tab('问答', 'chat');
  const searchTab = tab('检索原文', 'search-panel');
  chatTab.setAttribute('aria-controls', 'chat');
  searchTab.setAttribute('aria-controls', 'search-panel');
  const tabs = el('div', { className: 'mode-tabs', role: 'tablist', ariaLabel: '工作方式' }, chatTab, searchTab);
  let mounted = false;
  const show = (mode, { focusTab = false, focusSearch = false } = {}) => {
    const searching = mode === 'search';
    chat.hidden = searching;
    panel.hidden = !searching;
    chatTab.setAttribute('aria-selected', String(!searching));
    searchTab.setAttribute('aria-selected', String(searching));
    chatTab.tabIndex = searching ? -1 : 0;
    searchTab.tabIndex = searching ? 0 : -1;
    if (searching && !mounted) {
      mounted = true;
      mountSearch(panel, { useUrl: false });
    }
    if (focusTab) (searching ? searchTab : chatTab).focus();
    // A click opens the search ready to type; arrow keys only move between the tabs.
    if (searching && focusSearch) panel.querySelector('#f-q')?.focus();
  };
  chatTab.addEventListener('click', () => show('chat'));
  searchTab.addEventListener('click', () => show('search', { focusSearch: true }));
  // Arrow keys move between the two tabs, as a tablist does.
  tabs.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight') return;
    event.preventDefault();
    show(chat.hidden ? 'chat' : 'search', { focusTab: true });
  });
  (chat.closest('main') ?? chat).before(tabs);
  show(location.hash === '#search' ? 'search' : 'chat');
}

listenForChatItems();
mount();
