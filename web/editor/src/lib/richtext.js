// Rich text bound to a Y.XmlFragment (the pad's "content", each wiki
// page): ProseMirror with y-prosemirror, remote cursors and undo. The
// schema follows the server's layout (internal/ent/production/model.go):
// list items hold their text directly, heading levels are attributes,
// an image is an atom block whose attributes are its "src" and "alt".
//
// Authorship colours (Etherpad-like) add nothing to that layout: each
// Yjs item already carries the client id of the session that wrote it,
// and the root Y.Map "authors" (client id as a decimal string → display
// name) says whose session it was. The server's content reader only
// reads the kind's own roots ("content", "titles", "pages") and ignores
// that map.
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from 'y-prosemirror';
import { Schema } from 'prosemirror-model';
import { EditorState, Plugin, PluginKey } from 'prosemirror-state';
import { EditorView, Decoration, DecorationSet } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap, toggleMark, setBlockType } from 'prosemirror-commands';
import { Y, colours, colourOf, safeURL, el } from './common.js';

// A link between wiki pages ("#page-<id>", as the server keeps it) stays
// as written; any other address goes through safeURL.
const pageLink = /^#page-[A-Za-z0-9_-]{1,64}$/;
function linkHref(href) { return pageLink.test(href) ? href : safeURL(href); }

export const schema = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: { group: 'block', content: 'inline*', parseDOM: [{ tag: 'p' }], toDOM: () => ['p', 0] },
    heading: {
      group: 'block', content: 'inline*', defining: true, attrs: { level: { default: '1' } },
      parseDOM: [1, 2, 3, 4, 5, 6].map((l) => ({ tag: 'h' + l, attrs: { level: String(l) } })),
      toDOM: (n) => ['h' + Math.min(6, Math.max(1, Number(n.attrs.level) || 1)), 0],
    },
    bullet_list: { group: 'block', content: 'list_item+', parseDOM: [{ tag: 'ul' }], toDOM: () => ['ul', 0] },
    ordered_list: { group: 'block', content: 'list_item+', parseDOM: [{ tag: 'ol' }], toDOM: () => ['ol', 0] },
    list_item: { content: 'inline*', defining: true, parseDOM: [{ tag: 'li' }], toDOM: () => ['li', 0] },
    image: {
      group: 'block', atom: true, selectable: true, draggable: true,
      attrs: { src: { default: '' }, alt: { default: '' } },
      // Pasted images keep http(s) addresses only (never data: nor javascript:).
      parseDOM: [{
        tag: 'img[src]',
        getAttrs: (d) => (imageSrc(d.getAttribute('src')) ? { src: sitePath(d.getAttribute('src')), alt: d.getAttribute('alt') || '' } : false),
      }],
      toDOM: (n) => ['p', { class: 'pad-image' }, ['img', { src: imageSrc(n.attrs.src) || '', alt: n.attrs.alt || '' }]],
    },
    text: { group: 'inline' },
  },
  marks: {
    strong: { parseDOM: [{ tag: 'strong' }, { tag: 'b' }], toDOM: () => ['strong', 0] },
    em: { parseDOM: [{ tag: 'em' }, { tag: 'i' }], toDOM: () => ['em', 0] },
    link: {
      attrs: { href: {} }, inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (d) => ({ href: d.getAttribute('href') }) }],
      toDOM: (m) => ['a', { href: linkHref(m.attrs.href), rel: 'noopener noreferrer' }, 0],
    },
  },
});

// imageSrc is the address an image may be shown from: http(s) or this
// site (the production's medias), else ''.
export function imageSrc(src) {
  const u = safeURL(src || '');
  return u.startsWith('http:') || u.startsWith('https:') ? u : '';
}

// sitePath turns an address of this site back into a path, so that an
// image copied and pasted keeps the /productions/{id}/medias/... form the
// server recognises (and embeds in exports).
function sitePath(src) {
  try {
    const u = new URL(src, window.location.href);
    return u.origin === window.location.origin ? u.pathname + u.search : src;
  } catch { return src; }
}

// mediaUploader returns an upload(file) → URL for richEditor's options:
// it sends the file to the production's API (data-api of the editor's
// root) with the session's CSRF token, and throws the server's French
// message when the file is refused.
export function mediaUploader(api, csrf) {
  return async (file) => {
    const body = new FormData();
    body.append('file', file);
    const r = await fetch(`${api}/media`, {
      method: 'POST', body, credentials: 'same-origin', headers: { 'X-CSRF-Token': csrf || '' },
    });
    const data = await r.json().catch(() => ({}));
    if (!r.ok || !data.url) throw new Error(data.message || "L'envoi du fichier a échoué.");
    return data.url;
  };
}

