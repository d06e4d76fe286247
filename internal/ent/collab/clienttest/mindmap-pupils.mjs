// A share of the class for mindmap-load.mjs: stock yjs + y-websocket
// clients, one per pupil, in a process forked by the load command. Each
// pupil edits the production's mind map in the documented layout (Y.Map
// "nodes": id → Y.Map {text, parent, color, collapsed, x, y}) and records,
// without adding anything to the document:
//
//   - its own changes: the Yjs clock its client reached with the change
//     and the send time (just before the transaction, which y-websocket
//     sends at once);
//   - what it receives: after each remote transaction, the clock every
//     other client reached, and when.
//
// The load command joins both: a change has reached a pupil when that
// pupil's copy holds the sender's clock. Times are
// performance.timeOrigin + performance.now(), one clock for every process
// of the machine.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const now = () => performance.timeOrigin + performance.now()
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// y-websocket reports the server's auth message with console.warn (and
// the URL, which holds the token: never printed).
let denied = 0
console.warn = (...args) => {
  if (String(args[0]).startsWith('Permission denied')) denied++
}

const colours = ['#1565c0', '#b71c1c', '#1b5e20', '#6a1b9a', '#e65100', '#00695c', '#4e342e', '#ad1457']
const words = ['nuage', 'pluie', 'rivière', 'océan', 'soleil', 'vapeur', 'neige', 'glacier', 'nappe phréatique',
  'source', 'lac', 'brouillard', 'grêle', 'ruissellement', 'infiltration', 'transpiration des plantes']

