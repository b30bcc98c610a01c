// Assets: the gallery (filters, cursor paging, selection, bulk delete) and
// one asset's page (preview, every field, download, signed link, delete,
// transcript with word timings).

import { api, signedURL, allPages } from './api.js';
import { h, mount, field, fmtBytes, fmtTime, fmtSeconds, confirmDialog, status, errorBox, previewKind } from './dom.js';

const types = ['', 'image', 'audio', 'video', 'text', 'file'];
const filterNames = ['type', 'provider', 'agent_id', 'execution_id', 'created_after', 'created_before'];

// dateParam turns a date input (YYYY-MM-DD) into the RFC 3339 time the API takes.
function dateParam(v) {
  return v ? `${v}T00:00:00Z` : '';
}

function filterForm(q) {
  const input = (name, label, type = 'text') => h('label', {},
    label, h('input', { name, type, value: q.get(name) || '' }));
  return h('form', {
    class: 'filters', 'aria-label': 'Filter assets',
    onsubmit: (ev) => {
      ev.preventDefault();
      const params = new URLSearchParams();
      for (const n of filterNames) {
        const v = ev.target.elements[n].value.trim();
        if (v) params.set(n, v);
      }
      location.hash = `#/assets?${params}`;
    },
  },
  h('label', {}, 'Type', h('select', { name: 'type' },
    types.map((t) => h('option', { value: t, selected: (q.get('type') || '') === t }, t || 'any')))),
  input('provider', 'Provider'),
  input('agent_id', 'Agent'),
  input('execution_id', 'Execution'),
  input('created_after', 'From', 'date'),
  input('created_before', 'Until (before)', 'date'),
  h('button', { type: 'submit' }, 'Apply'),
  h('a', { href: '#/assets', class: 'button-link' }, 'Clear'));
}

// thumb is a card's visual: the image itself, a video's first frame as its
// poster, an audio icon with the duration, or the file's type.
function thumb(a) {
  const prompt = (a.metadata && a.metadata.prompt) || a.file_name || a.type;
  const kind = previewKind(a.content_type);
  const box = h('div', { class: 'thumb' });
  if (kind === 'image' || kind === 'video') {
    signedURL(a.id).then((url) => {
      if (kind === 'image') mount(box, h('img', { src: url, alt: prompt, loading: 'lazy' }));
      else mount(box, h('video', { src: `${url}#t=0.1`, preload: 'metadata', muted: true, 'aria-label': `Video: ${prompt}` }));
    }).catch(() => mount(box, h('span', { class: 'icon' }, kind)));
  } else if (kind === 'audio') {
    const d = a.metadata && a.metadata.duration_seconds;
    mount(box, h('span', { class: 'icon audio', 'aria-hidden': 'true' }, '♪'), h('span', { class: 'duration' }, fmtSeconds(d) || 'audio'));
  } else {
    mount(box, h('span', { class: 'icon' }, a.content_type || a.type));
  }
  return box;
}

function card(a, selected) {
  return h('li', { class: 'card', dataset: { id: a.id } },
    h('label', { class: 'select' },
      h('input', { type: 'checkbox', 'aria-label': `Select ${a.file_name}`, checked: selected.has(a.id),
        onchange: (ev) => { if (ev.target.checked) selected.add(a.id); else selected.delete(a.id); selected.changed(); } })),
    h('a', { href: `#/asset/${encodeURIComponent(a.id)}`, class: 'card-link' },
      thumb(a),
      h('span', { class: 'name' }, a.file_name),
    ),
    h('span', { class: 'meta' }, `${a.type} · ${fmtBytes(a.file_size)} · ${a.provider || 'upload'}`),
    h('time', { datetime: a.created_at }, fmtTime(a.created_at)));
}

