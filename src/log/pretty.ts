import { Writable } from 'node:stream';

/** pino's numeric levels, as people read them, with the colour each is shown in. */
const LEVELS: Record<number, { name: string; colour: string }> = {
  10: { name: 'TRACE', colour: '\u001b[90m' },
  20: { name: 'DEBUG', colour: '\u001b[36m' },
  30: { name: 'INFO ', colour: '\u001b[32m' },
  40: { name: 'WARN ', colour: '\u001b[33m' },
  50: { name: 'ERROR', colour: '\u001b[31m' },
  60: { name: 'FATAL', colour: '\u001b[41m\u001b[97m' },
};
const RESET = '\u001b[0m';
const DIM = '\u001b[2m';
/** Fields every line has, shown in the line's head rather than repeated as key=value. */
const HEAD_FIELDS = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'service']);

/**
 * C0/C1 controls and ANSI escapes in logged values are shown as `\uXXXX`, so nothing a client
 * sent (a tool name, a header) can move the cursor or recolour a terminal (terminal injection).
 */
function inert(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += code < 0x20 || (code >= 0x7f && code <= 0x9f) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

function show(value: unknown): string {
  if (typeof value === 'string')
    return /^[^\s="]+$/.test(value) ? inert(value) : inert(JSON.stringify(value));
  return inert(JSON.stringify(value) ?? String(value));
}

/** One JSON log line as a coloured line for a terminal: `12:04:05 INFO  message key=value …`. */
export function prettyLine(json: string, colour: boolean): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return inert(json);
  }
  const level = LEVELS[Number(o.level)] ?? { name: String(o.level), colour: '' };
  const time = typeof o.time === 'number' ? new Date(o.time).toISOString().slice(11, 19) : '';
  const fields = Object.entries(o)
    .filter(([k]) => !HEAD_FIELDS.has(k))
    .map(([k, v]) => `${k}=${show(v)}`)
    .join(' ');
  const paint = (code: string, text: string) => (colour && code ? `${code}${text}${RESET}` : text);
  return [
    paint(DIM, time),
    paint(level.colour, level.name),
    inert(typeof o.msg === 'string' ? o.msg : ''),
    paint(DIM, fields),
  ]
    .filter(Boolean)
    .join(' ');
}

/** A stream pino writes JSON lines into, which prints them as pretty lines to `out`. */
export function prettyStream(out: NodeJS.WritableStream, colour: boolean): Writable {
  let rest = '';
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      const lines = (rest + chunk.toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      const text = lines
        .filter(Boolean)
        .map((l) => `${prettyLine(l, colour)}\n`)
        .join('');
      if (text) out.write(text);
      done();
    },
  });
}
