// Socle's real-time wiki. The document (internal/ent/production/model.go)
// holds Y.Map "titles" (page id → title) and Y.Map "pages" (page id →
// Y.XmlFragment laid out like the pad's "content"). The side list shows
// every page and who is on it; the current page is edited as rich text
// (richtext.js, one ProseMirror at a time); its title is an input bound to
// "titles". Pages link to each other with href "#page-<id>", and the URL
// hash selects the page, so the address of a page can be shared and the
// browser's history goes back to the previous page.
import { connect, mountAll, el, remoteStates, Y } from './lib/common.js';
import { richEditor, buildToolbar, schema, mediaUploader } from './lib/richtext.js';

const HASH = '#page-';
const UNTITLED = 'Sans titre';

// comparePageIDs orders ids as the server's sortPageIDs
// (internal/ent/production/content.go): shorter first, then in character
// order, so "p2" comes before "p10" (the same order as the server's for
// ASCII ids such as "p2" or "p3-x7k2").
function comparePageIDs(a, b) {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}

// newPageID returns "p<N>-<4 random chars>", N being one more than the
// highest number of the existing "p<N>…" ids. The random tail keeps two
// people creating a page at the same moment from taking the same key (one
// of the two pages would be lost); the id still sorts after every existing
// one under comparePageIDs, being at least as long as the longest of them,
// with a larger number when as long.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function newPageID(ids) {
  let max = 0;
  for (const id of ids) {
    const m = /^p(\d{1,15})/.exec(id);
    if (m) max = Math.max(max, Number(m[1]));
  }
  const tail = Array.from(crypto.getRandomValues(new Uint8Array(4)), (b) => ALPHABET[b % ALPHABET.length]).join('');
  return `p${max + 1}-${tail}`;
}

function hrefOf(id) { return HASH + encodeURIComponent(id); }

// pageOfHref returns the page id a link points to, or null when it leads
// elsewhere: "#page-p2" as richtext.js renders it, or this page's URL
// followed by "#page-p2" (a link's resolved href).
function pageOfHref(href) {
  try {
    const u = new URL(href, window.location.href);
    const here = window.location;
    if (u.origin !== here.origin || u.pathname !== here.pathname || !u.hash.startsWith(HASH)) return null;
    return decodeURIComponent(u.hash.slice(HASH.length));
  } catch { return null; }
}

// The page named by the address (#page-<id>), or null.
function pageOfLocation() {
  return window.location.hash.startsWith(HASH) ? pageOfHref(window.location.hash) : null;
}

// A modal dialog whose form closes it with the returnValue of the button
// pressed; onClose(value) runs then ('' for Escape).
function modal(id, title, body, buttons, onClose) {
  const dialog = el('dialog', { class: 'wiki-dialog', 'aria-labelledby': id + '-title' },
    el('form', { method: 'dialog' },
      el('h2', { id: id + '-title' }, title), ...body,
      el('p', { class: 'wiki-dialog-actions' }, ...buttons.map(([value, text, attrs]) => el('button', { value, ...attrs }, text)))));
  dialog.addEventListener('close', () => onClose(dialog.returnValue));
  return {
    dialog,
    open() {
      dialog.returnValue = '';
      dialog.showModal();
    },
  };
}

