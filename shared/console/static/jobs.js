// Jobs: the workspace's video jobs (GET /api/v1/media/jobs), newest first,
// in progress by default, with their state and polls, and cancel.

import { api } from './api.js';
import { h, mount, fmtTime, confirmDialog, status } from './dom.js';

const states = [['active', 'in progress'], ['', 'all'], ['queued', 'queued'], ['processing', 'processing'],
  ['completed', 'completed'], ['failed', 'failed'], ['cancelled', 'cancelled']];

function row(j, reload) {
  const active = j.status === 'queued' || j.status === 'processing';
  return h('tr', { dataset: { job: j.id } },
    h('td', {}, h('code', {}, j.id)),
    h('td', {}, j.media_type),
    h('td', {}, `${j.provider} / ${j.model}`),
    h('td', {}, h('span', { class: `state ${j.status}` }, j.status)),
    h('td', { class: 'num' }, `${Math.round((j.progress || 0) * 100)}%`),
    h('td', { class: 'num' }, j.polls ?? ''),
    h('td', {}, fmtTime(j.created_at)),
    h('td', {}, fmtTime(j.deadline_at)),
    h('td', { class: 'prompt' }, j.prompt || ''),
    h('td', {},
      j.error ? h('span', { class: 'error-code' }, `${j.error.code}: ${j.error.message}`) : null,
      j.asset_id ? h('a', { href: `#/asset/${encodeURIComponent(j.asset_id)}` }, 'asset') : null,
      active ? h('button', {
        type: 'button', class: 'danger',
        onclick: async () => {
          if (!(await confirmDialog(`Cancel job ${j.id}?`, 'Cancel job'))) return;
          try {
            const { data } = await api('POST', `/media/jobs/${encodeURIComponent(j.id)}/cancel`);
            status(data.message || `Job ${j.id} cancelled.`);
          } catch (e) { status(e.message, true); }
          reload();
        },
      }, 'Cancel') : null));
}

export async function jobs(q) {
  const state = q.has('status') ? q.get('status') : 'active';
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = '';
  async function load(reset) {
    if (reset) { cursor = ''; body.replaceChildren(); }
    const { data, meta } = await api('GET', '/media/jobs', { query: { status: state, limit: 50, cursor } });
    body.append(...data.map((j) => row(j, () => load(true).catch((e) => status(e.message, true)))));
    if (!body.children.length) body.append(h('tr', {}, h('td', { colspan: 10, class: 'empty' }, 'No jobs.')));
    cursor = (meta && meta.next_cursor) || '';
    more.hidden = !cursor;
  }
  more.addEventListener('click', () => load(false).catch((e) => status(e.message, true)));
  // While the page shows jobs in progress, look again every 10 s; the loop
  // ends when the table leaves the page.
  const refresh = () => setTimeout(() => {
    if (!body.isConnected) return;
    if (body.querySelector('.state.queued, .state.processing')) load(true).catch(() => {});
    refresh();
  }, 10000);
  await load(true);
  refresh();
  return [
    h('h1', {}, 'Jobs'),
    h('form', { class: 'filters', 'aria-label': 'Filter jobs', onsubmit: (ev) => { ev.preventDefault(); location.hash = `#/jobs?status=${ev.target.elements.status.value}`; } },
      h('label', {}, 'State', h('select', { name: 'status' }, states.map(([v, l]) => h('option', { value: v, selected: v === state }, l)))),
      h('button', { type: 'submit' }, 'Show'),
      h('button', { type: 'button', onclick: () => load(true).catch((e) => status(e.message, true)) }, 'Refresh')),
    h('table', { class: 'jobs' },
      h('thead', {}, h('tr', {}, ['Job', 'Media type', 'Provider / model', 'State', 'Progress', 'Polls', 'Created', 'Deadline', 'Prompt', ''].map((c) => h('th', { scope: 'col' }, c)))),
      body),
    more,
  ];
}