// chooseFile opens the file chooser of a hidden input and resolves with
// the chosen file, or null.
function chooseFile(input) {
  return new Promise((resolve) => {
    const done = () => {
      input.removeEventListener('change', done);
      input.removeEventListener('cancel', done);
      const f = input.files && input.files[0];
      input.value = '';
      resolve(f || null);
    };
    input.addEventListener('change', done);
    input.addEventListener('cancel', done);
    input.click();
  });
}

// askImage asks for an image: an address, or (when upload is given) a
// file from the computer, sent with upload; then its text alternative.
// Resolves with {src, alt}, or null when cancelled.
async function askImage(upload, input, announce) {
  const hint = upload
    ? "Adresse de l'image (https://…), ou laissez vide et validez pour envoyer une image de votre ordinateur"
    : "Adresse de l'image (https://…)";
  const answer = window.prompt(hint, '');
  if (answer === null) return null;
  let src = answer.trim();
  if (!src) {
    if (!upload) return null;
    const file = await chooseFile(input);
    if (!file) return null;
    announce("Envoi de l'image en cours…");
    try {
      src = await upload(file);
    } catch (e) {
      announce(e.message);
      window.alert(e.message);
      return null;
    }
    announce('Image envoyée.');
  } else if (!imageSrc(src)) {
    window.alert("Adresse refusée : seules les images en http(s) ou envoyées ici sont acceptées.");
    return null;
  }
  const alt = window.prompt("Texte alternatif : décrivez l'image pour qui ne la voit pas (laissez vide si elle est décorative)", '');
  if (alt === null) return null;
  return { src, alt: alt.replace(/\s+/g, ' ').trim() };
}

// imageCommand inserts the image ask() resolves with at the selection.
export function imageCommand(ask) {
  return (state, dispatch, view) => {
    if (!dispatch) return true;
    ask().then((img) => {
      if (!img || !view || view.isDestroyed) return;
      const node = schema.nodes.image.create(img);
      view.dispatch(view.state.tr.replaceSelectionWith(node).scrollIntoView());
      view.focus();
    });
    return true;
  };
}

// Turns the current block into a one-item list, or a list back into
// paragraphs: enough for pupils, and valid for the server's layout.
function toggleList(listType) {
  return (state, dispatch) => {
    const { $from } = state.selection;
    const block = $from.parent;
    if (block.type === schema.nodes.list_item) {
      const list = $from.node($from.depth - 1);
      const start = $from.before($from.depth - 1);
      if (dispatch) {
        if (list.type !== listType) {
          dispatch(state.tr.setNodeMarkup(start, listType).scrollIntoView());
          return true;
        }
        const paras = [];
        list.forEach((li) => paras.push(schema.nodes.paragraph.create(null, li.content)));
        dispatch(state.tr.replaceWith(start, start + list.nodeSize, paras).scrollIntoView());
      }
      return true;
    }
    if (!block.isTextblock || $from.depth !== 1) return false;
    if (dispatch) {
      const start = $from.before(1);
      const list = listType.create(null, schema.nodes.list_item.create(null, block.content));
      dispatch(state.tr.replaceWith(start, start + block.nodeSize, list).scrollIntoView());
    }
    return true;
  };
}

// linkCommand asks for an address (askHref() returns it, or null) and
// toggles a link on the selection.
export function linkCommand(askHref) {
  return (state, dispatch) => {
    const mark = schema.marks.link;
    const { from, to, empty } = state.selection;
    if (state.doc.rangeHasMark(from, to, mark)) return toggleMark(mark)(state, dispatch);
    if (empty) return false;
    if (!dispatch) return true;
    const href = askHref();
    if (!href || safeURL(href) === '#') return false;
    return toggleMark(mark, { href })(state, dispatch);
  };
}

const promptLink = linkCommand(() => window.prompt('Adresse du lien (https://…)'));

// Remote cursors built with the CSSOM (the CSP forbids style attributes).
function cursorBuilder(user) {
  const label = el('span', { class: 'pad-cursor-name' }, user.name);
  label.style.backgroundColor = user.color;
  const cursor = el('span', { class: 'pad-cursor' }, label);
  cursor.style.borderColor = user.color;
  return cursor;
}
function selectionBuilder(user) {
  return { style: '', class: 'pad-selection pad-selection-' + colours.indexOf(user.color) };
}

// ---- authorship colours ----

