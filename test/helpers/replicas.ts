import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { initDataDir } from '../../src/data-dir/index.js';
import { createPgTestSchema, type PgTestSchema } from '../../src/storage/postgres/test-support.js';
import { BIN } from './cli.js';
import { tempDir } from './gateway.js';

/**
 * A TCP proxy that can be cut: while cut, new connections are refused (destroyed at once) and
 * the open ones are destroyed, as when the server behind it stops; `restore()` lets connections
 * through again. It stands in front of the shared PostgreSQL (and a private Redis) so a test can
 * take "the database" away from the gateways without touching what other tests use.
 */
export interface CuttableProxy {
  readonly port: number;
  readonly cut: boolean;
  cutOff(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startCuttableProxy(target: { host: string; port: number }): Promise<CuttableProxy> {
  let cut = false;
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(target.port, target.host);
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    get cut() {
      return cut;
    },
    cutOff() {
      cut = true;
      for (const s of open) s.destroy();
      open.clear();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * An HTTP load balancer on loopback: each request goes to the next live replica in turn (a
 * request whose replica refuses the connection is retried on the next, as a load balancer's
 * passive health check does; one whose replica dies mid-answer is not, the client sees it cut).
 * `pin(i)` sends every request to replica i until `pin(undefined)`, for steps that must land on
 * a chosen replica.
 */
export interface RoundRobinProxy {
  readonly port: number;
  readonly url: string;
  setTargets(ports: readonly (number | undefined)[]): void;
  pin(index: number | undefined): void;
  /** How many requests each replica was sent. */
  readonly served: number[];
  close(): Promise<void>;
}

export async function startRoundRobinProxy(): Promise<RoundRobinProxy> {
  let targets: (number | undefined)[] = [];
  let next = 0;
  let pinned: number | undefined;
  const served: number[] = [];
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const pick = (tried: Set<number>): number | undefined => {
    if (pinned !== undefined) return tried.has(pinned) ? undefined : pinned;
    for (let n = 0; n < targets.length; n++) {
      const i = next++ % targets.length;
      if (targets[i] !== undefined && !tried.has(i)) return i;
    }
    return undefined;
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const tried = new Set<number>();
      const attempt = () => {
        const i = pick(tried);
        if (i === undefined) return void res.writeHead(502).end('no replica');
        tried.add(i);
        let answered = false;
        const out = http.request(
          {
            host: '127.0.0.1',
            port: targets[i],
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (upstream) => {
            answered = true;
            served[i] = (served[i] ?? 0) + 1;
            res.writeHead(upstream.statusCode ?? 502, upstream.headers);
            upstream.pipe(res);
            upstream.on('error', () => res.destroy());
            // A replica killed mid-answer: the client sees its connection cut, as with a real LB.
            upstream.on('aborted', () => res.destroy());
          },
        );
        out.on('error', (err: NodeJS.ErrnoException) => {
          if (!answered && err.code === 'ECONNREFUSED') return attempt();
          if (!answered) res.destroy();
        });
        out.end(body);
      };
      attempt();
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    served,
    setTargets(ports) {
      targets = [...ports];
    },
    pin(index) {
      pinned = index;
    },
    close: () =>
      new Promise((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nobody listens on right now (bound and released; the replica binds it a moment later). */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A private redis-server on a free port, with nothing saved to disk. */
async function startRedis(): Promise<{ port: number; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGKILL');
      }),
  };
}

export interface Replica {
  readonly index: number;
  readonly dataDir: string;
  readonly port: number;
  /** The replica's own address (its Host is accepted on loopback): for steps aimed at it. */
  readonly url: string;
  child: ChildProcess;
  /** Everything it logged (JSON lines on stdout) and its banner/stderr. */
  stdout(): string;
  stderr(): string;
  readonly alive: boolean;
}

export interface ReplicaSet {
  readonly replicas: Replica[];
  readonly lb: RoundRobinProxy;
  /** The MCP endpoint behind the load balancer. */
  readonly mcpUrl: string;
  readonly db: PgTestSchema;
  /** In front of PostgreSQL, and of the private Redis. */
  readonly pgProxy: CuttableProxy;
  readonly redisProxy: CuttableProxy;
  /** Storage settings as the replicas have them (through the PostgreSQL proxy). */
  readonly storageYaml: string;
  /** `kill -9` of one replica; it stays out of the rotation. */
  kill(index: number): Promise<void>;
  /** Sends SIGTERM and resolves with the exit code once it exited. */
  terminate(index: number): Promise<number | null>;
  close(): Promise<void>;
}

/** Through the PostgreSQL proxy, with the role and database of `url`. */
/** `url` with its host replaced by a loopback proxy's port (a database reached through a cuttable proxy). */
export const viaProxy = (url: string, port: number) => {
  const u = new URL(url);
  u.host = `127.0.0.1:${port}`;
  return u.toString();
};

async function spawnReplica(
  index: number,
  dataDir: string,
  port: number,
  extraEnv: NodeJS.ProcessEnv,
): Promise<Replica> {
  const child = spawn(
    process.execPath,
    [BIN, 'start', '--data-dir', dataDir, '--host', '127.0.0.1', '--port', String(port)],
    {
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORTCULLIS_METRICS__PORT: '0',
        // Every test request comes from 127.0.0.1 through the proxy: the per-address budgets would
        // count all of them as one client.
        PORTCULLIS_RATE_LIMITS__OAUTH__POINTS: '100000',
        PORTCULLIS_RATE_LIMITS__REGISTRATION__POINTS: '100000',
        PORTCULLIS_SERVER__CONNECTIONS__MAX_PER_ADDRESS: '100000',
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`replica ${index} did not start:\n${stderr}`)), 60_000);
    const check = () => {
      if (/MCP endpoint: \S+\n/.test(stderr)) {
        clearTimeout(timer);
        child.stderr.off('data', check);
        child.off('exit', exited);
        resolve();
      }
    };
    const exited = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`replica ${index} exited with ${code}:\n${stderr}`));
    };
    child.stderr.on('data', check);
    child.once('exit', exited);
  });
  return {
    index,
    dataDir,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    get alive() {
      return child.exitCode === null && child.signalCode === null;
    },
  };
}

