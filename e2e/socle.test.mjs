// Browser tests: Socle as people use it, in Debian's Chromium, every page
// checked with axe-core for WCAG 2.1 A and AA. One server (demo mode, fresh
// data directory) serves the whole file; the scenarios run in order since
// the import ones add establishments the later ones look for.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { start } from './lib/socle.mjs';
import { launch, assertAccessible, login, logout } from './lib/browser.mjs';

const PASSWORD = 'socle-demo';
const ADMIN = 'admin@demo.socle.fr';
// The demo's école head, and a collège of the same commune that is not
// theirs (the demo is generated from a fixed seed).
const HEAD = 'direction.ecole@demo.socle.fr';
const HEAD_SCHOOL = 'École élémentaire publique Simone Veil';
const OTHER_UAI = '0990021K';

let socle;
let browser;
// Content-Security-Policy violations seen on any page: the pages must need
// no inline script or style.
const cspViolations = [];

before(async () => {
  socle = await start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await socle?.stop();
});

/** A new browser context (its own cookies) with CSP watching. */
async function newPage() {
  const context = await browser.newContext({ locale: 'fr-FR', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) cspViolations.push(`${page.url()}: ${msg.text()}`);
  });
  return page;
}

/** Submits a form by its button and waits for the page it leads to. */
async function submit(page, buttonName, url) {
  await Promise.all([page.waitForURL(url), page.getByRole('button', { name: buttonName }).click()]);
}

/** Clicks a link and waits for the page it leads to. */
async function follow(page, link, url) {
  await Promise.all([page.waitForURL(url), link.click()]);
}

const UAI_LETTERS = 'ABCDEFGHJKLMNPRSTUVWXYZ';
/** A valid UAI for a 7-digit number (its check letter is n mod 23). */
function uai(n) {
  return String(n).padStart(7, '0') + UAI_LETTERS[n % 23];
}

// Fictional establishments for the imports, in a UAI range the demo does
// not use (it numbers from 0990001), in the demo's commune of Brumeval.
const HEADER = ['Identifiant_de_l_etablissement', 'Nom_etablissement', 'Type_etablissement', 'Statut_public_prive',
  'Adresse_1', 'Code postal', 'Code_commune', 'Nom_commune', 'Code_departement', 'Libelle_departement',
  'Code_academie', 'Libelle_academie', 'etat', 'latitude', 'longitude'];

function annuaireRow(code, name, type) {
  return [code, name, type, 'Public', '1 allée des Essais', '99000', '99001', 'Brumeval', '099', 'Val-de-Brume',
    '90', 'Brocéliande', 'OUVERT', '48.33', '-2.17'].join(';');
}

function annuaireFile(name, rows) {
  return { name, mimeType: 'text/csv', buffer: Buffer.from([HEADER.join(';'), ...rows, ''].join('\r\n'), 'utf8') };
}

/** The value shown beside a term of a definition list. */
async function fact(page, term) {
  return (await page.locator('dl.facts').getByText(term, { exact: true }).locator('xpath=following-sibling::dd[1]').first().innerText()).trim();
}

describe('anonymous visitor', () => {
  test('the login page is accessible and pages ask to log in', async () => {
    const page = await newPage();
    await page.goto(socle.url + '/territoire');
    assert.match(page.url(), /\/connexion\?retour=%2Fterritoire$/);
    await assert.doesNotReject(page.getByRole('heading', { level: 1, name: 'Connexion' }).waitFor());
    await assertAccessible(assert, page, 'Connexion');
    await page.context().close();
  });
});