// authorRuns lists the stretches of fragment's text whose author is known
// (authors: client id → name), as {from, to, name} in positions of doc,
// the editor's document. It returns null when doc does not match the
// fragment (a change on its way from one to the other).
export function authorRuns(fragment, doc, authors) {
  const runs = [];
  const walk = (yParent, pmParent, start) => {
    let pos = start;
    for (const child of yParent.toArray()) {
      if (child instanceof Y.XmlText) {
        // Its items in order; formatting markers take no room.
        for (let item = child._start; item; item = item.right) {
          if (item.deleted || !item.countable) continue;
          const name = authors.get(String(item.id.client));
          const last = runs[runs.length - 1];
          if (name && last && last.name === name && last.to === pos) last.to += item.length;
          else if (name) runs.push({ from: pos, to: pos + item.length, name });
          pos += item.length;
        }
      } else if (child instanceof Y.XmlElement) {
        const node = doc.nodeAt(pos);
        if (!node || node.type.name !== child.nodeName || !walk(child, node, pos + 1)) return false;
        pos += node.nodeSize;
      } else {
        return false;
      }
    }
    return pos === start + pmParent.content.size;
  };
  return walk(fragment, doc, 0) ? runs : null;
}

// authorClass is the class giving a name's text the light tint of its
// colour (editor.css, in the order of colours).
function authorClass(name) {
  return 'pad-author pad-author-' + colours.indexOf(colourOf(name));
}

// The plugin showing the authors' decorations: they follow the edits
// until the next ones come with a transaction's meta.
const authorsKey = new PluginKey('authors');
const authorsPlugin = new Plugin({
  key: authorsKey,
  state: {
    init: () => DecorationSet.empty,
    apply: (tr, set) => tr.getMeta(authorsKey) ?? set.map(tr.mapping, tr.doc),
  },
  props: { decorations: (state) => authorsKey.getState(state) },
});

let legends = 0;

// authorship records who writes in fragment (my session's client id and
// my name in the root map "authors", once I change the fragment) and,
// while the toggle button is pressed, colours each stretch of text in
// its author's colour and lists the authors in a legend put before host.
// Returns {onToggle, destroy}.
function authorship(view, fragment, host, toggle, me, readOnly) {
  const ydoc = fragment.doc;
  const authors = ydoc.getMap('authors');
  const key = String(ydoc.clientID);
  const id = 'pad-legend-' + ++legends;
  const list = el('ul', { class: 'pad-legend-list', 'aria-labelledby': id });
  const legend = el('div', { class: 'pad-legend', hidden: true },
    el('p', { id, class: 'pad-legend-title' }, 'Auteurs du texte :'), list);
  host.before(legend);
  const on = () => toggle?.getAttribute('aria-pressed') === 'true';

  let legendKey = null;
  const renderLegend = (names) => {
    const k = names.join('\n');
    if (k === legendKey) return;
    legendKey = k;
    list.replaceChildren(...(names.length ? names.map((name) => {
      const swatch = el('span', { class: 'pad-author-swatch ' + authorClass(name), 'aria-hidden': 'true' });
      swatch.style.borderColor = colourOf(name);
      return el('li', { 'data-author': name }, swatch, ' ' + name + (name === me ? ' (vous)' : ''));
    }) : [el('li', {}, 'personne pour l’instant (le texte écrit avant l’arrivée des couleurs n’est attribué à personne).')]));
  };

  // Recomputed once the Yjs transaction that changed something is over
  // (the editor then shows it too), at most once per burst of changes.
  let queued = false;
  const refresh = () => {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      if (view.isDestroyed) return;
      let set = DecorationSet.empty;
      legend.hidden = !on();
      if (on()) {
        const runs = authorRuns(fragment, view.state.doc, authors);
        if (!runs) return; // the change that makes them match is coming
        set = DecorationSet.create(view.state.doc, runs.map((r) => Decoration.inline(r.from, r.to, {
          class: authorClass(r.name), 'data-author': r.name,
        })));
        renderLegend([...new Set(runs.map((r) => r.name))].sort((a, b) => a.localeCompare(b, 'fr')));
      }
      view.dispatch(view.state.tr.setMeta(authorsKey, set));
    });
  };

  const onFragment = (events, tr) => {
    if (tr.local && !readOnly && me && authors.get(key) !== me) {
      ydoc.transact(() => authors.set(key, me));
    }
    if (on()) refresh();
  };
  const onAuthors = () => { if (on()) refresh(); };
  fragment.observeDeep(onFragment);
  authors.observe(onAuthors);
  if (on()) refresh();

  return {
    onToggle() {
      toggle.setAttribute('aria-pressed', on() ? 'false' : 'true');
      refresh();
    },
    destroy() {
      fragment.unobserveDeep(onFragment);
      authors.unobserve(onAuthors);
      legend.remove();
    },
  };
}

// authorsToggle returns the toolbar's "Couleurs des auteurs" button,
// added at its end when the page did not write it.
function authorsToggle(toolbar) {
  let b = toolbar.querySelector('button[data-command="authors"]');
  if (!b) {
    b = el('button', { type: 'button', 'data-command': 'authors', 'aria-pressed': 'false' }, 'Couleurs des auteurs');
    toolbar.append(b);
  }
  return b;
}

