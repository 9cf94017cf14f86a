// Redis for tests: the shared one at 127.0.0.1:6379 under a key prefix of the test's own, and
// private `redis-server` instances on a free port for outage tests (kill -9, SIGSTOP, restart).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import type { TestContext } from 'node:test';
import { Redis } from 'ioredis';
import { openSharedState, type SharedState, type SharedStateOptions } from '../../src/shared-state/index.js';

export const SHARED_REDIS_URL = 'redis://127.0.0.1:6379';

/** A fresh key prefix for one test; every key under it is deleted when the test ends. */
export function testPrefix(t: TestContext, url = SHARED_REDIS_URL): string {
  const prefix = `portcullis-test:${randomUUID()}:`;
  t.after(async () => {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(...keys);
    } catch {
      // a private instance that is already gone has nothing to clean
    } finally {
      client.disconnect();
    }
  });
  return prefix;
}

/** One replica's shared state, closed when the test ends. */
export async function sharedStateFor(
  t: TestContext,
  prefix: string,
  url = SHARED_REDIS_URL,
  opts: SharedStateOptions = {},
): Promise<SharedState> {
  const shared = openSharedState({ url, prefix }, {}, opts)!;
  t.after(() => shared.close());
  if (!(await shared.ready(5000))) throw new Error(`redis at ${url} did not come up`);
  return shared;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface PrivateRedis {
  readonly url: string;
  /** kill -9: the process and everything in it is gone. */
  kill(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing answers. */
  freeze(): void;
  thaw(): void;
  /** Starts it again on the same port (empty: it keeps nothing). */
  restart(): Promise<void>;
}

/** A redis-server of this test's own on a free port, without persistence; killed at the end. */
export async function startPrivateRedis(t: TestContext): Promise<PrivateRedis> {
  const port = await freePort();
  let proc: ChildProcess | undefined;
  const start = async () => {
    proc = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      {
        stdio: 'ignore',
      },
    );
    const deadline = Date.now() + 5000;
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.end();
          resolve(true);
        });
        s.on('error', () => resolve(false));
      });
      if (ok) return;
      if (Date.now() > deadline) throw new Error('redis-server did not start');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const kill = async () => {
    const p = proc;
    proc = undefined;
    if (!p || p.exitCode !== null) return;
    p.kill('SIGCONT');
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  };
  await start();
  t.after(kill);
  return {
    url: `redis://127.0.0.1:${port}`,
    kill,
    freeze: () => proc?.kill('SIGSTOP'),
    thaw: () => proc?.kill('SIGCONT'),
    restart: start,
  };
}

/** Waits until `check` holds (polling), or fails after `ms`. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  ms = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
