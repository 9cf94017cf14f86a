import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { Option, type Command } from 'commander';
import { detectInjection, type DetectOptions, type InjectionKind } from '../../safety/index.js';
import { CommandFailed } from '../command-failed.js';
import { jsonStdout } from '../print.js';

/** The answer for one input line: a JSON report, a JSON error, or nothing for a blank line. */
export type InspectLineResult = { ok: true; json: string } | { ok: false; json: string } | undefined;

/**
 * Handles one line of `portcullis inspect` input: `{"text": "…"}` in, one JSON line out. Pure,
 * so the line handling is testable without a process.
 */
export function inspectLine(
  line: string,
  kind: InjectionKind,
  engine: DetectOptions['engine'] = 'hybrid',
): InspectLineResult {
  if (line.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { ok: false, json: JSON.stringify({ error: 'line is not valid JSON' }) };
  }
  const text = (parsed as { text?: unknown } | null)?.text;
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || typeof text !== 'string') {
    return { ok: false, json: JSON.stringify({ error: 'expected an object with a string "text" field' }) };
  }
  const { verdict, score, findings } = detectInjection(text, { kind, engine });
  return { ok: true, json: JSON.stringify({ verdict, score, findings }) };
}

/**
 * Streams JSON lines from `input` to `output` one at a time (stdin is never buffered whole).
 * Resolves to the exit code: 1 if any line was malformed, else 0.
 */
export async function runInspect(
  input: Readable,
  output: Writable,
  kind: InjectionKind,
  engine: DetectOptions['engine'] = 'hybrid',
): Promise<number> {
  let failed = false;
  const lines = createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    const result = inspectLine(line, kind, engine);
    if (result === undefined) continue;
    if (!result.ok) failed = true;
    if (!output.write(result.json + '\n')) await new Promise((resolve) => output.once('drain', resolve));
  }
  return failed ? 1 : 0;
}

/** Adds `portcullis inspect`. */
export function register(program: Command): void {
  program
    .command('inspect')
    .description(
      'Score text for prompt injection. Reads JSON lines {"text": "..."} from stdin and writes one ' +
        'JSON line per input: {"verdict","score","findings"}, or {"error"} for a malformed line ' +
        '(the exit code is then 1).',
    )
    .addOption(
      new Option('--kind <kind>', 'what the text is: tool output or a tool description')
        .choices(['tool-output', 'tool-description'])
        .default('tool-output'),
    )
    .addOption(
      new Option('--engine <engine>', 'the rules and the trained model (hybrid), or the rules alone')
        .choices(['hybrid', 'rules'])
        .default('hybrid'),
    )
    .action(async (opts: { kind: InjectionKind; engine: 'rules' | 'hybrid' }) => {
      // Findings quote the input, which may be anything: the JSON lines are escaped for the terminal.
      const out = jsonStdout();
      const code = await runInspect(process.stdin, out, opts.kind, opts.engine);
      await new Promise((resolve) => out.end(resolve));
      if (code !== 0) {
        throw new CommandFailed('some input lines were malformed (see their "error" lines)');
      }
    });
}
