// The code email of the delivery bench's bare pool and floor worker: a nodemailer pooled SMTP
// transport set up as the email worker's (smtp.sender.ts: pool on, nodemailer's default
// maxConnections 5 and maxMessages 100, the same timeouts) and a message of the shape the worker
// sends (subject, text and HTML parts of the sizes the catalogue renders, the worker's headers),
// written out here instead of rendered from templates.
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';

export function codeEmailTransport(smtpUrl: string | undefined) {
  return nodemailer.createTransport(
    {
      pool: true,
      url: smtpUrl,
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 30_000,
      debug: false,
      logger: false,
    },
    { from: process.env.MAIL_FROM ?? 'OTP <no-reply@otp.local>' },
  );
}

const product = 'OTP';
const text = (code: string) =>
  `Use this code to sign in to ${product}:\n\n${code}\n\nThe code is valid for 10 minutes.\n\nNever share this code. ${product} will never ask you for it.\n\nIf you did not ask for this, ignore this email: nobody can sign in without the code.\n`;
const p = 'margin:0 0 16px';
const html = (code: string) =>
  `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Your ${product} sign-in code</title></head>\n<body style="margin:0;padding:0;background:#ffffff">\n<div style="max-width:560px;margin:0 auto;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;color:#222222">\n<p style="${p}">Use this code to sign in to ${product}:</p>\n<p style="${p};font-size:32px;font-weight:bold;letter-spacing:6px;font-family:monospace;color:#222222">${code}</p>\n<p style="${p}">The code is valid for 10 minutes.</p>\n<p style="${p}">Never share this code. ${product} will never ask you for it.</p>\n<p style="margin:0;color:#666666;font-size:13px">If you did not ask for this, ignore this email: nobody can sign in without the code.</p>\n</div>\n</body></html>`;

/** The message of one code to `to` (the challenge id and send number in the worker's headers). */
export function codeEmail(to: string, code: string, challengeId: string = randomUUID(), sendNumber = 1) {
  return {
    to,
    subject: `Your ${product} sign-in code`,
    text: text(code),
    html: html(code),
    headers: {
      'X-OTP-Challenge-Id': challengeId,
      'X-OTP-Send-Number': String(sendNumber),
      'Auto-Submitted': 'auto-generated',
      'Content-Language': 'en',
    },
  };
}
