// Socle's real-time pad: ProseMirror bound to the production's Yjs document
// (Y.XmlFragment "content", layout in internal/ent/production/model.go)
// and synchronised through y-websocket with /collab/{id}. The page passes
// everything through data- attributes (the CSP forbids inline scripts).
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';
import { ySyncPlugin, yCursorPlugin, yUndoPlugin, undo, redo } from 'y-prosemirror';
import { Schema } from 'prosemirror-model';
import { EditorState } from 'prosemirror-state';
import { EditorView } from 'prosemirror-view';
import { keymap } from 'prosemirror-keymap';
import { baseKeymap, toggleMark, setBlockType } from 'prosemirror-commands';

// The schema follows the server's layout: list items hold their text
// directly (no paragraph inside), heading levels are attributes.
const schema = new Schema({
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
    text: { group: 'inline' },
  },
  marks: {
    strong: { parseDOM: [{ tag: 'strong' }, { tag: 'b' }], toDOM: () => ['strong', 0] },
    em: { parseDOM: [{ tag: 'em' }, { tag: 'i' }], toDOM: () => ['em', 0] },
    link: {
      attrs: { href: {} }, inclusive: false,
      parseDOM: [{ tag: 'a[href]', getAttrs: (d) => ({ href: d.getAttribute('href') }) }],
      toDOM: (m) => ['a', { href: safeURL(m.attrs.href), rel: 'noopener noreferrer' }, 0],
    },
  },
});

function safeURL(u) {
  try {
    const p = new URL(u, window.location.href);
    return ['http:', 'https:', 'mailto:'].includes(p.protocol) ? p.href : '#';
  } catch { return '#'; }
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

function promptLink(state, dispatch) {
  const mark = schema.marks.link;
  const { from, to, empty } = state.selection;
  if (state.doc.rangeHasMark(from, to, mark)) return toggleMark(mark)(state, dispatch);
  if (empty) return false;
  if (!dispatch) return true;
  const href = window.prompt('Adresse du lien (https://…)');
  if (!href || safeURL(href) === '#') return false;
  return toggleMark(mark, { href })(state, dispatch);
}

// Colour from a name, so a person keeps the same authorship colour.
const colours = ['#1565c0', '#b71c1c', '#1b5e20', '#6a1b9a', '#e65100', '#00695c', '#4e342e', '#ad1457'];
function colourOf(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return colours[h % colours.length];
}

// Remote cursors built with the CSSOM (the CSP forbids style attributes).
function cursorBuilder(user) {
  const cursor = document.createElement('span');
  cursor.className = 'pad-cursor';
  cursor.style.borderColor = user.color;
  const label = document.createElement('span');
  label.className = 'pad-cursor-name';
  label.style.backgroundColor = user.color;
  label.textContent = user.name;
  cursor.append(label);
  return cursor;
}
function selectionBuilder(user) {
  return { style: '', class: 'pad-selection pad-selection-' + colours.indexOf(user.color) };
}

function mount(root) {
  const id = root.dataset.production;
  const name = root.dataset.user || 'Anonyme';
  const readOnly = root.dataset.readonly === 'true';
  const wsURL = new URL(root.dataset.ws || '/collab', window.location.href);
  wsURL.protocol = wsURL.protocol === 'https:' ? 'wss:' : 'ws:';
  const status = root.querySelector('[data-status]');
  const presence = root.querySelector('[data-presence]');
  const host = root.querySelector('[data-editor]');
  const toolbar = root.querySelector('[data-toolbar]');

  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(wsURL.href, id, ydoc);
  const me = { name, color: colourOf(name) };
  provider.awareness.setLocalStateField('user', me);

  provider.on('status', (e) => {
    if (status) status.textContent = e.status === 'connected' ? 'Connecté : les modifications sont partagées.'
      : 'Hors ligne : vos modifications seront envoyées au retour de la connexion.';
    root.dataset.connection = e.status;
  });
  provider.on('sync', (synced) => { if (synced) root.dataset.synced = 'true'; });

  const renderPresence = () => {
    if (!presence) return;
    const names = [];
    provider.awareness.getStates().forEach((s) => { if (s.user && s.user.name) names.push(s.user); });
    presence.replaceChildren(...names.map((u) => {
      const li = document.createElement('li');
      const dot = document.createElement('span');
      dot.className = 'pad-dot';
      dot.style.backgroundColor = u.color;
      dot.setAttribute('aria-hidden', 'true');
      li.append(dot, ' ' + u.name);
      return li;
    }));
  };
  provider.awareness.on('change', renderPresence);
  renderPresence();

  const fragment = ydoc.getXmlFragment('content');
  const m = schema.marks;
  const n = schema.nodes;
  const state = EditorState.create({
    schema,
    plugins: [
      ySyncPlugin(fragment),
      yCursorPlugin(provider.awareness, { cursorBuilder, selectionBuilder }),
      yUndoPlugin(),
      keymap({
        'Mod-z': undo, 'Mod-y': redo, 'Mod-Shift-z': redo,
        'Mod-b': toggleMark(m.strong), 'Mod-i': toggleMark(m.em), 'Mod-k': promptLink,
      }),
      keymap(baseKeymap),
    ],
  });
  const view = new EditorView(host, {
    state,
    editable: () => !readOnly,
    attributes: {
      role: 'textbox', 'aria-multiline': 'true', 'aria-label': root.dataset.label || 'Texte du pad',
      'aria-readonly': readOnly ? 'true' : 'false', class: 'pad-editor',
    },
  });

  const commands = {
    strong: toggleMark(m.strong), em: toggleMark(m.em), link: promptLink,
    h1: setBlockType(n.heading, { level: '1' }), h2: setBlockType(n.heading, { level: '2' }),
    paragraph: setBlockType(n.paragraph),
    bullet: toggleList(n.bullet_list), ordered: toggleList(n.ordered_list),
    undo, redo,
  };
  if (toolbar) {
    toolbar.hidden = readOnly;
    toolbar.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-command]');
      if (!b) return;
      e.preventDefault();
      const cmd = commands[b.dataset.command];
      if (cmd) cmd(view.state, view.dispatch, view);
      view.focus();
    });
  }
  window.addEventListener('beforeunload', () => provider.destroy());
}

document.querySelectorAll('[data-pad-editor]').forEach(mount);
