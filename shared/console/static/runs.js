// Runs: the workspace's executions, gathered from their spans
// (GET /api/v1/traces), and one execution's media spans as a timeline.

import { api, allPages } from './api.js';
import { h, mount, fmtTime, fmtCost, status } from './dom.js';

function emptyRun(id) {
  return { id, agent: '', spans: 0, errors: 0, deleted: 0, cost: 0, currency: 'USD', first: '', last: '' };
}

export async function runs() {
  const byID = new Map();
  const body = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Load more');
  let cursor = '';
  function render() {
    mount(body, [...byID.values()].map((r) => h('tr', {},
      h('td', {}, h('a', { href: `#/run/${encodeURIComponent(r.id)}` }, r.id || '(no execution)')),
      h('td', {}, r.agent),
      h('td', { class: 'num' }, r.spans),
      h('td', { class: 'num' }, r.errors),
      h('td', { class: 'num' }, r.deleted),
      h('td', { class: 'num' }, fmtCost(r.cost, r.currency)),
      h('td', {}, fmtTime(r.first)),
      h('td', {}, fmtTime(r.last)))));
  }
  async function load() {
    const { data, meta } = await api('GET', '/traces', { query: { limit: 100, cursor } });
    for (const sp of data) {
      const id = sp.execution_id || '';
      const r = byID.get(id) || emptyRun(id);
      r.agent = r.agent || sp.agent_id || '';
      r.spans++;
      if (sp.status === 'error') r.errors++;
      if (sp.asset_deleted) r.deleted++;
      r.cost += (sp.cost_detail && sp.cost_detail.amount) || 0;
      r.currency = (sp.cost_detail && sp.cost_detail.currency) || r.currency;
      const t = sp.started_at || sp.created_at;
      if (!r.first || t < r.first) r.first = t;
      if (!r.last || t > r.last) r.last = t;
      byID.set(id, r);
    }
    cursor = (meta && meta.next_cursor) || '';
    more.hidden = !cursor;
    render();
  }
  more.addEventListener('click', () => load().catch((e) => status(e.message, true)));
  await load();
  return [
    h('h1', {}, 'Runs'),
    h('p', { class: 'hint' }, 'Executions of this workspace, from their media spans, newest first.'),
    h('table', { class: 'runs' },
      h('caption', { class: 'sr-only' }, 'Executions'),
      h('thead', {}, h('tr', {}, ['Execution', 'Agent', 'Spans', 'Errors', 'Assets deleted', 'Cost', 'First span', 'Last span'].map((c) => h('th', { scope: 'col' }, c)))),
      body),
    more,
  ];
}

// bar draws a span's place and length within the run.
function bar(sp, start, total) {
  const s = new Date(sp.started_at).getTime() - start;
  const d = Math.max(new Date(sp.ended_at).getTime() - new Date(sp.started_at).getTime(), 0);
  const el = h('div', { class: `bar ${sp.status}`, 'aria-hidden': 'true' });
  // CSSOM, not a style attribute: the CSP admits no inline styles.
  el.style.marginLeft = `${(100 * s) / total}%`;
  el.style.width = `${Math.max((100 * d) / total, 0.5)}%`;
  return h('div', { class: 'track' }, el);
}

function assetCell(sp) {
  if (sp.asset_deleted) return h('span', { class: 'deleted' }, 'asset deleted');
  if (sp.asset_id) return h('a', { href: `#/asset/${encodeURIComponent(sp.asset_id)}` }, 'open asset');
  return '—';
}

export async function runDetail(exec) {
  const spans = await allPages('/traces', { execution_id: exec }, 1000);
  if (!spans.length) return [h('h1', {}, `Run ${exec}`), h('p', { class: 'empty' }, 'No spans in this execution.')];
  spans.sort((a, b) => String(a.started_at).localeCompare(String(b.started_at)));
  const start = Math.min(...spans.map((sp) => new Date(sp.started_at).getTime()));
  const end = Math.max(...spans.map((sp) => new Date(sp.ended_at).getTime()));
  const total = Math.max(end - start, 1);
  const cost = spans.reduce((n, sp) => n + ((sp.cost_detail && sp.cost_detail.amount) || 0), 0);
  const currency = (spans[0].cost_detail && spans[0].cost_detail.currency) || 'USD';
  return [
    h('p', {}, h('a', { href: '#/runs' }, '← Runs')),
    h('h1', {}, `Run ${exec}`),
    h('p', {}, `${spans.length} media spans over ${(total / 1000).toFixed(1)} s, ${fmtCost(cost, currency)}. `,
      h('a', { href: `#/assets?execution_id=${encodeURIComponent(exec)}` }, 'Assets of this run')),
    h('ol', { class: 'timeline', 'aria-label': 'Media spans in start order' }, spans.map((sp) => h('li', { class: 'span', dataset: { span: sp.id } },
      h('div', { class: 'span-head' },
        h('span', { class: `kind ${sp.kind}` }, sp.kind),
        h('strong', {}, sp.media_type),
        h('span', {}, `${sp.provider} / ${sp.model}`),
        h('span', { class: `state ${sp.status}` }, sp.status),
        sp.error ? h('span', { class: 'error-code' }, `${sp.error.code}: ${sp.error.message}`) : null,
        h('span', {}, `${sp.duration_ms} ms`),
        h('span', {}, fmtCost(sp.cost_detail && sp.cost_detail.amount, sp.cost_detail && sp.cost_detail.currency)),
        h('span', { class: 'asset' }, assetCell(sp))),
      bar(sp, start, total),
      sp.prompt ? h('p', { class: 'prompt' }, sp.prompt) : null,
      h('time', { datetime: sp.started_at }, fmtTime(sp.started_at))))),
  ];
}
