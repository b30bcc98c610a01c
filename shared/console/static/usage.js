// Usage: cost and count by provider and by media type over a date range
// (GET /api/v1/traces/summary), drawn as SVG bar charts, under the budget
// alerts crossed in that range.

import { api } from './api.js';
import { h, s, fmtCost, fmtTime } from './dom.js';

// limitNames say which budget limit an alert is about.
const limitNames = {
  monthly_usd: (a) => `Monthly budget (${a.period})`,
  per_execution_usd: (a) => `Budget of execution ${a.execution_id}`,
  per_agent_daily_usd: (a) => `Daily budget of agent ${a.agent_id} (${a.period})`,
};

// alertList shows the budget alerts (80% and 100% of a limit), newest
// first; nothing when there are none. Every value is a text node (dom.js).
function alertList(alerts, cur) {
  if (!alerts || !alerts.length) return null;
  return h('section', { class: 'alerts', role: 'status', 'aria-label': 'Budget alerts' },
    h('h2', {}, 'Budget alerts'),
    h('ul', {}, alerts.map((a) => h('li', { class: a.threshold >= 100 ? 'alert reached' : 'alert', dataset: { limit: a.limit, threshold: String(a.threshold) } },
      h('strong', {}, `${a.threshold}%`), ' ',
      `${(limitNames[a.limit] || (() => a.limit))(a)}: ${fmtCost(a.spent_usd, cur)} spent of ${fmtCost(a.limit_usd, cur)}`, ' ',
      h('time', { datetime: a.crossed_at }, fmtTime(a.crossed_at))))));
}

function isoDay(d) {
  return d.toISOString().slice(0, 10);
}

// chart draws one horizontal bar per entry of totals for measure.
function chart(title, totals, measure, label) {
  const rows = Object.entries(totals || {}).sort((a, b) => measure(b[1]) - measure(a[1]));
  if (!rows.length) return h('p', { class: 'empty' }, `${title}: nothing in this range.`);
  const max = Math.max(...rows.map(([, t]) => measure(t)), 1e-9);
  const rowH = 28;
  const width = 640;
  const labelW = 160;
  const svg = s('svg', { viewBox: `0 0 ${width} ${rows.length * rowH + 10}`, role: 'img', 'aria-label': title, class: 'chart' },
    s('title', {}, title),
    rows.map(([name, t], i) => {
      const w = ((width - labelW - 140) * measure(t)) / max;
      const y = i * rowH + 5;
      return s('g', {},
        s('text', { x: 0, y: y + 17, class: 'chart-label' }, name),
        s('rect', { x: labelW, y, width: Math.max(w, 1), height: rowH - 8, class: 'chart-bar' }),
        s('text', { x: labelW + w + 6, y: y + 17, class: 'chart-value' }, label(t)));
    }));
  return h('figure', {}, h('figcaption', {}, title), svg);
}

export async function usage(q) {
  const today = new Date();
  const from = q.get('from') || isoDay(new Date(today.getTime() - 30 * 86400e3));
  const to = q.get('to') || isoDay(today);
  const { data } = await api('GET', '/traces/summary', { query: { date_from: from, date_to: to } });
  const cur = data.currency || 'USD';
  const cost = (t) => t.cost || 0;
  const count = (t) => t.count || 0;
  return [
    h('h1', {}, 'Usage'),
    h('form', { class: 'filters', 'aria-label': 'Date range',
      onsubmit: (ev) => { ev.preventDefault(); const f = ev.target.elements; location.hash = `#/usage?from=${f.from.value}&to=${f.to.value}`; } },
    h('label', {}, 'From', h('input', { type: 'date', name: 'from', value: from, required: true })),
    h('label', {}, 'To', h('input', { type: 'date', name: 'to', value: to, required: true })),
    h('button', { type: 'submit' }, 'Show')),
    alertList(data.alerts, cur),
    h('p', { class: 'totals' }, `${data.count} media calls, ${data.errors} errors, ${fmtCost(data.cost, cur)}.`),
    h('div', { class: 'charts' },
      chart('Cost by provider', data.by_provider, cost, (t) => fmtCost(t.cost, cur)),
      chart('Calls by provider', data.by_provider, count, (t) => `${t.count} (${t.errors} errors)`),
      chart('Cost by media type', data.by_media_type, cost, (t) => fmtCost(t.cost, cur)),
      chart('Calls by media type', data.by_media_type, count, (t) => `${t.count} (${t.errors} errors)`)),
  ];
}
