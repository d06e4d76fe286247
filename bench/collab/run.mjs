// Side-by-side load benchmark: Socle's collab server (Go, SQLite) against
// the reference y-websocket 2.1.0 server (bin/server.cjs, memory only),
// driven by the same stock yjs + y-websocket clients spread over forked
// Node worker processes, in the same run. See README.md.
//
// Usage (from the repository root):
//   (cd bench/collab && npm ci) && bench/collab/run.sh
// run.sh raises `ulimit -n` then runs `node bench/collab/run.mjs`.
//
// Environment (all optional):
//   WORKERS      client worker processes (default: max(2, CPUs))
//   WARMUP_S     warm-up seconds before measuring (default 5)
//   MEASURE_S    measured seconds per scenario and server (default 20)
//   SCENARIOS    comma list among e20,e100,e500,idle (default all)
//   RATE_500     edits/s per editor in the 500-editor scenario (default 5)
//   IDLE_CONNS, IDLE_DOCS  idle scenario size (default 10000, 1000)
//   PPROF=1      Socle: serve pprof, save a CPU + mutex profile per scenario
//                under bench/collab/profiles/
import { fork, spawn, execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync, rmSync } from 'node:fs'
import { tmpdir, cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import net from 'node:net'
import http from 'node:http'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..', '..')
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))
const env = process.env
const WORKERS = Number(env.WORKERS || Math.max(2, cpus().length))
const WARMUP_S = Number(env.WARMUP_S || 5)
const MEASURE_S = Number(env.MEASURE_S || 20)
const RATE_500 = Number(env.RATE_500 || 5)
const IDLE_CONNS = Number(env.IDLE_CONNS || 10000)
const IDLE_DOCS = Number(env.IDLE_DOCS || 1000)
const PPROF = env.PPROF === '1'
const TOKEN = 'test-token'

const scenarios = [
  { id: 'e20', title: '20 editors, 1 doc, 5 edits/s each', docs: 1, conns: 20, editors: 20, rate: 5 },
  { id: 'e100', title: '100 editors, 1 doc, 5 edits/s each', docs: 1, conns: 100, editors: 100, rate: 5 },
  { id: 'e500', title: `500 editors, 1 doc, ${RATE_500} edits/s each`, docs: 1, conns: 500, editors: 500, rate: RATE_500 },
  // Idle: 10 connections per document, one of which sends a probe edit
  // every 10 s (0.1 edit/s) to measure latency with 10,000 connections held.
  { id: 'idle', title: `${IDLE_CONNS} idle connections over ${IDLE_DOCS} docs (probe: 1 edit/10 s per doc)`, docs: IDLE_DOCS, conns: IDLE_CONNS, editors: IDLE_DOCS, rate: 0.1, batch: 250 }
].filter(s => !env.SCENARIOS || env.SCENARIOS.split(',').includes(s.id))

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) })
    s.on('error', reject)
  })
}

function rssKB (pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) : 0
  } catch { return 0 }
}

function cpuTicks (pid) {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return Number(f[11]) + Number(f[12]) // utime + stime, clock ticks
  } catch { return 0 }
}

function waitLine (proc, re, ms = 30000) {
  return new Promise((resolve, reject) => {
    let buf = ''
    const t = setTimeout(() => reject(new Error(`server did not start: ${buf}`)), ms)
    const on = d => {
      buf += d
      const m = re.exec(buf)
      if (m) { clearTimeout(t); proc.stdout.off('data', on); resolve(m) }
    }
    proc.stdout.on('data', on)
    proc.on('exit', code => reject(new Error(`server exited ${code}: ${buf}`)))
  })
}

let socleBin = null
function buildSocle () {
  const out = join(mkdtempSync(join(tmpdir(), 'collabtestserver-bin-')), 'collabtestserver')
  console.error('# go build ./internal/ent/collab/internal/collabtestserver')
  execFileSync('go', ['build', '-o', out, './internal/ent/collab/internal/collabtestserver'], { cwd: root, stdio: 'inherit' })
  return out
}

