// The productions' server-rendered pages in Debian's Chromium, with the
// accessibility check: search, a production with its share link and its
// follow-up comments, the version history and one version, the assignments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { demoSession } from './lib/demo.mjs';
import { assertAccessible } from './lib/browser.mjs';

const demo = demoSession();

test('search, share links, follow-up comments, versions and assignments pages work and are accessible', async () => {
  const { page, errors, context } = await demo.person('enseignant@demo.socle.fr');
  try {
    await page.goto(demo.url + '/productions?q=volcans');
    await page.getByRole('status').filter({ hasText: '« volcans »' }).waitFor();
    await assertAccessible(assert, page, 'recherche dans les productions');

    await Promise.all([page.waitForURL(/\/productions\/\d+$/), page.getByRole('link', { name: 'Wiki du cycle 3 : les volcans' }).first().click()]);
    const url = page.url();
    await Promise.all([page.waitForURL(/\/productions\/\d+\?ok=/), page.getByRole('button', { name: 'Créer un lien' }).click()]);
    const link = await page.getByRole('textbox', { name: /Lien Lecture/ }).first().inputValue();
    assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/partage\/[a-z2-7]{24}$/, 'a link to copy, whole');
    await page.getByLabel('Votre commentaire').fill('Bravo pour les pages sur les volcans');
    await Promise.all([page.waitForURL(/\?ok=/), page.getByRole('button', { name: 'Commenter' }).click()]);
    await page.locator('.follow-ups').getByText('Bravo pour les pages sur les volcans').waitFor();
    await assertAccessible(assert, page, 'production avec lien de partage et suivi');

    await page.goto(url + '/versions');
    await page.getByLabel('Nom de la version (facultatif)').fill('Avant la sortie');
    await Promise.all([page.waitForURL(/versions\?ok=/), page.getByRole('button', { name: "Enregistrer l'état actuel" }).click()]);
    await page.getByRole('cell', { name: 'Avant la sortie' }).waitFor();
    await assertAccessible(assert, page, 'historique des versions');
    await Promise.all([page.waitForURL(/versions\/\d+$/), page.getByRole('link', { name: /Consulter/ }).first().click()]);
    await page.getByRole('button', { name: /Restaurer cette page/ }).first().waitFor();
    await assertAccessible(assert, page, 'une version');

    await page.goto(demo.url + '/travaux');
    await page.getByLabel('Classe ou groupe').locator('option', { hasText: 'Liaison cycle 3' }).waitFor({ state: 'attached' });
    await assertAccessible(assert, page, 'travaux demandés');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