mountAll('wiki', (root) => {
  const { ydoc, provider, awareness, readOnly, host } = connect(root);
  const titles = ydoc.getMap('titles');
  const pages = ydoc.getMap('pages');
  let current = null; // the page shown
  let editor = null; // its richEditor
  let synced = false;
  const knownTitles = new Map(); // to name a page deleted by someone else

  const titleOf = (id) => {
    const t = titles.get(id);
    return typeof t === 'string' && t.trim() ? t.trim() : UNTITLED;
  };
  const pageIDs = () => [...pages.keys()].sort(comparePageIDs);

  // ---- the layout ----

  const notice = el('p', { class: 'wiki-notice', role: 'status' });
  const announce = (text) => { notice.textContent = text; };

  const list = el('ul', { class: 'wiki-pages' });
  const nav = el('nav', { class: 'wiki-nav', 'aria-labelledby': 'wiki-nav-title' },
    el('h2', { id: 'wiki-nav-title' }, 'Pages du wiki'), list);

  const heading = el('h2', { id: 'wiki-page-title', class: 'wiki-page-title' });
  const titleInput = el('input', { id: 'wiki-title-input', type: 'text', maxlength: 200, autocomplete: 'off' });
  const deleteButton = el('button', { type: 'button', class: 'wiki-delete' }, 'Supprimer la page');
  const toolbar = buildToolbar('Mise en forme de la page');
  const linkButton = el('button', { type: 'button', 'aria-haspopup': 'dialog' }, 'Lien vers une page');
  toolbar.append(linkButton);
  const editorHost = el('div', { class: 'pad-host wiki-host' });
  const page = el('section', { class: 'wiki-page', 'aria-labelledby': 'wiki-page-title' }, heading);
  if (!readOnly) {
    page.append(el('p', { class: 'wiki-title-row' },
      el('label', { for: 'wiki-title-input' }, 'Titre de la page'), ' ', titleInput, ' ', deleteButton));
  }
  page.append(toolbar, editorHost);
  if (!readOnly) {
    page.append(el('p', { class: 'wiki-hint' },
      'Un lien vers une autre page s\'ouvre d\'un clic, ou au clavier avec Ctrl+Entrée, le curseur sur le lien.'));
  }

  host.replaceChildren(el('div', { class: 'wiki' }, nav, el('div', { class: 'wiki-main' }, notice, page)));

  // ---- showing a page ----

  // unmount destroys the page's editor.
  function unmount() {
    if (editor) {
      editor.destroy();
      editor = null;
    }
    editorHost.replaceChildren();
  }

  // show mounts the editor on page id (the previous one is destroyed) and
  // tells the others where I am; focus: 'editor' to keep typing there.
  function show(id, focus) {
    if (id !== current || !editor) {
      unmount();
      current = id;
      const fragment = pages.get(id);
      if (fragment instanceof Y.XmlFragment) {
        editor = richEditor(editorHost, fragment, awareness, {
          readOnly, label: 'Texte de la page', toolbar,
          upload: readOnly ? undefined : mediaUploader(root.dataset.api, root.dataset.csrf),
          authors: true,
        });
      } else {
        editorHost.append(el('p', {}, 'Le texte de cette page ne peut pas être affiché.'));
      }
      awareness.setLocalStateField('page', id);
      render();
    }
    if (focus === 'editor') editor?.view.focus();
  }

  // go shows page id and records it in the address and the history.
  function go(id, focus) {
    if (!pages.has(id)) {
      announce('Cette page n\'existe pas ou a été supprimée.');
      if (current !== null && pageOfLocation() === id) window.history.replaceState(null, '', hrefOf(current));
      return;
    }
    if (pageOfLocation() !== id) window.history.pushState(null, '', hrefOf(id));
    show(id, focus);
  }

  // keepCurrent picks a page when there is none yet, or when the current
  // one has gone: the one of the address, or the first.
  function keepCurrent(ids) {
    if (current !== null && pages.has(current)) return;
    if (!ids.length) {
      unmount();
      current = null;
      return;
    }
    const lost = current;
    const wanted = pageOfLocation();
    const next = wanted !== null && pages.has(wanted) ? wanted : ids[0];
    show(next);
    if (lost !== null) {
      announce(`La page « ${knownTitles.get(lost) ?? UNTITLED} » a été supprimée ; vous êtes sur « ${titleOf(next)} ».`);
      if (wanted !== null) window.history.replaceState(null, '', hrefOf(next));
    } else if (synced) {
      fixAddress();
    }
  }

  // fixAddress makes an address naming another page name the page shown,
  // saying so when the page it named does not exist.
  function fixAddress() {
    const named = pageOfLocation();
    if (current === null || named === null || named === current) return;
    if (!pages.has(named)) announce(`La page demandée n'existe pas ou a été supprimée ; voici « ${titleOf(current)} ».`);
    window.history.replaceState(null, '', hrefOf(current));
  }

  // ---- rendering from the document ----

  const items = new Map(); // page id → {li, link, here}
  function renderList(ids) {
    const others = remoteStates(awareness);
    const wanted = ids.map((id) => {
      let it = items.get(id);
      if (!it) {
        const link = el('a', { href: hrefOf(id) });
        const here = el('span', { class: 'wiki-here' });
        it = { li: el('li', {}, link, here), link, here };
        items.set(id, it);
      }
      const title = titleOf(id);
      if (it.link.textContent !== title) it.link.textContent = title;
      if (id === current) it.link.setAttribute('aria-current', 'page');
      else it.link.removeAttribute('aria-current');
      it.li.classList.toggle('wiki-current', id === current);
      renderHere(it.here, others.filter((s) => s.page === id).map((s) => s.user));
      return it.li;
    });
    for (const [id, it] of items) {
      if (!pages.has(id)) {
        it.li.remove();
        items.delete(id);
      }
    }
    // Moving a node drops its focus: only reorder when the order changed.
    if (wanted.length !== list.children.length || wanted.some((li, i) => list.children[i] !== li)) {
      const focused = document.activeElement;
      list.replaceChildren(...wanted);
      if (focused && list.contains(focused)) focused.focus();
    }
  }

  // renderHere writes who else is on a page: a dot of their colour and
  // their name (the colour alone would say nothing to many).
  function renderHere(span, users) {
    const key = users.map((u) => u.name + u.color).join('|');
    if (span.dataset.key === key) return;
    span.dataset.key = key;
    span.replaceChildren();
    if (!users.length) return;
    span.append(' — ici : ');
    users.forEach((u, i) => {
      const dot = el('span', { class: 'pad-dot', 'aria-hidden': 'true' });
      dot.style.backgroundColor = u.color;
      span.append(i ? ', ' : '', dot, ' ' + u.name);
    });
  }

  function renderPage(ids) {
    page.hidden = current === null;
    if (current === null) {
      if (synced) announce('Ce wiki n\'a pas encore de page.');
      return;
    }
    const title = titleOf(current);
    if (heading.textContent !== title) heading.textContent = title;
    const raw = titles.get(current);
    const value = typeof raw === 'string' ? raw : '';
    if (titleInput.value !== value) {
      // A remote rename while typing: keep the caret where it was.
      const { selectionStart: s, selectionEnd: e } = titleInput;
      titleInput.value = value;
      if (document.activeElement === titleInput) titleInput.setSelectionRange(Math.min(s, value.length), Math.min(e, value.length));
    }
    deleteButton.disabled = ids.length < 2;
  }

  function render() {
    const ids = pageIDs();
    keepCurrent(ids);
    renderList(ids);
    renderPage(ids);
    for (const id of ids) knownTitles.set(id, titleOf(id));
  }

  // Remote changes are announced once the document has arrived (its first
  // sync brings every page, which is no news).
  pages.observe((event, tr) => {
    if (synced && !tr.local) {
      event.changes.keys.forEach((change, id) => {
        if (change.action === 'add') announce(`Nouvelle page : « ${titleOf(id)} ».`);
        else if (change.action === 'delete' && id !== current) announce(`Page supprimée : « ${knownTitles.get(id) ?? UNTITLED} ».`);
      });
    }
    // The current page's fragment replaced (an import): bind the new one.
    if (current !== null && event.changes.keys.get(current)?.action === 'update') {
      unmount();
      show(current);
    }
    render();
  });
  titles.observe(render);
  awareness.on('change', () => renderList(pageIDs()));
  window.addEventListener('hashchange', () => {
    const id = pageOfLocation();
    if (id !== null && id !== current) go(id);
  });

  // createPage adds a page, its title and its first paragraph at once.
  function createPage(title, id) {
    ydoc.transact(() => {
      titles.set(id, title);
      const fragment = new Y.XmlFragment();
      pages.set(id, fragment);
      fragment.insert(0, [new Y.XmlElement('paragraph')]);
    });
    return id;
  }

  provider.on('sync', (isSynced) => {
    if (!isSynced || synced) return;
    synced = true;
    // A new wiki gets its home page; a fixed id lets two first visitors
    // end up with the same one.
    if (!readOnly && pages.size === 0) createPage('Accueil', 'p1');
    render();
    fixAddress();
  });

  render();
  if (readOnly) return;

  // ---- editing controls ----

  titleInput.addEventListener('input', () => {
    if (current !== null) ydoc.transact(() => titles.set(current, titleInput.value));
  });

  const newTitle = el('input', { id: 'wiki-new-title', type: 'text', required: true, maxlength: 200, autocomplete: 'off' });
  const newForm = el('form', { class: 'wiki-new' },
    el('label', { for: 'wiki-new-title' }, 'Titre de la nouvelle page'), newTitle,
    el('button', { type: 'submit' }, 'Créer la page'));
  nav.append(newForm);
  newForm.addEventListener('submit', (e) => {
    e.preventDefault();
    const title = newTitle.value.trim();
    if (!title) return;
    const id = createPage(title, newPageID(pages.keys()));
    newTitle.value = '';
    announce(`Page « ${title} » créée.`);
    go(id, 'editor');
  });

  // Links to another page: the selection becomes a link to "#page-<id>".
  const target = el('select', { id: 'wiki-link-target' });
  const linkDialog = modal('wiki-link', 'Lien vers une page du wiki',
    [el('p', {}, el('label', { for: 'wiki-link-target' }, 'Page liée'), ' ', target)],
    [['link', 'Lier'], ['cancel', 'Annuler']],
    (value) => {
      if (value !== 'link' || !editor || !pages.has(target.value)) return;
      const { view } = editor;
      const { from, to, empty } = view.state.selection;
      if (empty) return;
      const link = schema.marks.link;
      view.dispatch(view.state.tr.removeMark(from, to, link).addMark(from, to, link.create({ href: hrefOf(target.value) })));
      announce(`Lien vers « ${titleOf(target.value)} » ajouté.`);
      view.focus();
    });
  linkButton.addEventListener('click', () => {
    if (!editor) return;
    if (editor.view.state.selection.empty) {
      announce('Sélectionnez d\'abord dans le texte les mots à lier, puis choisissez « Lien vers une page ».');
      editor.view.focus();
      return;
    }
    const others = pageIDs().filter((id) => id !== current);
    if (!others.length) {
      announce('Il n\'y a pas encore d\'autre page à lier : créez-la d\'abord.');
      return;
    }
    target.replaceChildren(...others.map((id) => el('option', { value: id }, titleOf(id))));
    linkDialog.open();
  });

  // Following a link inside the text: a click (an editable text does not
  // follow links by itself), or Ctrl+Entrée with the caret on the link.
  editorHost.addEventListener('click', (e) => {
    const a = e.target.closest('a[href]');
    const id = a && pageOfHref(a.getAttribute('href'));
    if (id === null || id === undefined) return;
    e.preventDefault();
    go(id, 'editor');
  });
  editorHost.addEventListener('keydown', (e) => {
    if (e.key !== 'Enter' || !(e.ctrlKey || e.metaKey) || !editor) return;
    const { $from } = editor.view.state.selection;
    const marks = [...($from.nodeAfter?.marks ?? []), ...($from.nodeBefore?.marks ?? [])];
    const link = marks.find((m) => m.type === schema.marks.link);
    const id = link && pageOfHref(link.attrs.href);
    if (id === null || id === undefined) return;
    e.preventDefault();
    e.stopPropagation();
    go(id, 'editor');
  }, true);

  // Deleting a page (never the last one), after confirmation.
  let doomedID = null;
  const doomed = el('strong');
  const deleteDialog = modal('wiki-delete', 'Supprimer la page ?',
    [el('p', {}, 'La page ', doomed, ' et son texte seront supprimés pour tout le monde.')],
    [['delete', 'Supprimer'], ['cancel', 'Annuler', { autofocus: true }]],
    (value) => {
      const id = doomedID;
      if (value !== 'delete' || !pages.has(id) || pages.size < 2) return;
      const title = titleOf(id);
      // Leave for the page before it (the next one for the first page).
      const ids = pageIDs();
      const at = ids.indexOf(id);
      const next = ids[at > 0 ? at - 1 : 1];
      go(next);
      ydoc.transact(() => {
        pages.delete(id);
        titles.delete(id);
      });
      announce(`Page « ${title} » supprimée.`);
      items.get(next)?.link.focus();
    });
  deleteButton.addEventListener('click', () => {
    if (current === null || pages.size < 2) return;
    doomedID = current;
    doomed.textContent = `« ${titleOf(current)} »`;
    deleteDialog.open();
  });
  host.append(linkDialog.dialog, deleteDialog.dialog);
});
