/** How many whole minutes a code stays valid, as templates say it (rounded up, at least 1). */
export function minutesValid(expiresAt: Date, now: Date): number {
  return Math.max(1, Math.ceil((expiresAt.getTime() - now.getTime()) / 60_000));
}

/**
 * The strings of the job's locale: its language (`pt-BR` → `pt`) when a template has it, English
 * otherwise, so an unknown locale still gets a readable message.
 */
export function pickLocale<T>(locale: string, strings: { en: T } & Record<string, T>): T {
  const language = locale.toLowerCase().split(/[-_]/)[0] ?? 'en';
  return strings[language] ?? strings.en;
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
