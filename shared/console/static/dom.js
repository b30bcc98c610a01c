// DOM building without HTML parsing: every string becomes a text node, so
// user-controlled values (prompts, file names, metadata) can never become
// markup. Nothing in the console parses HTML from strings.

const svgNS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// h('tag', {attr: value, onclick: fn}, ...children) makes an HTML element.
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

// s('tag', ...) makes an SVG element.
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(svgNS, tag), attrs, children);
}

// mount replaces el's children.
export function mount(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function fmtBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${i ? n.toFixed(1) : n} ${units[i]}`;
}

export function fmtTime(t) {
  if (!t) return '';
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? String(t) : d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

export function fmtSeconds(s) {
  return Number.isFinite(s) && s > 0 ? `${s.toFixed(1)} s` : '';
}

export function fmtCost(amount, currency = 'USD') {
  return Number.isFinite(amount) ? `${amount.toFixed(4)} ${currency}` : '';
}

// field is one row of a definition list.
export function field(name, value) {
  return [h('dt', {}, name), h('dd', {}, value === undefined || value === null || value === '' ? '—' : value)];
}

// confirmDialog asks in the page's <dialog> (never window.confirm) and
// resolves true when confirmed.
export function confirmDialog(text, okLabel = 'Confirm') {
  const dlg = document.getElementById('confirm');
  mount(document.getElementById('confirm-text'), text);
  mount(document.getElementById('confirm-ok'), okLabel);
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = '';
    dlg.showModal();
  });
}

// status announces a message to screen readers and shows it.
export function status(msg, isError = false) {
  const el = document.getElementById('status');
  el.classList.toggle('error', isError);
  mount(el, msg);
}

// errorBox shows an API error's safe message in a view.
export function errorBox(err) {
  return h('p', { class: 'error', role: 'alert' }, err && err.message ? err.message : 'Something went wrong.');
}

// Only passive types are ever shown inline: raster images, audio, video and
// text shown as text. SVG, HTML and everything else is offered as a download.
const inlineImages = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/avif', 'image/bmp']);

export function previewKind(contentType) {
  const ct = String(contentType || '').split(';')[0].trim().toLowerCase();
  if (inlineImages.has(ct)) return 'image';
  if (ct.startsWith('audio/')) return 'audio';
  if (ct.startsWith('video/')) return 'video';
  if (ct === 'text/plain' || ct === 'application/json' || ct === 'text/vtt' || ct === 'application/x-subrip') return 'text';
  return 'none';
}
