import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { GATEWAY_NODE_FLAGS } from './heap.js';

const ROOT = path.resolve(import.meta.dirname, '../../..');

test('every launcher of the gateway passes the start-time node flags', () => {
  const launchers = {
    'bin/portcullis (shebang)': fs.readFileSync(path.join(ROOT, 'bin/portcullis'), 'utf8').split('\n', 1)[0]!,
    'npm start': (
      JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
        scripts: Record<string, string>;
      }
    ).scripts.start!,
    'deploy/Containerfile': /^ENTRYPOINT .*$/m.exec(
      fs.readFileSync(path.join(ROOT, 'deploy/Containerfile'), 'utf8'),
    )![0],
    'deploy/portcullis.service': /^ExecStart=.*$/m.exec(
      fs.readFileSync(path.join(ROOT, 'deploy/portcullis.service'), 'utf8'),
    )![0],
  };
  for (const [name, line] of Object.entries(launchers)) {
    for (const flag of GATEWAY_NODE_FLAGS) assert.ok(line.includes(flag), `${name} passes ${flag}: ${line}`);
  }
});
