import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { HOSTILE_SURFACE_SERVER, NODE } from '../helpers/upstream-servers.js';

const SECRET = 'prompt-leak-secret-4b9d7e21aa';

/**
 * Attack: a server puts the credential the gateway gave it into a prompt description, an
 * argument description and a resource template. The definitions must be redacted before they
 * are hashed, written or served, flagged so trust-on-first-use does not approve them, and the
 * secret must appear in no file of the data directory.
 */
describe('attack: a secret in a prompt or resource template definition', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager(
      [
        {
          name: 'evil',
          stdio: {
            command: NODE,
            args: [HOSTILE_SURFACE_SERVER, '--leak-env', 'LEAKED'],
            secretEnv: { LEAKED: 'env:PROMPT_SECRET' },
          },
          pinning: 'trust-on-first-use',
        },
      ],
      { PROMPT_SECRET: SECRET },
    );
  });
  after(async () => h?.close());

  it('the leaking prompt and template are flagged and blocked; the clean ones are served', () => {
    const pins = Object.fromEntries(h.manager.pins().map((p) => [p.key, p]));
    for (const key of ['prompt:status', 'resource-template:evil://status/{id}']) {
      assert.equal(pins[key]!.state, 'pending', key);
      assert.ok(
        pins[key]!.scan.findings.some((f) => f.rule === 'known-secret'),
        key,
      );
    }
    assert.equal(pins['prompt:greet']!.state, 'approved');
    const surface = h.catalogue.surface('evil')!;
    assert.deepEqual(surface.prompts.map((p) => p.listed.name).sort(), ['evil__greet', 'evil__summarise']);
    assert.deepEqual(
      surface.resourceTemplates.map((t) => t.listed.uriTemplate),
      ['portcullis://evil/evil://items/{id}'],
    );
  });

  it('the secret is in no file of the data directory, and approving by name serves the redacted form', async () => {
    for (const file of fs.readdirSync(h.dataDir, { recursive: true, withFileTypes: true })) {
      if (!file.isFile()) continue;
      const bytes = fs.readFileSync(path.join(file.parentPath, file.name), 'utf8');
      assert.doesNotMatch(bytes, new RegExp(SECRET), file.name);
    }
    await h.approve('evil', 'prompt:status');
    const status = h.catalogue.prompt('evil__status')!;
    assert.doesNotMatch(JSON.stringify(status.listed), new RegExp(SECRET));
    assert.match(status.listed.description!, /\[REDACTED:known-secret\]/);
  });
});
