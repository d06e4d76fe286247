// Debian's Chromium driven by playwright-core (no browser download), and
// the accessibility check every page goes through.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core'), 'utf8');

export const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * Runs axe-core on the page for WCAG 2.0/2.1 A and AA and returns the
 * violations, each as a readable block (rule, impact, help, the offending
 * nodes and why), so that a failure says what to fix.
 */
export async function axeViolations(page) {
  // The pages forbid inline scripts (CSP script-src 'self'), so axe is
  // evaluated through the DevTools protocol, which the CSP does not govern,
  // rather than added as a <script> tag: the policy stays as in production.
  const loaded = await page.evaluate(() => typeof window.axe !== 'undefined');
  if (!loaded) await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  return result.violations.map((v) => [
    `${v.id} (${v.impact}): ${v.help}`,
    `  ${v.helpUrl}`,
    ...v.nodes.slice(0, 10).map((n) => `  - ${n.target.join(' ')}\n    ${n.failureSummary.replaceAll('\n', '\n    ')}`),
  ].join('\n'));
}

/** Fails with every violation printed when the page is not accessible. */
export async function assertAccessible(assert, page, name) {
  const v = await axeViolations(page);
  const report = `${name} (${page.url()}): ${v.length} violation(s) axe-core\n${v.join('\n')}`;
  if (v.length) console.error(report);
  assert.equal(v.length, 0, report);
  return v.length;
}

/** Logs in through the form and waits for the home page. */
export async function login(page, baseURL, email, password) {
  await page.goto(baseURL + '/connexion');
  await page.getByLabel('Adresse électronique').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await Promise.all([
    page.waitForURL(baseURL + '/'),
    page.getByRole('button', { name: 'Se connecter' }).click(),
  ]);
}

/** Logs out with the header button and waits for the login page. */
export async function logout(page, baseURL) {
  await Promise.all([
    page.waitForURL(baseURL + '/connexion'),
    page.getByRole('button', { name: 'Se déconnecter' }).click(),
  ]);
}