async function startSocle () {
  const dir = mkdtempSync(join(tmpdir(), 'collabbench-db-'))
  const args = ['-db', `sqlite:${join(dir, 'collab.db')}`, '-addr', '127.0.0.1:0', '-token', TOKEN]
  let pprofPort = 0
  if (PPROF) { pprofPort = await freePort(); args.push('-pprof', `127.0.0.1:${pprofPort}`) }
  const proc = spawn(socleBin, args, { stdio: ['ignore', 'pipe', 'inherit'] })
  const m = await waitLine(proc, /LISTENING (\S+)\n/)
  return { name: 'Socle', proc, url: `ws://${m[1]}/collab`, token: TOKEN, pprofPort, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

async function startReference () {
  const port = await freePort()
  // No persistence: YPERSISTENCE must be absent (even empty enables y-leveldb).
  const renv = { ...env, HOST: '127.0.0.1', PORT: String(port) }
  delete renv.YPERSISTENCE
  const proc = spawn(process.execPath, [join(here, 'node_modules', 'y-websocket', 'bin', 'server.cjs')], {
    env: renv,
    stdio: ['ignore', 'pipe', 'inherit']
  })
  await waitLine(proc, /running at/)
  return { name: 'reference', proc, url: `ws://127.0.0.1:${port}`, token: '', cleanup: () => {} }
}

async function stopServer (srv) {
  const done = new Promise(resolve => srv.proc.once('exit', resolve))
  srv.proc.kill('SIGTERM')
  await Promise.race([done, sleep(8000)])
  if (srv.proc.exitCode === null) srv.proc.kill('SIGKILL')
  srv.cleanup()
}

function fetchTo (url, file) {
  return new Promise(resolve => {
    http.get(url, res => {
      const chunks = []
      res.on('data', c => chunks.push(c))
      res.on('end', () => { writeFileSync(file, Buffer.concat(chunks)); resolve() })
    }).on('error', () => resolve())
  })
}

function pct (sorted, p) {
  if (!sorted.length) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]
}

async function runOne (sc, srv) {
  // Clients: conns per doc; the first `editors` (one per doc in idle) edit.
  const perDoc = sc.conns / sc.docs
  const all = []
  for (let i = 0; i < sc.conns; i++) {
    const docIdx = i % sc.docs
    const nth = Math.floor(i / sc.docs)
    const editor = sc.docs === 1 ? i < sc.editors : nth === 0
    all.push({ room: `bench-${sc.id}-${docIdx}`, key: `e${i}`, editor, rate: sc.rate })
  }
  const workers = []
  for (let w = 0; w < WORKERS; w++) {
    const mine = all.filter((_, i) => i % WORKERS === w)
    const child = fork(join(here, 'worker.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
    workers.push({ child, mine })
  }
  const ask = (wk, msg, type) => new Promise(resolve => {
    const on = m => { if (m.type === type) { wk.child.off('message', on); resolve(m) } }
    wk.child.on('message', on)
    wk.child.send(msg)
  })

  const pid = srv.proc.pid
  const rss0 = rssKB(pid)
  let peak = rss0
  const sampler = setInterval(() => { peak = Math.max(peak, rssKB(pid)) }, 200)

  const t0 = Date.now()
  const conn = await Promise.all(workers.map(wk => ask(wk, { type: 'init', cfg: { url: srv.url, token: srv.token, clients: wk.mine, batch: sc.batch || 100 } }, 'connected')))
  const connectMs = Date.now() - t0
  const synced = conn.reduce((a, c) => a + c.synced, 0)
  for (const wk of workers) wk.child.send({ type: 'edit' })
  await sleep(WARMUP_S * 1000)

  const start = performance.timeOrigin + performance.now()
  const end = start + MEASURE_S * 1000
  for (const wk of workers) wk.child.send({ type: 'window', start, end })
  const cpu0 = cpuTicks(pid)
  let profiling = null
  if (PPROF && srv.pprofPort) {
    const dir = join(here, 'profiles')
    mkdirSync(dir, { recursive: true })
    const secs = Math.max(5, MEASURE_S - 5)
    profiling = fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/profile?seconds=${secs}`, join(dir, `${sc.id}.cpu.pprof`))
  }
  await sleep(MEASURE_S * 1000)
  const cpuS = (cpuTicks(pid) - cpu0) / 100 // USER_HZ = 100
  for (const wk of workers) wk.child.send({ type: 'stopEdits' })
  if (profiling) {
    await profiling
    const dir = join(here, 'profiles')
    await fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/mutex`, join(dir, `${sc.id}.mutex.pprof`))
    await fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/block`, join(dir, `${sc.id}.block.pprof`))
    await fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/heap`, join(dir, `${sc.id}.heap.pprof`))
    await fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/heap?debug=1`, join(dir, `${sc.id}.memstats.txt`))
    await fetchTo(`http://127.0.0.1:${srv.pprofPort}/debug/pprof/goroutine?debug=1`, join(dir, `${sc.id}.goroutine.txt`))
  }
  await sleep(3000) // drain: late deliveries of in-window edits still count
  clearInterval(sampler)
  peak = Math.max(peak, rssKB(pid))

  const reps = await Promise.all(workers.map(wk => ask(wk, { type: 'report' }, 'report')))
  await Promise.all(workers.map(wk => new Promise(resolve => { wk.child.once('exit', resolve); wk.child.send({ type: 'close' }) })))

  let lats = []
  let received = 0; let sent = 0; let closed = 0; let loopP99 = 0
  const msgsPerS = [0, 0, 0, 0, 0]
  for (const r of reps) {
    r.byType.forEach((n, i) => { msgsPerS[i] += n / MEASURE_S })
    lats = lats.concat(r.lat); received += r.received; sent += r.sent; closed += r.closed
    loopP99 = Math.max(loopP99, r.loopP99)
  }
  const sorted = Float64Array.from(lats).sort()
  const expected = sent * (perDoc - 1)
  return {
    synced,
    connectMs,
    p50: pct(sorted, 0.5),
    p99: pct(sorted, 0.99),
    sentPerS: sent / MEASURE_S,
    deliveredPerS: received / MEASURE_S,
    deliveredPct: expected ? 100 * received / expected : NaN,
    rss0MB: rss0 / 1024,
    peakMB: peak / 1024,
    cpuPct: 100 * cpuS / MEASURE_S,
    closed,
    clientLoopP99: loopP99,
    // received by all clients, per second: [sync, awareness, auth, query, other]
    msgsPerS: msgsPerS.map(Math.round)
  }
}

const f1 = x => Number.isFinite(x) ? x.toFixed(1) : 'n/a'
const f2 = x => Number.isFinite(x) ? x.toFixed(2) : 'n/a'
const f0 = x => Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : 'n/a'
// metric, formatter, ratio orientation: lower is better (true) or higher.
const metrics = [
  ['latency p50 (ms)', r => r.p50, f1, true],
  ['latency p99 (ms)', r => r.p99, f1, true],
  ['updates delivered/s', r => r.deliveredPerS, f0, false],
  ['delivered / expected (%)', r => r.deliveredPct, f1, false],
  ['edits sent/s (offered load)', r => r.sentPerS, f0, null],
  ['server RSS peak (MiB)', r => r.peakMB, f1, true],
  ['server CPU (% of one core)', r => r.cpuPct, f0, true],
  ['connect + sync all clients (ms)', r => r.connectMs, f0, true],
  ['clients synced', r => r.synced, f0, null],
  ['client disconnects', r => r.closed, f0, true],
  ['client event-loop delay p99 (ms, max over workers)', r => r.clientLoopP99, f1, null]
]

async function main () {
  socleBin = buildSocle()
  const out = []
  const started = new Date().toISOString()
  for (const sc of scenarios) {
    const res = {}
    for (const start of [startSocle, startReference]) {
      const srv = await start()
      console.error(`# ${sc.title}: ${srv.name} (${srv.url}) …`)
      try {
        res[srv.name] = await runOne(sc, srv)
      } finally {
        await stopServer(srv)
      }
      console.error(`#   ${JSON.stringify(res[srv.name])}`)
      await sleep(1000)
    }
    out.push({ sc, res })
  }
  rmSync(dirname(socleBin), { recursive: true, force: true })

  const lines = []
  lines.push('# Collab benchmark: Socle vs reference y-websocket 2.1.0')
  lines.push('')
  lines.push(`Run ${started}; ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), Node ${process.version}; ${WORKERS} client worker processes; warm-up ${WARMUP_S} s, measured ${MEASURE_S} s per scenario and server; all on loopback, clients and servers on the same machine.`)
  lines.push('Socle: collabtestserver (with -pprof when profiling), SQLite (WAL, synchronous=NORMAL) in a temp dir, every update committed before broadcast. Reference: y-websocket 2.1.0 bin/server.cjs, memory only (no persistence).')
  lines.push('Ratio = Socle / reference. ✅ = Socle better (or equal), ❌ = worse.')
  lines.push('')
  lines.push('| scenario | metric | Socle | reference | ratio |')
  lines.push('|---|---|---:|---:|---:|')
  for (const { sc, res } of out) {
    for (const [name, get, fmt, lowerBetter] of metrics) {
      const a = get(res.Socle); const b = get(res.reference)
      const ratio = b ? a / b : NaN
      let mark = ''
      if (lowerBetter !== null && Number.isFinite(a) && Number.isFinite(b)) {
        mark = (lowerBetter ? a <= b : a >= b) ? ' ✅' : ' ❌'
      }
      lines.push(`| ${sc.title} | ${name} | ${fmt(a)} | ${fmt(b)} | ${Number.isFinite(ratio) ? f2(ratio) + mark : 'n/a'} |`)
    }
  }
  lines.push('')
  const md = lines.join('\n') + '\n'
  writeFileSync(join(here, 'RESULTS.md'), md)
  writeFileSync(join(here, 'results.json'), JSON.stringify(out.map(({ sc, res }) => ({ scenario: sc, res })), null, 2))
  console.log(md)
}

main().catch(err => { console.error(err); process.exit(1) })
