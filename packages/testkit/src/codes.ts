/**
 * The first run of exactly `length` digits in a delivered message (not part of a longer number),
 * e.g. the code in an email or an SMS. Throws when there is none; the message never echoes the text.
 */
export function extractCode(text: string, length = 6): string {
  const match = new RegExp(`(?<!\\d)\\d{${length}}(?!\\d)`).exec(text);
  if (match === null) throw new Error(`no ${length}-digit code in the message`);
  return match[0];
}
