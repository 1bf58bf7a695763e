import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { EnvelopeError, open, parseKeyRing, seal } from './envelope.ts';

const keyText = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('parseKeyRing', () => {
  it('takes the first key as the encrypting one', () => {
    const ring = parseKeyRing(`${keyText('k2')},${keyText('k1')}`);
    expect(ring.currentId).toBe('k2');
    expect([...ring.keys.keys()]).toEqual(['k2', 'k1']);
  });

  it.each([
    ['', 'empty'],
    ['nokey', 'no separator'],
    [`bad id:${randomBytes(32).toString('base64')}`, 'bad id'],
    [`k1:${randomBytes(16).toString('base64')}`, 'short key'],
    [`${keyText('k1')},${keyText('k1')}`, 'repeated id'],
  ])('refuses %s (%s) without echoing the key', (value) => {
    let message = '';
    try {
      parseKeyRing(value);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).not.toBe('');
    const secret = value.split(':')[1];
    if (secret !== undefined && secret.length > 8) expect(message).not.toContain(secret);
  });
});

describe('seal and open', () => {
  const ring = parseKeyRing(keyText('k1'));

  it('round-trips a value and keeps it unreadable in the envelope', () => {
    const envelope = seal(ring, { to: 'alice@example.com', code: '123456' }, 'ctx-1');
    expect(envelope.startsWith('v1.k1.')).toBe(true);
    expect(envelope).not.toContain('alice');
    expect(envelope).not.toContain('123456');
    expect(open(ring, envelope, 'ctx-1')).toEqual({ to: 'alice@example.com', code: '123456' });
  });

  it('uses a fresh IV every time', () => {
    expect(seal(ring, 'x', 'c')).not.toBe(seal(ring, 'x', 'c'));
  });

  it('cuts distinct IVs from its random pool, across refills, and every envelope still opens', () => {
    // 1,000 envelopes use three pools of 341 IVs: an IV repeated under one key would break GCM.
    const envelopes = Array.from({ length: 1000 }, (_, index) => seal(ring, index, 'c'));
    const ivs = envelopes.map((envelope) => envelope.split('.')[2]);
    expect(new Set(ivs).size).toBe(1000);
    expect(ivs.every((iv) => Buffer.from(iv as string, 'base64url').length === 12)).toBe(true);
    expect(envelopes.map((envelope) => open(ring, envelope, 'c'))).toEqual(envelopes.map((_, index) => index));
  });

  it('refuses another context (an envelope moved to another job)', () => {
    const envelope = seal(ring, 'x', 'job-a');
    expect(() => open(ring, envelope, 'job-b')).toThrow(EnvelopeError);
  });

  it('refuses a tampered ciphertext and an unknown key', () => {
    const envelope = seal(ring, { a: 1 }, 'c');
    const parts = envelope.split('.');
    const ct = Buffer.from(parts[4] as string, 'base64url');
    ct[0] = (ct[0] ?? 0) ^ 1;
    parts[4] = ct.toString('base64url');
    expect(() => open(ring, parts.join('.'), 'c')).toThrow(EnvelopeError);
    expect(() => open(parseKeyRing(keyText('k9')), envelope, 'c')).toThrow(/unknown key id/);
    expect(() => open(ring, 'garbage', 'c')).toThrow(EnvelopeError);
  });

  it('opens envelopes of a retired key after rotation', () => {
    const old = parseKeyRing(keyText('old'));
    const envelope = seal(old, 'kept', 'c');
    const oldKey = old.keys.get('old')?.export().toString('base64');
    const rotated = parseKeyRing(`${keyText('new')},old:${oldKey}`);
    expect(open(rotated, envelope, 'c')).toBe('kept');
    expect(seal(rotated, 'x', 'c').startsWith('v1.new.')).toBe(true);
  });
});
