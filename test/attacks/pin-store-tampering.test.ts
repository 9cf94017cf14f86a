import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { formatLockfile, hashDefinition, type Lockfile } from '../../src/pins/index.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { MALICIOUS_SERVER, NODE } from '../helpers/upstream-servers.js';

/** The pins as `portcullis pins export` writes them from the data directory's store. */
async function exported(dataDir: string): Promise<Lockfile> {
  const r = await runCli(['pins', 'export', '--data-dir', dataDir]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Lockfile;
}

/**
 * Attack: someone who can write to the database (a stolen write credential, a careless manual
 * fix) edits an approval row so its hash is the hash of the rug-pulled definition, leaving the
 * approved definition as it was (a reviewer reading `pins export` sees the clean one). Pins are
 * approved by hash; a hash that is not the hash of the definition beside it approves nothing.
 */
describe('attack: a pin row edited in the database to approve a rug pull', () => {
  let h: ManagerHarness;
  before(async () => {
    h = await startManager([
      {
        name: 'mal',
        stdio: { command: NODE, args: [MALICIOUS_SERVER, '--rug-pull-after', '1'] },
        pinning: 'trust-on-first-use',
      },
    ]);
  });
  after(async () => h?.close());

  it('the edited row does not approve the poisoned definition, and says so', async () => {
    assert.ok(h.catalogue.get('mal__search'), 'trust on first use served the clean definition');
    await h.catalogue.get('mal__echo')!.execute({ text: 'hi' }, callerContext());
    await eventually(
      async () => (h.catalogue.get('mal__search') ? undefined : true),
      'the rug-pulled tool to be blocked',
    );
    const observed = (await h.storage.pins.observed()) as Record<
      string,
      { items: Record<string, { hash: string }> }
    >;
    const poisoned = observed.mal!.items.search!.hash;
    const db = new Database(path.join(h.dataDir, 'portcullis.db'));
    try {
      const row = db
        .prepare<[], { hash: string; definition: string }>(
          "SELECT hash, definition FROM pins_approved WHERE upstream = 'mal' AND pin_key = 'search'",
        )
        .get()!;
      assert.notEqual(row.hash, poisoned);
      assert.equal(hashDefinition(JSON.parse(row.definition)), row.hash);
      db.prepare("UPDATE pins_approved SET hash = ? WHERE upstream = 'mal' AND pin_key = 'search'").run(
        poisoned,
      );
      db.prepare('UPDATE pins_revision SET revision = revision + 1').run();
    } finally {
      db.close();
    }
    await eventually(
      async () => (h.lines.some((l) => l.includes('"alert":"pin-hash-mismatch"')) ? true : undefined),
      'the gateway to read the edited row',
    );
    assert.equal(h.catalogue.get('mal__search'), undefined, 'the poisoned definition is served');
    assert.notEqual(h.manager.pins().find((p) => p.key === 'search')?.state, 'approved');
    // The export leaves the untrustworthy row out rather than carry it into a reviewed commit.
    assert.equal((await exported(h.dataDir)).upstreams.mal!.approved.search, undefined);
    assert.ok(h.catalogue.get('mal__echo'), 'the untouched approval beside it still serves');
  });

  it('a person approving the changed definition by name still serves it', async () => {
    await h.approve('mal', 'search');
    await eventually(async () => h.catalogue.get('mal__search'), 'the approved definition to be served');
  });
});

/**
 * Attack: a lockfile handed to `portcullis pins import` (a pull request, a copied file) that
 * smuggles an approval: a hash that is not the hash of its definition (the reviewer reads a clean
 * definition, the gateway would serve another), a malformed hash, or a definition that carries a
 * secret the gateway knows. The first two are refused whole, changing nothing; the third is
 * imported, and the running gateway withdraws it and scrubs the secret out of the store.
 */
describe('attack: a lockfile import that smuggles an approval', () => {
  const LEAKED = 'import-leak-token-5b9c11d0e7';
  let h: ManagerHarness;
  let dir: string;
  before(async () => {
    dir = tempDir('portcullis-import-');
    h = await startManager(
      [
        {
          name: 'leaky',
          stdio: {
            command: NODE,
            args: [MALICIOUS_SERVER, '--leak-env', 'LEAKY_TOKEN'],
            secretEnv: { LEAKY_TOKEN: 'env:LEAKY_TOKEN' },
          },
        },
      ],
      { LEAKY_TOKEN: LEAKED },
    );
  });
  after(async () => {
    await h?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const fileWith = (name: string, lock: Lockfile) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, formatLockfile(lock));
    return file;
  };
  const pin = (definition: unknown, hash = hashDefinition(definition)) => ({
    hash,
    approvedAt: '2026-01-01T00:00:00.000Z',
    definition,
  });
  const echo = { name: 'echo', description: 'Echoes the text back.' };

  it('a hash that is not its definition’s, or a malformed one, is refused and changes nothing', async () => {
    const before = await exported(h.dataDir);
    const forged = fileWith('forged.json', {
      lockfileVersion: 1,
      upstreams: {
        leaky: {
          approved: { echo: pin(echo, hashDefinition({ ...echo, description: 'Reads ~/.ssh/id_rsa.' })) },
          rejected: {},
        },
      },
    });
    const r1 = await runCli(['pins', 'import', forged, '--data-dir', h.dataDir]);
    assert.notEqual(r1.code, 0);
    assert.match(r1.stderr, /not imported \(nothing changed\).*not the hash of its definition/);
    const malformed = fileWith('malformed.json', {
      lockfileVersion: 1,
      upstreams: { leaky: { approved: { echo: pin(echo, 'sha256:../../etc') }, rejected: {} } },
    });
    const r2 = await runCli(['pins', 'import', malformed, '--data-dir', h.dataDir]);
    assert.notEqual(r2.code, 0);
    assert.match(r2.stderr, /not sha256:<64 hex>/);
    const corrupt = path.join(dir, 'corrupt.json');
    fs.writeFileSync(corrupt, '{"lockfileVersion": 1, "upstreams": {"leaky": ');
    const r3 = await runCli(['pins', 'import', corrupt, '--data-dir', h.dataDir]);
    assert.notEqual(r3.code, 0);
    assert.match(r3.stderr, /not valid JSON/);
    assert.deepEqual(await exported(h.dataDir), before);
  });

  it('a definition holding a known secret is withdrawn and scrubbed by the running gateway', async () => {
    const leaking = { name: 'status', description: `authenticates with ${LEAKED}` };
    const file = fileWith('leaking.json', {
      lockfileVersion: 1,
      upstreams: { leaky: { approved: { status: pin(leaking) }, rejected: {} } },
    });
    const r = await runCli(['pins', 'import', file, '--data-dir', h.dataDir]);
    assert.equal(r.code, 0, r.stderr);
    await eventually(
      async () => ((await h.storage.pins.read()).upstreams.leaky?.approved.status ? undefined : true),
      'the gateway to withdraw the approval holding a secret',
      50,
    );
    assert.equal((await exported(h.dataDir)).upstreams.leaky?.approved.status, undefined);
    assert.ok(h.lines.some((l) => l.includes('"alert":"upstream-definition-secret"')));
    assert.equal(h.catalogue.get('leaky__status'), undefined);
    assert.ok(!JSON.stringify(await h.storage.pins.read()).includes(LEAKED), 'the store still holds it');
  });
});
