/** Pretty JSON with sorted keys: one line per leaf, so a diff points at the changed field. */
function prettyDefinition(value: unknown): string[] {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return value === undefined ? [] : JSON.stringify(sortKeys(value), null, 2).split('\n');
}

const MAX_LINES = 4000;

/**
 * A line diff (longest common subsequence) of two definitions: unchanged lines prefixed with
 * two spaces, removed with "- ", added with "+ ". Runs of unchanged lines longer than
 * 2 × `context` are folded. Definitions past `MAX_LINES` lines are compared whole instead.
 */
export function diffDefinitions(before: unknown, after: unknown, context = 3): string[] {
  const a = prettyDefinition(before);
  const b = prettyDefinition(after);
  if (a.length > MAX_LINES || b.length > MAX_LINES) {
    return [...a.map((l) => `- ${l}`), ...b.map((l) => `+ ${l}`)];
  }
  // lcs[i][j] = length of the LCS of a[i..] and b[j..]
  const lcs = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const ops: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      ops.push(`+ ${b[j]}`);
      j++;
    } else {
      ops.push(`- ${a[i]}`);
      i++;
    }
  }
  const out: string[] = [];
  for (let k = 0; k < ops.length;) {
    if (!ops[k]!.startsWith('  ')) {
      out.push(ops[k++]!);
      continue;
    }
    let end = k;
    while (end < ops.length && ops[end]!.startsWith('  ')) end++;
    const run = ops.slice(k, end);
    const head = k === 0 ? 0 : context;
    const tail = end === ops.length ? 0 : context;
    if (run.length > head + tail + 1) {
      out.push(
        ...run.slice(0, head),
        `  … ${run.length - head - tail} unchanged lines`,
        ...run.slice(run.length - tail),
      );
    } else out.push(...run);
    k = end;
  }
  return out;
}
