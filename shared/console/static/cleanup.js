// Cleanup: filters → dry run (the exact batch a real call would remove) →
// confirm → what was removed; and the workspace's retention setting.

import { api } from './api.js';
import { h, mount, fmtBytes, fmtTime, confirmDialog, status, errorBox } from './dom.js';

const retentionChoices = [[0, 'forever'], [7, '7 days'], [30, '30 days'], [90, '90 days'], [365, '365 days']];

async function retention() {
  const { data } = await api('GET', '/workspace/retention');
  const select = h('select', { name: 'retention_days', id: 'retention-days' },
    retentionChoices.map(([d, l]) => h('option', { value: d, selected: d === data.retention_days }, l)));
  const note = h('span', { class: 'hint' }, `(${data.source})`);
  return h('form', {
    class: 'filters', 'aria-label': 'Retention',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const { data: saved } = await api('PUT', '/workspace/retention', { body: { retention_days: Number(select.value) } });
        mount(note, `(${saved.source})`);
        status(`New assets are kept ${saved.retention_days ? `${saved.retention_days} days` : 'forever'}.`);
      } catch (e) { status(e.message, true); }
    },
  }, h('label', { for: 'retention-days' }, 'Keep new assets'), select, note, h('button', { type: 'submit' }, 'Save'));
}

function assetRows(assets) {
  return h('table', { class: 'cleanup-list' },
    h('thead', {}, h('tr', {}, ['File', 'Type', 'Size', 'Execution', 'Created', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, assets.map((a) => h('tr', {},
      h('td', {}, a.file_name), h('td', {}, a.type), h('td', { class: 'num' }, fmtBytes(a.file_size)),
      h('td', {}, a.execution_id || ''), h('td', {}, fmtTime(a.created_at)), h('td', {}, a.status)))));
}

export async function cleanup() {
  const result = h('div', { class: 'cleanup-result', 'aria-live': 'polite' });
  const text = (name, label, type = 'text') => h('label', {}, label, h('input', { name, type }));
  let body = null;
  const form = h('form', {
    class: 'filters', 'aria-label': 'Cleanup filters',
    onsubmit: async (ev) => {
      ev.preventDefault();
      const f = ev.target.elements;
      body = { dry_run: true, limit: Number(f.limit.value) || 100 };
      for (const n of ['execution_id', 'agent_id', 'type', 'provider']) if (f[n].value.trim()) body[n] = f[n].value.trim();
      for (const n of ['created_after', 'created_before']) if (f[n].value) body[n] = `${f[n].value}T00:00:00Z`;
      try {
        const { data } = await api('POST', '/assets/cleanup', { body });
        const confirmBtn = h('button', { type: 'button', class: 'danger', disabled: !data.count }, `Remove these ${data.count} assets`);
        confirmBtn.addEventListener('click', () => run(data.count));
        mount(result, h('h2', {}, 'Dry run'),
          h('p', {}, data.count ? `${data.count} assets would be removed${data.next_cursor ? ' (more match: run again after this batch)' : ''}.` : 'Nothing matches.'),
          assetRows(data.assets), confirmBtn);
      } catch (e) { mount(result, errorBox(e)); }
    },
  },
  text('execution_id', 'Execution'), text('agent_id', 'Agent'),
  h('label', {}, 'Type', h('select', { name: 'type' }, ['', 'image', 'audio', 'video', 'text', 'file'].map((t) => h('option', { value: t }, t || 'any')))),
  text('provider', 'Provider'), text('created_after', 'Created from', 'date'), text('created_before', 'Created before', 'date'),
  h('label', {}, 'At most', h('input', { name: 'limit', type: 'number', min: 1, max: 100, value: 100 })),
  h('button', { type: 'submit' }, 'Dry run'));

  async function run(n) {
    if (!(await confirmDialog(`Remove ${n} assets? Files and records go; their spans stay, marked deleted.`, 'Remove'))) return;
    try {
      const { data } = await api('POST', '/assets/cleanup', { body: { ...body, dry_run: false } });
      mount(result, h('h2', {}, 'Removed'),
        h('p', {}, `${data.count} assets removed, ${data.failed.length} failed.`),
        assetRows(data.assets),
        data.failed.length ? h('ul', { class: 'error' }, data.failed.map((f) => h('li', {}, `${f.id}: ${f.code}: ${f.message}`))) : null);
    } catch (e) { mount(result, errorBox(e)); }
  }

  return [
    h('h1', {}, 'Cleanup'),
    h('h2', {}, 'Retention'),
    await retention(),
    h('h2', {}, 'Remove assets'),
    h('p', { class: 'hint' }, 'Pick at least one filter. The dry run lists exactly what the removal would take.'),
    form,
    result,
  ];
}
