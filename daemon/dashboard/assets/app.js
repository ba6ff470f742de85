// The skyd dashboard: polls the read-only JSON routes once a second and redraws in place, so a
// job's status changes show up without a reload. No framework, no external files.
'use strict';

const POLL_MS = 1000;
const $ = (selector) => document.querySelector(selector);

function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : String(child ?? ''));
  return node;
}

function statusCell(status) {
  return el('td', { class: 'status status-' + status, 'data-status': status }, status);
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return '-';
  const s = Math.max(0, Math.floor(seconds));
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}h ${m}m ${r}s` : m ? `${m}m ${r}s` : `${r}s`;
}

function time(seconds) {
  return seconds ? new Date(seconds * 1000).toLocaleString() : '-';
}

function place(where) {
  if (!where) return '-';
  return [where.cloud, where.region, where.zone].filter(Boolean).join('/') || '-';
}

async function getJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ? body.error.message : response.statusText);
  return body;
}

function showError(error) {
  const node = $('#error');
  node.hidden = !error;
  node.textContent = error ? String(error.message || error) : '';
}

async function drawQueue() {
  const query = new URLSearchParams();
  if ($('#filter-status').value) query.set('status', $('#filter-status').value);
  if ($('#filter-name').value) query.set('name', $('#filter-name').value);
  if ($('#filter-user').value) query.set('user', $('#filter-user').value);
  const { jobs } = await getJson('/api/jobs?' + query);
  const rows = [];
  for (const job of jobs) {
    job.tasks.forEach((task, i) => {
      const link = el('a', { href: `#/jobs/${job.id}` }, job.id);
      rows.push(el('tr', { 'data-job': job.id, 'data-task': task.index },
        el('td', {}, i === 0 ? link : ''), el('td', {}, job.tasks.length > 1 ? task.index : '-'),
        el('td', {}, task.name || job.name), el('td', {}, job.user), el('td', {}, task.resources),
        el('td', {}, time(task.submitted_at)), el('td', {}, duration(task.total_duration)),
        el('td', {}, duration(task.job_duration)), el('td', {}, task.recovery_count),
        statusCell(task.status)));
    });
  }
  $('#jobs tbody').replaceChildren(...rows);
  $('#empty').hidden = rows.length > 0;
}

let logState = { job: null, offset: 0 };

async function drawJob(id) {
  const job = await getJson(`/api/jobs/${id}`);
  $('#job-title').textContent = `Job ${job.id}: ${job.name}`;
  const status = $('#job-status');
  status.textContent = job.status;
  status.className = 'status status-' + job.status;
  status.dataset.status = job.status;
  $('#job-meta').textContent = `by ${job.user}, submitted ${time(job.submitted_at)}` +
    (job.failure_reason ? ` — ${job.failure_reason}` : '');
  $('#job-cost').textContent = '$' + job.cost_usd.toFixed(4);
  $('#job-on-demand-cost').textContent = '$' + job.on_demand_cost_usd.toFixed(4);
  $('#tasks tbody').replaceChildren(...job.tasks.map((task) => el('tr', {},
    el('td', {}, task.index), el('td', {}, task.name), statusCell(task.status),
    el('td', {}, task.resources),
    el('td', {}, task.placement ? `${place(task.placement)} ${task.placement.instance_type || ''}` +
      (task.placement.use_spot ? ' (spot)' : '') : '-'),
    el('td', {}, duration(task.job_duration)), el('td', {}, task.recovery_count),
    el('td', {}, '$' + task.cost_usd.toFixed(4)),
    el('td', {}, '$' + task.on_demand_cost_usd.toFixed(4)))));
  $('#recoveries tbody').replaceChildren(...job.recoveries.map((r) => el('tr', {},
    el('td', {}, r.task), el('td', {}, time(r.at)), el('td', {}, r.reason),
    el('td', {}, place(r.from)), el('td', {}, place(r.to)),
    el('td', {}, r.recovered_at ? duration(r.recovered_at - r.at) : 'recovering'))));
  $('#timeline tbody').replaceChildren(...job.events.map((e) => el('tr', {},
    el('td', {}, time(e.at)), el('td', {}, e.task ?? '-'), el('td', {}, e.from || '(submitted)'),
    statusCell(e.to), el('td', {}, e.reason))));

  if (logState.job !== id) logState = { job: id, offset: 0 };
  if (logState.job === id) $('#logs').dataset.job = id;
  for (;;) {
    const page = await getJson(`/api/jobs/${id}/logs?offset=${logState.offset}`);
    if (logState.offset === 0 && page.offset === 0) $('#logs').textContent = '';
    $('#logs').append(page.text);
    logState.offset = page.next_offset;
    if (!page.text) break;
  }
}

function route() {
  const match = location.hash.match(/^#\/jobs\/(\d+)$/);
  $('#queue-view').hidden = !!match;
  $('#job-view').hidden = !match;
  return match ? match[1] : null;
}

let timer = null;
async function refresh() {
  clearTimeout(timer);
  const id = route();
  try {
    if (id) await drawJob(id); else await drawQueue();
    showError(null);
    $('#updated').textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (error) {
    showError(error);
  }
  timer = setTimeout(refresh, POLL_MS);
}

window.addEventListener('hashchange', () => { $('#logs').textContent = ''; logState = { job: null, offset: 0 }; refresh(); });
for (const id of ['#filter-status', '#filter-name', '#filter-user'])
  $(id).addEventListener('input', refresh);
refresh();
