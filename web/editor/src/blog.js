// Socle's real-time blog, moderated like Edifice's: pupils write posts and
// comments, submit them, and the owner or a teacher who manages the
// production publishes or refuses them through the server, which is the
// authority (it records the decision and writes the status back into the
// document, so every open editor sees it change).
//
// Document layout (internal/ent/production/model.go): Y.Array "posts" of
// Y.Map {id, title, body (plain text, paragraphs separated by blank lines),
// author, status, created (RFC 3339), image (URL, may be absent),
// comments: Y.Array of Y.Map {id, author, text, status, created}}.
//
// The page is drawn from the document on every change (local or remote);
// the only state kept here is the UI's: which post is open, and what is
// being typed in a focused field, which a re-render never overwrites.
import { Y, connect, el, mountAll, remoteStates, safeURL } from './lib/common.js';

const STATUS_LABELS = {
  draft: 'Brouillon',
  submitted: 'En attente de validation',
  published: 'Publié',
  rejected: 'Refusé',
};

// How long typing in the title or the text waits before it is written to
// the document (every keystroke would make one update per letter).
const TYPING_DELAY_MS = 300;

const dateFormat = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short' });

function statusLabel(status) {
  return STATUS_LABELS[status] || STATUS_LABELS.draft;
}

function formatDate(rfc3339) {
  const d = new Date(rfc3339 || '');
  return Number.isNaN(d.getTime()) ? '' : dateFormat.format(d);
}

// newId: crypto.randomUUID needs a secure context (https or localhost); a
// school server reached over plain http by its name falls back to random
// bytes, which are just as good for ids.
function newId() {
  if (typeof crypto.randomUUID === 'function' && window.isSecureContext) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function badge(status) {
  const s = STATUS_LABELS[status] ? status : 'draft';
  return el('span', { class: `blog-status blog-status-${s}` }, statusLabel(s));
}

// paragraphs turns a plain-text body into <p> elements (blank lines
// separate paragraphs; single line breaks are kept by the stylesheet).
function paragraphs(body) {
  return String(body || '').split(/\n\s*\n/).map((t) => t.trim()).filter(Boolean).map((t) => el('p', {}, t));
}

// setValue updates a field from the document unless the person is typing
// in it: the text being typed wins until it is written.
function setValue(field, value) {
  if (document.activeElement !== field && field.value !== value) field.value = value;
}

// keepFocus rebuilds a container's content and gives the focus back to the
// control with the same data-focus key when the focus was inside, or to
// fallback when that control is gone (a re-render never drops the keyboard
// user on the page's body).
function keepFocus(container, rebuild, fallback) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.focus || '' : null;
  rebuild();
  if (key === null) return;
  const again = key && container.querySelector(`[data-focus="${CSS.escape(key)}"]`);
  if (again) again.focus();
  else if (fallback) fallback.focus();
}

// problemText reads the French explanation of an API error: Socle answers
// {code, message}; a problem document (RFC 9457) {title, detail} works too.
async function problemText(res, fallback) {
  try {
    const p = await res.json();
    return p.message || p.detail || p.title || fallback;
  } catch {
    return fallback;
  }
}

let instances = 0;

