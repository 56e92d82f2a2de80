/*
 * The staff page's way into the drafting workspace, included there with one <script> line:
 * links to search, the basket, /commitments and /indicators, a search box, and the listener
 * that puts the chat's citations into the basket (the widget, mounted with data-basket="true",
 * dispatches "qa:basket-add" on document). Its styles come with it (drafting.css).
 */
import { el, listenForChatItems, navigation } from './drafting-common.js';

function mount() {
  if (!document.querySelector('link[href="/assets/drafting.css"]')) document.head.append(el('link', { rel: 'stylesheet', href: '/assets/drafting.css' }));
  const header = document.querySelector('header.top') ?? document.body;
  const input = el('input', { type: 'search', name: 'q', maxLength: 500, placeholder: '检索原文：主题或 “原话”', ariaLabel: '检索报告原文', autocomplete: 'off' });
  const form = el('form', { className: 'quick-search', action: '/search', method: 'get', role: 'search' }, input, el('button', { type: 'submit', textContent: '检索' }));
  form.setAttribute('aria-label', '检索报告原文');
  header.append(navigation(), form);
}

listenForChatItems();
mount();
