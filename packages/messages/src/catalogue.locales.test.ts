import { describe, expect, it } from 'vitest';
import { loadCatalogue } from './catalogue.loader.ts';
import { type ArgumentKind, EMAIL_TEMPLATES, type EmailTemplate, FACT_NAMES } from './catalogue.spec.ts';
import { renderEmail } from './email.render.ts';
import { formatKey, type MessageValues } from './message.compile.ts';
import { renderSms } from './sms.render.ts';

/**
 * The shipped locales are whole translations: every email of every non-English locale renders,
 * for every value its selects and plurals know, with no English sentence left in it.
 */

const catalogue = loadCatalogue({ defaultLocale: 'en' });
const APP = 'Acme';
const CODE = '482913';
const TEMPLATES = Object.keys(EMAIL_TEMPLATES) as EmailTemplate[];
const TRANSLATED = catalogue.locales.filter((locale) => locale !== 'en');

/** Every combination of the values a template's arguments can take (each select option, a few numbers). */
function inputsOf(template: EmailTemplate): MessageValues[] {
  const args: Record<string, ArgumentKind> = EMAIL_TEMPLATES[template].args;
  let combinations: Record<string, string | number>[] = [{}];
  for (const [name, kind] of Object.entries(args)) {
    if (kind.kind === 'text') continue; // app: the product name, added by renderEmail
    const values = kind.kind === 'number' ? [0, 1, 2, 5, 21] : [...kind.options, 'unlisted'];
    combinations = combinations.flatMap((values_) => values.map((value) => ({ ...values_, [name]: value })));
  }
  return combinations;
}

const FACTS = {
  when: '2026-12-05T08:00:00Z',
  device: 'Firefox on Linux',
  network: '203.0.113.7',
  newAddress: 'new@example.com',
  phone: '+49 30 1234567',
};

function render(template: EmailTemplate, locale: string, values: MessageValues) {
  return renderEmail(catalogue, template, locale, APP, { values, code: CODE, facts: FACTS });
}

/** The blocks of a rendered email's text, without the code (the same in every language). */
const paragraphs = (text: string) =>
  text
    .trim()
    .split('\n\n')
    .filter((block) => block !== CODE);

/**
 * The sentences of an English text, long enough that finding one elsewhere is not chance, without
 * the facts' values (the same in every language).
 */
const sentences = (text: string) =>
  text
    .split(/(?<=[.:;?!])\s+|\n/)
    .map((sentence) => sentence.trim())
    .filter((sentence) => sentence.length >= 12 && !Object.values(FACTS).some((fact) => sentence.includes(fact)));

describe('the shipped catalogue', () => {
  it('has exactly the locales en, de, fr, es and pt-BR', () => {
    expect([...catalogue.locales].sort()).toEqual(['de', 'en', 'es', 'fr', 'pt-BR']);
  });

  describe.each(TRANSLATED)('%s', (locale) => {
    it.each(TEMPLATES)('translates every block of %s, for every value of its arguments', (template) => {
      for (const values of inputsOf(template)) {
        const english = render(template, 'en', values);
        const translated = render(template, locale, values);
        const input = `${template} ${JSON.stringify(values)}`;
        expect(translated.locale).toBe(locale);
        expect(translated.html, input).toContain(`<html lang="${locale}">`);
        expect(translated.subject, `${input}: the subject is the English one`).not.toBe(english.subject);
        const ours = paragraphs(translated.text);
        const theirs = paragraphs(english.text);
        expect(ours.length, `${input}: not as many blocks as in English`).toBe(theirs.length);
        ours.forEach((block, i) => {
          expect(block, `${input}: block ${i + 1} is the English one`).not.toBe(theirs[i]);
        });
        for (const sentence of sentences(`${english.subject}\n${english.text}`)) {
          expect(translated.text, `${input}: an English sentence is left`).not.toContain(sentence);
          expect(translated.subject, `${input}: an English sentence is left`).not.toContain(sentence);
        }
      }
    });

    it('translates the labels of the facts', () => {
      for (const key of [...FACT_NAMES, 'unknown']) {
        expect(formatKey(catalogue.noticeFacts(locale), key, {}), key).not.toEqual(
          formatKey(catalogue.noticeFacts('en'), key, {}),
        );
      }
    });
  });
});

