// Offline tolerance in Debian's Chromium: a pupil loses the network while
// editing the demo pad, keeps typing, and her text reaches the other pupil
// when the network comes back; what the other typed meanwhile reaches her
// too, and both texts merge. Her browser reaches Socle through a TCP relay
// the test cuts and restores: Chromium's offline emulation leaves an open
// WebSocket alone, a cut network does not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { demoSession } from './lib/demo.mjs';

const PAD = 'Liaison CM1-6e : notre journal';
const SEEN_MS = 15_000;

const demo = demoSession();

/** A TCP relay to Socle that can be cut (every connection dropped, none accepted) and restored. */
async function relay(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => s.destroy());
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const own = server.address().port;
  return {
    url: `http://127.0.0.1:${own}`,
    async cut() {
      await new Promise((ok) => { server.close(() => ok()); for (const s of sockets) s.destroy(); });
    },
    async restore() { await new Promise((ok) => server.listen(own, '127.0.0.1', ok)); },
    async close() { for (const s of sockets) s.destroy(); if (server.listening) await new Promise((ok) => server.close(ok)); },
  };
}

/** Logs email in through baseURL and opens the demo pad, with its demo text. */
async function openPad(email, baseURL = demo.url) {
  const p = await demo.person(email, { baseURL });
  await demo.openEditor(p.page, PAD, 'pad', { baseURL, timeout: SEEN_MS });
  const editor = p.page.getByRole('textbox', { name: /Texte du pad/ });
  await editor.getByText('Notre visite au collège').waitFor({ timeout: SEEN_MS });
  return { ...p, editor };
}

async function typeAtEnd(p, text) {
  await p.editor.click();
  await p.page.keyboard.press('Control+End');
  await p.page.keyboard.press('Enter');
  await p.page.keyboard.type(text, { delay: 10 });
}

test('edits made offline merge when the connection comes back', async () => {
  const network = await relay(demo.url);
  const lea = await openPad('eleve@demo.socle.fr', network.url);
  const nathan = await openPad('eleve.college@demo.socle.fr');
  try {
    const root = lea.page.locator('[data-production-editor="pad"]');
    await network.cut();
    // The editor says it is offline before anything is typed, so what
    // follows really is written without a connection.
    await lea.page.waitForFunction(() => document.querySelector('[data-production-editor]').dataset.connection !== 'connected', null, { timeout: SEEN_MS });
    await lea.page.getByText('Hors ligne', { exact: false }).first().waitFor({ timeout: SEEN_MS });

    const offline = 'Écrit dans le car, sans réseau ' + Date.now();
    const meanwhile = 'Pendant ce temps au collège ' + Date.now();
    await typeAtEnd(lea, offline);
    await typeAtEnd(nathan, meanwhile);
    await nathan.editor.getByText(meanwhile).waitFor({ timeout: SEEN_MS });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await nathan.editor.getByText(offline).count(), 0, 'nothing left the offline browser');
    assert.equal(await lea.editor.getByText(meanwhile).count(), 0, 'nothing reached the offline browser');

    await network.restore();
    await root.and(lea.page.locator('[data-connection="connected"]')).waitFor({ timeout: 30_000 });
    await nathan.editor.getByText(offline).waitFor({ timeout: SEEN_MS });
    await lea.editor.getByText(meanwhile).waitFor({ timeout: SEEN_MS });
    assert.deepEqual(lea.errors, []);
    assert.deepEqual(nathan.errors, []);
  } finally {
    await lea.context.close();
    await nathan.context.close();
    await network.close();
  }
});
