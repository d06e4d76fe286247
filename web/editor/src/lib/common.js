// What every real-time editor of a production shares: the Yjs document
// synchronised through y-websocket with /collab/{id}, the connection
// status, who is here (awareness), colours per person and safe URLs. The
// page passes everything through data- attributes of the root element
// (the CSP forbids inline scripts and style attributes; the CSSOM is fine).
import * as Y from 'yjs';
import { WebsocketProvider } from 'y-websocket';

export { Y };

// Colour from a name, so a person keeps the same colour everywhere.
export const colours = ['#1565c0', '#b71c1c', '#1b5e20', '#6a1b9a', '#e65100', '#00695c', '#4e342e', '#ad1457'];
export function colourOf(name) {
  let h = 0;
  for (const c of name) h = (h * 31 + c.codePointAt(0)) >>> 0;
  return colours[h % colours.length];
}

// safeURL keeps http(s) and mailto links, relative ones resolved against
// the page; anything else (javascript:, data:...) becomes '#'.
export function safeURL(u) {
  try {
    const p = new URL(u, window.location.href);
    return ['http:', 'https:', 'mailto:'].includes(p.protocol) ? p.href : '#';
  } catch { return '#'; }
}

// el builds an element: el('button', {type: 'button', class: 'x'}, 'text', child...).
// Attributes named on* are refused: listeners go through addEventListener.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false || k.startsWith('on')) continue;
    e.setAttribute(k, v === true ? '' : String(v));
  }
  e.append(...children.filter((c) => c !== undefined && c !== null && c !== false));
  return e;
}

// connect opens the production's document for the editor rooted at root
// (data-production, data-ws, data-user, data-readonly) and keeps the
// status line ([data-status]) and the presence list ([data-presence]) up
// to date. It sets root.dataset.connection ('connected'...) and
// root.dataset.synced = 'true' after the first sync, which tests wait for.
export function connect(root) {
  const id = root.dataset.production;
  const name = root.dataset.user || 'Anonyme';
  const readOnly = root.dataset.readonly === 'true';
  const wsURL = new URL(root.dataset.ws || '/collab', window.location.href);
  wsURL.protocol = wsURL.protocol === 'https:' ? 'wss:' : 'ws:';
  const status = root.querySelector('[data-status]');
  const presence = root.querySelector('[data-presence]');

  // Marks for the performance timeline (the open-a-production benchmark
  // reads them): connection asked, connected, first sync.
  performance.mark('socle:connect');
  const ydoc = new Y.Doc();
  const provider = new WebsocketProvider(wsURL.href, id, ydoc);
  const me = { name, color: colourOf(name) };
  provider.awareness.setLocalStateField('user', me);

  provider.on('status', (e) => {
    if (status) status.textContent = e.status === 'connected' ? 'Connecté : les modifications sont partagées.'
      : 'Hors ligne : vos modifications seront envoyées au retour de la connexion.';
    root.dataset.connection = e.status;
    if (e.status === 'connected' && !performance.getEntriesByName('socle:connected').length) performance.mark('socle:connected');
  });
  provider.on('sync', (synced) => {
    if (!synced) return;
    if (!root.dataset.synced) performance.mark('socle:synced');
    root.dataset.synced = 'true';
  });

  const renderPresence = () => {
    if (!presence) return;
    const users = [];
    provider.awareness.getStates().forEach((s) => { if (s.user && s.user.name) users.push(s.user); });
    presence.replaceChildren(...users.map((u) => {
      const dot = el('span', { class: 'pad-dot', 'aria-hidden': 'true' });
      dot.style.backgroundColor = u.color;
      return el('li', {}, dot, ' ' + u.name);
    }));
  };
  provider.awareness.on('change', renderPresence);
  renderPresence();
  window.addEventListener('beforeunload', () => provider.destroy());

  return { ydoc, provider, awareness: provider.awareness, me, readOnly, host: root.querySelector('[data-editor]') };
}

// remoteStates lists the other people's awareness states (not mine).
export function remoteStates(awareness) {
  const out = [];
  awareness.getStates().forEach((s, clientID) => {
    if (clientID !== awareness.clientID && s.user) out.push(s);
  });
  return out;
}

// mountAll runs mount on every root of this kind of editor.
export function mountAll(kind, mount) {
  document.querySelectorAll(`[data-production-editor="${kind}"]`).forEach((root) => mount(root));
}
