import Type from 'typebox';
import { type Catalogue, loadCatalogue } from './catalogue.loader.ts';

/** The variables of every service that writes or chooses messages (the gateway and both workers). */
export const messageConfigFields = {
  DEFAULT_LOCALE: Type.String({
    default: 'en',
    minLength: 2,
    maxLength: 35,
    description:
      'Locale of messages when neither the request nor the account names one the catalogue has; it must have a catalogue',
  }),
  TEMPLATES_DIR: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        "Folder of the operator's message files, laid over the shipped catalogue file by file (docs/messages.md); " +
        'unset: the shipped catalogue only',
    }),
  ),
};

/** The catalogue a service's settings name, read and checked once at start (throws, naming the file). */
export function catalogueFromConfig(config: { DEFAULT_LOCALE: string; TEMPLATES_DIR?: string | undefined }): Catalogue {
  return loadCatalogue({ templatesDir: config.TEMPLATES_DIR, defaultLocale: config.DEFAULT_LOCALE });
}
