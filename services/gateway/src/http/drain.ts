import type { Server } from 'node:http';
import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * How a gateway replica leaves a load-balanced pool without failing a request (main.ts runs it
 * on SIGTERM). Three steps, because whoever routes traffic here learns of the stop late, and in
 * different ways:
 *
 * 1. Drain (SHUTDOWN_DRAIN_MS): `/health/ready` answers 503 (`draining`), everything else is
 *    served as usual, still listening. Kubernetes drops the pod from the Service endpoints when
 *    it sends SIGTERM, but kube-proxy and ingress controllers apply that seconds later, and a
 *    balancer with health checks notices only at its next probe: connections they open in the
 *    meantime must still be accepted. Keep-alive stays on, so a proxy keeps reusing the
 *    connections it has instead of opening new ones (see step 2).
 * 2. Stop accepting, keep serving (`stopAccepting`): the listening socket closes, so a new
 *    connection is refused: a proxy retries that on another replica, safely even for a POST,
 *    since nothing was sent (nginx, which has no health checks, learns of the stop only this
 *    way). Connections already open are NOT cut: a request a proxy is writing on a pooled idle
 *    connection at that instant would be lost, and for a POST, nginx must not retry it. Every
 *    answer now carries `Connection: close`, and idle pooled connections are closed by the proxy
 *    itself (nginx's upstream keepalive_timeout, 2 s), until none is left or a bound passes.
 *    The one remaining race, a connection the kernel completed but the process had not accepted
 *    yet when the socket closed, is rare because step 1 kept the proxies on their pools.
 * 3. `app.close()`: the few connections still open (a client that keeps idle connections
 *    longer) are closed, in-flight requests finish, Fastify's onClose hooks run.
 */
export interface Drain {
  /** Step 1 or later: readiness answers 503. */
  readonly draining: boolean;
  /** Step 2 or later: answers ask the client to close the connection. */
  readonly closing: boolean;
  begin(): void;
  close(): void;
}

export function createDrain(): Drain {
  let state: 'serving' | 'draining' | 'closing' = 'serving';
  return {
    get draining() {
      return state !== 'serving';
    },
    get closing() {
      return state === 'closing';
    },
    begin() {
      if (state === 'serving') state = 'draining';
    },
    close() {
      state = 'closing';
    },
  };
}

/**
 * How long a stopping replica waits, after it stopped accepting, for proxies to close their idle
 * pooled connections (nginx's upstream keepalive_timeout in deploy/nginx is 2 s) before it closes
 * the rest itself.
 */
export const CONNECTION_CLOSE_WAIT_MS = 4000;

/** Once the replica stopped accepting, every answer asks the client to drop the connection. */
export function registerDrain(app: FastifyInstance, drain: Drain): void {
  app.addHook('onRequest', async (_request, reply) => {
    if (drain.closing) reply.header('connection', 'close');
  });
}

/**
 * Step 2: closes the listening socket without touching open connections (`http.Server.close`
 * would also cut the idle keep-alive ones at once), then waits until the clients closed them
 * all, or `waitMs` passed. Resolves either way.
 */
export async function stopAccepting(server: Server, drain: Drain, waitMs: number): Promise<void> {
  drain.close();
  await new Promise<void>((resolve) => {
    const bound = setTimeout(resolve, waitMs);
    // net.Server's close: stop listening; the callback runs once the last connection ended.
    NetServer.prototype.close.call(server, () => {
      clearTimeout(bound);
      resolve();
    });
  });
}
