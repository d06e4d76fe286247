// Measures, in Debian's Chromium, how long a pupil waits to see a pad with
// 5,000 edits of history (issue [6/8]: under 200 ms to first paint).
// Run: cd e2e && node bench/open-5000-edits.mjs
// It starts Socle in demo mode, makes 5,000 separate edits in a new pad
// (one keystroke each, every one its own Yjs update in the engine's log),
// then opens the pad's editor in fresh browser contexts and reports, from
// the navigation's start: the first contentful paint, and the moment the
// document is synced and its last line is on screen.
import { start } from '../lib/socle.mjs';
import { launch, login } from '../lib/browser.mjs';

const EDITS = Number(process.env.EDITS || 5000);
const RUNS = Number(process.env.RUNS || 10);
const PASSWORD = 'socle-demo';

const socle = await start({ timeoutMs: 180_000 });
const browser = await launch();
try {
  const context = await browser.newContext({ locale: 'fr-FR' });
  const page = await context.newPage();
  await login(page, socle.url, 'eleve@demo.socle.fr', PASSWORD);
  await page.goto(socle.url + '/productions');
  await page.getByLabel('Titre', { exact: true }).fill('Journal de 5 000 modifications');
  await page.getByLabel('Type', { exact: true }).selectOption('pad');
  await Promise.all([page.waitForURL(/\/productions\/\d+/), page.getByRole('button', { name: 'Créer' }).click()]);
  const id = /\/productions\/(\d+)/.exec(page.url())[1];
  const editorURL = `${socle.url}/productions/${id}/editer`;
  await page.goto(editorURL);
  await page.locator('[data-synced="true"]').waitFor();
  const editor = page.getByRole('textbox', { name: /Texte du pad/ });
  await editor.click();
  const started = Date.now();
  for (let i = 0; i < EDITS; i++) {
    await page.keyboard.type(i % 60 === 59 ? '\n' : 'abcdefghij'[i % 10]);
  }
  const last = 'Fin du journal';
  await page.keyboard.type('\n' + last);
  // Every keystroke reached the server: a fresh reader sees the last line.
  console.log(`${EDITS} edits typed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  await context.close();

  const fcp = [];
  const ready = [];
  const steps = [];
  for (let r = 0; r < RUNS; r++) {
    const c = await browser.newContext({ locale: 'fr-FR' });
    const p = await c.newPage();
    await login(p, socle.url, 'eleve@demo.socle.fr', PASSWORD);
    await p.goto(editorURL);
    await p.getByRole('textbox', { name: /Texte du pad/ }).getByText(last).waitFor({ timeout: 30_000 });
    const t = await p.evaluate(() => {
      const at = (name) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
      return { fcp: at('first-contentful-paint'), script: at('socle:connect'), connected: at('socle:connected'), synced: at('socle:synced'), ready: performance.now() };
    });
    fcp.push(t.fcp);
    ready.push(t.ready);
    steps.push(t);
    await c.close();
  }
  const q = (xs, f) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))].toFixed(0);
  console.log(`first contentful paint: p50 ${q(fcp, 0.5)} ms, max ${q(fcp, 1)} ms`);
  console.log(`synced with the last line on screen: p50 ${q(ready, 0.5)} ms, max ${q(ready, 1)} ms (${RUNS} runs)`);
  for (const k of ['script', 'connected', 'synced']) console.log(`  ${k}: p50 ${q(steps.map((t) => t[k]), 0.5)} ms`);
} finally {
  await browser.close();
  await socle.stop();
}