/**
 * N gateway processes (`portcullis start`, each on a data directory of its own) on one
 * PostgreSQL schema and one Redis, behind a round-robin load balancer, with cuttable proxies in
 * front of both. They share every key: the first replica's data directory is initialised (which
 * makes the keys) and started, then its `keys/` directory and configuration are copied into the
 * others' before they start, as an operator mounts one Secret into every pod. `extraYaml` is
 * appended to the configuration (rate limits, policy…); `opts.env` adds PORTCULLIS_* variables.
 */
export async function startReplicas(
  n: number,
  extraYaml = '',
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<ReplicaSet> {
  const env = opts.env ?? {};
  const db = await createPgTestSchema();
  const redis = await startRedis();
  const pgProxy = await startCuttableProxy({
    host: '127.0.0.1',
    port: Number(new URL(db.adminUrl).port || 5432),
  });
  const redisProxy = await startCuttableProxy({ host: '127.0.0.1', port: redis.port });
  const lb = await startRoundRobinProxy();
  const storageYaml =
    `storage:\n  driver: postgres\n  url: ${viaProxy(db.writeUrl, pgProxy.port)}\n` +
    `  readUrl: ${viaProxy(db.readUrl, pgProxy.port)}\n  schema: ${db.schema}\n`;
  const config =
    `server:\n  publicUrl: ${lb.url}\n` +
    storageYaml +
    `redis:\n  url: redis://127.0.0.1:${redisProxy.port}\n` +
    extraYaml;
  const dirs = Array.from({ length: n }, (_, i) => tempDir(`portcullis-replica${i}-`));
  initDataDir(dirs[0]!);
  fs.writeFileSync(path.join(dirs[0]!, 'portcullis.yaml'), config);
  const ports = await Promise.all(dirs.map(() => freePort()));
  const replicas: Replica[] = [await spawnReplica(0, dirs[0]!, ports[0]!, env)];
  for (let i = 1; i < n; i++) {
    fs.cpSync(path.join(dirs[0]!, 'keys'), path.join(dirs[i]!, 'keys'), { recursive: true });
    fs.copyFileSync(path.join(dirs[0]!, 'portcullis.yaml'), path.join(dirs[i]!, 'portcullis.yaml'));
  }
  replicas.push(
    ...(await Promise.all(dirs.slice(1).map((d, i) => spawnReplica(i + 1, d, ports[i + 1]!, env)))),
  );
  lb.setTargets(ports);

  const stopChild = (r: Replica, signal: NodeJS.Signals) =>
    new Promise<number | null>((resolve) => {
      if (!r.alive) return resolve(r.child.exitCode);
      r.child.once('exit', (code) => resolve(code));
      r.child.kill(signal);
    });
  const out = (i: number) =>
    lb.setTargets(replicas.map((r) => (r.index === i || !r.alive ? undefined : r.port)));
  return {
    replicas,
    lb,
    mcpUrl: `${lb.url}/mcp`,
    db,
    pgProxy,
    redisProxy,
    storageYaml,
    async kill(index) {
      out(index);
      await stopChild(replicas[index]!, 'SIGKILL');
    },
    async terminate(index) {
      const code = stopChild(replicas[index]!, 'SIGTERM');
      return code;
    },
    async close() {
      await Promise.all(replicas.map((r) => stopChild(r, 'SIGKILL')));
      await lb.close();
      await pgProxy.close();
      await redisProxy.close();
      await redis.stop();
      await db.drop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    },
  };
}
