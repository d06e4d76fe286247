// The moderated blog in Debian's Chromium: on the demo's "Blog de la
// liaison école-collège" (owned by the CM1 teacher, shared with CM1 A and
// the collège's 6e A as contributors), the école pupil writes a post and
// submits it, the teacher sees it arrive and publishes it through the
// server, the pupil sees the decision; then a collège pupil comments and
// the teacher refuses the comment. Contributors never get the moderation
// buttons, and the server refuses them the decision anyway.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertAccessible } from './lib/browser.mjs';
import { demoSession } from './lib/demo.mjs';

const BLOG = 'Blog de la liaison école-collège';
const SEEN_MS = 15_000;

const demo = demoSession();

/** The demo blog's id, as its owner finds it through the API. */
async function blogID(page) {
  const list = await (await page.request.get(demo.url + '/api/v1/productions')).json();
  const blog = [...(list.mine ?? []), ...(list.shared_with_me ?? [])].find((p) => p.title === BLOG);
  assert.ok(blog, 'the demo blog is listed: ' + JSON.stringify(list).slice(0, 300));
  return blog.id;
}

/** Opens the blog's editor and waits for the demo post, which came from the server's document. */
async function openBlog(page, id) {
  await page.goto(`${demo.url}/productions/${id}/editer`);
  await page.locator('[data-production-editor="blog"][data-synced="true"]').waitFor({ timeout: SEEN_MS });
  await item(page, 'Premier échange').getByText('Publié', { exact: true }).waitFor({ timeout: SEEN_MS });
}

/** The post's entry in the list of posts. */
function item(page, title) {
  return page.locator('.blog-item').filter({ has: page.getByRole('button', { name: title, exact: true }) });
}

/** The comment that says text, in the open post. */
function comment(page, text) {
  return page.locator('.blog-comment').filter({ hasText: text });
}

/** Fails with what both sides show when something is not seen in time. */
async function seen(what, locator, people) {
  try {
    await locator.waitFor({ timeout: SEEN_MS });
  } catch (e) {
    const state = await Promise.all(people.map(async (p) => (await p.page.locator('[data-editor]').innerText()).slice(0, 1500)));
    throw new Error(`${what}\n${state.join('\n----\n')}\n${people.map((p) => p.errors).join('\n')}\n${demo.socle.logs().slice(-2000)}`, { cause: e });
  }
}