export async function gallery(q) {
  const query = { limit: 24 };
  for (const n of filterNames) {
    const v = q.get(n);
    if (v) query[n] = n.startsWith('created_') ? dateParam(v) : v;
  }
  const selected = new Set();
  const grid = h('ul', { class: 'gallery', 'aria-label': 'Assets' });
  const total = h('span', { class: 'total' });
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  const del = h('button', { type: 'button', class: 'danger', disabled: true }, 'Delete selected');
  selected.changed = () => {
    del.disabled = selected.size === 0;
    mount(del, selected.size ? `Delete selected (${selected.size})` : 'Delete selected');
  };
  let cursor = '';
  async function load() {
    const { data, meta } = await api('GET', '/assets', { query: { ...query, cursor } });
    grid.append(...data.map((a) => card(a, selected)));
    cursor = (meta && meta.next_cursor) || '';
    more.hidden = !cursor;
    mount(total, `${meta ? meta.total : data.length} assets`);
    if (!grid.children.length) grid.append(h('li', { class: 'empty' }, 'No assets match.'));
  }
  more.addEventListener('click', () => load().catch((e) => status(e.message, true)));
  del.addEventListener('click', async () => {
    const ids = [...selected];
    if (!(await confirmDialog(`Delete ${ids.length} asset(s)? Their files are removed; their spans stay, marked deleted.`, 'Delete'))) return;
    const failed = [];
    for (const id of ids) {
      try {
        await api('DELETE', `/assets/${encodeURIComponent(id)}`);
        grid.querySelector(`li[data-id="${CSS.escape(id)}"]`)?.remove();
        selected.delete(id);
      } catch (e) {
        failed.push(`${id}: ${e.message}`);
      }
    }
    selected.changed();
    status(failed.length ? `Not deleted: ${failed.join('; ')}` : `Deleted ${ids.length} asset(s).`, failed.length > 0);
  });
  await load();
  return [
    h('h1', {}, 'Assets'),
    filterForm(q),
    h('div', { class: 'toolbar' }, total, del),
    grid,
    more,
  ];
}

// preview shows the asset from a fresh signed URL, passive types only.
async function preview(a, sp) {
  const prompt = (a.metadata && a.metadata.prompt) || a.file_name;
  const kind = previewKind(a.content_type);
  if (kind === 'none') {
    return h('p', { class: 'note' }, `${a.content_type} is not previewed here; use Download.`);
  }
  const url = await signedURL(a.id);
  switch (kind) {
    case 'image': return h('img', { class: 'preview', src: url, alt: prompt });
    case 'audio': return h('audio', { class: 'preview', src: url, controls: true, preload: 'metadata', 'aria-label': `Audio: ${prompt}` });
    case 'video': return h('video', { class: 'preview', src: url, controls: true, preload: 'metadata', 'aria-label': `Video: ${prompt}` });
    default: return textPreview(a, url, sp);
  }
}

// textPreview fetches a text or JSON asset and shows it as text; an STT
// transcript gets its words, highlighted in time with the source audio.
async function textPreview(a, url, sp) {
  const resp = await fetch(url);
  const text = await resp.text();
  let doc = null;
  if (a.content_type.startsWith('application/json')) {
    try { doc = JSON.parse(text); } catch { doc = null; }
  }
  if (!doc || !Array.isArray(doc.words) || !doc.words.length) {
    return h('pre', { class: 'text-preview' }, text.slice(0, 200000));
  }
  return transcript(doc, sp);
}

async function transcript(doc, sp) {
  const words = doc.words.map((w) => ({ ...w, el: h('span', { class: 'word' }, w.text || w.word || '') }));
  const box = h('div', { class: 'transcript' }, h('h2', {}, 'Transcript'));
  const para = h('p', { class: 'words' }, words.flatMap((w) => [w.el, ' ']));
  box.append(para);
  const source = await sourceAudio(sp).catch(() => null);
  if (!source) {
    box.append(h('p', { class: 'note' }, 'The source audio is unknown or gone; word timings are not played.'));
    return box;
  }
  const audio = h('audio', { src: await signedURL(source), controls: true, preload: 'metadata', 'aria-label': 'Source audio' });
  audio.addEventListener('timeupdate', () => {
    const t = audio.currentTime;
    for (const w of words) w.el.classList.toggle('current', t >= w.start && t < w.end);
  });
  box.prepend(h('p', {}, 'Source audio: ', h('a', { href: `#/asset/${encodeURIComponent(source)}` }, source)), audio);
  return box;
}

// spanOf finds the span that made an asset (null for uploads).
async function spanOf(a) {
  if (!a.span_id) return null;
  const spans = await allPages('/traces', { execution_id: a.execution_id }, 1000);
  return spans.find((x) => x.id === a.span_id) || null;
}