// The toolbar's buttons: [command, label, shortcut].
export const toolbarButtons = [
  ['h1', 'Titre'], ['h2', 'Sous-titre'], ['paragraph', 'Paragraphe'],
  ['strong', 'Gras', 'Control+B'], ['em', 'Italique', 'Control+I'],
  ['bullet', 'Liste à puces'], ['ordered', 'Liste numérotée'], ['link', 'Lien', 'Control+K'], ['image', 'Image'],
  ['undo', 'Annuler', 'Control+Z'], ['redo', 'Rétablir', 'Control+Y'],
];

// buildToolbar makes a toolbar for richEditor's commands.
export function buildToolbar(label) {
  return el('div', { class: 'pad-toolbar', role: 'toolbar', 'aria-label': label || 'Mise en forme' },
    ...toolbarButtons.map(([cmd, text, keys]) => el('button', { type: 'button', 'data-command': cmd, 'aria-keyshortcuts': keys }, text)));
}

// richEditor mounts ProseMirror on host, bound to fragment. options:
// readOnly, label (the textbox's accessible name), toolbar (an element
// whose button[data-command] run the commands), askHref (link prompt),
// upload (async file → URL, see mediaUploader: the Image button then
// offers to send a file), askImage (async → {src, alt} or null, replaces
// the prompts), cursors (false to leave remote cursors out), authors
// (true for authorship colours: my text is attributed to the name of my
// awareness's user, and the toolbar gets the "Couleurs des auteurs"
// toggle, which stays when readOnly hides the other buttons). Returns
// {view, destroy}.
export function richEditor(host, fragment, awareness, options = {}) {
  const m = schema.marks;
  const n = schema.nodes;
  const link = options.askHref ? linkCommand(options.askHref) : promptLink;
  // The file input and the live region of the Image button live next to
  // the editor (outside ProseMirror's DOM).
  const fileInput = el('input', {
    type: 'file', hidden: true, tabindex: '-1', 'aria-hidden': 'true', accept: 'image/png,image/jpeg,image/gif,image/webp',
  });
  const live = el('p', { class: 'visually-hidden pad-live', 'aria-live': 'polite' });
  host.after(fileInput, live);
  const announce = (msg) => { live.textContent = msg; };
  const image = imageCommand(options.askImage || (() => askImage(options.upload, fileInput, announce)));
  const plugins = [ySyncPlugin(fragment)];
  if (options.cursors !== false) plugins.push(yCursorPlugin(awareness, { cursorBuilder, selectionBuilder }));
  plugins.push(yUndoPlugin(),
    keymap({
      'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo,
      'Mod-b': toggleMark(m.strong), 'Mod-i': toggleMark(m.em), 'Mod-k': link,
    }),
    keymap(baseKeymap));
  if (options.authors) plugins.push(authorsPlugin);
  const view = new EditorView(host, {
    state: EditorState.create({ schema, plugins }),
    editable: () => !options.readOnly,
    attributes: {
      role: 'textbox', 'aria-multiline': 'true', 'aria-label': options.label || 'Texte',
      'aria-readonly': options.readOnly ? 'true' : 'false', class: 'pad-editor',
    },
  });
  const commands = {
    strong: toggleMark(m.strong), em: toggleMark(m.em), link,
    h1: setBlockType(n.heading, { level: '1' }), h2: setBlockType(n.heading, { level: '2' }),
    paragraph: setBlockType(n.paragraph),
    bullet: toggleList(n.bullet_list), ordered: toggleList(n.ordered_list),
    image, undo, redo,
  };
  const toolbar = options.toolbar;
  const toggle = options.authors && toolbar ? authorsToggle(toolbar) : null;
  const authors = options.authors
    ? authorship(view, fragment, host, toggle, awareness.getLocalState()?.user?.name, options.readOnly) : null;
  const onClick = (e) => {
    const b = e.target.closest('button[data-command]');
    if (!b) return;
    e.preventDefault();
    // The toggle keeps the focus (its state is what changed).
    if (b === toggle) return authors.onToggle();
    const cmd = commands[b.dataset.command];
    if (cmd) cmd(view.state, view.dispatch, view);
    view.focus();
  };
  if (toolbar) {
    // Read-only: no editing buttons, but the authors' colours still help.
    toolbar.hidden = !!options.readOnly && !toggle;
    if (options.readOnly) toolbar.querySelectorAll('button').forEach((b) => { b.hidden = b !== toggle; });
    toolbar.addEventListener('click', onClick);
  }
  return {
    view,
    destroy() {
      if (toolbar) toolbar.removeEventListener('click', onClick);
      authors?.destroy();
      fileInput.remove();
      live.remove();
      view.destroy();
      // y-prosemirror 1.3.7 may still dispatch an awareness update queued
      // just before to the destroyed view (yjs/y-prosemirror#265,
      // "reading 'matchesNode'"): let it fall on nothing.
      view.dispatch = () => {};
    },
  };
}
