import type { components } from './api.generated.ts';

export type Tokens = components['schemas']['Tokens'];

/**
 * Where the client keeps the signed-in user's tokens. The default keeps them in memory; a browser
 * application may keep the refresh token elsewhere (an HttpOnly cookie set by its own server,
 * say) by passing its own store.
 */
export interface TokenStore {
  get(): Tokens | undefined | Promise<Tokens | undefined>;
  set(tokens: Tokens | undefined): void | Promise<void>;
}

export function memoryTokenStore(initial?: Tokens): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = next;
    },
  };
}
