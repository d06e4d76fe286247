// Authorship colours in the collaborative pad: a pupil of the demo école
// and a pupil of the demo collège each write a line in the demo's
// cross-school pad; with "Couleurs des auteurs" pressed, each line is
// shown on the light tint of its author's colour (the colour of their
// name in the presence list), the same in both browsers and after a
// reload, and the legend names both pupils. The text written before (the
// demo's) belongs to no one. Someone who may only read gets the toggle
// too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const PAD = 'Liaison CM1-6e : notre journal';
const SEEN_MS = 10_000;

const demo = demoSession();

/** Opens the demo pad's editor and returns its textbox and the name of the person logged in. */
async function openPad(page) {
  await demo.openEditor(page, PAD, 'pad', { timeout: SEEN_MS });
  const editor = page.getByRole('textbox', { name: /Texte du pad/ });
  await editor.getByText('Notre visite au collège').waitFor({ timeout: SEEN_MS });
  const name = await page.locator('[data-production-editor="pad"]').getAttribute('data-user');
  return { editor, name };
}

/** Types text on a new line at the end of the document (a new item of the demo's closing list). */
async function typeBlock(page, editor, text) {
  await editor.click();
  await page.keyboard.press('Control+End');
  await page.keyboard.press('Enter');
  await page.keyboard.type(text, { delay: 10 });
}

/**
 * What the editor shows of a line's authorship: the authors of the
 * decorations inside the block holding text, their backgrounds, and the
 * text they cover (remote cursors' name tags left out).
 */
function lineAuthorship(editor, text) {
  return editor.evaluate((root, text) => {
    const block = [...root.querySelectorAll('p, h1, h2, h3, li')].find((b) => b.textContent.includes(text));
    if (!block) return null;
    const spans = [...block.querySelectorAll('[data-author]')];
    return {
      authors: [...new Set(spans.map((s) => s.dataset.author))],
      backgrounds: [...new Set(spans.map((s) => getComputedStyle(s).backgroundColor))],
      covered: spans.map((s) => {
        const c = s.cloneNode(true);
        c.querySelectorAll('.pad-cursor').forEach((n) => n.remove());
        return c.textContent;
      }).join(''),
    };
  }, text);
}

/** The legend as shown: name → {background, border} of its swatch, or null when the legend is hidden. */
function legend(page) {
  return page.locator('.pad-legend').evaluate((l) => (l.hidden ? null : Object.fromEntries(
    [...l.querySelectorAll('li[data-author]')].map((li) => {
      const s = getComputedStyle(li.querySelector('.pad-author-swatch'));
      return [li.dataset.author, { background: s.backgroundColor, border: s.borderTopColor }];
    }))));
}

/** The colour of name's dot in the presence list. */
function presenceColour(page, name) {
  return page.locator('[data-presence] li', { hasText: name }).locator('.pad-dot')
    .evaluate((d) => getComputedStyle(d).backgroundColor);
}

