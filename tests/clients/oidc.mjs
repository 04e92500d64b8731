// A real OpenID provider for the OAuth tests: npm's oidc-provider (a
// certified OpenID Connect implementation), on loopback, with dynamic
// client registration, PKCE, its development login and consent pages, and
// RFC 8707 resource indicators: an access token asked for a resource is a
// JWT whose `aud` is that resource, with the scope `skills` and a `tenant`
// claim naming the account that logged in.
//
// Run: node oidc.mjs  (prints "issuer URL" when it listens; SIGTERM stops it)
import http from 'node:http';
import Provider from 'oidc-provider';

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [],
  scopes: ['openid', 'offline_access', 'skills'],
  pkce: { required: () => true },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  extraTokenClaims: async (ctx, token) => ({ tenant: token.accountId }),
  features: {
    devInteractions: { enabled: true },
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      useGrantedResource: () => true,
      getResourceServerInfo: (ctx, resource) => ({
        scope: 'skills',
        audience: resource,
        accessTokenTTL: 600,
        accessTokenFormat: 'jwt',
      }),
    },
  },
});
// Plain HTTP on loopback: tell oidc-provider the connection is as seen.
provider.proxy = false;
server.on('request', provider.callback());
console.log(`issuer ${issuer}`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
