import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { runCli } from '../helpers/cli.js';
import { startReplicas, type Replicas } from '../helpers/replicas-in-process.js';
import { connectClient, eventually, MALICIOUS_SERVER, NODE } from '../helpers/upstream-servers.js';

/**
 * Two gateways on one PostgreSQL schema share their pins: a decision made through one (here the
 * CLI against its data directory) reaches the other through the pin store's revision, which
 * every gateway polls each second, without a restart. Each gateway still pins what its own
 * upstream lists: a rug pull seen by one is blocked there, whatever the other observed.
 */
describe('pins shared by two gateways on one PostgreSQL schema', () => {
  let r: Replicas;
  let a: Client;
  let b: Client;
  const served = async (client: Client) => (await client.listTools()).tools.map((t) => t.name);
  const cli = async (args: string[], dataDir: string) => {
    const res = await runCli([...args, '--data-dir', dataDir]);
    assert.equal(res.code, 0, res.stderr);
    return res.stdout;
  };
  /** Waits (bounded: 2.5 s) until the tools `client` serves pass `check`. */
  const within2s = (client: Client, check: (names: string[]) => boolean, what: string) =>
    eventually(async () => (check(await served(client)) ? true : undefined), what, 25);

  before(async () => {
    const config =
      'upstreams:\n' +
      '  - name: mal\n' +
      '    stdio:\n' +
      `      command: ${JSON.stringify(NODE)}\n` +
      `      args: [${JSON.stringify(MALICIOUS_SERVER)}, "--rug-pull-after", "1"]\n`;
    r = await startReplicas(2, { config });
    const key = (await r.replicas[0]!.key({ scopes: ['mal:write'] })).key;
    a = await connectClient(r.replicas[0]!.url, key);
    b = await connectClient(r.replicas[1]!.url, key);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await r?.close();
  });

  it('a new tool is pending on both', async () => {
    for (const c of [a, b]) {
      const names = await served(c);
      assert.ok(!names.includes('mal__search') && !names.includes('mal__echo'), names.join());
    }
  });

  it('approved through gateway A, gateway B serves it within 2 s without a restart', async () => {
    const out = await cli(['pins', 'approve', 'mal', 'search'], r.replicas[0]!.dataDir);
    assert.match(out, /Approved mal search/);
    await within2s(b, (n) => n.includes('mal__search'), 'B to serve the tool approved through A');
    await within2s(a, (n) => n.includes('mal__search'), 'A to serve it too');
  });

  it('rejected through gateway B, it is rejected and blocked on gateway A', async () => {
    await cli(['pins', 'reject', 'mal', 'echo'], r.replicas[1]!.dataDir);
    const rows = (await cli(['pins', 'list', '--json'], r.replicas[0]!.dataDir))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { key: string; state: string });
    assert.equal(rows.find((row) => row.key === 'echo')?.state, 'rejected');
    assert.ok(!(await served(a)).includes('mal__echo'));
    assert.ok(!(await served(b)).includes('mal__echo'));
  });

  it('a rug pull behind gateway B is blocked there, while A keeps serving the approved definition', async () => {
    const res = (await b.callTool({ name: 'mal__search', arguments: { query: 'x' } })) as {
      isError?: boolean;
    };
    assert.notEqual(res.isError, true);
    // B's server now lists a poisoned `search`: B blocks it, though A's last observation (and
    // the approval in the store) is of the clean one.
    await within2s(b, (n) => !n.includes('mal__search'), 'B to block the rug-pulled tool');
    assert.ok((await served(a)).includes('mal__search'), 'A still serves the definition approved');
    const diff = await cli(['pins', 'diff', 'mal'], r.replicas[0]!.dataDir);
    assert.match(diff, /mal search: changed/);
    // Rejected through A, the poisoned definition stays blocked on B.
    await cli(['pins', 'reject', 'mal', 'search'], r.replicas[0]!.dataDir);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(!(await served(b)).includes('mal__search'));
  });
});
