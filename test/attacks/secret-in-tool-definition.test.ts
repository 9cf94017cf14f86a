import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { hashDefinition } from '../../src/pins/index.js';
import { openSqliteStorage } from '../../src/storage/index.js';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import {
  capturingLogger,
  connectClient,
  eventually,
  MALICIOUS_SERVER,
  NODE,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

/**
 * A secret in a tool definition: a hostile (or careless) upstream puts the credential the
 * gateway gave it into its own tool description, a parameter name and an enum value. Served
 * as listed, every caller's model would read it in tools/list, and the gateway would write it
 * in clear into the lockfile meant for code review and into the observed-definitions file.
 * The gateway redacts known secret values before serving and before writing, flags the
 * definition, and blocks it until a person approves it by name.
 */

const LEAKED = 'leaky-upstream-token-7c2e9f41ab';
const encodings = [
  LEAKED,
  Buffer.from(LEAKED).toString('base64').replace(/=+$/, ''),
  Buffer.from(LEAKED).toString('hex'),
];
const holdsSecret = (text: string) => encodings.some((e) => text.includes(e));

/** The stored pins as `portcullis pins export` writes them, and the stored observations as JSON. */
async function stored(dataDir: string): Promise<{ lock: string; observed: string }> {
  const exported = await runCli(['pins', 'export', '--data-dir', dataDir]);
  assert.equal(exported.code, 0, exported.stderr);
  const storage = openSqliteStorage(path.join(dataDir, 'portcullis.db'));
  try {
    return { lock: exported.stdout, observed: JSON.stringify(await storage.pins.observed()) };
  } finally {
    await storage.close();
  }
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

describe('a known secret inside an upstream tool definition', () => {
  let t: TestGateway;
  let client: Client;
  const log = capturingLogger();

  before(async () => {
    t = await startTestGateway({
      logger: log.logger,
      env: { LEAKY_TOKEN: LEAKED },
      config: upstreamsConfig([
        {
          name: 'leaky',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--leak-env', 'LEAKY_TOKEN'],
            secretEnv: { LEAKY_TOKEN: 'env:LEAKY_TOKEN' },
          },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    client = await connectClient(t.url, (await t.key({ scopes: ['leaky:write'] })).key);
  });
  after(async () => {
    await client?.close();
    await t?.close();
  });

  it('is never served in tools/list, and the clean tools beside it are', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('leaky__echo'), names.join());
    assert.ok(!names.includes('leaky__status'), 'the definition carrying a secret is blocked');
    assert.ok(!holdsSecret(JSON.stringify(tools)));
  });

  it('is stored redacted in the pins and the observed definitions (and so in the export), and flagged', async () => {
    const { lock, observed } = await stored(t.dataDir);
    assert.ok(!holdsSecret(lock), 'lockfile holds the secret');
    assert.ok(!holdsSecret(observed), 'observed file holds the secret');
    assert.match(observed, /\[REDACTED:known-secret\]/);
    assert.ok(JSON.parse(lock).upstreams.leaky.approved.echo, 'trust on first use approved the clean tools');
    assert.equal(JSON.parse(lock).upstreams.leaky.approved.status, undefined, 'but not the leaking one');
    assert.ok(
      log.lines.some(
        (l) => l.includes('"alert":"upstream-definition-flagged"') && l.includes('"tool":"status"'),
      ),
    );

    const listed = await runCli(['pins', 'list', '--data-dir', t.dataDir]);
    assert.match(listed.stdout, /leaky\s+status\s+pending\s+malicious \(known-secret/);
    const diff = await runCli(['pins', 'diff', 'leaky', '--data-dir', t.dataDir]);
    assert.match(diff.stdout, /! known-secret at \$\.description/);
    assert.ok(!holdsSecret(diff.stdout + listed.stdout));
    const bulk = await runCli(['pins', 'approve', 'leaky', '--data-dir', t.dataDir]);
    assert.match(bulk.stdout, /Skipped leaky status/);
  });

  it('once approved by name it is served, with the secret still redacted', async () => {
    const approved = await runCli(['pins', 'approve', 'leaky', 'status', '--data-dir', t.dataDir]);
    assert.equal(approved.code, 0, approved.stderr);
    const status = await eventually(async () => {
      const { tools } = await client.listTools();
      return tools.find((tool) => tool.name === 'leaky__status');
    }, 'the approved tool to be served');
    assert.match(status.description ?? '', /authenticates with \[REDACTED:known-secret\]/);
    assert.ok(!holdsSecret(JSON.stringify(status)));
    assert.ok(!holdsSecret((await stored(t.dataDir)).lock));
  });

  it('leaves no trace of the secret in any file of the data directory or any log line', () => {
    for (const file of filesUnder(t.dataDir)) {
      assert.ok(!holdsSecret(fs.readFileSync(file).toString('latin1')), `${file} holds the secret`);
    }
    assert.ok(!log.lines.some(holdsSecret), 'a log line holds the secret');
  });
});

describe('a lockfile that already holds a known secret', () => {
  it('loses that approval and the secret once the gateway learns the value, and the tool is blocked', async () => {
    const dataDir = tempDir();
    const log = capturingLogger();
    fs.mkdirSync(dataDir, { recursive: true });
    // As an earlier version (or an approval made before this upstream's secret was resolved)
    // would have written it: the definition approved in clear, hashed as it was.
    const definition = { name: 'status', description: `authenticates with ${LEAKED}` };
    const written = {
      lockfileVersion: 1,
      upstreams: {
        leaky: {
          approved: {
            status: {
              hash: hashDefinition(definition),
              approvedAt: '2026-01-01T00:00:00.000Z',
              definition,
            },
          },
          rejected: {},
        },
      },
    };
    const { initDataDir } = await import('../../src/data-dir/index.js');
    initDataDir(dataDir);
    fs.writeFileSync(path.join(dataDir, 'portcullis.lock.json'), JSON.stringify(written));
    fs.writeFileSync(
      path.join(dataDir, 'portcullis.yaml'),
      upstreamsConfig([
        {
          name: 'leaky',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--leak-env', 'LEAKY_TOKEN'],
            secretEnv: { LEAKY_TOKEN: 'env:LEAKY_TOKEN' },
          },
        },
      ]),
    );
    const t = await startTestGateway({ dataDir, logger: log.logger, env: { LEAKY_TOKEN: LEAKED } });
    try {
      // Imported into the store at start (an install from before the pin store), then scrubbed:
      // neither the store nor the file left in the data directory keeps the secret.
      assert.ok(log.lines.some((l) => l.includes('imported the pin lockfile')));
      const { lock } = await stored(dataDir);
      assert.ok(!holdsSecret(lock), 'the stored pins still hold the secret');
      assert.equal(JSON.parse(lock).upstreams.leaky?.approved.status, undefined);
      const file = fs.readFileSync(path.join(dataDir, 'portcullis.lock.json'), 'utf8');
      assert.ok(!holdsSecret(file), 'the lockfile left in the data directory still holds the secret');
      assert.ok(log.lines.some((l) => l.includes('"alert":"upstream-definition-secret"')));
      const client = await connectClient(t.url, (await t.key({ scopes: ['leaky:write'] })).key);
      try {
        const { tools } = await client.listTools();
        assert.ok(!tools.some((tool) => tool.name === 'leaky__status'));
      } finally {
        await client.close();
      }
    } finally {
      await t.close();
    }
  });
});

/**
 * The same leak as it most often happens by accident: an HTTP Basic header in a description,
 * `base64("svc:" + secret)`. The secret starts 4 bytes in, so its base64 is not the base64 of
 * the secret alone (base64 works in 3-byte groups); every alignment must be recognised, and so
 * must the form that runs on into the next bytes.
 */
describe('a known secret base64-encoded at an odd offset inside a tool definition', () => {
  let t: TestGateway;
  let client: Client;
  // The secret's own characters in base64 at each alignment: what any encoding of it holds.
  const cores = [0, 1, 2].map((k) => {
    const b64 = Buffer.concat([Buffer.alloc(k), Buffer.from(LEAKED)]).toString('base64');
    return b64.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + LEAKED.length)) / 6));
  });
  const holdsCore = (text: string) => cores.some((c) => text.includes(c));

  before(async () => {
    t = await startTestGateway({
      env: { LEAKY_TOKEN: LEAKED },
      config: upstreamsConfig([
        {
          name: 'basic',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--leak-env-basic', 'LEAKY_TOKEN'],
            secretEnv: { LEAKY_TOKEN: 'env:LEAKY_TOKEN' },
          },
          pinning: 'trust-on-first-use',
        },
      ]),
    });
    client = await connectClient(t.url, (await t.key({ scopes: ['basic:write'] })).key);
  });
  after(async () => {
    await client?.close();
    await t?.close();
  });

  it('is redacted and blocked, while the clean tools of that server are served', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('basic__echo'), names.join());
    assert.ok(!names.includes('basic__login'), `the Basic header was served: ${JSON.stringify(tools)}`);
    const { lock, observed } = await stored(t.dataDir);
    assert.ok(!holdsCore(observed), 'the observed definitions hold the encoded secret');
    assert.ok(!holdsCore(lock), 'the stored pins hold the encoded secret');
    assert.match(observed, /Basic [A-Za-z0-9+/]{0,8}\[REDACTED:known-secret\]/);
  });
});