describe('samples with real values', () => {
  const sms = (locale: string, minutes: number) =>
    renderSms(
      catalogue,
      'otp-code',
      locale,
      APP,
      { code: CODE, values: { purpose: 'login', minutes } },
      { webOtpDomain: 'acme.example' },
    ).text.split('\n')[0];

  it('German: formal, with the product in every subject', () => {
    const login = render('otp-code', 'de', { purpose: 'login', minutes: 10 });
    expect(login.subject).toBe('Ihr Anmeldecode für Acme');
    expect(login.text).toContain('Verwenden Sie diesen Code, um sich bei Acme anzumelden:\n\n482913\n\n');
    expect(login.text).toContain('Der Code ist 10 Minuten lang gültig.');
    expect(login.text).toContain('Geben Sie diesen Code niemals weiter. Acme wird Sie nie danach fragen.');
    expect(render('otp-code', 'de', { purpose: 'login', minutes: 1 }).text).toContain(
      'Der Code ist 1 Minute lang gültig.',
    );
    expect(render('otp-code', 'de', { purpose: 'reset_password', minutes: 10 }).text).toContain(
      'ignorieren Sie diese E-Mail: Ihr Passwort bleibt unverändert.',
    );

    const factor = render('factor-changed', 'de', { factor: 'hotp', change: 'enrolled' });
    expect(factor.subject).toBe('Eine Anmeldemethode für Ihr Konto bei Acme wurde hinzugefügt');
    expect(factor.text).toContain('Ein Hardware-Token (HOTP) wurde hinzugefügt.');
    expect(factor.text).toContain('Zeitpunkt: 5. Dezember 2026 um 08:00 UTC');

    const password = (sessionsRevoked: number) =>
      render('password-changed', 'de', { how: 'reset', sessionsRevoked }).text.split('\n\n')[0];
    expect(password(0)).toBe(
      'Das Passwort Ihres Kontos bei Acme wurde mit einem an diese Adresse gesendeten Code zurückgesetzt.',
    );
    expect(password(1)).toMatch(/zurückgesetzt\. Eine andere Sitzung wurde dabei beendet\.$/);
    expect(password(3)).toMatch(/zurückgesetzt\. 3 andere Sitzungen wurden dabei beendet\.$/);

    expect(render('new-sign-in', 'de', {}).text).toContain('Gerät: Firefox on Linux');
    expect(sms('de', 5)).toBe('Ihr Code für Acme: 482913. Er läuft in 5 Minuten ab. Nicht weitergeben.');
    expect(sms('de', 1)).toBe('Ihr Code für Acme: 482913. Er läuft in 1 Minute ab. Nicht weitergeben.');
  });

  it('Brazilian Portuguese: você, with the product in every subject', () => {
    const reset = render('otp-code', 'pt-BR', { purpose: 'reset_password', minutes: 1 });
    expect(reset.subject).toBe('Seu código para redefinir a senha do Acme');
    expect(reset.text).toContain('Use este código para escolher uma nova senha no Acme:\n\n482913\n\n');
    expect(reset.text).toContain('O código é válido por 1 minuto.');
    expect(reset.text).toContain('Nunca compartilhe este código. O Acme nunca vai pedi-lo a você.');
    expect(reset.text).toContain('Se você não pediu isso, ignore este e-mail: sua senha continua a mesma.');
    expect(render('otp-code', 'pt-BR', { purpose: 'login', minutes: 15 }).text).toContain(
      'O código é válido por 15 minutos.',
    );

    const password = render('password-changed', 'pt-BR', { how: 'change', sessionsRevoked: 3 });
    expect(password.subject).toBe('A senha da sua conta do Acme foi alterada');
    expect(password.text).toContain(
      'A senha da sua conta do Acme foi alterada. Com isso, outras 3 sessões foram encerradas.',
    );
    expect(password.text).toContain('Quando: 5 de dezembro de 2026 às 08:00 UTC');
    expect(password.text).toContain('Nunca vamos pedir um código ou uma senha por e-mail.');

    expect(render('factor-changed', 'pt-BR', { factor: 'totp', change: 'removed' }).text).toContain(
      'A verificação em duas etapas da sua conta do Acme mudou: um app autenticador foi removido.',
    );
    expect(sms('pt-BR', 5)).toBe('Digite 482913 no Acme. Expira em 5 minutos. Nunca o compartilhe.');
    expect(sms('pt-BR', 1)).toBe('Digite 482913 no Acme. Expira em 1 minuto. Nunca o compartilhe.');
  });

  it('French: a fact line puts a no-break space before its colon', () => {
    expect(render('password-changed', 'fr', { how: 'change', sessionsRevoked: 0 }).text).toMatch(/^Date\u00a0: /m);
  });
});