/** Retries check (which throws while not yet true) until it passes or SEEN_MS is over. */
async function eventually(check) {
  const deadline = Date.now() + SEEN_MS;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Presses "Couleurs des auteurs" and checks what page shows: each line in
 * its author's tint, the legend naming both authors with the colours of
 * the presence list, the demo's text uncoloured. Returns the colours seen.
 */
async function checkColours(page, editor, lines) {
  const toggle = page.getByRole('button', { name: 'Couleurs des auteurs' });
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  return eventually(async () => {
    const seen = {};
    const shown = await legend(page);
    assert.ok(shown, 'the legend is shown');
    for (const { text, author } of lines) {
      const line = await lineAuthorship(editor, text);
      assert.ok(line, `the line "${text}" is in the editor`);
      assert.deepEqual(line.authors, [author], `"${text}" is attributed to ${author} only`);
      assert.equal(line.covered, text, `the whole of "${text}" is coloured`);
      assert.equal(line.backgrounds.length, 1);
      assert.notEqual(line.backgrounds[0], 'rgba(0, 0, 0, 0)', 'the line has a background');
      assert.ok(shown[author], `the legend names ${author}: ${JSON.stringify(shown)}`);
      assert.equal(shown[author].background, line.backgrounds[0], `the legend shows ${author}'s tint`);
      assert.equal(shown[author].border, await presenceColour(page, author), `the legend's swatch has ${author}'s colour`);
      seen[author] = line.backgrounds[0];
    }
    assert.equal(await editor.locator('[data-author]', { hasText: 'Notre visite au collège' }).count(), 0,
      'the demo text, written before, is attributed to no one');
    return seen;
  });
}

test('each pupil\'s line is shown in their colour, for both, after a reload and for a reader', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [a, b] = await Promise.all([openPad(ecole.page), openPad(college.page)]);
    assert.notEqual(a.name, b.name);
    const fromEcole = 'Ligne de Léa ' + Date.now();
    const fromCollege = 'Ligne de Nathan ' + Date.now();
    // One after the other, each on a new line of their own at the end
    // (two people typing at once are production.test.mjs's matter).
    await typeBlock(ecole.page, a.editor, fromEcole);
    await b.editor.getByText(fromEcole).waitFor({ timeout: SEEN_MS });
    await typeBlock(college.page, b.editor, fromCollege);
    for (const [side, { editor }] of [['école', a], ['collège', b]]) {
      try {
        await editor.getByText(fromEcole).waitFor({ timeout: SEEN_MS });
        await editor.getByText(fromCollege).waitFor({ timeout: SEEN_MS });
      } catch (e) {
        throw new Error(`${side} editor: ${await editor.textContent()}\nécole: ${await a.editor.textContent()}\n` +
          `collège: ${await b.editor.textContent()}\n${ecole.errors}\n${college.errors}`, { cause: e });
      }
    }
    const lines = [{ text: fromEcole, author: a.name }, { text: fromCollege, author: b.name }];

    // Both see the same attribution and the same colours.
    const seenByEcole = await checkColours(ecole.page, a.editor, lines);
    const seenByCollege = await checkColours(college.page, b.editor, lines);
    assert.deepEqual(seenByCollege, seenByEcole, 'both pupils see the same colours');
    await assertAccessible(assert, ecole.page, 'pad avec les couleurs des auteurs');

    // The attribution is in the document: a reload shows it again.
    await ecole.page.reload();
    await ecole.page.locator('[data-production-editor="pad"][data-synced="true"]').waitFor({ timeout: SEEN_MS });
    await a.editor.getByText(fromCollege).waitFor({ timeout: SEEN_MS });
    assert.deepEqual(await checkColours(ecole.page, a.editor, lines), seenByEcole, 'the same colours after a reload');

    // Pressed again, the colours and the legend go.
    const toggle = ecole.page.getByRole('button', { name: 'Couleurs des auteurs' });
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await eventually(async () => {
      assert.equal(await a.editor.locator('[data-author]').count(), 0, 'no colour left');
      assert.equal(await legend(ecole.page), null, 'the legend is hidden');
    });

    // Authorship adds nothing to the layout the server reads: its
    // read-only view still shows both lines.
    const id = /\/productions\/(\d+)\//.exec(ecole.page.url())[1];
    await eventually(async () => {
      const html = await (await college.page.request.get(demo.url + '/productions/' + id)).text();
      assert.ok(html.includes(fromEcole) && html.includes(fromCollege), 'the read-only view shows both lines');
    });

    // Someone who may only read sees the toggle alone in the toolbar, and
    // the same colours: the teacher gives a parent a read link.
    const parent = await readOnlyPad(id);
    try {
      const toolbar = parent.page.getByRole('toolbar', { name: 'Mise en forme' });
      assert.deepEqual(await toolbar.getByRole('button').allTextContents(), ['Couleurs des auteurs'], 'only the toggle is offered');
      assert.deepEqual(await checkColours(parent.page, parent.editor, lines), seenByEcole, 'the same colours for a reader');
      await assertAccessible(assert, parent.page, 'pad en lecture seule avec les couleurs des auteurs');
      assert.deepEqual(parent.errors, [], 'no script error on the parent side');
    } finally {
      await parent.context.close();
    }

    assert.deepEqual(ecole.errors, [], 'no script error on the école side');
    assert.deepEqual(college.errors, [], 'no script error on the collège side');
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});

/**
 * The CM1 teacher creates a read link to production id; Léa's parent
 * follows it and opens the editor, read-only.
 */
async function readOnlyPad(id) {
  const teacher = await demo.person('enseignant@demo.socle.fr');
  let path;
  try {
    await teacher.page.goto(`${demo.url}/productions/${id}/editer`);
    const csrf = await teacher.page.locator('[data-production-editor]').getAttribute('data-csrf');
    const r = await teacher.page.request.post(`${demo.url}/api/v1/productions/${id}/links`, {
      headers: { 'X-CSRF-Token': csrf }, data: { role: 'read' },
    });
    assert.equal(r.status(), 201, await r.text());
    path = (await r.json()).path;
  } finally {
    await teacher.context.close();
  }
  const parent = await demo.person('parent@demo.socle.fr');
  await parent.page.goto(demo.url + path);
  await parent.page.goto(`${demo.url}/productions/${id}/editer`);
  const root = parent.page.locator('[data-production-editor="pad"][data-synced="true"]');
  await root.waitFor({ timeout: SEEN_MS });
  assert.equal(await root.getAttribute('data-readonly'), 'true', 'the parent may only read');
  return { ...parent, editor: parent.page.getByRole('textbox', { name: /Texte du pad/ }) };
}
