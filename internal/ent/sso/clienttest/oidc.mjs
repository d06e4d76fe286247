// The stock openid-client relying party (certified implementation's
// library): discovery, authorization code flow with PKCE S256 and nonce,
// id_token validation, userinfo. A browser holding a Socle session cookie
// is played with fetch. Prints one JSON line: the id_token claims, the
// userinfo answer, and how a replayed code was answered.
//
// env: SOCLE_URL, SOCLE_SESSION, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI
import * as client from 'openid-client';

const { SOCLE_URL, SOCLE_SESSION, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI } = process.env;

const config = await client.discovery(new URL(SOCLE_URL), CLIENT_ID, CLIENT_SECRET, undefined, {
  execute: [client.allowInsecureRequests], // the test server speaks plain HTTP
});

const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const authURL = client.buildAuthorizationUrl(config, {
  redirect_uri: REDIRECT_URI,
  scope: 'openid profile email',
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
  nonce,
});

const res = await fetch(authURL, { redirect: 'manual', headers: { cookie: `socle_session=${SOCLE_SESSION}` } });
if (res.status !== 302) throw new Error(`authorize: status ${res.status}`);
const callback = new URL(res.headers.get('location'));

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

let replay = 'accepted';
try {
  await client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
} catch (err) {
  replay = err.error || err.code || String(err);
}
console.log(JSON.stringify({ claims, userinfo, replay }));
