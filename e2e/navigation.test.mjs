// Every page of the main navigation, for each kind of person, in Debian's
// Chromium: the page answers (no error page), and axe-core finds no WCAG
// 2.1 A or AA violation on it nor on the first page each one links to
// inside the same section. Which links a role sees is the layout's, so a
// page added to the navigation is checked without touching this file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible, login } from './lib/browser.mjs';
import { demoSession, PASSWORD } from './lib/demo.mjs';

const demo = demoSession();

/** The navigation links of the current page, as paths. */
async function navPaths(page) {
  const hrefs = await page.locator('nav.main-nav a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  return [...new Set(hrefs.filter((h) => h && h.startsWith('/')))];
}

/** Checks a page answers without an error and is accessible. */
async function check(page, path) {
  const resp = await page.goto(demo.url + path);
  assert.ok(resp, `${path}: no response`);
  assert.equal(resp.status(), 200, `${path}: HTTP ${resp.status()}`);
  assert.equal(await page.locator('h1').count(), 1, `${path}: one h1`);
  await assertAccessible(assert, page, path);
}

const people = [
  { email: 'admin@demo.socle.fr', expect: ['/parc', '/personnes', '/notifications', '/plan-deploiement', '/gouvernance'] },
  { email: 'agent.metropole@demo.socle.fr', expect: ['/parc', '/plan-deploiement', '/gouvernance'] },
  { email: 'technicien@demo.socle.fr', expect: ['/parc', '/tickets'] },
  { email: 'dane@demo.socle.fr', expect: ['/gouvernance', '/plan-deploiement'] },
  { email: 'direction.ecole@demo.socle.fr', expect: ['/personnes', '/parc'] },
  { email: 'enseignant@demo.socle.fr', expect: ['/personnes', '/notifications'] },
  { email: 'eleve@demo.socle.fr', expect: ['/notifications', '/mes-donnees'], refuse: ['/parc', '/gouvernance', '/plan-deploiement'] },
  { email: 'parent@demo.socle.fr', expect: ['/notifications'], refuse: ['/tickets', '/parc'] },
];

for (const who of people) {
  test(`navigation of ${who.email}: every page answers and is accessible`, async () => {
    const context = await demo.browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    try {
      await login(page, demo.url, who.email, PASSWORD);
      const paths = await navPaths(page);
      for (const p of who.expect) assert.ok(paths.includes(p), `${who.email} should see ${p} in ${paths.join(', ')}`);
      for (const p of who.refuse ?? []) assert.ok(!paths.includes(p), `${who.email} should not see ${p}`);
      for (const p of paths) {
        await check(page, p);
        // One level deeper: the first link of the page's own section.
        const inner = await page.locator('#contenu a[href^="' + p + '/"]').first();
        if (p !== '/' && (await inner.count()) > 0) {
          const href = await inner.getAttribute('href');
          if (!/\.(csv|xlsx|ics|pdf|zip|eml)(\?|$)/.test(href) && !/export|telecharger/.test(href)) await check(page, href);
        }
      }
    } finally {
      await context.close();
    }
  });
}
