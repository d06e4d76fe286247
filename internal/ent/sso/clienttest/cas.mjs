// A CAS-protected Node application using the stock http-cas-client
// middleware, and a browser (fetch, redirects followed by hand) holding a
// Socle session cookie. Prints one JSON line: what the application learnt
// of the person, and how it answered a replayed ticket.
//
// env: SOCLE_URL (http://127.0.0.1:port), SOCLE_SESSION (cookie value),
//      CAS_VERSION (2 or 3)
import http from 'node:http';
import httpCasClient from 'http-cas-client';

const socle = process.env.SOCLE_URL;
const session = process.env.SOCLE_SESSION;
const version = Number(process.env.CAS_VERSION || '3');

let handler;
const app = http.createServer(async (req, res) => {
  try {
    if (!(await handler(req, res))) {
      return res.end();
    }
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify(req.principal));
  } catch (err) {
    res.statusCode = 401;
    res.end(String(err && err.message));
  }
});
await new Promise((resolve) => app.listen(0, '127.0.0.1', resolve));
const base = `http://127.0.0.1:${app.address().port}`;
handler = httpCasClient({ cas: version, casServerUrlPrefix: `${socle}/cas`, serverName: base });

const jar = { st: '' };
async function hop(url, cookie) {
  const res = await fetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const set = res.headers.get('set-cookie');
  if (set && set.startsWith('st=')) jar.st = set.split(';')[0];
  return res;
}
function must(res, what) {
  if (res.status !== 302) throw new Error(`${what}: status ${res.status}`);
  return res.headers.get('location');
}

// 1. The application sends the anonymous browser to Socle's /cas/login.
const toLogin = must(await hop(`${base}/classe/6A`), 'application');
if (!toLogin.startsWith(`${socle}/cas/login?`)) throw new Error(`application redirected to ${toLogin}`);
// 2. Socle sees the session and answers with a ticket.
const withTicket = must(await hop(toLogin, `socle_session=${session}`), 'socle /cas/login');
// 3. The application validates the ticket through the library.
must(await hop(withTicket), 'ticket validation');
// 4. The application now knows the person.
const res = await hop(`${base}/classe/6A`, jar.st);
const principal = await res.json();
// 5. The same ticket again, in a fresh browser: the library must fail.
const replay = await hop(withTicket);
console.log(JSON.stringify({ principal, replayStatus: replay.status, ticketURL: withTicket }));
app.close();
process.exit(0);
