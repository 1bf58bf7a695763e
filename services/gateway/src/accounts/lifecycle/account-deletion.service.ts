import {
  anonymiseUserEvents,
  type Database,
  type DeletedCredentials,
  deleteRecipientWindows,
  deleteUserChallenges,
  deleteUserCredentials,
  deleteUserNotifications,
  deleteUserRow,
  deleteUserSessions,
  holdUserAgainstReferences,
  type Kysely,
  lockUserForDeletion,
} from '@otp/db';
import { type Channel, deliveryJobId, noticeJobId } from '@otp/domain';
import { accountRecipientHashes } from '../../codes/challenges/recipient-limits.ts';
import type { GatewayDeps } from '../../deps.ts';
import { onCommit, recordEvent } from '../../events/record-event.ts';
import type { RequestContext } from '../../events/request-context.ts';

type Deps = Pick<GatewayDeps, 'keys' | 'queues'>;

/** Who asked: the user (DELETE /v1/me) or an operator (the admin API, `operator` naming them). */
export interface DeletionRequest {
  by: 'user' | 'operator';
  operator?: string;
}

/** What a deletion removed, by kind: the details of its `user.deleted` event. */
export interface DeletedAccount extends DeletedCredentials {
  notifications: number;
  challenges: number;
  outboxRows: number;
  deliveryAttempts: number;
  recipientWindows: number;
  /** Audit rows kept in anonymised form (the deletion's own event included). */
  anonymisedEvents: number;
}

interface QueuedJob {
  channel: Channel;
  jobId: string;
}

/**
 * Deletes an account and every personal datum the system holds of it, on `trx`, which the caller
 * opened with inTransaction (and may share with its own writes); `undefined` when there is no
 * such account (deleted meanwhile). Independent of who is signed in: the caller has checked
 * that the request may delete this account.
 *
 * Removed: the user row, its sessions, refresh and MFA tokens, factors, recovery codes, security
 * notices; every challenge of the account or sent to one of its addresses (found by the keyed
 * hash they are stored under, whoever asked for them: the address is the person's data), with
 * outbox rows, delivery attempts and the addresses' limit windows. Its audit rows stay, anonymised.
 * It records `user.deleted`, whose notice (`account-deleted`) is the last message to the account's
 * verified address.
 * After the commit, the queue jobs of the removed challenges and notices are removed too; a job a
 * worker is running at that moment may still send, and any job left finds its row gone and
 * completes without sending. docs/account-lifecycle.md ("Deleting the account") lists every table.
 *
 * Concurrency: the row locks are taken so that sign-ins and refreshes racing the deletion leave
 * nothing behind (see lockUserForDeletion and holdUserAgainstReferences).
 */
export async function deleteAccount(
  trx: Kysely<Database>,
  deps: Deps,
  userId: string,
  context: RequestContext,
  request: DeletionRequest,
): Promise<DeletedAccount | undefined> {
  const user = await lockUserForDeletion(trx, userId);
  if (user === undefined) return undefined;
  // Rotations in flight hold their session's lock: this waits for them, and then for every other
  // transaction that has inserted a row referencing the user, before anything else is deleted.
  const sessions = await deleteUserSessions(trx, userId);
  await holdUserAgainstReferences(trx, userId);

  const hashes = accountRecipientHashes(deps, user);
  const credentials = await deleteUserCredentials(trx, userId);
  const notifications = await deleteUserNotifications(trx, userId);
  const removed = await deleteUserChallenges(trx, userId, hashes);
  const recipientWindows = await deleteRecipientWindows(trx, hashes);
  const removedCounts = {
    ...credentials,
    // Those deleted under their locks, and any a sign-in committed before the row was held.
    sessions: sessions + credentials.sessions,
    notifications: notifications.length,
    challenges: removed.challenges.length,
    outboxRows: removed.outboxRows,
    deliveryAttempts: removed.deliveryAttempts,
    recipientWindows,
  };
  // Recorded while the user row is still there: the notice sender reads the verified address
  // from it. The notice's row outlives the account (its user id becomes NULL with the row), and
  // its job is the one job of the account left in the queue: the address only sealed, masked.
  await recordEvent(trx, context, 'user.deleted', {
    userId,
    details: {
      by: request.by,
      ...(request.operator === undefined ? {} : { operator: request.operator }),
      ...removedCounts,
    },
  });
  // After the event, so its own row is anonymised too (its details, counts, are kept).
  const anonymisedEvents = await anonymiseUserEvents(trx, userId, 'user.deleted');
  await deleteUserRow(trx, userId);

  const jobs: QueuedJob[] = [
    ...removed.challenges.flatMap((challenge) =>
      Array.from({ length: challenge.sendCount }, (_, index) => ({
        channel: challenge.channel,
        jobId: deliveryJobId(challenge.id, index + 1),
      })),
    ),
    ...notifications.map((id) => ({ channel: 'email' as const, jobId: noticeJobId(id) })),
  ];
  onCommit(trx, () => removeJobs(deps, context, jobs));
  return { ...removedCounts, anonymisedEvents };
}

/**
 * Removes the queue jobs of deleted rows, waiting, delayed, completed or failed alike: their data
 * hold the masked address and the sealed envelope. A job a worker holds right now is locked and
 * stays (BullMQ answers 0): it may still send, and then completes. Redis being away leaves jobs
 * behind too; each finds its row gone and completes without sending (the workers skip a send
 * whose challenge or notice is missing), and BullMQ's retention removes it later. So a failure
 * here is logged, never thrown: the deletion has committed.
 */
async function removeJobs(deps: Deps, context: RequestContext, jobs: QueuedJob[]): Promise<void> {
  if (jobs.length === 0) return;
  const results = await Promise.allSettled(jobs.map((job) => deps.queues[job.channel].remove(job.jobId)));
  const failed = results.filter((result) => result.status === 'rejected').length;
  const kept = results.filter((result) => result.status === 'fulfilled' && result.value === 0).length;
  if (failed > 0) {
    const reason = results.find((result) => result.status === 'rejected')?.reason as Error | undefined;
    context.log.warn({ jobs: jobs.length, failed, err: { message: reason?.message } }, 'deleted account: jobs left');
  } else {
    context.log.info({ jobs: jobs.length, notFoundOrActive: kept }, 'deleted account: jobs removed');
  }
}
