import { readFileSync } from 'node:fs';
import openapiTS, { astToString } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';

// The client's types are generated from the committed OpenAPI document (pnpm --filter
// @otp/client generate): when the document changes, so must they.
describe("the client's generated types", () => {
  it('are what openapi-typescript makes of docs/openapi.json today', async () => {
    const document = new URL('../../../docs/openapi.json', import.meta.url);
    const generated = astToString(await openapiTS(document));
    const committed = readFileSync(new URL('./api.generated.ts', import.meta.url), 'utf8');
    const header = committed.slice(0, committed.indexOf('export interface paths'));
    expect(committed, 'stale: run pnpm --filter @otp/client generate').toBe(header + generated);
  });
});
