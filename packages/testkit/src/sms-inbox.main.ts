// The SMS inbox of the compose stack: the Twilio-shaped server of the test kit as a process.
// The sms-worker sends to it through TWILIO_API_BASE_URL with the real twilio SDK; people and
// `pnpm demo` read what arrived at GET /messages. Never a production component.
//   SMS_INBOX_PORT (1081), SMS_INBOX_ACCOUNT_SID, SMS_INBOX_AUTH_TOKEN
import { startTwilioFake } from './twilio-fake.ts';

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
const stop = () => {
  inbox.close().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
