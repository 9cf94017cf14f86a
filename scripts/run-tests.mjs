// Runs every compiled test file with Node's built-in test runner. Unit tests sit beside the
// code they test (src/**/*.test.ts); end-to-end tests live in test/. Each file runs in its own
// process; two at a time matches the two cores of the CI machine.
import { spawn } from 'node:child_process';
import { globSync } from 'node:fs';

const only = process.argv.slice(2);
const files = (only.length ? only : ['dist/src/**/*.test.js', 'dist/test/**/*.test.js']).flatMap((p) =>
  globSync(p),
);
if (files.length === 0) {
  console.error('run-tests: no test files found; did the build run?');
  process.exit(1);
}
const child = spawn(
  process.execPath,
  ['--test', '--test-concurrency=2', '--test-reporter=spec', '--test-timeout=300000', ...files.sort()],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