// sourceAudio is the input asset of the span that made a transcript, while it exists.
async function sourceAudio(sp) {
  if (!sp || !sp.input_asset_id) return null;
  await api('GET', `/assets/${encodeURIComponent(sp.input_asset_id)}`);
  return sp.input_asset_id;
}

const expiries = [[900, '15 minutes'], [3600, '1 hour'], [86400, '1 day'], [604800, '7 days']];

export async function assetDetail(id) {
  const { data: a } = await api('GET', `/assets/${encodeURIComponent(id)}`);
  const md = a.metadata || {};
  const link = h('input', { type: 'text', readonly: true, class: 'link', 'aria-label': 'Signed link', hidden: true });
  const expiry = h('select', { 'aria-label': 'Link expiry' }, expiries.map(([s, l]) => h('option', { value: s }, l)));
  const actions = h('div', { class: 'actions' },
    h('button', {
      type: 'button',
      onclick: async () => {
        try {
          const url = await signedURL(a.id, { disposition: 'attachment' });
          const dl = h('a', { href: url, download: a.file_name, hidden: true });
          document.body.append(dl);
          dl.click();
          dl.remove();
        } catch (e) { status(e.message, true); }
      },
    }, 'Download'),
    h('label', {}, 'Link expiry ', expiry),
    h('button', {
      type: 'button',
      onclick: async () => {
        try {
          const url = await signedURL(a.id, { expiresIn: Number(expiry.value) });
          link.value = url;
          link.hidden = false;
          link.select();
          await navigator.clipboard.writeText(url).then(() => status('Signed link copied.'), () => status('Signed link ready; copy it from the box.'));
        } catch (e) { status(e.message, true); }
      },
    }, 'Copy signed link'),
    h('button', {
      type: 'button', class: 'danger',
      onclick: async () => {
        if (!(await confirmDialog(`Delete ${a.file_name}? The file is removed; its span stays, marked deleted.`, 'Delete'))) return;
        try {
          await api('DELETE', `/assets/${encodeURIComponent(a.id)}`);
          status(`Deleted ${a.file_name}.`);
          location.hash = a.execution_id ? `#/assets?execution_id=${encodeURIComponent(a.execution_id)}` : '#/assets';
        } catch (e) { status(e.message, true); }
      },
    }, 'Delete'),
    link);
  const dims = md.width && md.height ? `${md.width} × ${md.height}` : '';
  const sp = await spanOf(a).catch(() => null);
  const c = sp && sp.cost_detail;
  const cost = c ? `${c.amount} ${c.currency}${c.priced ? '' : ' (unpriced)'}` : '';
  let shown;
  try { shown = await preview(a, sp); } catch (e) { shown = errorBox(e); }
  return [
    h('p', {}, h('a', { href: '#/assets' }, '← Assets')),
    h('h1', {}, a.file_name),
    h('div', { class: 'detail' },
      h('div', { class: 'preview-box' }, shown),
      h('div', {},
        actions,
        h('dl', { class: 'fields' },
          field('ID', a.id),
          field('Status', a.status),
          field('Workspace', a.workspace_id),
          field('Agent', a.agent_id),
          field('Execution', a.execution_id ? h('a', { href: `#/run/${encodeURIComponent(a.execution_id)}` }, a.execution_id) : ''),
          field('Span', a.span_id),
          field('Type', a.type),
          field('Provider', a.provider),
          field('Model', a.model),
          field('Prompt', md.prompt),
          field('Content type', a.content_type),
          field('Size', `${fmtBytes(a.file_size)} (${a.file_size} bytes)`),
          field('Dimensions', dims),
          field('Duration', fmtSeconds(md.duration_seconds)),
          field('SHA-256', h('code', {}, a.sha256)),
          field('Cost', cost),
          field('Retention', a.retention_days ? `${a.retention_days} days` : 'forever'),
          field('Expires', a.expires_at ? fmtTime(a.expires_at) : 'never'),
          field('Created', fmtTime(a.created_at)),
          field('Updated', fmtTime(a.updated_at)),
          field('Storage key', h('code', {}, a.storage_key)),
          field('Stored', a.deduplicated ? 'shared with an earlier copy of the same bytes (deduplicated)' : 'own copy'),
        ),
        h('details', {}, h('summary', {}, 'All metadata'), h('pre', {}, JSON.stringify(md, null, 2))),
      )),
  ];
}
