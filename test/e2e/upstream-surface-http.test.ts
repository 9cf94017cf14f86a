import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

const FIXTURE = path.resolve(import.meta.dirname, '../fixtures/conformance-server.js');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The everything server over Streamable HTTP: a request's progress arrives on that request's own
 * response stream, so it is attributed by the stream as well as by the gateway's token.
 */
describe('the everything server’s surface over Streamable HTTP', () => {
  let h: ManagerHarness;
  let child: ChildProcess;

  before(async () => {
    const port = await freePort();
    child = spawn(NODE, [REFERENCE_SERVERS.everything, 'streamableHttp'], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      child.stderr!.on('data', (b: Buffer) => b.toString().includes('listening') && resolve());
      child.once('exit', (code) => reject(new Error(`everything exited with ${code}`)));
    });
    h = await startManager([
      {
        name: 'remote',
        http: { url: `http://127.0.0.1:${port}/mcp`, allowHttp: true, allowAddresses: ['127.0.0.1/32'] },
        pinning: 'trust-on-first-use',
      },
    ]);
  });
  after(async () => {
    await h?.close();
    child?.kill();
  });

  it('prompts are served and progress reaches the caller under its own token', async () => {
    const prompt = await eventually(async () => h.catalogue.prompt('remote__simple-prompt'), 'the prompt');
    const out = await prompt.op.execute({}, callerContext());
    assert.match((out.content[0] as { text: string }).text, /simple prompt/);
    const tool = h.catalogue.get('remote__trigger-long-running-operation')!;
    const ctx = callerContext({ progressToken: 'http-caller' });
    await tool.execute({ duration: 0.2, steps: 2 }, ctx);
    assert.deepEqual(
      ctx.received.map((n) => n.params),
      [
        { progressToken: 'http-caller', progress: 1, total: 2 },
        { progressToken: 'http-caller', progress: 2, total: 2 },
      ],
    );
  });
});

/**
 * The conformance fixture as a 2025 Streamable HTTP server (`protocol: 2025`): a resource update it
 * sends on its standalone GET stream (it belongs to no request) reaches the gateway's fan-out.
 * Before the gateway opened that stream, such an update was never seen.
 */
describe('the standalone stream of a 2025 HTTP server', () => {
  let h: ManagerHarness;
  let child: ChildProcess;

  before(async () => {
    child = spawn(NODE, [FIXTURE, '--http'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve, reject) => {
      readline.createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`the fixture exited with ${code}`)));
    });
    h = await startManager([
      {
        name: 'old',
        http: { url, allowHttp: true, allowAddresses: ['127.0.0.1/32'] },
        protocol: '2025',
        tools: { '*': { class: 'read' } },
        pinning: 'trust-on-first-use',
      },
    ]);
  });
  after(async () => {
    await h?.close();
    child?.kill();
  });

  it('relays a resource update that arrives on the GET stream', async () => {
    const surface = await eventually(async () => h.catalogue.surface('old'), 'the surface');
    await surface.resources!.subscribe!('portcullis://old/test://watched-resource');
    const touch = await eventually(
      async () => h.catalogue.get('old__test_touch_watched_resource'),
      'the tool',
    );
    // The GET stream opens in the background after initialize; touch until an update comes back.
    await eventually(
      async () => {
        await touch.execute({}, callerContext());
        return h.events.some((e) => e.event.kind === 'resource-updated') ? true : undefined;
      },
      'the resource update from the standalone stream',
      50,
    );
    const update = h.events.find((e) => e.event.kind === 'resource-updated')!;
    assert.deepEqual(update, {
      upstream: 'old',
      event: { kind: 'resource-updated', uri: 'portcullis://old/test://watched-resource' },
    });
  });
});
