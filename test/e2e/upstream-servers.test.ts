import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@modelcontextprotocol/client';
import { runCli } from '../helpers/cli.js';
import { postMcp, readRpc, startTestGateway, tempDir, type TestGateway } from '../helpers/gateway.js';
import {
  call,
  capturingLogger,
  connectClient,
  eventually,
  NODE,
  REFERENCE_SERVERS,
  textOf,
  upstreamsConfig,
} from '../helpers/upstream-servers.js';

/**
 * The three reference servers from the npm registry, fronted as an operator would: five lines of
 * config each, then `portcullis pins approve`. Everything below goes through the real gateway
 * with the SDK client.
 */
describe('off-the-shelf MCP servers behind Portcullis', () => {
  let t: TestGateway;
  let client: Client;
  let key: string;
  const docs = tempDir('portcullis-docs-');
  const outside = tempDir('portcullis-outside-');
  const memoryDir = tempDir('portcullis-memory-');
  const log = capturingLogger();

  before(async () => {
    fs.writeFileSync(path.join(docs, 'guide.txt'), 'Portcullis fronts MCP servers.');
    fs.writeFileSync(path.join(outside, 'secret.txt'), 'TOP-SECRET-OUTSIDE-THE-SANDBOX');
    fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(docs, 'innocent-link.txt'));
    t = await startTestGateway({
      logger: log.logger,
      config: upstreamsConfig([
        {
          name: 'files',
          stdio: { command: NODE, args: [REFERENCE_SERVERS.filesystem, docs] },
          tools: { 'read_*': { class: 'read', labels: ['private-data'] }, '*': { class: 'write' } },
        },
        {
          name: 'memory',
          stdio: {
            command: NODE,
            args: [REFERENCE_SERVERS.memory],
            env: { MEMORY_FILE_PATH: path.join(memoryDir, 'memory.jsonl') },
          },
          sandbox: { writable: [memoryDir] },
          // Classified by the operator: unclassified tools would count as possible external sinks.
          tools: { '*': { class: 'write', labels: ['private-data'] } },
        },
        {
          name: 'everything',
          stdio: { command: NODE, args: [REFERENCE_SERVERS.everything, 'stdio'] },
          tools: { '*': { class: 'write', labels: ['untrusted-source'] } },
        },
      ]),
    });
    key = (
      await t.key({
        scopes: [
          'files:read',
          'files:write',
          'memory:write',
          'memory:destructive',
          'everything:write',
          'everything:destructive',
        ],
      })
    ).key;
    client = await connectClient(t.url, key);
  });
  after(async () => {
    await client?.close();
    await t?.close();
    for (const d of [docs, outside, memoryDir]) fs.rmSync(d, { recursive: true, force: true });
  });

  it('new servers are listed by nobody until their definitions are approved, and an alert is raised', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(
      tools.filter((tool) => tool.name.includes('__')),
      [],
    );
    assert.ok(
      log.lines.some(
        (l) => l.includes('"alert":"upstream-definition-new"') && l.includes('"upstream":"files"'),
      ),
    );
  });

  it('pins list shows every definition pending, and approving applies to the running gateway', async () => {
    const listed = await runCli(['pins', 'list', '--data-dir', t.dataDir]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /files\s+read_text_file\s+pending\s+clean/);
    assert.match(listed.stdout, /everything\s+\(instructions\)\s+pending/);
    for (const server of ['files', 'memory', 'everything']) {
      const r = await runCli(['pins', 'approve', server, '--data-dir', t.dataDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^Approved /);
    }
    const names = await eventually(async () => {
      const { tools } = await client.listTools();
      const upstream = tools.map((tool) => tool.name).filter((n) => n.includes('__'));
      return upstream.some((n) => n.startsWith('everything__')) &&
        upstream.some((n) => n.startsWith('memory__'))
        ? upstream
        : undefined;
    }, 'approved tools to be listed');
    assert.ok(names.includes('files__read_text_file'));
    assert.ok(names.includes('memory__create_entities'));
    assert.ok(names.includes('everything__echo'));
  });

  it('tools/list shows a caller only the upstream tools its scopes allow', async () => {
    const readOnly = await connectClient(t.url, (await t.key({ scopes: ['files:read'] })).key);
    try {
      const { tools } = await readOnly.listTools();
      assert.ok(tools.length > 0);
      assert.ok(tools.every((tool) => tool.name.startsWith('files__read') || !tool.name.includes('__')));
    } finally {
      await readOnly.close();
    }
  });

  it('a call outside the caller’s scopes is refused with 403 naming the scope, <server>:<class>', async () => {
    const readOnly = (await t.key({ scopes: ['files:read'] })).key;
    const res = await postMcp(
      t.url,
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'files__write_file', arguments: { path: path.join(docs, 'x.txt'), content: 'x' } },
      },
      { key: readOnly },
    );
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="files:destructive"/);
    assert.equal(fs.existsSync(path.join(docs, 'x.txt')), false);
  });

  it('the filesystem server reads inside its directory', async () => {
    const r = await call(client, 'files__read_text_file', { path: path.join(docs, 'guide.txt') });
    assert.equal(r.isError, undefined);
    assert.match(textOf(r), /Portcullis fronts MCP servers/);
  });

  it('the sandboxed filesystem server cannot read outside its directory, whatever the path trick', async () => {
    for (const p of [
      path.join(outside, 'secret.txt'),
      `${docs}/../${path.basename(outside)}/secret.txt`,
      path.join(docs, 'innocent-link.txt'),
      '/etc/shadow',
      '/root/.ssh/id_rsa',
    ]) {
      const r = await call(client, 'files__read_text_file', { path: p });
      assert.equal(r.isError, true, p);
      assert.doesNotMatch(textOf(r), /TOP-SECRET/, p);
    }
  });

  it('arguments are validated against the upstream’s JSON Schema before the server sees them', async () => {
    const wrongType = await call(client, 'everything__get-sum', { a: 'one', b: 2 });
    assert.equal(wrongType.isError, true);
    assert.match(textOf(wrongType), /Invalid arguments for everything__get-sum/);
    const extra = await call(client, 'everything__echo', { message: 'hi', smuggled: true });
    assert.equal(extra.isError, true);
    assert.match(textOf(extra), /smuggled/);
    const sum = await call(client, 'everything__get-sum', { a: 2, b: 3 });
    assert.match(textOf(sum), /5/);
  });

  it('the memory server keeps a knowledge graph in the one directory it may write', async () => {
    const created = await call(client, 'memory__create_entities', {
      entities: [{ name: 'Portcullis', entityType: 'gateway', observations: ['fronts MCP servers'] }],
    });
    assert.equal(created.isError, undefined, textOf(created));
    const found = await call(client, 'memory__search_nodes', { query: 'Portcullis' });
    assert.match(textOf(found), /fronts MCP servers/);
    assert.ok(fs.readFileSync(path.join(memoryDir, 'memory.jsonl'), 'utf8').includes('Portcullis'));
  });

  it('structured output is checked against the upstream’s output schema and passed on', async () => {
    const r = await call(client, 'everything__get-structured-content', { location: 'New York' });
    assert.equal(r.isError, undefined, textOf(r));
    assert.equal(typeof r.structuredContent, 'object');
  });

  it('/readyz reports each upstream up (by name on the metrics listener)', async () => {
    const res = await fetch(new URL('/readyz', t.gw.metricsUrl));
    const body = (await res.json()) as { status: string; upstreams: { name: string; state: string }[] };
    assert.equal(res.status, 200);
    assert.deepEqual(body.upstreams.map((u) => [u.name, u.state]).sort(), [
      ['everything', 'up'],
      ['files', 'up'],
      ['memory', 'up'],
    ]);
  });

  it('inventory lists every upstream with version, transport, classes and pin state', async () => {
    const r = await runCli(['inventory', '--json', '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const inv = JSON.parse(r.stdout) as { upstreams: any[] };
    const files = inv.upstreams.find((u) => u.name === 'files');
    assert.equal(files.transport, 'stdio');
    assert.equal(files.sandbox, 'on');
    assert.equal(files.server.name, 'secure-filesystem-server');
    assert.ok(files.server.version);
    const read = files.tools.find((tool: any) => tool.name === 'read_text_file');
    assert.deepEqual([read.class, read.scope, read.pin], ['read', 'files:read', 'approved']);
    assert.ok(files.lastApprovalAt);
    const text = await runCli(['inventory', '--data-dir', t.dataDir]);
    assert.match(text.stdout, /files__read_text_file\s+read\s+private-data\s+files:read\s+approved/);
  });

  it('doctor reports the sandbox this machine provides', async () => {
    const r = await runCli(['doctor', '--json', '--data-dir', t.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.sandbox.available, true);
    assert.deepEqual(report.refused, []);
  });

  it('a raw tools/call of an unapproved or unknown upstream tool is an unknown tool', async () => {
    const res = await postMcp(
      t.url,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'files__no_such_tool', arguments: {} } },
      { key },
    );
    const rpc = await readRpc(res);
    assert.equal(rpc.error?.code, -32602);
  });
});
