import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { CatalogueError } from './message.compile.ts';

// Colours go into style attributes: only a hex colour can, so no file can inject CSS or markup.
const Colour = Type.String({ pattern: '^#([0-9A-Fa-f]{3}|[0-9A-Fa-f]{6})$' });

/** `brand.json`: how the emails look. Everything is optional; the shipped file has the defaults. */
export const BrandFile = Type.Object(
  {
    productName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'The name messages use; wins over APP_NAME' }),
    ),
    logoUrl: Type.Optional(
      Type.String({ pattern: '^https://[^\\s"\'<>]+$', maxLength: 2048, description: 'An https URL of the logo' }),
    ),
    logoAlt: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
    colors: Type.Optional(
      Type.Object(
        {
          text: Type.Optional(Colour),
          muted: Type.Optional(Colour),
          background: Type.Optional(Colour),
          accent: Type.Optional(Colour),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
type BrandFile = Static<typeof BrandFile>;

export interface Brand {
  productName: string | undefined;
  logoUrl: string | undefined;
  logoAlt: string | undefined;
  colors: { text: string; muted: string; background: string; accent: string };
}

export function parseBrand(file: string, source: string): BrandFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(source);
  } catch (error) {
    throw new CatalogueError(file, `not valid JSON (${(error as Error).message})`);
  }
  const problem = [...Value.Errors(BrandFile, parsed)][0];
  if (problem !== undefined) {
    throw new CatalogueError(file, `${problem.instancePath || 'the file'}: ${problem.message}`);
  }
  return parsed as BrandFile;
}

/** The shipped brand with an operator's file laid over it, field by field. */
export function mergeBrand(shipped: BrandFile, override: BrandFile | undefined): Brand {
  const merged = { ...shipped, ...override, colors: { ...shipped.colors, ...override?.colors } };
  const { text, muted, background, accent } = merged.colors;
  if (text === undefined || muted === undefined || background === undefined || accent === undefined) {
    throw new Error('the shipped brand.json must name every colour');
  }
  return {
    productName: merged.productName,
    logoUrl: merged.logoUrl,
    logoAlt: merged.logoAlt,
    colors: { text, muted, background, accent },
  };
}
