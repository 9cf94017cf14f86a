import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

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
