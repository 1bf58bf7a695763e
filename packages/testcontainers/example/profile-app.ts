import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';

/**
 * A tiny application that signs its users in through the OTP system: it trusts an access token
 * when its signature checks against the gateway's JWKS and its issuer and audience are the
 * expected ones. `GET /profile` answers the signed-in user's id.
 */
export async function startProfileApp(settings: {
  jwksUrl: string;
  issuer: string;
  audience: string;
}): Promise<{ url: string; close: () => Promise<void> }> {
  const keys = createRemoteJWKSet(new URL(settings.jwksUrl));
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.method !== 'GET' || req.url !== '/profile') return send(404, { error: 'not_found' });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined) return send(401, { error: 'missing_token' });
    try {
      const { payload } = await jwtVerify(token, keys, { issuer: settings.issuer, audience: settings.audience });
      return send(200, { userId: payload.sub });
    } catch {
      return send(401, { error: 'invalid_token' });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
