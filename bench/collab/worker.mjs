// One client worker of bench/collab/run.mjs (child_process.fork): holds a
// share of the stock yjs + y-websocket clients, sends this worker's edits
// and records the propagation latency of every remote edit it receives.
//
// Each edit sets key "e<editor>" of the shared Y.Map "m" to its send time
// (performance.timeOrigin + performance.now(), ms, one clock for all
// processes of the machine); every other client of the document records
// receive time - send time.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import WebSocket from 'ws'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const now = () => performance.timeOrigin + performance.now()
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

console.warn = () => {}

let cfg = null
const clients = []
let measuring = false
let windowStart = 0
let windowEnd = Infinity
let lat = [] // latencies (ms) of edits sent inside the window
let received = 0 // remote edits received inside the window
let sent = 0
let closed = 0
// Messages received by y-protocols type (0 sync, 1 awareness, 2 auth, 3
// query awareness), during the window: shows what the server sends.
const byType = [0, 0, 0, 0, 0]
class CountingWebSocket extends WebSocket {
  constructor (...args) {
    super(...args)
    this.on('message', data => { if (measuring) byType[Math.min(4, new Uint8Array(data.buffer ?? data, data.byteOffset ?? 0, 1)[0])]++ })
  }
}
const loop = monitorEventLoopDelay({ resolution: 10 })

function makeClient (c) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(cfg.url, c.room, doc, {
    WebSocketPolyfill: CountingWebSocket,
    params: cfg.token ? { token: cfg.token } : {},
    disableBc: true
  })
  provider.on('connection-close', () => { closed++ })
  const map = doc.getMap('m')
  map.observe((ev, tr) => {
    if (tr.local) return
    const t = now()
    for (const key of ev.keysChanged) {
      const v = map.get(key)
      if (typeof v !== 'number') continue
      if (v >= windowStart && v < windowEnd) {
        received++
        lat.push(t - v)
      }
    }
  })
  const cl = { ...c, doc, provider, map, synced: false, timer: null }
  provider.on('sync', s => { if (s) cl.synced = true })
  return cl
}

async function connectAll () {
  // Connect in batches so that 10,000 handshakes do not all start at once.
  const batch = cfg.batch || 100
  for (let i = 0; i < cfg.clients.length; i += batch) {
    const part = cfg.clients.slice(i, i + batch).map(makeClient)
    clients.push(...part)
    const end = Date.now() + 60000
    while (part.some(c => !c.synced) && Date.now() < end) await sleep(10)
  }
  return clients.filter(c => c.synced).length
}

function startEditing () {
  for (const c of clients) {
    if (!c.editor) continue
    const period = 1000 / c.rate
    const tick = () => {
      c.map.set(c.key, now())
      sent++
      c.timer = setTimeout(tick, period)
    }
    // Random phase: editors do not all fire in the same millisecond.
    c.timer = setTimeout(tick, Math.random() * period)
  }
}

process.on('message', async msg => {
  if (msg.type === 'init') {
    cfg = msg.cfg
    const t0 = Date.now()
    const synced = await connectAll()
    process.send({ type: 'connected', synced, ms: Date.now() - t0 })
  } else if (msg.type === 'edit') {
    startEditing()
  } else if (msg.type === 'window') {
    // Start of measurement: only edits sent from now on are counted.
    windowStart = msg.start
    windowEnd = msg.end
    lat = []
    received = 0
    sent = 0
    loop.reset()
    byType.fill(0)
    loop.enable()
    measuring = true
  } else if (msg.type === 'stopEdits') {
    for (const c of clients) if (c.timer) clearTimeout(c.timer)
  } else if (msg.type === 'report') {
    loop.disable()
    process.send({
      type: 'report',
      lat,
      received,
      sent,
      closed,
      byType,
      loopP99: measuring ? loop.percentile(99) / 1e6 : 0,
      loopMax: measuring ? loop.max / 1e6 : 0
    })
  } else if (msg.type === 'close') {
    for (const c of clients) { c.provider.destroy() }
    await sleep(200)
    process.exit(0)
  }
})
