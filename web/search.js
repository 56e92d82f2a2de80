/*
 * The search page (/search): the search mode (search-view.js) with its query in the URL, under
 * the staff navigation.
 */
import { navigation } from './drafting-common.js';
import { mountSearch } from './search-view.js';

document.getElementById('top').append(navigation());
mountSearch(document.getElementById('search-root'), { useUrl: true });
