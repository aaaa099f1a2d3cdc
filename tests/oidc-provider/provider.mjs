// A real OpenID Connect provider for the dashboard's sign-in tests: panva's oidc-provider (OpenID Certified), on
// loopback, with one confidential client (authorization code + PKCE, response_mode=query) and accounts whose `roles`
// claim names Strata roles. Its development login and consent pages stand in for a user's identity provider UI.
//   node provider.mjs PORT REDIRECT_URI CLIENT_SECRET
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const [port, redirectUri, clientSecret] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;
const accounts = { alice: ['model-admin'], rita: ['reader'], nobody: [] };
const key = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'strata-dashboard',
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_post',
  }],
  jwks: { keys: [{ ...key, kid: 'test-key', use: 'sig', alg: 'RS256' }] },
  scopes: ['openid', 'profile', 'roles'],
  claims: { openid: ['sub'], profile: ['preferred_username'], roles: ['roles'] },
  // The id token carries the claims of the scopes granted (Strata reads roles from it).
  conformIdTokenClaims: false,
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id, roles: accounts[id] ?? [] }),
  }),
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  ttl: { IdToken: 3600, AccessToken: 3600, AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`oidc-provider listening on ${issuer}`));
