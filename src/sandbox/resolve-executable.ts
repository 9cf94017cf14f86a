import fs from 'node:fs';
import path from 'node:path';

/** Finds `command` on `PATH` (or takes it as an absolute path) and returns its real path. */
export function resolveExecutable(command: string, searchPath: string | undefined): string | undefined {
  const candidates = path.isAbsolute(command)
    ? [command]
    : command.includes('/')
      ? []
      : (searchPath ?? '')
          .split(path.delimiter)
          .filter((dir) => path.isAbsolute(dir))
          .map((dir) => path.join(dir, command));
  for (const candidate of candidates) {
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      const real = fs.realpathSync(candidate);
      if (fs.statSync(real).isFile()) return real;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * The directory to make visible for a file so that it runs: for a file inside a `node_modules`
 * tree, the outermost `node_modules` directory (Node resolves hoisted dependencies by walking
 * up to it); otherwise the nearest ancestor holding a package.json; otherwise the file itself.
 */
export function packageRootOf(file: string): string {
  const parts = file.split(path.sep);
  const nm = parts.indexOf('node_modules');
  if (nm > 0) return parts.slice(0, nm + 1).join(path.sep);
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  return file;
}

/** The interpreter a script names in `#!/usr/bin/env NAME` or `#!/abs/path`, if any. */
function shebangInterpreter(file: string, searchPath: string | undefined): string | undefined {
  let head: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(256);
      head = buf.subarray(0, fs.readSync(fd, buf, 0, 256, 0)).toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const m = /^#!\s*(\S+)(?:[ \t]+(?:-S[ \t]+)?(\S+))?/.exec(head);
  if (!m) return undefined;
  const interpreter = path.basename(m[1]!) === 'env' && m[2] ? m[2] : m[1]!;
  return resolveExecutable(interpreter, searchPath);
}

/**
 * What a stdio server needs to see, read-only, to run at all: its executable's package (and the
 * interpreter's, for a script), and every absolute path among its arguments (a file argument
 * brings its package, so `node /opt/servers/x/index.js` finds its dependencies).
 */
export function automaticReadablePaths(
  executable: string,
  args: readonly string[],
  searchPath: string | undefined,
): string[] {
  const paths = new Set<string>([packageRootOf(executable)]);
  const interpreter = shebangInterpreter(executable, searchPath);
  if (interpreter) paths.add(packageRootOf(interpreter));
  for (const arg of args) {
    if (!path.isAbsolute(arg)) continue;
    const normal = path.normalize(arg);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(normal);
    } catch {
      continue;
    }
    paths.add(stat.isFile() ? packageRootOf(fs.realpathSync(normal)) : normal);
  }
  return [...paths];
}
