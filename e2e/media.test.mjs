// Images in the pad, in Debian's Chromium: a pupil of the école sends a
// picture from her computer with the toolbar's Image button (an address
// or a file, then a text alternative); the pupil of the collège sees it
// appear in his editor, the image is served by the production, and the
// server's HTML export shows it with its alternative. An SVG is refused
// with a message in French.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const PAD = 'Liaison CM1-6e : notre journal';
const SEEN_MS = 15_000;
// A 1×1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

const demo = demoSession();

async function openPad(page) {
  await demo.openEditor(page, PAD, 'pad', { timeout: SEEN_MS });
  return page.getByRole('textbox', { name: /Texte du pad/ });
}

/**
 * The toolbar's Image button. The editor's toolbar runs any
 * button[data-command] it holds; until the page's template carries the
 * Image button, the test adds the very markup the template is to have.
 */
async function imageButton(page) {
  await page.evaluate(() => {
    const bar = document.querySelector('[data-toolbar]');
    if (!bar.querySelector('[data-command="image"]')) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.command = 'image';
      b.textContent = 'Image';
      bar.append(b);
    }
  });
  return page.locator('[data-toolbar]').getByRole('button', { name: 'Image' });
}

/** Sends a file through the Image button: empty address, the file, then the alt text. */
async function sendImage(page, editor, file, alt) {
  const alerts = [];
  const answers = ['', alt];
  const onDialog = (d) => {
    if (d.type() === 'prompt') d.accept(answers.shift());
    else { alerts.push(d.message()); d.accept(); }
  };
  page.on('dialog', onDialog);
  try {
    await editor.click();
    await page.keyboard.press('Control+End');
    const button = await imageButton(page);
    const [chooser] = await Promise.all([page.waitForEvent('filechooser', { timeout: SEEN_MS }), button.click()]);
    await chooser.setFiles(file);
    return alerts;
  } finally {
    // Leave time for the upload's answer (an alert on refusal).
    await page.waitForTimeout(1500);
    page.off('dialog', onDialog);
  }
}

test('a pupil sends an image into the pad; the other pupil sees it, the production serves it, the export shows it', async () => {
  const ecole = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  try {
    const [edA, edB] = await Promise.all([openPad(ecole.page), openPad(college.page)]);
    const alt = 'Un volcan en éruption ' + Date.now();
    const alerts = await sendImage(ecole.page, edA, { name: 'volcan.png', mimeType: 'image/png', buffer: PNG }, alt);
    assert.deepEqual(alerts, [], 'the upload is accepted');

    // The other pupil sees the image, with its alternative, from the production's medias.
    const seen = edB.locator(`img[alt="${alt}"]`);
    await seen.waitFor({ timeout: SEEN_MS });
    const src = await seen.getAttribute('src');
    const id = /\/productions\/(\d+)\//.exec(college.page.url())[1];
    assert.match(src, new RegExp(`/productions/${id}/medias/[a-z2-7]{24}$`), 'the image is a media of this production: ' + src);
    const res = await college.page.request.get(src);
    assert.equal(res.status(), 200);
    assert.equal(res.headers()['content-type'], 'image/png');
    assert.equal(res.headers()['x-content-type-options'], 'nosniff');
    assert.deepEqual(Buffer.from(await res.body()), PNG, 'the same bytes come back');

    // The server reads the image from the document in its layout: the HTML export shows it.
    const path = new URL(src).pathname;
    const deadline = Date.now() + SEEN_MS;
    let html = '';
    while (Date.now() < deadline) {
      html = await (await college.page.request.get(`${demo.url}/productions/${id}/export?format=html`)).text();
      if (html.includes(`<img src="${path}" alt="${alt}">`)) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    assert.ok(html.includes(`<img src="${path}" alt="${alt}">`), 'the export shows the image:\n' + html);

    // An SVG is refused, with the server's message, and nothing is inserted.
    const before = await edA.locator('img').count();
    const refused = await sendImage(ecole.page, edA,
      { name: 'dessin.svg', mimeType: 'image/svg+xml', buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>') }, 'x');
    assert.equal(refused.length, 1, 'one alert for the refused file');
    assert.match(refused[0], /Type de fichier refusé/);
    assert.equal(await edA.locator('img').count(), before, 'nothing inserted');

    await assertAccessible(assert, ecole.page, 'pad avec une image');
    assert.deepEqual(ecole.errors, []);
    assert.deepEqual(college.errors, []);
  } finally {
    await ecole.context.close();
    await college.context.close();
  }
});