describe('platform administrator', () => {
  let page;
  before(async () => {
    page = await newPage();
    await login(page, socle.url, ADMIN, PASSWORD);
  });
  after(() => page.context().close());

  test('home shows the figures and the imports', async () => {
    await page.getByRole('heading', { level: 1, name: /^Bonjour/ }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Chiffres de votre périmètre' }).waitFor();
    await page.getByRole('table', { name: /Établissements par type/ }).waitFor();
    await page.getByRole('heading', { level: 2, name: 'Derniers imports' }).waitFor();
    await assertAccessible(assert, page, 'Accueil administrateur');
  });

  test('territory browser: search, filter by type, paginate', async () => {
    await follow(page, page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Territoire' }), /\/territoire$/);
    const count = page.locator('#resultats');
    const total = Number((await count.innerText()).replace(/\D/g, ''));
    assert.ok(total > 50, `the demo has more than one page of establishments (${total})`);
    await assertAccessible(assert, page, 'Territoire');

    // Search by name.
    await page.getByLabel('Nom, UAI ou commune').fill('Théodore Monod');
    await submit(page, 'Rechercher', /q=Th/);
    assert.match(await count.innerText(), /^1 établissement correspondant/);
    await page.getByRole('link', { name: 'Collège Théodore Monod' }).waitFor();
    assert.equal(await page.getByLabel('Nom, UAI ou commune').inputValue(), 'Théodore Monod');

    // Filter by type: only collèges, and the form keeps the choice.
    await page.getByLabel('Nom, UAI ou commune').fill('');
    await page.getByLabel('Type', { exact: true }).selectOption('college');
    await submit(page, 'Rechercher', /type=college/);
    assert.equal(await page.getByLabel('Type', { exact: true }).inputValue(), 'college');
    const types = await page.locator('table.results tbody td:nth-child(3)').allInnerTexts();
    assert.ok(types.length > 0 && types.every((t) => t.startsWith('Collège')), `only collèges: ${types}`);
    const collegeCount = Number((await count.innerText()).replace(/\D/g, ''));
    assert.equal(types.length, collegeCount);

    // Paginate the whole territory.
    await follow(page, page.getByRole('link', { name: 'Effacer les filtres' }), /\/territoire$/);
    const pager = page.getByRole('navigation', { name: 'Pagination' });
    assert.match(await pager.innerText(), /Résultats 1 à 50 sur/);
    await follow(page, pager.getByRole('link', { name: /Page suivante/ }), /offset=50/);
    assert.match(await pager.innerText(), /Résultats 51 à 100 sur/);
    await follow(page, pager.getByRole('link', { name: /Page précédente/ }), (u) => !u.search.includes('offset'));
    assert.match(await pager.innerText(), /Résultats 1 à 50 sur/);
  });

  test('establishment page and its collectivité', async () => {
    await page.goto(socle.url + '/territoire?q=Monod');
    await follow(page, page.getByRole('link', { name: 'Collège Théodore Monod' }), /\/etablissements\/0990021K$/);
    await page.getByRole('heading', { level: 1, name: 'Collège Théodore Monod' }).waitFor();
    assert.equal(await fact(page, 'UAI'), '0990021K');
    assert.match(await page.getByRole('link', { name: 'Voir sur OpenStreetMap (site externe)' }).getAttribute('href'), /^https:\/\/www\.openstreetmap\.org\/\?mlat=/);
    await page.getByRole('table', { name: 'Élèves et classes par année scolaire' }).waitFor();
    await page.getByRole('table', { name: 'Élèves par niveau' }).waitFor();
    await assertAccessible(assert, page, 'Établissement');

    await follow(page, page.getByRole('link', { name: 'Val-de-Brume', exact: true }), /\/organisations\/\d+$/);
    await page.getByRole('heading', { level: 1, name: 'Val-de-Brume' }).waitFor();
    assert.equal(await fact(page, 'Nature'), 'Département');
    await page.getByRole('heading', { level: 2, name: 'Établissements entretenus' }).waitFor();
    await assertAccessible(assert, page, 'Organisation');
    await follow(page, page.getByRole('link', { name: 'Les parcourir et les filtrer dans le territoire' }), /responsible=\d+/);
    const types = await page.locator('table.results tbody td:nth-child(3)').allInnerTexts();
    assert.ok(types.length > 0 && types.every((t) => t.startsWith('Collège')), `a département maintains collèges: ${types}`);
  });

  test('pages reflow on a phone-sized screen', async () => {
    // WCAG 1.4.10: at 320 CSS pixels wide the content still reads, and the
    // wide tables scroll in regions a keyboard can reach.
    await page.setViewportSize({ width: 320, height: 640 });
    try {
      for (const path of ['/', '/territoire', '/etablissements/0990021K']) {
        await page.goto(socle.url + path);
        await assertAccessible(assert, page, `${path} (320 px)`);
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${path}: the page scrolls sideways by ${overflow} px at 320 px`);
      }
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  test('an annuaire import through the form, and its report', async () => {
    await follow(page, page.getByRole('navigation', { name: 'Navigation principale' }).getByRole('link', { name: 'Imports' }), /\/imports$/);
    await assertAccessible(assert, page, 'Imports');
    const rows = [
      annuaireRow(uai(998001), 'École élémentaire publique des Essais', 'Ecole'),
      annuaireRow(uai(998002), 'École maternelle publique des Essais', 'Ecole'),
      annuaireRow(uai(998003), 'Collège des Essais', 'Collège'),
    ];
    await page.getByLabel('Jeu de données').selectOption('annuaire');
    await page.getByLabel(/Fichier CSV/).setInputFiles(annuaireFile('annuaire-essais.csv', rows));
    await submit(page, 'Importer', /\/imports\/\d+$/);
    await page.getByRole('heading', { level: 1, name: /^Rapport d'import n° \d+$/ }).waitFor();
    assert.equal(await fact(page, 'Fichier'), 'annuaire-essais.csv');
    assert.equal(await fact(page, 'Lignes lues'), '3');
    assert.equal(await fact(page, 'Créées'), '3');
    assert.equal(await fact(page, 'Rejetées'), '0');
    assert.equal(await fact(page, 'Résultat'), 'Appliqué');
    await assertAccessible(assert, page, "Rapport d'import");

    await page.goto(socle.url + '/territoire?q=Essais');
    assert.match(await page.locator('#resultats').innerText(), /^3 établissements/);
  });

  test('an import with a wrong UAI check letter writes nothing', async () => {
    await page.goto(socle.url + '/imports');
    const good = uai(998004);
    const wrong = uai(998005).slice(0, 7) + UAI_LETTERS[(998005 + 1) % 23];
    await page.getByLabel('Jeu de données').selectOption('annuaire');
    await page.getByLabel(/Fichier CSV/).setInputFiles(annuaireFile('annuaire-faux.csv', [
      annuaireRow(good, 'École primaire publique des Tests', 'Ecole'),
      annuaireRow(wrong, 'École primaire publique des Erreurs', 'Ecole'),
    ]));
    await submit(page, 'Importer', /\/imports\/\d+$/);
    assert.equal(await fact(page, 'Résultat'), "Rien n'a été écrit");
    assert.equal(await fact(page, 'Rejetées'), '1');
    assert.equal(await fact(page, 'Créées'), '0');
    const rejected = page.getByRole('table', { name: /Lignes rejetées/ });
    const cells = await rejected.locator('tbody tr').first().locator('th, td').allInnerTexts();
    assert.equal(cells[0], '3', 'the physical line of the wrong row (the header is line 1)');
    assert.equal(cells[1], 'Identifiant_de_l_etablissement');
    assert.match(cells[2], new RegExp(`UAI invalide : « ${wrong} »`));
    await assertAccessible(assert, page, "Rapport d'import rejeté");

    await page.goto(socle.url + '/territoire?q=' + good);
    assert.match(await page.locator('#resultats').innerText(), /^0 établissement /);

    // The history lists both runs, the newest first.
    await page.goto(socle.url + '/imports');
    const files = await page.locator('table.runs tbody td:nth-child(4)').allInnerTexts();
    assert.deepEqual(files.slice(0, 2), ['annuaire-faux.csv', 'annuaire-essais.csv']);
  });

  test('logs out', async () => {
    await logout(page, socle.url);
    await page.goto(socle.url + '/');
    assert.match(page.url(), /\/connexion/);
  });
});

describe('school head', () => {
  let page;
  before(async () => {
    page = await newPage();
    await login(page, socle.url, HEAD, PASSWORD);
  });
  after(() => page.context().close());

  test('sees their school on the home page', async () => {
    const card = page.locator('section.school-card');
    await card.getByRole('heading', { level: 2, name: HEAD_SCHOOL }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Imports' }).count(), 0, 'no Imports link');
    await assertAccessible(assert, page, 'Accueil chef d\'établissement');
    await follow(page, card.getByRole('link', { name: /Voir la fiche/ }), /\/etablissements\/\w{8}$/);
    await page.getByRole('heading', { level: 1, name: HEAD_SCHOOL }).waitFor();
  });

  test('sees only their school in the territory', async () => {
    await page.goto(socle.url + '/territoire');
    assert.match(await page.locator('#resultats').innerText(), /^1 établissement\./);
    const names = await page.locator('table.results tbody th').allInnerTexts();
    assert.deepEqual(names, [HEAD_SCHOOL]);
  });

  test('gets a 404 page for another school and a 403 page for imports', async () => {
    let res = await page.goto(socle.url + '/etablissements/' + OTHER_UAI);
    assert.equal(res.status(), 404);
    await page.getByRole('heading', { level: 1, name: 'Page introuvable' }).waitFor();
    assert.equal(await page.getByText('Collège Théodore Monod').count(), 0);
    await assertAccessible(assert, page, 'Page introuvable');

    res = await page.goto(socle.url + '/imports');
    assert.equal(res.status(), 403);
    await page.getByRole('heading', { level: 1, name: 'Accès refusé' }).waitFor();
  });

  test('logs out', async () => {
    await logout(page, socle.url);
    const res = await page.goto(socle.url + '/etablissements/' + OTHER_UAI);
    assert.match(page.url(), /\/connexion\?retour=/);
    assert.equal(res.status(), 200);
  });
});

describe('home page of the other roles', () => {
  test('a commune agent sees the écoles the commune maintains', async () => {
    const page = await newPage();
    await login(page, socle.url, 'agent.commune@demo.socle.fr', PASSWORD);
    await page.getByRole('heading', { level: 2, name: 'Établissements entretenus par Brumeval' }).waitFor();
    await page.getByRole('link', { name: 'Tous les établissements entretenus par Brumeval' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Imports' }).count(), 0, 'no Imports link');
    await assertAccessible(assert, page, 'Accueil agent de collectivité');
    await page.context().close();
  });

  test("the académie observer sees the académie's figures", async () => {
    const page = await newPage();
    await login(page, socle.url, 'dane@demo.socle.fr', PASSWORD);
    await page.getByRole('heading', { level: 2, name: 'Chiffres de votre périmètre' }).waitFor();
    await page.getByRole('table', { name: /Élèves par année scolaire/ }).waitFor();
    await page.context().close();
  });
});

test('no page broke the Content-Security-Policy', () => {
  assert.deepEqual(cspViolations, []);
});
