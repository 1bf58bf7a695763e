import { once } from 'node:events';
import { createConnection, createServer, type Socket } from 'node:net';

/** A loopback TCP proxy a test can cut and restore, to take a dependency away mid-test. */
export interface TcpProxy {
  /** `host:port` of the proxy's listening side. */
  readonly host: string;
  readonly port: number;
  /** Drops every open connection and refuses new ones until `restore`. */
  cut(): void;
  /** Keeps every connection open but swallows every byte, either way, until `restore`: a stalled
   * network (connections used meanwhile are broken afterwards; a close made meanwhile reaches
   * the other end only at `restore`). */
  stall(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let down = false;
  let stalled = false;
  let pendingCloses: Array<() => void> = [];
  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const upstream = createConnection(target);
    const pair = [client, upstream];
    for (const socket of pair) {
      sockets.add(socket);
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      // One end closing reaches the other, as over a real network: at once, or, while stalled,
      // once the path is restored (as TCP's retransmissions would deliver it then).
      socket.on('close', () => {
        sockets.delete(socket);
        const closeOther = () => {
          for (const other of pair) other.destroy();
        };
        if (stalled) pendingCloses.push(closeOther);
        else closeOther();
      });
    }
    // Forwarding by hand, so that a stall can hold the bytes back.
    client.on('data', (chunk) => {
      if (!stalled) upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!stalled) client.write(chunk);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy did not bind');
  return {
    host: '127.0.0.1',
    port: address.port,
    cut() {
      down = true;
      for (const socket of sockets) socket.destroy();
    },
    stall() {
      stalled = true;
    },
    restore() {
      down = false;
      stalled = false;
      for (const close of pendingCloses) close();
      pendingCloses = [];
    },
    async close() {
      down = true;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