// A small deterministic generator per pupil, so that two runs offer the
// same changes (node ids aside: they hold the time, as the editor's do).
function rng (seed) {
  let s = seed >>> 0
  return () => {
    s = (s + 0x6d2b79f5) >>> 0
    let t = s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const pupils = []
const sent = [] // [phase, client, clock, time, action]
const received = [] // [receiver idx, client, clock, time]
let phase = ''
let closes = 0
let connErrors = 0
const loop = monitorEventLoopDelay({ resolution: 10 })

function connect (cfg, p) {
  const doc = new Y.Doc()
  // disableBc: in one process the providers would otherwise sync through
  // a BroadcastChannel and bypass the server.
  const provider = new WebsocketProvider(cfg.url, cfg.room, doc, {
    WebSocketPolyfill: WebSocket,
    params: { token: p.token },
    disableBc: true
  })
  const pupil = { ...p, doc, provider, nodes: doc.getMap('nodes'), rand: rng(cfg.seed * 1000 + p.idx), selection: null, naming: null, moving: null }
  provider.awareness.setLocalStateField('user', { name: p.name, color: colours[p.idx % colours.length] })
  provider.on('connection-close', () => { if (pupil.ready) closes++ })
  provider.on('connection-error', () => { connErrors++ })
  doc.on('afterTransaction', tr => {
    if (tr.local) return
    const t = now()
    tr.afterState.forEach((clock, client) => {
      if (client !== doc.clientID && clock > (tr.beforeState.get(client) || 0)) received.push([p.idx, client, clock, t])
    })
  })
  return pupil
}

const pick = (r, list) => list[Math.floor(r() * list.length)]

// select tells the others which node this pupil works on, as the editor
// does through awareness (not measured: presence only).
function select (p, id) {
  if (p.selection === id) return
  p.selection = id
  p.provider.awareness.setLocalStateField('selection', id)
}

function change (p, action, fn) {
  const t = now()
  p.doc.transact(fn)
  sent.push([phase, p.doc.clientID, Y.getState(p.doc.store, p.doc.clientID), t, action])
}

// The changes are the ones the browser editor (web/editor/src/mindmap.js)
// makes, one transaction each: a new node ("Nouvelle idée", no colour,
// under another), its text when the pupil confirms it, a drop (x and y
// together), an arrow key (x or y by 10 px), a colour, a fold.
const NEW_TEXT = 'Nouvelle idée'
const STEP = 10

// A pupil's change at their own pace: add an idea under some node (and
// name it with the next change), rename one, drop one elsewhere, now and
// then recolour or fold a branch. Nothing is deleted: a deletion adds no
// clock to follow.
function paceChange (p) {
  const r = p.rand
  if (p.naming && p.nodes.has(p.naming)) {
    const n = p.nodes.get(p.naming)
    p.naming = null
    change(p, 'rename', () => n.set('text', `${pick(r, words)} (${p.name.split(' ')[0]})`))
    return
  }
  const ids = [...p.nodes.keys()]
  const a = r()
  if (a < 0.2 || ids.length === 0) {
    const parentID = ids.length ? pick(r, ids) : ''
    const parent = parentID ? p.nodes.get(parentID) : null
    const id = 'n' + Date.now().toString(36) + Math.floor(r() * 36 ** 4).toString(36)
    change(p, 'add', () => {
      const n = new Y.Map()
      for (const [k, v] of Object.entries({
        text: NEW_TEXT,
        color: '',
        collapsed: false,
        parent: parentID,
        x: (parent?.get('x') ?? 0) + 160,
        y: (parent?.get('y') ?? 0) + 60 * Math.floor(r() * 4)
      })) n.set(k, v)
      p.nodes.set(id, n)
    })
    select(p, id)
    p.naming = id
    return
  }
  const id = pick(r, ids)
  const n = p.nodes.get(id)
  select(p, id)
  if (a < 0.4) {
    change(p, 'rename', () => n.set('text', `${pick(r, words)} et ${pick(r, words)}`))
  } else if (a < 0.9) {
    change(p, 'drop', () => {
      n.set('x', Math.round((n.get('x') ?? 0) - 40 + r() * 80))
      n.set('y', Math.round((n.get('y') ?? 0) - 40 + r() * 80))
    })
  } else if (a < 0.95) {
    change(p, 'color', () => n.set('color', pick(r, colours)))
  } else {
    change(p, 'fold', () => n.set('collapsed', !n.get('collapsed')))
  }
}

// In a burst every pupil moves a node with the arrow keys held down (one
// change per key repeat), now and then confirming a new text, all at once.
function burstChange (p) {
  const r = p.rand
  if (!p.moving || r() < 0.05) p.moving = { id: pick(r, [...p.nodes.keys()]), dx: r() < 0.5 ? 1 : -1, dy: r() < 0.5 ? 1 : -1 }
  const n = p.nodes.get(p.moving.id)
  if (!n) { p.moving = null; return }
  select(p, p.moving.id)
  if (r() < 0.1) {
    change(p, 'rename', () => n.set('text', `${pick(r, words)} et ${pick(r, words)}`))
  } else if (r() < 0.5) {
    change(p, 'key', () => n.set('x', (n.get('x') ?? 0) + p.moving.dx * STEP))
  } else {
    change(p, 'key', () => n.set('y', (n.get('y') ?? 0) + p.moving.dy * STEP))
  }
}

// runPhase makes every pupil change the map until `until`: one change
// every minS to maxS seconds (pace), or every 1/rate s (burst) starting
// together.
async function runPhase (msg) {
  phase = msg.name
  const timers = pupils.map(p => new Promise(resolve => {
    const next = () => {
      if (now() >= msg.until) { resolve(); return }
      if (msg.mode === 'burst') burstChange(p)
      else paceChange(p)
      const wait = msg.mode === 'burst' ? 1000 / msg.rate : 1000 * (msg.minS + p.rand() * (msg.maxS - msg.minS))
      setTimeout(next, Math.min(wait, Math.max(0, msg.until - now())))
    }
    const first = msg.mode === 'burst' ? msg.start - now() : p.rand() * 1000 * msg.maxS
    setTimeout(next, Math.max(0, first))
  }))
  // The event-loop delay covers the counted window only.
  loop.reset()
  setTimeout(() => loop.reset(), Math.max(0, msg.from - now()))
  await Promise.all(timers)
  return { loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 }
}

// digest is the map as this pupil sees it, to check that all converge.
function digest (p) {
  const out = {}
  for (const [id, n] of p.nodes.entries()) out[id] = n.toJSON()
  return JSON.stringify(Object.keys(out).sort().map(k => [k, out[k]]))
}

process.on('message', async msg => {
  if (msg.type === 'init') {
    // y-websocket adds a process 'exit' listener per provider.
    process.setMaxListeners(msg.pupils.length + 10)
    for (const p of msg.pupils) pupils.push(connect(msg, p))
    const end = Date.now() + 60000
    while (!pupils.every(p => p.provider.synced) && Date.now() < end) await sleep(20)
    for (const p of pupils) p.ready = true
    loop.enable()
    process.send({
      type: 'ready',
      synced: pupils.filter(p => p.provider.synced).length,
      clients: pupils.map(p => [p.idx, p.doc.clientID]),
      nodes: pupils[0]?.nodes.size ?? 0
    })
  } else if (msg.type === 'phase') {
    process.send({ type: 'phaseDone', ...await runPhase(msg) })
  } else if (msg.type === 'state') {
    process.send({ type: 'state', vectors: pupils.map(p => Buffer.from(Y.encodeStateVector(p.doc)).toString('base64')) })
  } else if (msg.type === 'report') {
    process.send({
      type: 'report',
      sent,
      received,
      closes,
      connErrors,
      denied,
      digests: pupils.map(p => digest(p)),
      sample: pupils.length ? [...pupils[0].nodes.values()].slice(-5).map(n => n.get('text')) : []
    })
  } else if (msg.type === 'close') {
    for (const p of pupils) p.provider.destroy()
    loop.disable()
    setTimeout(() => process.exit(0), 100)
  }
})