test('a pupil writes a post, the teacher publishes it; a collège pupil comments and the teacher refuses the comment', async () => {
  const teacher = await demo.person('enseignant@demo.socle.fr');
  const pupil = await demo.person('eleve@demo.socle.fr');
  const college = await demo.person('eleve.college@demo.socle.fr');
  const everyone = [teacher, pupil, college];
  try {
    const id = await blogID(teacher.page);
    await Promise.all([openBlog(teacher.page, id), openBlog(pupil.page, id)]);

    // The pupil writes a post and submits it.
    const stamp = Date.now();
    const title = `Notre visite du musée ${stamp}`;
    const body = `Nous avons vu des fossiles.\n\nLe guide nous a montré une ammonite ${stamp}.`;
    const p = pupil.page;
    await p.getByRole('button', { name: 'Nouvel article' }).click();
    // Typed key by key: each pause writes to the document and redraws the
    // page, which must not lose or reorder what is being typed.
    await p.getByLabel('Titre', { exact: true }).pressSequentially(title, { delay: 20 });
    await p.getByLabel('Texte de l\'article').fill(body);
    await seen('the pupil\'s draft is listed', item(p, title).getByText('Brouillon', { exact: true }), [pupil]);
    assert.equal(await p.getByLabel('Titre', { exact: true }).inputValue(), title, 'the title is as typed');
    await assertAccessible(assert, p, 'éditeur du blog, brouillon d\'un élève');
    await p.getByRole('button', { name: 'Soumettre à la validation' }).click();
    await seen('the pupil sees her post waiting', item(p, title).getByText('En attente de validation', { exact: true }), [pupil]);
    // The author reads her post; nothing lets her publish it.
    await p.locator('.blog-view').getByText(`Le guide nous a montré une ammonite ${stamp}.`).waitFor({ timeout: SEEN_MS });
    assert.equal(await p.getByRole('button', { name: /^(Publier|Refuser)$/ }).count(), 0, 'a contributor gets no moderation button');

    // The teacher sees it arrive, waiting, with the pupil on it.
    const t = teacher.page;
    await seen('the teacher sees the submitted post', item(t, title).getByText('En attente de validation', { exact: true }), everyone);
    await seen('the teacher sees where the pupil is', item(t, title).locator('.blog-here').getByText(/Léa/), everyone);
    await item(t, title).getByRole('button', { name: title, exact: true }).click();
    // A moderator may still correct a waiting post: the pupil's text is in the form.
    const text = t.getByLabel('Texte de l\'article');
    await text.waitFor({ timeout: SEEN_MS });
    assert.equal(await text.inputValue(), body, 'the teacher reads the pupil\'s text');
    await assertAccessible(assert, t, 'éditeur du blog, article à modérer');
    await t.getByRole('button', { name: 'Publier', exact: true }).click();
    await seen('the teacher is told', t.getByText('Article publié.'), everyone);
    await seen('the teacher sees the post published', item(t, title).getByText('Publié', { exact: true }), everyone);
    await seen('the pupil sees the decision', item(p, title).getByText('Publié', { exact: true }), everyone);

    // The server reads the post where the editor wrote it: its read-only view shows it.
    const html = await (await p.request.get(`${demo.url}/productions/${id}`)).text();
    assert.ok(html.includes(title) && html.includes(`Le guide nous a montré une ammonite ${stamp}.`), 'the read-only view shows the post');

    // The server, not the page, decides: a contributor's decision is refused.
    const csrf = await p.locator('[data-production-editor="blog"]').getAttribute('data-csrf');
    const postID = await item(p, title).getAttribute('data-post');
    const denied = await p.request.post(`${demo.url}/api/v1/productions/${id}/moderation`, {
      headers: { 'X-CSRF-Token': csrf }, data: { post: postID, comment: '', decision: 'reject' },
    });
    assert.equal(denied.status(), 403, 'a contributor cannot moderate through the API');

    // A collège pupil comments on the published post; the teacher refuses the comment.
    const c = college.page;
    await openBlog(c, id);
    await item(c, title).getByRole('button', { name: title, exact: true }).click();
    const words = `Bravo les CM1, quelle belle sortie ${stamp}`;
    await c.getByLabel('Votre commentaire').fill(words);
    await c.getByRole('button', { name: 'Envoyer le commentaire' }).click();
    await seen('the collège pupil sees his comment waiting', comment(c, words).getByText('En attente de validation', { exact: true }), everyone);
    assert.equal(await c.getByRole('button', { name: /^(Publier|Refuser)$/ }).count(), 0, 'a contributor gets no moderation button');

    await seen('the teacher sees the comment', comment(t, words).getByText('En attente de validation', { exact: true }), everyone);
    await comment(t, words).getByRole('button', { name: 'Refuser', exact: true }).click();
    await seen('the teacher sees the comment refused', comment(t, words).getByText('Refusé', { exact: true }), everyone);
    await seen('the collège pupil sees the comment refused', comment(c, words).getByText('Refusé', { exact: true }), everyone);
    await assertAccessible(assert, c, 'éditeur du blog, commentaire refusé');

    for (const [who, x] of [['teacher', teacher], ['école pupil', pupil], ['collège pupil', college]]) {
      assert.deepEqual(x.errors, [], `no script error on the ${who}'s side`);
    }
  } finally {
    for (const x of everyone) await x.context.close();
  }
});
