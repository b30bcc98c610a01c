// The console's entry point: sign-in, navigation and the hash router
// (#/assets, #/asset/{id}, #/runs, #/run/{execution}, #/jobs, #/usage,
// #/cleanup). Each view renders into <main> from the public API.

import { api, apiKey, ApiError } from './api.js';
import { mount, errorBox, status } from './dom.js';
import { gallery, assetDetail } from './assets.js';
import { runs, runDetail } from './runs.js';
import { jobs } from './jobs.js';
import { usage } from './usage.js';
import { cleanup } from './cleanup.js';

const routes = [
  [/^#\/assets$/, (q) => gallery(q), 'assets'],
  [/^#\/asset\/([^/]+)$/, (q, id) => assetDetail(id), 'assets'],
  [/^#\/runs$/, (q) => runs(q), 'runs'],
  [/^#\/run\/([^/]+)$/, (q, exec) => runDetail(exec), 'runs'],
  [/^#\/jobs$/, (q) => jobs(q), 'jobs'],
  [/^#\/usage$/, (q) => usage(q), 'usage'],
  [/^#\/cleanup$/, (q) => cleanup(q), 'cleanup'],
];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const signin = document.getElementById('signin');

function showSignIn(message) {
  nav.hidden = true;
  main.hidden = true;
  signin.hidden = false;
  mount(document.getElementById('signin-error'), message || '');
  document.getElementById('apikey').focus();
}

api.onUnauthorized = () => {
  apiKey.clear();
  // A password field shows nothing to correct: start the next attempt empty.
  document.getElementById('apikey').value = '';
  showSignIn('That API key was not accepted (401 unauthenticated). Check the key and sign in again.');
};

let generation = 0;

async function route() {
  if (!apiKey.get()) return showSignIn();
  signin.hidden = true;
  nav.hidden = false;
  main.hidden = false;
  const [path, qs] = (location.hash || '#/assets').split('?');
  const query = new URLSearchParams(qs || '');
  for (const [re, view, section] of routes) {
    const m = path.match(re);
    if (!m) continue;
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.section === section) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const mine = ++generation;
    status('');
    mount(main, '');
    main.setAttribute('aria-busy', 'true');
    try {
      const view_ = await view(query, ...m.slice(1).map(decodeURIComponent));
      if (mine === generation) mount(main, view_);
    } catch (err) {
      if (mine === generation && !(err instanceof ApiError && err.status === 401)) mount(main, errorBox(err));
    } finally {
      if (mine === generation) main.removeAttribute('aria-busy');
    }
    return;
  }
  location.hash = '#/assets';
}

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('apikey');
  const key = input.value.trim();
  if (!key) return showSignIn('Enter an API key.');
  apiKey.set(key);
  try {
    // Any authenticated read proves the key; this one is cheap.
    await api('GET', '/assets', { query: { limit: 1 } });
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      apiKey.clear();
      showSignIn(err.message);
    }
    return;
  }
  input.value = '';
  if (!location.hash || location.hash === '#') location.hash = '#/assets';
  else route();
});

document.getElementById('signout').addEventListener('click', () => {
  apiKey.clear();
  location.hash = '';
  showSignIn('Signed out.');
});

window.addEventListener('hashchange', route);
route();
