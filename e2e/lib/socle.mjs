// Builds the socle binary once per test run and starts it in demo mode on a
// fresh data directory and a free port, the way a person would run it.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds ./cmd/socle into dir and returns the binary's path. */
export async function build(dir) {
  const bin = join(dir, 'socle');
  await run('go', ['build', '-o', bin, './cmd/socle'], { cwd: repoRoot, maxBuffer: 16 << 20 });
  return bin;
}

/**
 * Starts `socle serve --demo` and resolves once /readyz answers. The port
 * is chosen by the kernel (--addr 127.0.0.1:0) and read back from the line
 * the server prints, so two runs never fight over a port.
 */
export async function start({ timeoutMs = 60_000 } = {}) {
  const work = await mkdtemp(join(tmpdir(), 'socle-e2e-'));
  const bin = await build(work);
  const data = join(work, 'data');
  const child = spawn(bin, ['serve', '--demo', '--addr', '127.0.0.1:0', '--data', data, '--log-level', 'warn'], {
    env: { ...process.env, SOCLE_DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (b) => { stderr += b; });
  const url = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`socle did not start in ${timeoutMs} ms\n${stdout}\n${stderr}`)), timeoutMs);
    child.stdout.on('data', (b) => {
      stdout += b;
      const m = /Socle écoute sur (http:\/\/\S+)/.exec(stdout);
      if (m) { clearTimeout(timer); ok(m[1]); }
    });
    child.on('exit', (code) => { clearTimeout(timer); fail(new Error(`socle exited with ${code}\n${stdout}\n${stderr}`)); });
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url + '/readyz');
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw new Error('socle never became ready\n' + stderr);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    output: () => stdout,
    logs: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(work, { recursive: true, force: true });
    },
  };
}
