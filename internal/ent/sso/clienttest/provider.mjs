// The certified oidc-provider as the external identity provider (the role
// ÉduConnect plays), on loopback, for the delegation tests of
// socle/internal/ent/sso. Environment:
//   CLIENT_ID, CLIENT_SECRET, REDIRECT_URI  the Socle relying party
//   ACCOUNTS  JSON {accountId: {email, email_verified, given_name, ...}}
// It prints one JSON line {"issuer": "http://127.0.0.1:PORT"} once ready,
// then serves until killed. The login interaction has no form: the test
// chooses who "logs in" with GET /_test/as?account=ID, and consent is
// granted for the scopes asked.
import http from 'node:http';
import Provider from 'oidc-provider';

const accounts = JSON.parse(process.env.ACCOUNTS || '{}');
let current = null;

const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  // PKCE is required of every client, so a relying party that forgets it
  // fails the test.
  pkce: { required: () => true },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['given_name', 'family_name', 'birthdate'],
  },
  async findAccount(ctx, id) {
    const a = accounts[id];
    if (!a) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...a }; } };
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  features: { devInteractions: { enabled: false } },
  cookies: { keys: ['socle-test-cookie-key'] },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

const callback = provider.callback();
server.on('request', async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/_test/as') {
      current = url.searchParams.get('account');
      res.writeHead(204).end();
      return;
    }
    if (url.pathname.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        if (!current) {
          await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'annulé' }, { mergeWithLastSubmission: false });
          return;
        }
        await provider.interactionFinished(req, res, { login: { accountId: current } }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      grant.addOIDCScope(details.params.scope);
      const grantId = await grant.save();
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
      return;
    }
    callback(req, res);
  } catch (err) {
    console.error(err);
    res.writeHead(500).end(String(err));
  }
});

process.stdout.write(JSON.stringify({ issuer }) + '\n');
