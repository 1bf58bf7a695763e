import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './api.generated.ts';
import { notSignedIn, OtpApiError, unwrap } from './errors.ts';
import { memoryTokenStore, type TokenStore, type Tokens } from './tokens.ts';

type Schemas = components['schemas'];
export type SignedIn = Schemas['SignedIn'];
export type MfaRequired = Schemas['MfaRequired'];
export type Verified = Schemas['Verified'];
export type ChallengeCreated = Schemas['ChallengeCreated'];
export type Challenge = Schemas['Challenge'];
export type Me = Schemas['Me'];
export type User = Schemas['User'];
export type ChallengeRequest = Schemas['ChallengeRequest'];

/** What a right first factor (a code, a password) came to: `outcome` says which. */
export type FirstFactorResult = SignedIn | MfaRequired | Verified;

/** A second factor: a TOTP or HOTP code, or a recovery code. */
export type SecondFactor = { code: string } | { recoveryCode: string };

export interface OtpClientOptions {
  /** Where the gateway is, e.g. https://auth.example.com (no trailing /v1). */
  baseUrl: string;
  /** Where tokens are kept; in memory by default. */
  tokens?: TokenStore;
  /** The language of the messages this client's requests cause (sent as Accept-Language). */
  locale?: string;
  /**
   * Called when a change needs a recent sign-in (401 reauthentication_required): resolve once the
   * user has signed in again (with `codes` or `auth`), and the call is made once more; reject to
   * give up. Without it, such a call throws the OtpApiError.
   */
  onReauthenticationRequired?: (error: OtpApiError) => Promise<void>;
  fetch?: typeof globalThis.fetch;
}

export interface OtpClient {
  /** The typed HTTP client of every operation (openapi-fetch), for what the helpers do not cover. */
  readonly api: Client<paths>;
  readonly codes: {
    /** Sends a code by email or SMS (202): keep `challengeId` for `verify`. */
    request(body: ChallengeRequest): Promise<ChallengeCreated>;
    resend(challengeId: string): Promise<Schemas['ResendAccepted']>;
    status(challengeId: string): Promise<Challenge>;
    /** A right code: signed in (tokens kept), the MFA step needed, or the address verified. */
    verify(challengeId: string, code: string): Promise<FirstFactorResult>;
  };
  readonly auth: {
    /** Registers with a password; a code goes to the address (verify it with `codes.verify`). */
    register(body: {
      email: string;
      password: string;
      name?: string;
      locale?: string;
    }): Promise<{ challengeId: string }>;
    login(email: string, password: string): Promise<SignedIn | MfaRequired>;
    /** The MFA step, with the mfaToken a first factor answered; signs in (tokens kept). */
    mfa(mfaToken: string, factor: SecondFactor): Promise<SignedIn>;
    /**
     * Swaps the refresh token for a new pair (rotation). Calls made while one is in flight share
     * it: presenting one refresh token twice would end the session (reuse detection).
     */
    refresh(): Promise<Tokens>;
    /** Signs out this session; the kept tokens are dropped either way. */
    logout(): Promise<void>;
  };
  /** The signed-in user (an authenticated call: see `authenticated`). */
  me(): Promise<Me>;
  /**
   * Runs an authenticated call with the access token: when it is refused as expired (401
   * unauthorized), the tokens are refreshed once and the call made again; when the change needs a
   * recent sign-in, `onReauthenticationRequired` is asked and the call made again.
   */
  authenticated<T>(call: (headers: { authorization: string }) => Promise<T>): Promise<T>;
  /** The tokens kept now, if any. */
  tokens(): Promise<Tokens | undefined>;
}

/** A client of one gateway. Errors are OtpApiError with the API's stable `code`. */
export function createOtpClient(options: OtpClientOptions): OtpClient {
  const store = options.tokens ?? memoryTokenStore();
  const headers = options.locale === undefined ? undefined : { 'accept-language': options.locale };
  const api = createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    ...(headers === undefined ? {} : { headers }),
  });

  async function keep<T extends FirstFactorResult>(result: T): Promise<T> {
    if (result.outcome === 'signed_in') await store.set(result.tokens);
    return result;
  }

  let refreshing: Promise<Tokens> | undefined;
  async function refresh(): Promise<Tokens> {
    refreshing ??= (async () => {
      try {
        const current = await store.get();
        if (current === undefined) throw notSignedIn();
        const answer = unwrap(await api.POST('/v1/auth/refresh', { body: { refreshToken: current.refreshToken } }));
        await store.set(answer.tokens);
        return answer.tokens;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  async function authenticated<T>(call: (headers: { authorization: string }) => Promise<T>): Promise<T> {
    const attempt = async () => {
      const tokens = await store.get();
      if (tokens === undefined) throw notSignedIn();
      return call({ authorization: `Bearer ${tokens.accessToken}` });
    };
    let refreshed = false;
    let reauthenticated = false;
    for (;;) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof OtpApiError)) throw error;
        if (error.code === 'unauthorized' && !refreshed) {
          refreshed = true;
          await refresh();
          continue;
        }
        if (error.code === 'reauthentication_required' && !reauthenticated && options.onReauthenticationRequired) {
          reauthenticated = true;
          await options.onReauthenticationRequired(error);
          continue;
        }
        throw error;
      }
    }
  }

  return {
    api,
    codes: {
      request: async (body) => unwrap(await api.POST('/v1/otp/challenges', { body })),
      resend: async (id) => unwrap(await api.POST('/v1/otp/challenges/{id}/resend', { params: { path: { id } } })),
      status: async (id) => unwrap(await api.GET('/v1/otp/challenges/{id}', { params: { path: { id } } })),
      verify: async (id, code) =>
        keep(unwrap(await api.POST('/v1/otp/challenges/{id}/verify', { params: { path: { id } }, body: { code } }))),
    },
    auth: {
      register: async (body) => unwrap(await api.POST('/v1/auth/register', { body })),
      login: async (email, password) => keep(unwrap(await api.POST('/v1/auth/login', { body: { email, password } }))),
      mfa: async (mfaToken, factor) => keep(unwrap(await api.POST('/v1/auth/mfa', { body: { mfaToken, ...factor } }))),
      refresh,
      async logout() {
        const tokens = await store.get();
        await store.set(undefined);
        if (tokens !== undefined) {
          unwrap(await api.POST('/v1/auth/logout', { body: { refreshToken: tokens.refreshToken } }));
        }
      },
    },
    me: () => authenticated(async (auth) => unwrap(await api.GET('/v1/me', { headers: auth }))),
    authenticated,
    tokens: async () => store.get(),
  };
}
