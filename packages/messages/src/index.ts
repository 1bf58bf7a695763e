export type { Brand } from './brand.ts';
export { type Catalogue, type CatalogueOptions, loadCatalogue, SHIPPED_DIR } from './catalogue.loader.ts';
export {
  EMAIL_TEMPLATES,
  type EmailTemplate,
  FACT_NAMES,
  type FactName,
  SMS_TEMPLATES,
  type SmsTemplate,
} from './catalogue.spec.ts';
export { type EmailContent, escapeHtml, factTime, type RenderedEmail, renderEmail } from './email.render.ts';
export { isCanonicalLocale, matchLocale, requestedLocales } from './locale.ts';
export { CatalogueError, type MessageValues } from './message.compile.ts';
export { catalogueFromConfig, messageConfigFields } from './message.config.ts';
export { renderSms, type SmsLayout, type SmsSize, smsSize } from './sms.render.ts';
