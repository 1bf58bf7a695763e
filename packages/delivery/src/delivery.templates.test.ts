import { findChallenge, listDeliveryAttempts } from '@otp/db';
import { envelopeContext, seal } from '@otp/domain';
import { describe, expect, it } from 'vitest';
import { useDeliveryTestBed } from './testing/index.ts';

// The job contract's versions and templates as a worker of this release reads them: version 1
// jobs (written before version 2, and still for every code) exactly as before, version 2 jobs of
// either template, and envelopes that must hold exactly what their template needs.
const bed = useDeliveryTestBed();

const sentFor = (challengeId: string) => bed.sender.sent.filter((message) => message.challengeId === challengeId);

describe('version 1 jobs', () => {
  it('delivers a version 1 job built as the previous release wrote it', async () => {
    const challenge = await bed.fixture.seedChallenge({
      to: 'v1@example.com',
      purpose: 'verify_email',
      locale: 'pt-BR',
    });
    // Field by field, not through the fixture: what a job already in Redis looks like.
    const data = {
      v: 1,
      challengeId: challenge.id,
      sendNumber: 1,
      channel: 'email',
      template: 'otp-code',
      purpose: 'verify_email',
      locale: 'pt-BR',
      toMasked: 'v***@example.com',
      requestedAt: new Date().toISOString(),
      expiresAt: challenge.expiresAt.toISOString(),
      requestId: 'req-v1',
      envelope: seal(bed.keyRing, { to: 'v1@example.com', code: challenge.code }, envelopeContext(challenge.id, 1)),
    };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));

    expect(outcome).toEqual({ state: 'completed', value: { providerMessageId: expect.stringMatching(/^fake-/) } });
    expect(sentFor(challenge.id)).toMatchObject([
      {
        to: 'v1@example.com',
        toMasked: 'v***@example.com',
        subject: 'Your code',
        text: `Your code is ${challenge.code}`,
      },
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({ delivery_status: 'sent' });
  });

  it('refuses a version 1 job naming account-exists, which only version 2 carries', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'v1-exists@example.com', template: 'account-exists' });
    const data = { ...bed.fixture.jobData(challenge), v: 1 };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));

    expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
    expect(sentFor(challenge.id)).toEqual([]);
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toEqual([]);
  });
});

describe('version 2 jobs', () => {
  it('delivers an account-exists job: the account-exists message to the opened address, no code', async () => {
    const challenge = await bed.fixture.seedChallenge({
      to: 'taken@example.com',
      template: 'account-exists',
      purpose: 'verify_email',
    });
    const job = await bed.fixture.enqueue(challenge);
    const outcome = await bed.fixture.finished(job);

    expect(job.data).toMatchObject({ v: 2, template: 'account-exists' });
    expect(outcome.state).toBe('completed');
    const [message, ...others] = sentFor(challenge.id);
    expect(others).toEqual([]);
    expect(message).toMatchObject({ to: 'taken@example.com', subject: 'Your account' });
    expect(message?.text).toBe('You have an account already.');
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toMatchObject([{ outcome: 'sent' }]);
  });

  it('delivers an otp-code job of version 2 like one of version 1', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'v2-code@example.com' });
    const data = { ...bed.fixture.jobData(challenge), v: 2 };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));

    expect(outcome.state).toBe('completed');
    expect(sentFor(challenge.id)).toMatchObject([
      { to: 'v2-code@example.com', text: `Your code is ${challenge.code}` },
    ]);
  });

  it('skips an account-exists send the challenge no longer wants, as any other', async () => {
    const challenge = await bed.fixture.seedChallenge({
      to: 'late@example.com',
      template: 'account-exists',
      expiresInMs: -1000,
    });
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge));

    expect(outcome).toEqual({ state: 'completed', value: { skipped: 'challenge_expired' } });
    expect(sentFor(challenge.id)).toEqual([]);
  });
});

describe('version 4 jobs: a password reset', () => {
  it('delivers a reset code and a reset-no-account message, each as version 4', async () => {
    const code = await bed.fixture.seedChallenge({ to: 'reset@example.com', purpose: 'reset_password' });
    const codeJob = await bed.fixture.enqueue(code);
    const none = await bed.fixture.seedChallenge({
      to: 'nobody@example.com',
      purpose: 'reset_password',
      template: 'reset-no-account',
    });
    const noneJob = await bed.fixture.enqueue(none);

    expect(codeJob.data).toMatchObject({ v: 4, template: 'otp-code', purpose: 'reset_password' });
    expect(noneJob.data).toMatchObject({ v: 4, template: 'reset-no-account' });
    expect((await bed.fixture.finished(codeJob)).state).toBe('completed');
    expect((await bed.fixture.finished(noneJob)).state).toBe('completed');
    expect(sentFor(code.id)).toMatchObject([{ to: 'reset@example.com', text: `Your code is ${code.code}` }]);
    expect(sentFor(none.id)).toMatchObject([{ to: 'nobody@example.com', text: 'No account to reset here.' }]);
  });

  it('is refused under versions 1 and 2, which do not carry the purpose: what a previous worker does', async () => {
    for (const v of [1, 2]) {
      const challenge = await bed.fixture.seedChallenge({ to: `old-v${v}@example.com`, purpose: 'reset_password' });
      const data = { ...bed.fixture.jobData(challenge), v };
      const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));
      expect(outcome).toEqual({ state: 'failed', reason: 'invalid_payload' });
      expect(sentFor(challenge.id)).toEqual([]);
    }
  });

  it('refuses a reset-no-account job whose envelope carries a code', async () => {
    const challenge = await bed.fixture.seedChallenge({
      to: 'smuggled-reset@example.com',
      purpose: 'reset_password',
      template: 'reset-no-account',
    });
    const data = {
      ...bed.fixture.jobData(challenge),
      envelope: seal(bed.keyRing, { to: challenge.to, code: challenge.code }, envelopeContext(challenge.id, 1)),
    };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));
    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_unreadable' });
    expect(sentFor(challenge.id)).toEqual([]);
  });
});

describe('an envelope holds exactly what its template needs', () => {
  it('refuses an account-exists job whose envelope carries a code, sending nothing', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'smuggled@example.com', template: 'account-exists' });
    const secret = { to: challenge.to, code: challenge.code };
    const data = {
      ...bed.fixture.jobData(challenge),
      envelope: seal(bed.keyRing, secret, envelopeContext(challenge.id, 1)),
    };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data, attempts: 3 }));

    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_unreadable' });
    expect(sentFor(challenge.id)).toEqual([]);
    expect(await listDeliveryAttempts(bed.database.db, challenge.id)).toMatchObject([
      { outcome: 'permanent_failure', error_code: 'envelope_unreadable' },
    ]);
    expect(await findChallenge(bed.database.db, challenge.id)).toMatchObject({ delivery_status: 'failed' });
  });

  it('refuses an otp-code job whose envelope holds no code', async () => {
    const challenge = await bed.fixture.seedChallenge({ to: 'codeless@example.com' });
    const data = {
      ...bed.fixture.jobData(challenge),
      envelope: seal(bed.keyRing, { to: challenge.to }, envelopeContext(challenge.id, 1)),
    };
    const outcome = await bed.fixture.finished(await bed.fixture.enqueue(challenge, { data }));

    expect(outcome).toEqual({ state: 'failed', reason: 'envelope_unreadable' });
    expect(sentFor(challenge.id)).toEqual([]);
  });
});
