import type { SwaggerTransform } from '@fastify/swagger';
import type { TSchema } from 'typebox';

// What makes a generated OpenAPI document a contract a client can be generated from: every
// operation has a stable id, and the schemas a client handles by name are components, not copies
// inlined in every operation (generators would give each copy an anonymous type).

type Document = Record<string, unknown> & { components?: { schemas?: Record<string, unknown> } };

/** `/v1/otp/challenges/:id` → `/v1/otp/challenges/{id}`, as the document writes paths. */
function documentPath(url: string): string {
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * The swagger `transform` that gives each route its operation id from `ids` (keyed
 * `METHOD /path`, as the document writes them). A route the document shows without one stops the
 * document's generation, naming it: a new route cannot ship without an id.
 */
export function withOperationIds(ids: Readonly<Record<string, string>>): SwaggerTransform {
  return ({ schema, url, route }) => {
    if ((schema as { hide?: boolean } | undefined)?.hide === true) return { schema, url };
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const method = methods.find((name) => name !== 'HEAD') ?? methods[0];
    const key = `${method} ${documentPath(url)}`;
    const operationId = ids[key];
    if (operationId === undefined) throw new Error(`OpenAPI: no operationId for ${key} (add it to the table)`);
    return { schema: { ...schema, operationId }, url };
  };
}

/**
 * Titles the schemas of `named` with their names, so `hoistNamedSchemas` finds them in the
 * document. Call before the routes are registered (they hold these very objects). A title is an
 * annotation only: validation and serialisation ignore it.
 */
export function nameSchemas(named: Readonly<Record<string, TSchema>>): void {
  for (const [name, schema] of Object.entries(named)) {
    const titled = schema as TSchema & { title?: string };
    if (titled.title !== undefined && titled.title !== name) {
      throw new Error(`OpenAPI: schema named ${name} already has the title ${titled.title}`);
    }
    titled.title = name;
  }
}

/**
 * The swagger `transformObject`: every schema with a `title` becomes `components.schemas[title]`
 * and its uses `$ref`s to it; nested ones too. Two different schemas under one title stop the
 * generation, naming it.
 */
export function hoistNamedSchemas({ openapiObject }: { openapiObject: Partial<Document> }): Partial<Document> {
  const components: Record<string, unknown> = {};
  const seen = new Map<string, string>();
  const visit = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(visit);
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([key, child]) => [key, visit(child)] as const,
    );
    const node = Object.fromEntries(entries);
    const title = node.title;
    if (typeof title !== 'string' || !('type' in node || 'anyOf' in node || 'oneOf' in node)) return node;
    const text = JSON.stringify(node);
    const known = seen.get(title);
    if (known !== undefined && known !== text) throw new Error(`OpenAPI: two different schemas are named ${title}`);
    seen.set(title, text);
    components[title] = node;
    return { $ref: `#/components/schemas/${title}` };
  };
  const { components: existing, ...rest } = openapiObject;
  const paths = visit(rest.paths);
  const sorted = Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b)));
  return {
    ...rest,
    paths,
    components: { ...existing, schemas: { ...existing?.schemas, ...sorted } },
  } as Partial<Document>;
}
