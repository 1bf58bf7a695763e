import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginTokens, registerUser } from '../../testing/accounts.ts';
import { pinClock, userWithTotp } from '../../testing/factors.ts';
import { useTestGateway } from '../../testing/gateway.fixture.ts';
import { bearer, post } from '../../testing/gateway.harness.ts';

// Independent implementations, Debian packages installed by .ci/run: oathtool (oath-toolkit),
// zbarimg (zbar-tools) and rsvg-convert (librsvg2-bin) to rasterise the SVG for zbarimg.
function run(tool: string, args: string[]): string {
  try {
    return execFileSync(tool, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`${tool} is not installed: apt-get install -y oathtool zbar-tools librsvg2-bin (.ci/run does)`);
    }
    throw error;
  }
}

let at: Date;
let dir: string;
const { gateway } = useTestGateway();

beforeAll(async () => {
  at = pinClock(gateway);
  dir = mkdtempSync(join(tmpdir(), 'otp-interop-'));
});

afterAll(async () => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('interoperability with independent implementations', () => {
  it("accepts oathtool's TOTP code, and the QR code decodes to the otpauth URL", async () => {
    const user = await userWithTotp(gateway, at);
    const seconds = String(Math.floor(at.getTime() / 1000));
    const code = run('oathtool', ['--totp', '--base32', `--now=@${seconds}`, user.secret]);
    expect(code).toMatch(/^[0-9]{6}$/);
    const validated = await post(gateway.app, '/v1/me/totp/validate', { code }, bearer(user.accessToken));
    expect(validated.status).toBe(200);

    const svg = join(dir, 'qr.svg');
    const png = join(dir, 'qr.png');
    writeFileSync(svg, user.qrCodeSvg);
    run('rsvg-convert', ['--width', '600', '--background-color', 'white', svg, '-o', png]);
    expect(run('zbarimg', ['--quiet', '--raw', png])).toBe(user.otpauthUrl);
  });

  it("accepts oathtool's HOTP codes, in order and with a skip inside the window", async () => {
    const { email } = await registerUser(gateway, 'oath-hotp');
    const { accessToken } = await loginTokens(gateway, email);
    const enrolled = await post(gateway.app, '/v1/me/hotp', {}, bearer(accessToken));
    const secret = String(enrolled.body.secret);
    const codes = run('oathtool', ['--hotp', '--base32', '--counter=0', '--window=5', secret]).split('\n');
    expect(codes).toHaveLength(6);
    expect((await post(gateway.app, '/v1/me/hotp/verify', { code: codes[0] }, bearer(accessToken))).status).toBe(200);
    for (const code of [codes[1], codes[4], codes[5]]) {
      const login = await post(gateway.app, '/v1/auth/login', { email, password: 'correct horse battery staple' });
      const signedIn = await post(gateway.app, '/v1/auth/mfa', { mfaToken: String(login.body.mfaToken), code });
      expect(signedIn.status).toBe(200);
    }
  });
});
