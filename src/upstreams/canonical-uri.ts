/** Schemes the WHATWG URL standard parses specially (`\` is `/`, hosts are normalised). */
const SPECIAL_SCHEMES = new Set(['file', 'http', 'https', 'ws', 'wss', 'ftp']);

/** Rounds of percent-decoding: `%2568` is `%68` to a server that decodes twice, then `h`. */
const DECODE_ROUNDS = 4;

/** Every valid percent-encoded UTF-8 run decoded; a run that is not valid UTF-8 stays as it is. */
function decodeAll(text: string): string {
  let out = text;
  for (let i = 0; i < DECODE_ROUNDS; i++) {
    const next = out.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
    if (next === out) break;
    out = next;
  }
  return out;
}

/** RFC 3986 §5.2.4 with empty segments collapsed, as a filesystem resolves a path. */
function resolvePath(p: string): string {
  const out: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(seg);
  }
  const tail = /\/\.{0,2}$/.test(p) && out.length > 0 ? '/' : '';
  return (p.startsWith('/') ? '/' : '') + out.join('/') + tail;
}

/**
 * The one form of a resource URI that the operator's per-URI rules are matched against. A server
 * resolves many spellings to the same resource — `hr/x`, `public/../hr/x`, `%68r/x`, `FILE:`,
 * `file://localhost/`, `public\..\hr` — so a rule matched against the raw text could be walked
 * around by respelling the URI. This decodes percent-encoding (repeatedly), lower-cases the
 * scheme, parses WHATWG special schemes as Node servers do (backslashes, `localhost`, host case,
 * default ports), and resolves dot segments and doubled slashes in the path. It is used only to
 * choose a rule: what the server is sent is the caller's URI, unchanged.
 */
export function canonicalResourceUri(uri: string): string {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return uri;
  let s = `${scheme}:${decodeAll(uri.slice(scheme.length + 1))}`;
  if (SPECIAL_SCHEMES.has(scheme)) {
    try {
      s = decodeAll(new URL(s).href);
    } catch {
      // not parseable as a URL: keep the decoded text, still resolved below
    }
  }
  // scheme ":" [ "//" authority ] path [ "?" query ] [ "#" fragment ]
  const m = /^([^:]+:)(\/\/[^/?#]*)?([^?#]*)(.*)$/s.exec(s);
  if (!m) return s;
  const [, head, authority = '', p = '', rest = ''] = m;
  return `${head}${authority.toLowerCase()}${resolvePath(p)}${rest}`;
}
