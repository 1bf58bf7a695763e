import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import Type from 'typebox';
import { problemResponses } from '../../http/schemas.ts';
import type { VerifyingKey } from './signing-key.ts';

const Use = Type.Literal('sig', { description: 'The key signs (access tokens)' });
const Kid = Type.String({ description: "The key's JWK thumbprint (RFC 7638, SHA-256): the kid of its tokens" });

/** Each key with the members of its type (RFC 7518 §6): OKP crv + x, EC crv + x + y, RSA n + e. */
const Jwk = Type.Union([
  Type.Object(
    { kty: Type.Literal('OKP'), crv: Type.String(), x: Type.String(), kid: Kid, alg: Type.Literal('EdDSA'), use: Use },
    { description: 'An Ed25519 key (EdDSA)' },
  ),
  Type.Object(
    {
      kty: Type.Literal('EC'),
      crv: Type.String(),
      x: Type.String(),
      y: Type.String(),
      kid: Kid,
      alg: Type.Literal('ES256'),
      use: Use,
    },
    { description: 'An EC P-256 key (ES256)' },
  ),
  Type.Object(
    { kty: Type.Literal('RSA'), n: Type.String(), e: Type.String(), kid: Kid, alg: Type.Literal('RS256'), use: Use },
    { description: 'An RSA key (RS256)' },
  ),
]);

const Jwks = Type.Object({
  keys: Type.Array(Jwk, { description: 'The signing key first, then the previous one during a rotation' }),
});

/** The claims access tokens may carry (docs/tokens.md), for the discovery's claims_supported. */
const ACCESS_TOKEN_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'jti', 'sid', 'auth_time', 'amr'];
const CONTACT_CLAIMS = ['email', 'email_verified', 'phone_number', 'phone_number_verified'];

export const OpenIdConfiguration = Type.Object(
  {
    issuer: Type.String({ description: 'JWT_ISSUER: the iss of every access token' }),
    jwks_uri: Type.String({ description: 'Absolute URL of the JWKS (/.well-known/jwks.json)' }),
    id_token_signing_alg_values_supported: Type.Array(Type.String(), {
      description: 'Algorithms of the published keys (the signing key first); this issuer signs access tokens only',
    }),
    subject_types_supported: Type.Array(Type.Literal('public'), {
      description: 'public: sub is the account id, the same for every application',
    }),
    claims_supported: Type.Array(Type.String(), { description: 'Claims access tokens may carry' }),
  },
  {
    description:
      'OpenID Connect discovery metadata, the part a resource server uses to verify access tokens: this is ' +
      'not an OpenID provider (no authorization endpoint, no ID tokens)',
  },
);

export interface KeyRoutesOptions {
  verifying: readonly VerifyingKey[];
  /** JWT_ISSUER */
  issuer: string;
  /** PUBLIC_BASE_URL: the origin when JWT_ISSUER is not a URL. */
  publicBaseUrl: string | undefined;
  includeContactClaims: boolean;
}

const HTTP_URL = /^https?:\/\/[^/?#]+(\/[^?#]*)?$/;

/**
 * Where the JWKS is, absolute: under JWT_ISSUER (the gateway's public origin, docs/tokens.md); an
 * issuer that is not an http(s) URL falls back to PUBLIC_BASE_URL, then to the request's origin.
 */
function jwksUri(options: KeyRoutesOptions, request: FastifyRequest): string {
  const base = HTTP_URL.test(options.issuer)
    ? options.issuer
    : (options.publicBaseUrl ?? `${request.protocol}://${request.host}`);
  return `${base.replace(/\/+$/, '')}/.well-known/jwks.json`;
}

// Keys change only with a restart (a rotation); five minutes of caching is what a rotation waits
// for before the new key signs anywhere a resource server has not seen it (docs/tokens.md).
const CACHE_CONTROL = 'public, max-age=300';

/**
 * The public keys that verify access tokens, for any service that wants to check them (the
 * current signing key and, during a rotation, the previous one), and the discovery document that
 * points at them.
 */
export const jwksRoutes: FastifyPluginAsyncTypebox<KeyRoutesOptions> = async (app, options) => {
  const { verifying } = options;
  app.get(
    '/.well-known/jwks.json',
    {
      schema: {
        tags: ['keys'],
        summary: 'Public keys of access tokens (JWKS)',
        response: { 200: Jwks, ...problemResponses() },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', CACHE_CONTROL);
      return { keys: verifying.map((key) => key.publicJwk) };
    },
  );

  const algorithms = [...new Set(verifying.map((key) => key.alg))];
  const claims = options.includeContactClaims ? [...ACCESS_TOKEN_CLAIMS, ...CONTACT_CLAIMS] : ACCESS_TOKEN_CLAIMS;
  app.get(
    '/.well-known/openid-configuration',
    {
      schema: {
        tags: ['keys'],
        summary: 'Discovery document (issuer, jwks_uri, algorithms)',
        description:
          'What a resource server needs to verify access tokens: the issuer and where its keys are. ' +
          'Not a full OpenID provider: there is no authorization endpoint and no ID token.',
        response: { 200: OpenIdConfiguration, ...problemResponses() },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', CACHE_CONTROL);
      return {
        issuer: options.issuer,
        jwks_uri: jwksUri(options, request),
        id_token_signing_alg_values_supported: algorithms,
        subject_types_supported: ['public' as const],
        claims_supported: claims,
      };
    },
  );
};
