// Runs the @modelcontextprotocol/conformance authorization-server scenarios
// (`conformance authorization --url <issuer>`) against a real gateway's authorization server.
// The authorization-code scenario prints a URL for a person to open and waits on a loopback
// callback; here a person is Debian's Chromium, driven with playwright-core, signing in and
// consenting on the gateway's own pages. The client is pre-registered as the suite expects: a
// public client (PKCE, no secret) whose redirect URI is the suite's callback.
// Usage (after `npm run build`): node dist/test/conformance/run-authorization.js [--scenario NAME]
// Results land in test-artifacts/conformance-authorization/.
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { openTestPage } from '../helpers/chromium.js';
import { startTestGateway } from '../helpers/gateway.js';
import { addClient, addUser, openOAuthTables } from '../helpers/oauth-gateway.js';
import { CONFORMANCE_BIN, ROOT } from './authorization-support.js';

/** A port nothing listens on right now, for the suite's callback server. */
const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });

const person = { name: 'alice', password: 'correct horse battery' };
const t = await startTestGateway();
const db = openOAuthTables(t);
await addUser(db, person.name, person.password);
const port = await freePort();
const client = await addClient(db, {
  name: 'MCP conformance suite',
  grant: 'authorization_code',
  authMethod: 'none',
  redirectUris: [`http://127.0.0.1:${port}/callback`],
  scopes: ['memory:read', 'memory:write'],
});
await db.close();

const { browser, page } = await openTestPage();

/** Plays the person for one authorization URL the suite printed. */
async function authorize(url: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Account name').fill(person.name);
  await page.getByLabel('Password').fill(person.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Allow' }).click();
  await page.waitForURL(`http://127.0.0.1:${port}/**`);
}

const issuer = `${t.gw.url.origin}/oauth`;
const args = [
  CONFORMANCE_BIN,
  'authorization',
  '--url',
  issuer,
  '--client-id',
  client.clientId,
  '--port',
  String(port),
  '-o',
  path.join(ROOT, 'test-artifacts/conformance-authorization'),
  ...process.argv.slice(2),
];
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
let pending = '';
let expectUrl = false;
const visits: Promise<void>[] = [];
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk);
  pending += chunk.toString();
  const lines = pending.split('\n');
  pending = lines.pop()!;
  for (const line of lines) {
    // The suite prints "Access the following URL in your browser…" and the URL on the next line.
    if (expectUrl && /^https?:\/\//.test(line.trim())) {
      expectUrl = false;
      visits.push(
        authorize(line.trim()).catch((err: unknown) => {
          process.stderr.write(`the browser could not complete the authorization: ${String(err)}\n`);
          child.kill('SIGTERM');
        }),
      );
    } else if (/following URL in your browser/i.test(line)) {
      expectUrl = true;
    }
  }
});
const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
await Promise.all(visits);
await browser.close();
await t.close();
process.exit(code ?? 1);
