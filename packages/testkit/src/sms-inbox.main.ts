// The SMS inbox of the compose stack: the Twilio-shaped server of the test kit as a process.
// The sms-worker sends to it through TWILIO_API_BASE_URL with the real twilio SDK; people and
// `pnpm demo` read what arrived at GET /messages. Never a production component.
//   SMS_INBOX_PORT (1081), SMS_INBOX_ACCOUNT_SID, SMS_INBOX_AUTH_TOKEN
// With WEBHOOK_INBOX_SECRET it also runs the test kit's webhook receiver on WEBHOOK_INBOX_PORT
// (1082): the compose stack's webhook worker sends every event there (POST /webhooks), signed
// with that secret, and GET /webhooks lists the events that arrived, each with `verified`.
import { startTwilioFake } from './twilio-fake.ts';
import { startWebhookReceiver } from './webhook-receiver.ts';

const accountSid = process.env.SMS_INBOX_ACCOUNT_SID;
const authToken = process.env.SMS_INBOX_AUTH_TOKEN;
if (accountSid === undefined || authToken === undefined) {
  process.stderr.write('SMS_INBOX_ACCOUNT_SID and SMS_INBOX_AUTH_TOKEN: required but not set\n');
  process.exit(78);
}
const inbox = await startTwilioFake({
  accountSid,
  authToken,
  host: '0.0.0.0',
  port: Number(process.env.SMS_INBOX_PORT ?? 1081),
  // In the compose stack the callbacks go to the gateway, inside the stack's own network.
  sendStatusCallbacks: true,
});
process.stdout.write(`sms inbox listening on ${inbox.baseUrl} (GET /messages)\n`);
const webhookSecret = process.env.WEBHOOK_INBOX_SECRET;
const webhooks =
  webhookSecret === undefined || webhookSecret === ''
    ? undefined
    : await startWebhookReceiver({
        secret: webhookSecret,
        host: '0.0.0.0',
        port: Number(process.env.WEBHOOK_INBOX_PORT ?? 1082),
      });
if (webhooks !== undefined) {
  process.stdout.write(`webhook inbox listening on port ${webhooks.port} (POST and GET /webhooks)\n`);
}
const stop = () => {
  Promise.all([inbox.close(), webhooks?.close()]).then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
