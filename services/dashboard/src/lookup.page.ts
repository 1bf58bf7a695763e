import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';

// The Lookup page: static HTML and one inline script that calls the dashboard's /lookup/api
// routes (same origin, the browser's sign-in) and builds every value into the page with
// textContent, never as markup. No build step, like the kill switches page. Nothing secret is in
// it: the admin API key stays on the server.

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1f2937;max-width:72rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.3rem .7rem;border-bottom:1px solid #d1d5db;text-align:left;vertical-align:top}
section{margin-bottom:2rem}input{font:inherit;padding:.25rem .5rem;width:22rem}button{font:inherit;margin-right:.4rem}
.error{color:#b91c1c;font-weight:600}.disabled{color:#b91c1c;font-weight:600}.ok{color:#15803d}
code,pre{background:#f3f4f6;padding:0 .25rem;font-size:13px}pre{margin:0;white-space:pre-wrap}
dl{display:grid;grid-template-columns:max-content auto;gap:.15rem 1rem}dt{font-weight:600}dd{margin:0}`;

// Plain browser JavaScript, served as is. Every server value goes through text(): textContent.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) node.setAttribute(name, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? '')));
  return node;
}
const when = (iso) => (iso ? iso.slice(0, 19).replace('T', ' ') + ' UTC' : '-');
function table(headers, rows) {
  return el('table', {}, el('thead', {}, el('tr', {}, ...headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows.map((cells) => el('tr', {}, ...cells.map((c) => el('td', {}, c))))));
}
function say(target, message, isError) {
  target.replaceChildren(el('p', isError ? { class: 'error', role: 'alert' } : { role: 'status' }, message));
}
async function api(method, path) {
  const response = await fetch(path, { method, headers: { accept: 'application/json' } });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.detail || body.title || 'HTTP ' + response.status);
  return body;
}
const eventsTable = (events) => table(['When', 'Event', 'Details'],
  events.map((e) => [when(e.createdAt), el('code', {}, e.type), el('pre', {}, JSON.stringify(e.details))]));

let current = null;
async function openUser(id, notice) {
  const panel = $('user-detail');
  try {
    const u = await api('GET', '/lookup/api/users/' + encodeURIComponent(id));
    current = u;
    const facts = [
      ['Id', el('code', {}, u.id)],
      ['Email', (u.email ?? '-') + (u.email ? (u.emailVerified ? ' (verified)' : ' (not verified)') : '')],
      ['Phone', (u.phone ?? '-') + (u.phone ? (u.phoneVerified ? ' (verified)' : ' (not verified)') : '')],
      ['Name', u.name ?? '-'],
      ['Created', when(u.createdAt)],
      ['State', u.disabledAt ? el('span', { class: 'disabled', id: 'user-state' }, 'disabled since ' + when(u.disabledAt))
        : el('span', { class: 'ok', id: 'user-state' }, 'enabled')],
      ['Codes locked until', u.codeSignInLockedUntil ? when(u.codeSignInLockedUntil) : 'not locked'],
      ['Recovery codes left', u.recoveryCodesRemaining],
    ];
    const actions = el('p', {});
    const offer = (action, label, question) => {
      const button = el('button', { type: 'button', 'data-action': action }, label);
      button.addEventListener('click', () => act(action, label, question));
      actions.append(button);
    };
    if (u.disabledAt) offer('enable', 'Enable', 'Enable this account again?');
    else offer('disable', 'Disable', 'Disable this account? Its sessions end and every sign-in is refused.');
    offer('revoke-sessions', 'Revoke sessions', 'End every session of this account?');
    offer('unlock', 'Unlock', 'End the factor lock and the wrong-code locks of its addresses?');
    offer('reset-factors', 'Reset factors', 'Remove its authenticator factors and recovery codes?');
    panel.replaceChildren(
      el('h3', {}, u.email ?? u.phone ?? u.id),
      notice ? el('p', { role: 'status', class: 'ok' }, notice) : '',
      el('dl', {}, ...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)])),
      actions,
      el('h4', {}, 'Factors'),
      u.factors.length === 0 ? el('p', {}, 'None.') : table(['Kind', 'Added', 'Enabled', 'Locked'],
        u.factors.map((f) => [f.kind, when(f.createdAt), f.enabled ? 'yes' : 'no', f.locked ? 'yes' : 'no'])),
      el('h4', {}, 'Sessions'),
      u.sessions.length === 0 ? el('p', {}, 'None.') : table(['Started', 'Last used', 'Device', 'Network'],
        u.sessions.map((s) => [when(s.createdAt), when(s.lastUsedAt), s.userAgent ?? '-', s.ipPrefix ?? '-'])),
      el('h4', {}, 'Recent security events'),
      u.recentSecurityEvents.length === 0 ? el('p', {}, 'None.') : eventsTable(u.recentSecurityEvents),
      olderEvents(u.id),
    );
    panel.hidden = false;
  } catch (error) {
    panel.hidden = false;
    say(panel, error.message, true);
  }
}

/** The account's whole audit trail, a page of 50 at a time (the detail shows the latest 20). */
function olderEvents(id) {
  const box = el('div', {});
  const more = (cursor) => {
    const button = el('button', { type: 'button' }, cursor ? 'More events' : 'All events');
    button.addEventListener('click', async () => {
      button.remove();
      try {
        const page = await api('GET', '/lookup/api/users/' + encodeURIComponent(id) + '/events' +
          (cursor ? '?cursor=' + encodeURIComponent(cursor) : ''));
        box.append(eventsTable(page.items));
        if (page.nextCursor) box.append(more(page.nextCursor));
      } catch (error) {
        box.append(el('p', { class: 'error', role: 'alert' }, error.message));
      }
    });
    return button;
  };
  box.append(more(null));
  return box;
}

async function act(action, label, question) {
  if (!current || !window.confirm(question)) return;
  try {
    await api('POST', '/lookup/api/users/' + encodeURIComponent(current.id) + '/' + action);
    await openUser(current.id, label + ': done.');
  } catch (error) {
    say($('user-detail'), label + ' failed: ' + error.message, true);
  }
}

$('user-search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('user-results');
  $('user-detail').hidden = true;
  say(out, 'Searching...');
  try {
    const { users } = await api('GET', '/lookup/api/users?q=' + encodeURIComponent($('user-q').value));
    if (users.length === 0) return say(out, 'No account holds this address.');
    out.replaceChildren(table(['Email', 'Phone', 'Name', 'State', ''], users.map((u) => {
      const open = el('button', { type: 'button' }, 'Open');
      open.addEventListener('click', () => openUser(u.id));
      return [u.email ?? '-', u.phone ?? '-', u.name ?? '-', u.disabledAt ? 'disabled' : 'enabled', open];
    })));
  } catch (error) {
    say(out, error.message, true);
  }
});

$('recipient-search').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('recipient-results');
  say(out, 'Looking up...');
  try {
    const { challenges } = await api('GET', '/lookup/api/recipients?to=' + encodeURIComponent($('recipient-to').value));
    if (challenges.length === 0) return say(out, 'No code was sent to this address.');
    out.replaceChildren(table(['Requested', 'Purpose', 'Channel', 'Code', 'Delivery', 'Attempts', 'Last error', 'Provider', 'Language'],
      challenges.map((c) => [when(c.createdAt), c.purpose, c.channel, c.status, c.delivery.status,
        c.delivery.attempts, c.delivery.lastError ?? '-', c.delivery.provider ?? '-', c.delivery.locale ?? '-'])));
  } catch (error) {
    say(out, error.message, true);
  }
});
`;

function html(nonce: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lookup</title><style>${STYLE}</style></head>
<body><p><a href="/">&larr; OTP delivery queues</a></p>
<h1>Lookup</h1>
<p>Through the gateway's admin API: every search and action is recorded in its audit trail under your name.</p>
<section><h2>Account</h2>
<form id="user-search"><label>Email or phone (+E.164) <input id="user-q" name="q" required autocomplete="off"></label>
<button type="submit">Find account</button></form>
<div id="user-results"></div>
<div id="user-detail" hidden></div>
</section>
<section><h2>Codes sent to an address</h2>
<form id="recipient-search"><label>Email or phone (+E.164) <input id="recipient-to" name="to" required autocomplete="off"></label>
<button type="submit">Look up</button></form>
<div id="recipient-results"></div>
</section>
<script nonce="${nonce}">${SCRIPT}</script>
</body></html>
`;
}

/** Sends the page with a fresh script nonce: only this inline script runs, and it talks only to this origin. */
export function lookupPage(reply: FastifyReply): FastifyReply {
  const nonce = randomBytes(16).toString('base64');
  return reply
    .header('cache-control', 'no-store')
    .header(
      'content-security-policy',
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'; ` +
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    )
    .type('text/html; charset=utf-8')
    .send(html(nonce));
}
