import type { OutgoingMessage } from '@otp/delivery';
import type { SendMailOptions } from 'nodemailer';

/** Header naming the send, so an operator or a test can find the message of a challenge. */
export const CHALLENGE_HEADER = 'X-OTP-Challenge-Id';
/** Header naming the security notice (`notifications.id`) a message is. */
export const NOTIFICATION_HEADER = 'X-OTP-Notification-Id';

/** The nodemailer message for a rendered code email (the From comes from the transport defaults). */
export function mailOptions(message: OutgoingMessage): SendMailOptions {
  return {
    to: message.to,
    subject: message.subject,
    text: message.text,
    html: message.html,
    headers: {
      ...(message.notificationId === undefined
        ? { [CHALLENGE_HEADER]: message.challengeId, 'X-OTP-Send-Number': String(message.sendNumber) }
        : { [NOTIFICATION_HEADER]: message.notificationId }),
      // Ask mail systems not to send vacation or other automatic replies to a no-reply address.
      'Auto-Submitted': 'auto-generated',
      // The language it is written in (RFC 3282): screen readers and translation offers use it.
      ...(message.locale === undefined ? {} : { 'Content-Language': message.locale }),
    },
  };
}
