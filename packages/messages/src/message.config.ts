import { ConfigError } from '@otp/domain';
import Type from 'typebox';
import { type Catalogue, loadCatalogue } from './catalogue.loader.ts';
import { CatalogueError } from './message.compile.ts';

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

/**
 * The catalogue a service's settings name, read and checked once at start. A file that cannot be
 * used is a configuration error naming it, so the service stops as for a bad variable (exit 78).
 */
export function catalogueFromConfig(config: { DEFAULT_LOCALE: string; TEMPLATES_DIR?: string | undefined }): Catalogue {
  try {
    return loadCatalogue({ templatesDir: config.TEMPLATES_DIR, defaultLocale: config.DEFAULT_LOCALE });
  } catch (error) {
    if (error instanceof CatalogueError) throw new ConfigError([`message catalogue: ${error.message}`]);
    throw error;
  }
}