mountAll('blog', (root) => {
  const { ydoc, awareness, me, readOnly, host } = connect(root);
  const manage = !readOnly && root.dataset.manage === 'true';
  const api = root.dataset.api;
  const csrf = root.dataset.csrf || '';
  const posts = ydoc.getArray('posts');
  const uid = `blog${++instances}`;

  // ---- the document ----

  const findPost = (id) => posts.toArray().find((p) => p instanceof Y.Map && p.get('id') === id) || null;

  // The posts, newest first (the server's order in the array is kept for
  // posts created at the same instant).
  function sortedPosts() {
    return posts.toArray()
      .map((p, i) => ({ p, i }))
      .filter(({ p }) => p instanceof Y.Map)
      .sort((a, b) => String(b.p.get('created') || '').localeCompare(String(a.p.get('created') || '')) || b.i - a.i)
      .map(({ p }) => p);
  }

  function commentsOf(post) {
    const c = post.get('comments');
    return c instanceof Y.Array ? c.toArray().filter((m) => m instanceof Y.Map) : [];
  }

  // Posts and comments are named by their id (selection, presence,
  // moderation); one imported without an id gets one from the first editor
  // that sees it.
  function ensureIds() {
    if (readOnly) return;
    const missing = [];
    for (const p of posts.toArray()) {
      if (!(p instanceof Y.Map)) continue;
      if (!p.get('id')) missing.push(p);
      missing.push(...commentsOf(p).filter((c) => !c.get('id')));
    }
    if (missing.length) ydoc.transact(() => missing.forEach((m) => m.set('id', newId())));
  }

  const statusOf = (post) => (STATUS_LABELS[post.get('status')] ? post.get('status') : 'draft');

  function setKey(post, key, value) {
    if (post.get(key) !== value) ydoc.transact(() => post.set(key, value));
  }

  // The author (or a moderator) changes a post until it is submitted; a
  // moderator may still correct it while it waits; published posts are
  // fixed (readers see the copy the moderator approved).
  function canEdit(post) {
    if (readOnly) return false;
    const status = statusOf(post);
    if (manage) return status !== 'published';
    return post.get('author') === me.name && (status === 'draft' || status === 'rejected');
  }

  // ---- the page's skeleton ----

  const newButton = el('button', { type: 'button', class: 'button primary' }, 'Nouvel article');
  const empty = el('p', { class: 'blog-empty' }, 'Aucun article pour l\'instant.');
  const list = el('ol', { class: 'blog-list', 'aria-labelledby': `${uid}-list` });
  const listPane = el('section', { class: 'blog-list-pane', 'aria-labelledby': `${uid}-list` },
    el('h2', { id: `${uid}-list` }, 'Articles'), readOnly ? null : newButton, empty, list);

  const postTitle = el('h2', { id: `${uid}-post`, tabindex: '-1' }, 'Aucun article ouvert');
  const postMeta = el('p', { class: 'blog-meta' });
  const postHere = el('p', { class: 'blog-here' });
  const postView = el('div', { class: 'blog-view' });
  const formHost = el('div', { class: 'blog-form-host' });
  const actions = el('div', { class: 'blog-actions' });
  const message = el('p', { class: 'blog-message', role: 'status' });
  const alertBox = el('p', { class: 'blog-message blog-message-error', role: 'alert' });
  const commentsHost = el('div', { class: 'blog-comments-host' });
  const placeholder = el('p', { class: 'blog-empty' },
    readOnly ? 'Choisissez un article dans la liste pour le lire.' : 'Choisissez un article dans la liste ou écrivez-en un nouveau.');
  const postPane = el('section', { class: 'blog-post-pane', 'aria-labelledby': `${uid}-post` },
    postTitle, placeholder, postMeta, postHere, postView, formHost, actions, message, alertBox, commentsHost);

  // Remote changes (another person's post, a moderator's decision) are
  // read out by screen readers; the page shows them anyway.
  const live = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });

  host.replaceChildren(el('div', { class: 'blog' }, listPane, postPane), live);

  // ---- UI state ----

  let selected = null; // id of the open post
  let form = null; // the open post's fields, kept while it stays open
  const pending = new Map(); // field key → write waiting for the typing delay

  function flush() {
    for (const [key, p] of pending) {
      clearTimeout(p.timer);
      pending.delete(key);
      p.write();
    }
  }

  function later(key, write) {
    const p = pending.get(key);
    if (p) clearTimeout(p.timer);
    pending.set(key, { write, timer: setTimeout(() => { pending.delete(key); write(); }, TYPING_DELAY_MS) });
  }

  // say tells what just happened (role status), or what went wrong (role
  // alert); each message replaces the previous one.
  function say(text, kind = 'info') {
    message.textContent = kind === 'error' ? '' : text;
    alertBox.textContent = kind === 'error' ? text : '';
    message.classList.toggle('blog-message-success', kind === 'success');
  }

  function select(id, { focus } = {}) {
    if (selected !== id) {
      flush();
      selected = id;
      form = null;
      say('');
      awareness.setLocalStateField('selection', id ? { post: id } : null);
    }
    render();
    if (focus === 'title' && form) form.title.focus();
    else if (focus) postTitle.focus();
  }

  // ---- presence ----

  // Who else is on each post, from the awareness field 'selection'.
  function othersByPost() {
    const by = new Map();
    for (const s of remoteStates(awareness)) {
      const id = s.selection && s.selection.post;
      if (!id) continue;
      if (!by.has(id)) by.set(id, []);
      by.get(id).push(s.user);
    }
    return by;
  }

  function people(users) {
    return users.map((u) => {
      const dot = el('span', { class: 'blog-dot', 'aria-hidden': 'true' });
      dot.style.backgroundColor = u.color;
      const who = el('span', { class: 'blog-person' }, dot, u.name);
      who.style.borderColor = u.color;
      return who;
    });
  }

  // ---- actions ----

  function createPost() {
    const post = new Y.Map();
    const id = newId();
    ydoc.transact(() => {
      posts.push([post]);
      post.set('id', id);
      post.set('title', '');
      post.set('body', '');
      post.set('author', me.name);
      post.set('status', 'draft');
      post.set('created', new Date().toISOString());
      post.set('comments', new Y.Array());
    });
    select(id, { focus: 'title' });
    say('Nouveau brouillon créé : donnez-lui un titre et un texte, puis soumettez-le à la validation.');
  }

  function submitPost(post) {
    flush();
    if (!String(post.get('title') || '').trim()) {
      say('Donnez un titre à l\'article avant de le soumettre.', 'error');
      if (form) form.title.focus();
      return;
    }
    setKey(post, 'status', 'submitted');
    say('Article soumis : il sera visible des lecteurs quand un enseignant l\'aura publié.');
  }

  function deletePost(post) {
    const title = post.get('title') || 'Sans titre';
    // The browser's own dialog: keyboard and screen-reader friendly.
    if (!window.confirm(`Supprimer l'article « ${title} » ?`)) return;
    flush();
    const i = posts.toArray().indexOf(post);
    if (i >= 0) ydoc.transact(() => posts.delete(i, 1));
    select(null);
    say(`Article « ${title} » supprimé.`);
    newButton.focus();
  }

  function addComment(post, text) {
    const comment = new Y.Map();
    ydoc.transact(() => {
      let comments = post.get('comments');
      if (!(comments instanceof Y.Array)) {
        comments = new Y.Array();
        post.set('comments', comments);
      }
      comments.push([comment]);
      comment.set('id', newId());
      comment.set('author', me.name);
      comment.set('text', text);
      comment.set('status', 'submitted');
      comment.set('created', new Date().toISOString());
    });
  }

  // moderate asks the server to publish or refuse a post or a comment; the
  // server records the decision and writes the status into the document,
  // which re-renders every open editor.
  async function moderate(postId, commentId, decision, button) {
    // aria-disabled rather than disabled: the button keeps the focus.
    if (button.getAttribute('aria-disabled') === 'true') return;
    button.setAttribute('aria-disabled', 'true');
    const what = commentId ? 'Commentaire' : 'Article';
    try {
      const res = await fetch(`${api}/moderation`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf },
        body: JSON.stringify({ post: postId, comment: commentId || '', decision }),
      });
      if (!res.ok) {
        say(await problemText(res, `La décision n'a pas été enregistrée (erreur ${res.status}).`), 'error');
        return;
      }
      const { status } = await res.json();
      say(`${what} ${status === 'published' ? 'publié' : 'refusé'}.`, 'success');
    } catch {
      say('La décision n\'a pas été enregistrée : le serveur est injoignable. Réessayez au retour de la connexion.', 'error');
    } finally {
      button.removeAttribute('aria-disabled');
    }
  }

  // upload sends a picture to the production's media store (the owner's
  // personal space) and answers its URL.
  async function upload(file) {
    const body = new FormData();
    body.append('file', file);
    const res = await fetch(`${api}/media`, {
      method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf }, body,
    });
    if (res.status === 404) {
      throw new Error('L\'envoi d\'images n\'est pas disponible sur ce serveur : indiquez plutôt l\'adresse d\'une image.');
    }
    if (!res.ok) throw new Error(await problemText(res, `L'image n'a pas été envoyée (erreur ${res.status}).`));
    const { url } = await res.json();
    if (!url) throw new Error('Le serveur n\'a pas donné l\'adresse de l\'image.');
    return url;
  }

  // ---- the open post's form ----

  // buildForm makes the fields of the open post once; renders update their
  // values in place, so the field being typed in keeps its focus and caret.
  function buildForm(post) {
    const id = post.get('id');
    const title = el('input', { type: 'text', id: `${uid}-title`, class: 'blog-title-input', autocomplete: 'off' });
    const body = el('textarea', { id: `${uid}-body`, rows: '10', class: 'blog-body-input', 'aria-describedby': `${uid}-body-hint` });
    const image = el('input', { type: 'text', id: `${uid}-image`, inputmode: 'url', autocomplete: 'off', 'aria-describedby': `${uid}-image-hint` });
    const file = el('input', { type: 'file', id: `${uid}-file`, accept: 'image/png,image/jpeg,image/gif,image/webp' });
    const preview = el('div', { class: 'blog-preview' });

    const bind = (field, key) => {
      field.addEventListener('input', () => {
        const p = findPost(id);
        if (p) later(key, () => setKey(p, key, field.value));
      });
      field.addEventListener('blur', flush);
    };
    bind(title, 'title');
    bind(body, 'body');
    image.addEventListener('change', () => {
      const p = findPost(id);
      if (p) setKey(p, 'image', image.value.trim());
    });
    file.addEventListener('change', async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      say('Envoi de l\'image…');
      try {
        const url = await upload(f);
        const p = findPost(id);
        if (p) setKey(p, 'image', url);
        say('Image ajoutée à l\'article.', 'success');
      } catch (e) {
        say(e.message || 'L\'image n\'a pas été envoyée.', 'error');
      } finally {
        file.value = '';
      }
    });

    const node = el('div', { class: 'blog-form' },
      el('div', { class: 'field' }, el('label', { for: title.id }, 'Titre'), title),
      el('div', { class: 'field' }, el('label', { for: body.id }, 'Texte de l\'article'),
        el('span', { id: `${uid}-body-hint`, class: 'hint' }, 'Laissez une ligne vide entre deux paragraphes.'), body),
      el('div', { class: 'field' }, el('label', { for: image.id }, 'Adresse de l\'image (facultatif)'),
        el('span', { id: `${uid}-image-hint`, class: 'hint' }, 'Une adresse commençant par https://, ou envoyez une image de votre ordinateur.'), image),
      el('div', { class: 'field' }, el('label', { for: file.id }, 'Envoyer une image'), file),
      preview);
    return { id, node, title, body, image, preview };
  }

  function imageOf(post) {
    const src = String(post.get('image') || '');
    const url = src ? safeURL(src) : '#';
    if (url === '#') return null;
    const title = post.get('title') || 'Sans titre';
    return el('img', { class: 'blog-image', src: url, alt: `Image de l'article « ${title} »` });
  }

  // ---- rendering ----

  // The list: one item per post, kept from one render to the next (a
  // focused button keeps its focus), reordered only when the order changes.
  const items = new Map();
  function renderList(sorted, others) {
    empty.hidden = sorted.length > 0;
    const seen = new Set();
    for (const post of sorted) {
      const id = post.get('id');
      seen.add(id);
      let item = items.get(id);
      if (!item) {
        const open = el('button', { type: 'button', class: 'blog-open', 'data-focus': `open-${id}` });
        open.addEventListener('click', () => select(id, { focus: true }));
        item = { li: el('li', { class: 'blog-item', 'data-post': id }), open, meta: el('p', { class: 'blog-meta' }), here: el('p', { class: 'blog-here' }) };
        item.li.append(item.open, item.meta, item.here);
        items.set(id, item);
      }
      const title = post.get('title') || 'Sans titre';
      if (item.open.textContent !== title) item.open.textContent = title;
      if (id === selected) item.open.setAttribute('aria-current', 'true');
      else item.open.removeAttribute('aria-current');
      item.li.classList.toggle('blog-item-selected', id === selected);
      const date = formatDate(post.get('created'));
      item.meta.replaceChildren(`${post.get('author') || 'Anonyme'}${date ? ' · ' + date : ''} · `, badge(post.get('status')));
      const here = others.get(id) || [];
      item.here.hidden = here.length === 0;
      item.here.replaceChildren(...(here.length ? ['Ici : ', ...people(here)] : []));
    }
    for (const [id, item] of items) {
      if (!seen.has(id)) { item.li.remove(); items.delete(id); }
    }
    const wanted = sorted.map((p) => items.get(p.get('id')).li);
    const current = Array.from(list.children);
    if (wanted.length !== current.length || wanted.some((li, i) => li !== current[i])) {
      const active = document.activeElement;
      list.append(...wanted);
      if (active && list.contains(active) && document.activeElement !== active) active.focus();
    }
  }

  // The open post's buttons and comments are rebuilt only when what they
  // show changes (not on every presence update), so a focused button stays.
  let actionsShown = '';
  let commentsShown = '';
  let viewShown = '';

  function renderActions(post) {
    const id = post.get('id');
    const status = statusOf(post);
    const shown = JSON.stringify([id, status, canEdit(post)]);
    if (shown === actionsShown) return;
    actionsShown = shown;
    const buttons = [];
    if (canEdit(post) && (status === 'draft' || status === 'rejected')) {
      const b = el('button', { type: 'button', class: 'button primary', 'data-focus': 'submit' }, 'Soumettre à la validation');
      b.addEventListener('click', () => submitPost(post));
      buttons.push(b);
    }
    if (manage && status === 'submitted') {
      const pub = el('button', { type: 'button', class: 'button primary', 'data-focus': 'publish' }, 'Publier');
      pub.addEventListener('click', () => moderate(id, '', 'publish', pub));
      const rej = el('button', { type: 'button', class: 'button', 'data-focus': 'reject' }, 'Refuser');
      rej.addEventListener('click', () => moderate(id, '', 'reject', rej));
      buttons.push(pub, rej);
    }
    if (!readOnly && (manage ? status !== 'published' : canEdit(post))) {
      const del = el('button', { type: 'button', class: 'button blog-delete', 'data-focus': 'delete' }, 'Supprimer l\'article');
      del.addEventListener('click', () => deletePost(post));
      buttons.push(del);
    }
    keepFocus(actions, () => actions.replaceChildren(...buttons), postTitle);
    actions.hidden = buttons.length === 0;
  }

  // The comment box of the open post, kept while it stays open.
  let composer = null;
  function buildComposer(id) {
    const text = el('textarea', { id: `${uid}-comment`, rows: '3' });
    const send = el('button', { type: 'submit', class: 'button' }, 'Envoyer le commentaire');
    const node = el('form', { class: 'blog-comment-form' },
      el('div', { class: 'field' }, el('label', { for: text.id }, 'Votre commentaire'), text), send);
    node.addEventListener('submit', (e) => {
      e.preventDefault();
      const t = text.value.trim();
      const post = findPost(id);
      if (!t || !post) return;
      addComment(post, t);
      text.value = '';
      say(manage ? 'Commentaire ajouté : publiez-le pour le montrer aux lecteurs.' : 'Commentaire envoyé : il attend la validation d\'un enseignant.');
    });
    return { id, node };
  }

  const commentsTitle = el('h3', { id: `${uid}-comments`, tabindex: '-1' }, 'Commentaires');
  const commentList = el('ul', { class: 'blog-comments', 'aria-labelledby': `${uid}-comments` });
  const noComment = el('p', { class: 'blog-empty' }, 'Aucun commentaire.');
  commentsHost.append(commentsTitle, noComment, commentList);

  function renderComments(post) {
    const id = post.get('id');
    const comments = commentsOf(post);
    const shown = JSON.stringify([id, comments.map((c) => c.toJSON())]);
    if (shown !== commentsShown) {
      commentsShown = shown;
      renderCommentList(id, comments);
    }

    // Comments go on published posts, as on a blog.
    const open = !readOnly && statusOf(post) === 'published';
    if (open && (!composer || composer.id !== id)) {
      composer?.node.remove();
      composer = buildComposer(id);
      commentsHost.append(composer.node);
    } else if (!open && composer) {
      composer.node.remove();
      composer = null;
    }
  }

  function renderCommentList(id, comments) {
    commentsTitle.textContent = `Commentaires (${comments.length})`;
    noComment.hidden = comments.length > 0;
    keepFocus(commentList, () => commentList.replaceChildren(...comments.map((c) => {
      const cid = String(c.get('id') || '');
      // A comment without a known status waits for moderation.
      const status = STATUS_LABELS[c.get('status')] ? c.get('status') : 'submitted';
      const date = formatDate(c.get('created'));
      const li = el('li', { class: 'blog-comment', 'data-comment': cid },
        el('p', { class: 'blog-meta' }, `${c.get('author') || 'Anonyme'}${date ? ' · ' + date : ''} · `, badge(status)),
        el('p', { class: 'blog-comment-text' }, String(c.get('text') || '')));
      if (manage && status === 'submitted' && cid) {
        const pub = el('button', { type: 'button', class: 'button primary', 'data-focus': `publish-${cid}` }, 'Publier');
        pub.addEventListener('click', () => moderate(id, cid, 'publish', pub));
        const rej = el('button', { type: 'button', class: 'button', 'data-focus': `reject-${cid}` }, 'Refuser');
        rej.addEventListener('click', () => moderate(id, cid, 'reject', rej));
        li.append(el('div', { class: 'blog-actions', role: 'group', 'aria-label': `Modérer le commentaire de ${c.get('author') || 'Anonyme'}` }, pub, rej));
      }
      return li;
    })), commentsTitle);
  }

  function renderPost(post, others) {
    const shown = Boolean(post);
    placeholder.hidden = shown;
    for (const n of [postMeta, postHere, postView, formHost, actions, commentsHost]) n.hidden = !shown;
    if (!post) {
      postTitle.textContent = 'Aucun article ouvert';
      actionsShown = commentsShown = viewShown = '';
      form?.node.remove();
      form = null;
      composer?.node.remove();
      composer = null;
      return;
    }
    const id = post.get('id');
    const title = post.get('title') || 'Sans titre';
    postTitle.textContent = title;
    const date = formatDate(post.get('created'));
    postMeta.replaceChildren(`Par ${post.get('author') || 'Anonyme'}${date ? ', le ' + date : ''} · `, badge(post.get('status')));
    const here = others.get(id) || [];
    postHere.hidden = here.length === 0;
    postHere.replaceChildren(...(here.length ? ['Aussi sur cet article : ', ...people(here)] : []));

    if (canEdit(post)) {
      if (!form || form.id !== id) {
        form = buildForm(post);
        formHost.replaceChildren(form.node);
      }
      setValue(form.title, String(post.get('title') || ''));
      setValue(form.body, String(post.get('body') || ''));
      setValue(form.image, String(post.get('image') || ''));
      const img = imageOf(post);
      const before = form.preview.querySelector('img');
      if (!img) form.preview.replaceChildren();
      else if (!before || before.src !== img.src || before.alt !== img.alt) form.preview.replaceChildren(img);
      postView.hidden = true;
      postView.replaceChildren();
      viewShown = '';
    } else {
      if (form) { flush(); form = null; }
      formHost.replaceChildren();
      formHost.hidden = true;
      // Redrawn only when the post changes: a reader's text selection stays.
      const shown = JSON.stringify([id, post.get('title'), post.get('body'), post.get('image')]);
      if (shown !== viewShown) {
        viewShown = shown;
        const body = paragraphs(post.get('body'));
        postView.replaceChildren(...[imageOf(post)].filter(Boolean),
          ...(body.length ? body : [el('p', { class: 'blog-empty' }, 'Cet article n\'a pas encore de texte.')]));
      }
    }
    renderActions(post);
    renderComments(post);
  }

  function render() {
    const sorted = sortedPosts();
    const others = othersByPost();
    const post = selected ? findPost(selected) : null;
    if (selected && !post) {
      // Deleted by someone else while open.
      selected = null;
      form = null;
      awareness.setLocalStateField('selection', null);
      say('L\'article ouvert a été supprimé.');
    }
    renderList(sorted, others);
    renderPost(post, others);
  }

  // ---- remote changes read out ----

  // A snapshot of what is worth announcing: posts and comments with their
  // status. Diffed after remote transactions only (my own changes are
  // announced by the message line).
  function snapshot() {
    const s = new Map();
    for (const p of sortedPosts()) {
      const comments = new Map(commentsOf(p).map((c) => [c.get('id'), { status: c.get('status'), author: c.get('author') }]));
      s.set(p.get('id'), { title: p.get('title') || 'Sans titre', author: p.get('author') || 'Anonyme', status: p.get('status'), comments });
    }
    return s;
  }

  let known = null;
  function announce(local) {
    const now = snapshot();
    // The first sync brings the whole blog: nothing to announce yet.
    if (known && !local && root.dataset.synced === 'true') {
      const lines = [];
      for (const [id, p] of now) {
        const before = known.get(id);
        if (!before) {
          lines.push(`Nouvel article de ${p.author}.`);
          continue;
        }
        if (before.status !== p.status) lines.push(`Article « ${p.title} » : ${statusLabel(p.status)}.`);
        for (const [cid, c] of p.comments) {
          const was = before.comments.get(cid);
          if (!was) lines.push(`Nouveau commentaire de ${c.author || 'Anonyme'} sur « ${p.title} ».`);
          else if (was.status !== c.status) lines.push(`Commentaire de ${c.author || 'Anonyme'} sur « ${p.title} » : ${statusLabel(c.status)}.`);
        }
      }
      if (lines.length) live.textContent = lines.join(' ');
    }
    known = now;
  }

  // ---- wiring ----

  if (!readOnly) newButton.addEventListener('click', createPost);
  posts.observeDeep((_events, txn) => {
    render();
    announce(txn.local);
    if (!txn.local) ensureIds();
  });
  awareness.on('change', render);
  render();
  announce(true);
});
