import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProcessEnv } from './build-env.js';
import { nextRestart, RESTART_POLICY } from './backoff.js';
import { upstreamsConfigSchema } from './config.js';

const stdio = { command: 'node', args: ['/opt/x.js'] };
const issues = (value: unknown) => {
  const r = upstreamsConfigSchema.safeParse(value);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('upstream configuration', () => {
  it('namespace is the upstream’s name or empty, and at most one upstream may have it empty', () => {
    assert.deepEqual(issues([{ name: 'conf', namespace: '', stdio }]), []);
    assert.deepEqual(issues([{ name: 'conf', namespace: 'conf', stdio }]), []);
    assert.match(issues([{ name: 'conf', namespace: 'files', stdio }]).join(), /0\.namespace: must be ""/);
    assert.match(
      issues([
        { name: 'a', namespace: '', stdio },
        { name: 'b', namespace: '', stdio },
      ]).join(),
      /1\.namespace: only one upstream may have an empty namespace \(a has it already\)/,
    );
  });

  it('resource and prompt rules take a scope and labels, and refuse URIs with spaces', () => {
    const [u] = upstreamsConfigSchema.parse([
      {
        name: 'files',
        stdio,
        resources: { 'file:///docs/*': { scope: 'files:docs' } },
        prompts: { '*': { labels: [] } },
      },
    ]);
    assert.deepEqual(u!.resources, { 'file:///docs/*': { scope: 'files:docs' } });
    assert.deepEqual(u!.prompts, { '*': { labels: [] } });
    assert.match(
      issues([{ name: 'a', stdio, resources: { 'file:///a b': {} } }]).join(),
      /resources.file:\/\/\/a b: Invalid key/,
    );
    assert.match(issues([{ name: 'a', stdio, prompts: { 'a b': {} } }]).join(), /prompts.a b: Invalid key/);
  });

  it('five lines are enough, and the defaults are the safe ones', () => {
    const [u] = upstreamsConfigSchema.parse([{ name: 'files', stdio }]);
    assert.equal(u!.pinning, 'require-approval');
    assert.deepEqual(u!.sandbox, {
      network: false,
      readable: [],
      writable: [],
      memoryMb: 2048,
      cpuSeconds: 3600,
      openFiles: 1024,
    });
    assert.deepEqual(u!.stdio!.env, {});
  });

  it('refuses what would be ambiguous or unsafe, naming the path', () => {
    assert.match(issues([{ name: 'Files', stdio }]).join(), /0\.name/);
    assert.match(
      issues([{ name: 'a', stdio, http: { url: 'https://x' } }]).join(),
      /exactly one of stdio or http/,
    );
    assert.match(issues([{ name: 'a' }]).join(), /exactly one of stdio or http/);
    assert.match(
      issues([
        { name: 'a', stdio },
        { name: 'a', stdio },
      ]).join(),
      /1\.name: duplicate upstream a/,
    );
    assert.match(
      issues([{ name: 'a', stdio: { ...stdio, secretEnv: { TOKEN: 'hunter2' } } }]).join(),
      /secret reference/,
    );
    assert.match(
      issues([{ name: 'a', stdio, sandbox: { writable: ['/srv/../etc'] } }]).join(),
      /normalised path/,
    );
    assert.match(
      issues([{ name: 'a', stdio: { command: 'sh -c "rm -rf /"' }, shell: true }]).join(),
      /shell/,
    );
    assert.match(
      issues([
        {
          name: 'a',
          http: {
            url: 'https://x',
            auth: { bearer: { secret: 'env:A' }, header: { name: 'X', secret: 'env:B' } },
          },
        },
      ]).join(),
      /exactly one of bearer, header, clientCredentials/,
    );
  });

  it('accepts sandbox "off" and vault references', () => {
    const [u] = upstreamsConfigSchema.parse([
      { name: 'a', stdio: { ...stdio, secretEnv: { T: 'vault:secret/team/app#token' } }, sandbox: 'off' },
    ]);
    assert.equal(u!.sandbox, 'off');
  });

  it('a process environment holds only the allow-list, declared values and its own secrets', () => {
    const [u] = upstreamsConfigSchema.parse([
      { name: 'a', stdio: { ...stdio, env: { LOG: 'info' }, inheritEnv: ['NODE_OPTIONS'] } },
    ]);
    const env = buildProcessEnv(
      u!.stdio!,
      {
        PATH: '/usr/bin',
        LANG: 'C.UTF-8',
        HOME: '/root',
        DATABASE_PASSWORD: 'x',
        NODE_OPTIONS: '--x',
        AWS_SECRET: 'y',
      },
      { TOKEN: 'secret' },
      true,
    );
    assert.deepEqual(env, {
      PATH: '/usr/bin',
      LANG: 'C.UTF-8',
      NODE_OPTIONS: '--x',
      HOME: '/tmp',
      TMPDIR: '/tmp',
      LOG: 'info',
      TOKEN: 'secret',
    });
  });

  it('restarts back off exponentially, then the circuit opens', () => {
    assert.deepEqual(nextRestart(1), { delayMs: 500, circuitOpen: false });
    assert.deepEqual(nextRestart(3), { delayMs: 2000, circuitOpen: false });
    assert.equal(nextRestart(RESTART_POLICY.failuresToOpen).circuitOpen, true);
  });
});

describe("people's own credentials in the upstream configuration", () => {
  const http = { url: 'https://mcp.example.com/mcp' };
  it('accepts a GitHub-style person-oauth and a stdio person-secret upstream, with safe defaults', () => {
    const [gh, crm] = upstreamsConfigSchema.parse([
      { name: 'github', http, auth: { mode: 'person-oauth', clientId: 'Iv1.abc', scopes: ['repo'] } },
      { name: 'crm', stdio, auth: { mode: 'person-secret', env: 'CRM_KEY', label: 'your CRM key' } },
    ]);
    assert.equal(gh!.auth?.mode, 'person-oauth');
    assert.equal(gh!.auth?.fallback, undefined, 'no fallback to the shared credential unless asked');
    assert.deepEqual(gh!.sessions, { maxPerUpstream: 20, idleSeconds: 600 });
    assert.equal(crm!.auth?.mode === 'person-secret' && crm!.auth.maxLength, 4096);
  });

  it('refuses combinations that cannot work, naming the path', () => {
    assert.match(
      issues([{ name: 'a', stdio, auth: { mode: 'person-oauth', clientId: 'c' } }]).join(),
      /0\.auth\.mode: person-oauth needs an http upstream/,
    );
    assert.match(
      issues([{ name: 'a', stdio, auth: { mode: 'person-secret', label: 'k' } }]).join(),
      /0\.auth\.env: a stdio upstream takes the key in an environment variable/,
    );
    assert.match(
      issues([{ name: 'a', http, auth: { mode: 'person-secret', label: 'k' } }]).join(),
      /0\.auth\.header: an http upstream takes the key in a header/,
    );
    assert.match(
      issues([{ name: 'a', http, auth: { mode: 'person-oauth', clientId: 'c', fallback: 'shared' } }]).join(),
      /0\.auth\.fallback: fallback: shared needs a shared credential/,
    );
    assert.match(
      issues([
        { name: 'a', http, auth: { mode: 'person-oauth', clientId: 'c', clientSecret: 'hunter2' } },
      ]).join(),
      /0\.auth\.clientSecret: must be a secret reference/,
    );
    assert.match(issues([{ name: 'a', http, auth: { mode: 'magic' } }]).join(), /0\.auth\.mode/);
  });
});
