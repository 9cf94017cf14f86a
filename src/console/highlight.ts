import { detectInjection, revealHidden, type InjectionKind } from '../safety/index.js';
import { html, type SafeHtml } from '../ui/index.js';

/**
 * Text with what the injection detector finds in it marked (`<mark title="rule">`), and every
 * hidden character named in a box. The detector runs again here, on exactly the text shown, so
 * the marks sit where the findings are. Everything is escaped: the text is an upstream's.
 */
export function highlightFindings(text: string, kind: InjectionKind): SafeHtml {
  const report = detectInjection(text, { kind });
  const spans = [...report.findings].sort((a, b) => a.start - b.start);
  const parts: SafeHtml[] = [];
  let at = 0;
  const plain = (s: string) =>
    html`${revealHidden(s).map((p) => (p.kind === 'text' ? p.text : html`<span class="hidden-char">${p.label}</span>`))}`;
  for (const f of spans) {
    if (f.start < at) continue;
    parts.push(plain(text.slice(at, f.start)));
    parts.push(html`<mark title="${f.rule}">${plain(text.slice(f.start, f.end))}</mark>`);
    at = f.end;
  }
  parts.push(plain(text.slice(at)));
  return html`${parts}`;
}
