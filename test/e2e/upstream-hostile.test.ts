import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { runCli } from '../helpers/cli.js';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';
import {
  call,
  capturingLogger,
  connectClient,
  eventually,
  MALICIOUS_SERVER,
  NODE,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

// Distinctive values, long enough for the redactor's exact-value rule.
const EVIL_TOKEN = 'evil-upstream-token-3f9c2a7b1e';
const OTHER_TOKEN = 'other-upstream-token-8d41c6e0f2';
const GATEWAY_SECRET = 'gateway-own-secret-5b7e9a13c4';

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name));
}

/**
 * A server that turns malicious in every way the issue lists, behind the gateway with default
 * settings. The gateway must survive it, contain it, and tell the operator.
 */
describe('a hostile upstream server', () => {
  let t: TestGateway;
  let client: Client;
  const log = capturingLogger();
  const results: string[] = [];
  const callAndKeep = async (name: string, args: Record<string, unknown> = {}) => {
    const r = await call(client, name, args);
    results.push(JSON.stringify(r));
    return r;
  };

  // Classified by the operator as untrusted sources that send nothing out: unclassified tools
  // would count as possible external sinks, and every second call would need confirmation.
  const tools = { '*': { class: 'write', labels: ['untrusted-source'] } };

  before(async () => {
    t = await startTestGateway({
      logger: log.logger,
      env: { EVIL_TOKEN, OTHER_TOKEN, GATEWAY_SECRET },
      config: upstreamsConfig([
        {
          name: 'evil',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--poisoned'],
            secretEnv: { EVIL_TOKEN: 'env:EVIL_TOKEN' },
          },
          pinning: 'trust-on-first-use',
          callTimeoutSeconds: 2,
          tools,
        },
        {
          name: 'rug',
          stdio: { command: NODE, args: [MALICIOUS_SERVER, '--rug-pull-after', '2'] },
          pinning: 'trust-on-first-use',
          tools,
        },
        {
          name: 'other',
          stdio: { command: NODE, args: [MALICIOUS_SERVER], secretEnv: { OTHER_TOKEN: 'env:OTHER_TOKEN' } },
          pinning: 'trust-on-first-use',
          tools,
        },
      ]),
    });
    const key = (await t.key({ scopes: ['evil:write', 'rug:write', 'other:write'] })).key;
    client = await connectClient(t.url, key);
  });
  after(async () => {
    await client?.close();
    await t?.close();
  });

  it('a poisoned description and a poisoned enum are flagged and held back even under trust-on-first-use', async () => {
    const { tools } = await client.listTools();
    const names = tools.map((tool) => tool.name);
    assert.ok(names.includes('evil__echo'));
    assert.ok(!names.includes('evil__weather'));
    assert.ok(!names.includes('evil__units'));
    const flagged = log.lines.filter((l) => l.includes('"alert":"upstream-definition-flagged"'));
    assert.ok(flagged.some((l) => l.includes('"tool":"weather"') && l.includes('"verdict":"malicious"')));
    assert.ok(flagged.some((l) => l.includes('"tool":"units"')));

    const listed = await runCli(['pins', 'list', '--data-dir', t.dataDir]);
    assert.match(listed.stdout, /evil\s+weather\s+pending\s+malicious \(/);
    assert.match(listed.stdout, /evil\s+units\s+pending\s+malicious \(/);
    const diff = await runCli(['pins', 'diff', 'evil', '--data-dir', t.dataDir]);
    assert.match(diff.stdout, /units: pending {2}\[scan: malicious/);
    assert.match(diff.stdout, /! \w[\w-]* at \$\.inputSchema\.properties\.unit\.enum\[2\]/);
    const bulk = await runCli(['pins', 'approve', 'evil', '--data-dir', t.dataDir]);
    assert.equal(bulk.code, 0, bulk.stderr);
    assert.match(bulk.stdout, /Skipped evil weather: the scan calls it malicious/);
  });

  it('a rug pull (a description changed after some calls) blocks the tool, alerts, and shows in pins diff', async () => {
    assert.equal((await callAndKeep('rug__search', { query: 'a' })).isError, undefined);
    await callAndKeep('rug__search', { query: 'b' });
    await eventually(async () => {
      const { tools } = await client.listTools();
      return tools.some((tool) => tool.name === 'rug__search') ? undefined : true;
    }, 'the changed tool to be withdrawn');
    const { tools } = await client.listTools();
    assert.ok(
      tools.some((tool) => tool.name === 'rug__echo'),
      'unchanged tools stay',
    );
    assert.ok(
      log.lines.some(
        (l) => l.includes('"alert":"upstream-definition-changed"') && l.includes('"tool":"search"'),
      ),
    );
    const blocked = await call(client, 'rug__search', { query: 'c' }).catch((err: Error) => err);
    assert.ok(blocked instanceof Error && /Unknown tool/.test(blocked.message));

    const diff = await runCli(['pins', 'diff', 'rug', '--data-dir', t.dataDir]);
    assert.match(diff.stdout, /rug search: changed {2}\[scan: malicious/);
    assert.match(diff.stdout, /- {3}"description": "Searches documents for a query\."/);
    assert.match(diff.stdout, /\+ {3}"description": "Searches documents\. <IMPORTANT>/);

    const rejected = await runCli(['pins', 'reject', 'rug', 'search', '--data-dir', t.dataDir]);
    assert.match(rejected.stdout, /Rejected rug search/);
    const listed = await runCli(['pins', 'list', '--data-dir', t.dataDir]);
    assert.match(listed.stdout, /rug\s+search\s+rejected/);
  });

  it('huge output (3 MiB) is cut to the 1 MiB cap with a notice', async () => {
    const r = await callAndKeep('evil__huge');
    const text = textOf(r);
    assert.ok(text.length <= 1024 * 1024 + 200, `length ${text.length}`);
    assert.match(text, /truncated/);
  });

  it('ANSI escapes and invisible characters never reach the client', async () => {
    const text = textOf(await callAndKeep('evil__dirty'));
    assert.match(text, /Report:/);
    for (const ch of ['\u001b', '\u200b', '\u2063', '\u202e'])
      assert.ok(!text.includes(ch), `U+${ch.codePointAt(0)!.toString(16)}`);
  });

  it('the server’s environment holds neither the gateway’s secrets nor another upstream’s, and its own is redacted', async () => {
    const text = textOf(await callAndKeep('evil__env'));
    const env = text.slice(text.indexOf('{'));
    assert.match(env, /"PATH"|"HOME"/);
    assert.doesNotMatch(text, new RegExp(`${GATEWAY_SECRET}|${OTHER_TOKEN}|${EVIL_TOKEN}`));
    assert.doesNotMatch(text, /PORTCULLIS_|GATEWAY_SECRET/);
  });

  it('the sandbox hides ~/.ssh and the rest of the host filesystem', async () => {
    for (const p of ['/root/.ssh/id_rsa', '/etc/shadow', path.join(t.dataDir, 'keys', 'signing-keys.json')]) {
      const r = await callAndKeep('evil__read', { path: p });
      assert.equal(r.isError, true, p);
      assert.match(textOf(r), /read failed: ENOENT/, p);
    }
  });

  it('the sandbox has no network: neither the gateway on loopback nor any outside address', async () => {
    const port = Number(new URL(t.url).port);
    const local = await callAndKeep('evil__connect', { host: '127.0.0.1', port });
    assert.match(textOf(local), /connect failed: ECONNREFUSED/);
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never routed, so nothing leaves even if this failed.
    const remote = await callAndKeep('evil__connect', { host: '192.0.2.1', port: 80 });
    assert.match(textOf(remote), /connect failed: ENETUNREACH/);
  });

  it('a sampling request from the server is denied and alerted', async () => {
    const r = await callAndKeep('evil__sample');
    assert.match(textOf(r), /sampling refused: .*-32601/);
    assert.ok(
      log.lines.some(
        (l) => l.includes('"alert":"upstream-request-denied"') && l.includes('sampling/createMessage'),
      ),
    );
  });

  it('a hanging call ends with a clear timeout error', async () => {
    const r = await callAndKeep('evil__hang');
    assert.equal(r.isError, true);
    assert.match(textOf(r), /did not answer within 2 s/);
  });

  it('a crash gives a clear error, the gateway carries on, and the server is restarted', async () => {
    const r = await callAndKeep('evil__crash');
    assert.equal(r.isError, true);
    assert.match(textOf(r), /"evil" (stopped while handling the call|is restarting)/);
    assert.match(textOf(await callAndKeep('other__echo', { text: 'still here' })), /still here/);
    const back = await eventually(async () => {
      const again = await call(client, 'evil__echo', { text: 'back' });
      return again.isError ? undefined : again;
    }, 'the crashed server to come back');
    assert.match(textOf(back), /back/);
    // Upstream names and restarts are the operator's: the metrics listener's /readyz.
    const ready = (await (await fetch(new URL('/readyz', t.gw.metricsUrl))).json()) as {
      upstreams: any[];
    };
    assert.ok(ready.upstreams.find((u) => u.name === 'evil').restarts >= 1);
  });

  it('no injected secret appears in any result, log line or file of the data directory', async () => {
    const secrets = [EVIL_TOKEN, OTHER_TOKEN, GATEWAY_SECRET];
    for (const s of secrets) {
      assert.ok(!results.some((r) => r.includes(s)), `result holds ${s}`);
      assert.ok(!log.lines.some((l) => l.includes(s)), `log holds ${s}`);
    }
    for (const file of filesUnder(t.dataDir)) {
      const bytes = fs.readFileSync(file).toString('latin1');
      for (const s of secrets) assert.ok(!bytes.includes(s), `${file} holds ${s}`);
    }
  });
});
