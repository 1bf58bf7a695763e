import { type Database, type KillSwitch, type Kysely, listKillSwitches } from '@otp/db';
import { PublicError } from '@otp/domain';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendProblem } from './problem.ts';

// The operator's kill switches, read-only (docs/sms-fraud.md, "Kill switches"): what is switched
// off, since when and by whom, read from Postgres at each view. Changing one stays a deliberate
// command (`ops kill-switch`), never a click on a page a stolen dashboard password opens.

export const KILL_SWITCHES_PATH = '/kill-switches';

/** A switch as the page and its JSON show it. */
export interface KillSwitchView {
  target: string;
  off: boolean;
  changedAt: string;
  changedBy: string | null;
}

function view(row: KillSwitch): KillSwitchView {
  return { target: row.target, off: row.off, changedAt: row.changed_at.toISOString(), changedBy: row.changed_by };
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
// `changed_by` is whatever the operator typed: never markup.
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => ESCAPES[char] ?? char);

const STYLE = `body{font:15px/1.5 system-ui,sans-serif;margin:2rem;color:#1f2937}
table{border-collapse:collapse}th,td{padding:.4rem .9rem;border-bottom:1px solid #d1d5db;text-align:left}
.off{color:#b91c1c;font-weight:600}.on{color:#15803d}code{background:#f3f4f6;padding:0 .25rem}`;

function page(switches: KillSwitchView[]): string {
  const rows = switches
    .map(
      (row) =>
        `<tr><td><code>${escapeHtml(row.target)}</code></td>` +
        `<td class="${row.off ? 'off' : 'on'}">${row.off ? 'off' : 'on'}</td>` +
        `<td>${escapeHtml(row.changedAt.slice(0, 19).replace('T', ' '))} UTC</td>` +
        `<td>${escapeHtml(row.changedBy ?? '-')}</td></tr>`,
    )
    .join('\n');
  const body =
    switches.length === 0
      ? '<p>No kill switch has been set: every channel, country and provider is on.</p>'
      : `<table><thead><tr><th>Target</th><th>State</th><th>Since</th><th>By</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kill switches</title><style>${STYLE}</style></head>
<body><p><a href="/">&larr; OTP delivery queues</a></p>
<h1>Kill switches</h1>
<p>Off: code requests answer <code>503 channel_suspended</code> and queued sends wait. Read-only here; change one with
<code>pnpm --filter @otp/gateway ops kill-switch &lt;target&gt; &lt;off|on&gt;</code>.</p>
${body}
</body></html>
`;
}

/**
 * `GET /kill-switches` (the page) and `GET /kill-switches.json`, to register inside the
 * signed-in context. A database that does not answer gives 503, and the board still works.
 */
export function killSwitchRoutes(db: Kysely<Database>) {
  return async function routes(app: FastifyInstance): Promise<void> {
    async function read(reply: FastifyReply): Promise<KillSwitchView[] | undefined> {
      try {
        return (await listKillSwitches(db)).map(view);
      } catch (error) {
        reply.log.error({ err: { message: (error as Error).message } }, 'kill switches unreadable');
        return undefined;
      }
    }

    app.get(KILL_SWITCHES_PATH, async (_request, reply) => {
      const switches = await read(reply);
      reply
        .header('cache-control', 'no-store')
        // Inline style only: no script, no other origin.
        .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
        .type('text/html; charset=utf-8');
      if (switches === undefined) {
        return reply
          .code(503)
          .send('<!doctype html><title>Kill switches</title><p>The kill switches cannot be read now.</p>\n');
      }
      return reply.send(page(switches));
    });

    app.get(`${KILL_SWITCHES_PATH}.json`, async (_request, reply) => {
      const switches = await read(reply);
      reply.header('cache-control', 'no-store');
      if (switches === undefined) {
        return sendProblem(reply, new PublicError('service_unavailable'));
      }
      return reply.send({ killSwitches: switches });
    });
  };
}
