import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/gateway.js';

describe('portcullis migrate on SQLite', () => {
  const dir = tempDir('pc-migrate-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('lists pending migrations on a dry run without creating anything, then applies them', async () => {
    assert.equal((await runCli(['init', '--data-dir', dir])).code, 0);
    const dry = await runCli(['migrate', '--dry-run', '--json', '--data-dir', dir]);
    assert.equal(dry.code, 0, dry.stderr);
    const steps = (JSON.parse(dry.stdout) as { steps: { component: string; from: number; to: number }[] })
      .steps;
    assert.deepEqual(
      steps.map((s) => s.component),
      ['core', 'oauth', 'users', 'audit'],
    );
    assert.ok(steps.every((s) => s.from === 0 && s.to > 0));
    assert.equal(fs.existsSync(path.join(dir, 'portcullis.db')), false, 'a dry run creates no file');

    const applied = await runCli(['migrate', '--data-dir', dir]);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /4 component\(s\) migrated/);
    assert.equal(fs.statSync(path.join(dir, 'audit.db')).mode & 0o777, 0o600);
    const again = await runCli(['migrate', '--dry-run', '--data-dir', dir]);
    assert.match(again.stdout, /0 component\(s\) with pending migrations/);
  });

  it('refuses a file whose schema is newer than this Portcullis', async () => {
    const db = new Database(path.join(dir, 'audit.db'));
    db.prepare("UPDATE schema_migrations SET version = 99 WHERE component = 'audit'").run();
    db.close();
    const refused = await runCli(['migrate', '--dry-run', '--data-dir', dir]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /newer than this Portcullis/);
  });
});
