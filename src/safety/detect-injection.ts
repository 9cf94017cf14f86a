/**
 * A fast, explainable prompt-injection detector: weighted regular-expression rules over a
 * normalised view of the text, plus checks on the raw text for the tricks that normalising
 * would hide (invisible characters, mixed-script words). It is a tripwire that raises the cost
 * of the common attacks and explains itself; it is not a classifier and cannot judge intent.
 * See DESIGN.md for what it cannot do.
 */
import { ANSI_SOURCE, ERASED_CHAR_SOURCE } from './sanitise-text.js';

import { committedModel, MODEL_MIN_LENGTH, MODEL_THRESHOLDS, scoreWithModel } from './injection-model.js';

export type InjectionKind = 'tool-output' | 'tool-description';

/** The closed set of rule names a finding can carry. */
export type InjectionRule =
  | 'override-instructions'
  | 'role-hijack'
  | 'mode-switch'
  | 'fake-tag'
  | 'tool-coercion'
  | 'exfiltration'
  | 'secret-request'
  | 'markdown-exfiltration'
  | 'sensitive-file'
  | 'response-directive'
  | 'code-directive'
  | 'dangerous-code'
  | 'secrecy'
  | 'tool-shadowing'
  | 'encoded-instructions'
  | 'invisible-tags'
  | 'zero-width-in-word'
  | 'bidi-override'
  | 'mixed-script-word'
  /** The trained model (injection-model.ts) on its own; the span is the window it scored highest. */
  | 'model';

export type InjectionVerdict = 'clean' | 'suspicious' | 'malicious';

export interface InjectionFinding {
  readonly rule: InjectionRule;
  /** UTF-16 offsets into the raw text that was given. */
  readonly start: number;
  readonly end: number;
}

export interface InjectionReport {
  readonly verdict: InjectionVerdict;
  /** 0..1: 1 − Π(1 − wᵢ) over the distinct rules that fired. */
  readonly score: number;
  readonly findings: InjectionFinding[];
}

export interface DetectOptions {
  readonly kind: InjectionKind;
  /**
   * `hybrid` (the default): the rules and the trained model, either of which can flag a text;
   * it catches more on every corpus measured at the same false-positive rate (DESIGN.md).
   * `rules`: the regex rules alone, about half the cost per KB.
   */
  readonly engine?: 'hybrid' | 'rules';
}

export const SUSPICIOUS_THRESHOLD = 0.4;
export const MALICIOUS_THRESHOLD = 0.7;

interface Rule {
  readonly rule: InjectionRule;
  readonly re: RegExp;
  /** Weight per kind; 0 disables the rule for that kind. */
  readonly weight: Readonly<Record<InjectionKind, number>>;
  /** A match right after "don't", "never"… is advice, not an instruction: skip it. */
  readonly negatable?: boolean;
  /**
   * The keyword prefilter: an alternation of literals at least one of which every match of `re`
   * contains (same case-insensitivity). Most text contains none of a rule's keywords, and one
   * literal scan is far cheaper than the rule's own backtracking, so a text without them skips
   * the rule. Derived by hand from each alternative of `re`; detection-equivalence.test.ts and
   * `npm run eval:detector` check that results are identical with and without it.
   */
  readonly need: string;
  /** Where a match can start: the anchored fast path (see `Starts`). */
  readonly starts: Starts;
}

/**
 * Where every match of a rule can start, so the rule is tried only there (sticky, at each such
 * position in order) instead of at every position of the text: the start of a word listed in
 * `words` (a word is a run of ASCII letters and digits, compared in lower case; `word*` stands
 * for every word beginning with it), one of `chars`, or (`lineStart`) the start of a line. A
 * match found sticky at a position is the match the global scan finds there, and the global scan
 * finds its next match at the first position at or after the previous match's end where the
 * rule matches; so trying every possible start in order, from the previous match's end, finds
 * the same matches. Derived by hand from the first token of each alternative of `re`, so **a rule
 * change must update its `starts`**; detection-equivalence.test.ts compares every match with the
 * exhaustive scan. A `\b` before an ASCII letter means the previous character is no letter or
 * digit, and in a non-`u` case-insensitive pattern an ASCII letter only matches an ASCII letter,
 * so the start is a word start whatever the rest of the text holds.
 */
interface Starts {
  readonly words: string;
  readonly chars?: string;
  /**
   * Whether (and only then) the rule can start at a line start: a character that every match
   * starting at a line start, and not at a word or character listed, contains. A text without
   * it lists no line starts for the rule.
   */
  readonly lineStart?: string;
  /**
   * For the `u` rules, whose other alternatives start with (or, for a `gate`, contain) letters
   * beyond ASCII: those letters, one character each. Case folding under `u` maps ſ to s and the
   * Kelvin sign to k, which the word trie cannot see, so a view with either runs the rule behind
   * its `need` as before; any other view tries it at its start words and at every character that
   * matches one of these letters case-insensitively (each code unit of a view is tested with the
   * rule's own flags, once, and remembered; no astral character matches one, tested).
   */
  readonly nonAscii?: string;
  /**
   * `words` are not starts but words every match contains (at a word start): a text with one of
   * them is scanned whole, as before; a text with none skips the rule.
   */
  readonly gate?: boolean;
}

const both = (w: number): Record<InjectionKind, number> => ({ 'tool-output': w, 'tool-description': w });

// A gap that stays within one sentence: at most n characters, no sentence end, lazily matched so
// each attempt is bounded and the whole scan stays linear in practice.
const gap = (n: number): string => `[^.!?\\n]{0,${n}}?`;
// "don't", "never", "not" just before a match turn an instruction into advice ("never share your
// password"), which is what benign documentation says. Checked after a match rather than as a
// look-behind inside the patterns, which would run at every position of every text.
const NEGATED_BEFORE =
  /\b(?:don'?t|do not|never|not|cannot|can'?t|won'?t|shouldn'?t|should not|must not|mustn'?t)\s+(?:\w+\s+){0,3}$/i;

function rx(source: string, flags = 'gi'): RegExp {
  return new RegExp(source, flags);
}

const OVERRIDE_VERB = String.raw`(?:ignore|disregard|forget|overlook|override|bypass|abandon|discard|neglect|set aside|throw out|stop following|do not follow|don'?t follow|no longer follow|cancel)`;
const PRIOR = String.raw`(?:previous|prior|preceding|above|earlier|former|original|initial|old|all(?: of)?(?: the| your)?|your|system|developer|safety|existing|current|those|these)`;
const DIRECTIVES = String.raw`(?:instructions?|directives?|prompts?|rules?|guidelines?|commands?|orders?|programming|constraints?|restrictions?|guidance|polic(?:y|ies)|tasks?|context|training|filters?|guardrails?|safeguards?|messages?)`;
const SENSITIVE = String.raw`(?:system prompt|(?:initial|original|hidden|secret) (?:prompt|instructions?)|passwords?|passcodes?|pass ?phrases?|secret keys?|secrets|api[ _-]?keys?|access (?:keys?|tokens?)|tokens?|credentials?|private keys?|ssh keys?|session (?:ids?|cookies?|tokens?)|cookies|(?:conversation|chat|message) (?:history|log|transcript)|(?:previous|prior|earlier|all) messages|environment variables|env vars|env file|(?:recovery|backup|mfa|2fa|one-time|otp) codes?|(?:the )?user'?s? (?:data|files?|emails?|messages|address|personal (?:data|information)|credentials?|password))`;

// A URL scheme in any case: HTML tag and attribute names and schemes are case-insensitive, so a
// renderer fetches `<IMG SRC=HTTPS://…>` like its lower-case form. Spelt out as classes because
// the markdown-exfiltration rule itself is case-sensitive (an all-caps word is its placeholder).
const HTTP = String.raw`[Hh][Tt][Tt][Pp][Ss]?://`;

const RULES: readonly Rule[] = [
  {
    rule: 'override-instructions',
    re: rx(
      [
        `\\b${OVERRIDE_VERB}\\b${gap(40)}\\b${PRIOR}\\b${gap(30)}\\b${DIRECTIVES}\\b`,
        `\\b${OVERRIDE_VERB}\\b${gap(20)}\\b(?:everything|anything|all|what(?:ever)?)\\b${gap(20)}\\b(?:you(?:'ve| have)? (?:been|were) (?:told|instructed|given|taught|programmed)|(?:i|we|they) (?:told|said|wrote) (?:you )?(?:before|earlier|above))`,
        String.raw`\b(?:ignore|disregard|forget)\s+(?:the|this|that|these|those|all)\s+(?:\w+\s+){0,2}?(?:web ?page|page|document|text|content|e-?mail|resume|article|function|code|table|data|input|file|message|paper|review|context|above)\b[^.!?\n]{0,20}?\b(?:and|then|instead)\s+(?:\w+\s+)?(?:state|say|respond|reply|output|write|print|answer|tell|claim|declare|return)\b`,
        `\\b(?:regardless of|in spite of|notwithstanding|contrary to)\\b${gap(15)}\\b${PRIOR}\\b${gap(20)}\\b${DIRECTIVES}\\b`,
        `\\b(?:previous|prior|earlier|original|above|old|all|your)\\b${gap(15)}\\b${DIRECTIVES}\\b${gap(40)}\\b(?:no longer (?:apply|valid|in effect|relevant)|do not apply|don't apply)\\b`,
        `\\b(?:previous|prior|earlier|original|above|old|all)\\b${gap(15)}\\b${DIRECTIVES}\\b${gap(15)}\\b(?:are|is|were|have been|has been)\\s+(?:now\\s+)?(?:void|null|cancel+ed|revoked|obsolete|outdated|superseded|overridden|replaced|deprecated|invalid|lifted|suspended|no longer (?:valid|apply|applicable|relevant|in effect))`,
      ].join('|'),
    ),
    need: String.raw`instruction|directive|prompt|rule|guideline|command|order|programming|constraint|restriction|guidance|polic|task|context|training|filter|guardrail|safeguard|message|ignore|disregard|forget|overlook|override|bypass|abandon|discard|neglect|aside|throw|follow|cancel`,
    starts: {
      words:
        'ignore* disregard* forget* overlook* override* bypass* abandon* discard* neglect* set throw stop do don dont no cancel* regardless in notwithstanding* contrary* previous* prior* earlier* original* above* old all your',
    },
    weight: both(0.8),
    negatable: true,
  },
  {
    rule: 'override-instructions',
    re: rx(
      [
        // French, Spanish, Portuguese, Italian, German, Dutch, Russian, Chinese, Japanese.
        String.raw`\b(?:ignor\w*|oubli\w*|olvid\w*|esque[cç]\w*|dimentic\w*|vergiss\w*|missacht\w*|negeer\w*|vergeet)\b[^.!?\n]{0,40}?\b(?:pr[ée]c[ée]dent\w*|ant[ée]rieur\w*|anterior\w*|previ\w*|precedent\w*|vorherig\w*|bisherig\w*|obig\w*|vorige|eerdere|toutes|todas|tutte|alle)\b[^.!?\n]{0,30}?(?:instruc\w*|consignes|directiv\w*|istruzion\w*|anweisung\w*|regeln|reglas|r[èe]gles|regras|regole|instructies)`,
        String.raw`\b(?:ignor\p{L}*|oubli\p{L}*|olvid\p{L}*|esque[cç]\p{L}*|dimentic\p{L}*|negeer\p{L}*)\s+(?:\p{L}+\s+){0,3}?(?:instru\p{L}*|consignes|directiv\p{L}*|istruzion\p{L}*|reglas|r[èe]gles|regras|regole|instructies)\s+(?:\p{L}+\s+)?(?:pr[ée]c[ée]dent\p{L}*|ant[ée]rieur\p{L}*|anterior\p{L}*|previ\p{L}*|precedent\p{L}*|eerdere|vorige)`,
        String.raw`αγνο\p{L}*[^.!?\n]{0,30}?προηγο\p{L}*[^.!?\n]{0,20}?οδηγ\p{L}*`,
        String.raw`(?:이전|앞의|위의|모든)[^.!?\n]{0,10}?(?:지시|지침|명령)[^.!?\n]{0,10}?(?:무시|잊)`,
        String.raw`(?:पिछले|पूर्व|सभी)[^।!?\n]{0,10}?निर्देश[^।!?\n]{0,20}?(?:अनदेखी|अनदेखा|नज़रअंदाज़|नजरअंदाज|भूल)`,
        String.raw`(?:игнорир\p{L}*|забудь\p{L}*|проигнорир\p{L}*)[^.!?\n]{0,40}?(?:предыдущ\p{L}*|прошл\p{L}*|все)[^.!?\n]{0,20}?(?:инструкц\p{L}*|указани\p{L}*|правил\p{L}*)`,
        String.raw`(?:忽略|无视|忘记|忘掉|無視|忘れ)[^。！？\n]{0,12}?(?:之前|以上|前面|先前|所有|これまで|以前|上記)[^。！？\n]{0,12}?(?:指令|指示|说明|規則|规则|命令|提示)`,
      ].join('|'),
      'giu',
    ),
    need: String.raw`ignor|oubli|olvid|esque[cç]|dimentic|vergiss|missacht|negeer|vergeet|αγνο|이전|앞의|위의|모든|निर्देश|игнорир|забудь|忽略|无视|忘记|忘掉|無視|忘れ`,
    starts: {
      words: 'ignor* oubli* olvid* esque* dimentic* vergiss* missacht* negeer* vergeet*',
      // αγνο…, 이전|앞의|위의|모든, पिछले|पूर्व|सभी, игнорир|забудь|проигнорир, 忽略|无视|忘记|忘掉|無視|忘れ.
      nonAscii: 'α이앞위모पसизп忽无忘無',
    },
    weight: both(0.8),
  },
  {
    rule: 'role-hijack',
    re: rx(
      [
        String.raw`\byou are now\b(?:\s+(?:a|an|the|my|in|no longer))?\s+(?:\w+\s+){0,2}?(?:ai|assistant|model|chatbot|bot|llm|dan|jailbroken|unrestricted|unfiltered|uncensored|free|evil|hacker|persona|character|developer|admin|root|system)\b`,
        String.raw`\bfrom now on,?\s+(?:you\s+(?:are|will|must|shall|should|act|respond|answer|reply|only)|act as|respond as|your (?:new )?(?:role|task|name|job|goal))`,
        String.raw`\b(?:act|behave|respond|roleplay|role-play)\s+as\s+(?:an?\s+)?(?:\w+\s+){0,2}?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|amoral|dan)\b`,
        String.raw`\b(?:pretend|imagine)\s+(?:to be|you are|that you are|you're)\b${gap(60)}\b(?:no|without|free of|free from|any)\s+(?:restrictions|rules|limits|limitations|filters|guidelines|ethics|morals)`,
        String.raw`\bdo anything now\b`,
        String.raw`\bnew (?:system )?(?:prompt|instructions|directives|role|persona)\s*[:\-—]`,
        String.raw`\b(?:new|updated|revised|override|real|true|actual) system (?:prompt|message|instructions?)\b`,
        String.raw`\bi am (?:your|the|an?) (?:developer|creator|administrator|admin|owner|operator|programmer|system administrator)\b|\bi'm (?:your|the) (?:developer|creator|administrator|admin|owner|operator)\b`,
        String.raw`\b(?:as|i am|i'm)\s+your\s+(?:creator|developer|programmer|owner|master|maker)\b|\bi(?:'m| am) god\b`,
        String.raw`\byou\s+(?:must|will|shall|have to)\s+(?:now\s+)?(?:obey|listen to)\s+(?:me|my)\b`,
      ].join('|'),
    ),
    need: String.raw`you are now|from now on|unrestricted|unfiltered|uncensored|jailbroken|evil|amoral|dan|pretend|imagine|do anything now|new|system|i am|i'm|creator|developer|programmer|owner|master|maker|god|obey|listen to`,
    starts: {
      words:
        'you from act behave respond roleplay role pretend imagine do new updated revised override real true actual i as',
    },
    weight: both(0.6),
  },
  {
    rule: 'mode-switch',
    re: rx(
      String.raw`\b(?:enter\w*|switch\w*\s+(?:to|into)|activat\w*|enabl\w*|unlock\w*|now in)\s+(?:the\s+)?['"]?(?:developer|debug|god|admin|administrator|maintenance|unrestricted|sudo|root|dan|jailbreak|test)\s+mode\b|\bsystem override\b|\boverride (?:mode|protocol|code)\b`,
    ),
    need: String.raw`mode|override`,
    starts: { words: 'enter* switch* activat* enabl* unlock* now system override' },
    weight: both(0.4),
  },
  {
    rule: 'fake-tag',
    re: rx(
      [
        String.raw`<\s*/?\s*(?:important|system|sys|system[_-]?prompt|instructions?|admin|secret|hidden|assistant_instructions|override)\s*>`,
        String.raw`<\|\s*(?:im_start|im_end|system|endoftext|eot_id|start_header_id|end_header_id|begin_of_text)\s*\|>`,
        String.raw`<<\s*/?SYS\s*>>`,
        String.raw`<\s*(?:god|system|dev|developer|admin|debug|sudo|root|dan)\s+mode\s*>`,
        String.raw`\[\s*/?\s*(?:SYSTEM|INST|ADMIN|IMPORTANT|SYSTEM PROMPT|INSTRUCTIONS?)\s*\]`,
        String.raw`^\s*#{1,6}\s*(?:system(?: prompt| message| instructions?| override)?|new instructions|instructions for (?:the )?(?:ai|assistant|model|llm|agent))\s*:?\s*$`,
        String.raw`\b(?:begin|start|end) (?:of )?(?:system|admin) (?:prompt|message|instructions?)\b`,
      ].join('|'),
      'gim',
    ),
    need: String.raw`[<[#]|system|admin`,
    // Only the markdown-heading alternative starts at a line start, and it needs a '#'.
    starts: { words: 'begin start end', chars: '<[', lineStart: '#' },
    weight: both(0.55),
  },
  {
    rule: 'tool-coercion',
    re: rx(
      [
        String.raw`\b(?:call|invoke|run|execute|trigger|use)\s+(?:the\s+)?(?!(?:this|that|it|a|an|any|each)\s)[\x60'"]?[\w.:/-]{2,60}[\x60'"]?\s+(?:tool|function|command|mcp tool)\b${gap(40)}\b(?:with|passing|using|and|to|on)\b`,
        String.raw`\b(?:before|prior to)\s+(?:answering|responding|replying|summari[sz]ing|you (?:answer|respond|reply|continue|proceed|summari[sz]e)|doing anything(?: else)?|anything else|continuing|proceeding)\b,?${gap(30)}\b(?:call|invoke|run|execute|use|read|fetch|send|open|visit|download)\b`,
        String.raw`\b(?:you|the (?:ai|assistant|model|agent))\s+(?:must|should|need to|have to|are required to)\s+(?:first\s+|now\s+|immediately\s+|also\s+)?(?:call|invoke|execute|run|use)\s+(?:the\s+)?[\x60'"]?[\w.:/-]{2,60}[\x60'"]?\s+(?:tool|function)\b`,
        String.raw`\b(?:ai|assistant|model|agent|llm)s?\s+(?:reading|processing|summari[sz]ing|seeing)\s+this\b`,
      ].join('|'),
    ),
    need: String.raw`tool|function|command|before|prior to|reading|processing|summari|seeing`,
    starts: {
      words: 'call invoke run execute trigger use before prior you the ai* assistant* model* agent* llm*',
    },
    weight: { 'tool-output': 0.45, 'tool-description': 0.15 },
    negatable: true,
  },
  {
    rule: 'exfiltration',
    re: rx(
      [
        `\\b(?:send|forward|post|upload|e-?mail|transmit|exfiltrate|leak|submit|report|copy|pipe|deliver|relay|share)\\b[^\\n]{0,80}?\\b${SENSITIVE}\\b[^\\n]{0,80}?\\b(?:to|at|into|via|using)\\s+(?:https?://|[\\w.+-]+@[\\w-]+\\.|(?:the |this |my |our |an? )?(?:following |external |remote )?(?:url|endpoint|webhook|server|address|e-?mail|attacker|inbox|link|domain))`,
        `\\b${SENSITIVE}\\b[^\\n]{0,60}?\\b(?:send|forward|post|upload|e-?mail|transmit|submit)\\b[^\\n]{0,60}?\\b(?:to|at|into|via)\\s+(?:https?://|[\\w.+-]+@[\\w-]+\\.|(?:the |this |my |our |an? )?(?:url|endpoint|webhook|server|address|e-?mail|inbox))`,
        `\\b${SENSITIVE}\\b[^\\n]{0,40}?\\b(?:should|must|will|needs? to)\\s+be\\s+(?:sent|forwarded|posted|uploaded|e-?mailed|submitted|copied)\\s+to\\b`,
        String.raw`\b(?:append|add|attach|encode|include|insert|put|place)\b[^\n]{0,60}?\b(?:to|in|into)\s+(?:the|this|a|each)\s+(?:url|link|query(?: string)?|image url|request|parameter)\b`,
        String.raw`\b(?:bcc|cc|blind copy)\b${gap(40)}\b[\w.+-]+@[\w-]+\.\w+`,
      ].join('|'),
    ),
    need: String.raw`prompt|instruction|password|phrase|secret|key|access|token|credential|session|cookie|history|log|transcript|message|env|code|user|url|link|query|request|parameter|@`,
    starts: {
      words:
        'send forward post upload e email transmit exfiltrate leak submit report copy pipe deliver relay share system initial original hidden secret* pass* api* access token* credential* private ssh session cookies conversation chat message previous prior earlier all environment env recovery backup mfa 2fa one otp the user* append add attach encode include insert put place bcc cc blind',
    },
    weight: both(0.6),
    negatable: true,
  },
  {
    rule: 'secret-request',
    re: rx(
      [
        `\\b(?:reveal|print|output|show|display|include|tell me|share|give me|send me|list|dump|leak|repeat|disclose|confirm|provide|write out|recite|spell out|what(?:'s| is| are))\\b${gap(25)}\\b(?:your|the|its|our|all)\\s+(?:\\w+\\s+)?(?:system prompt|(?:initial|original|hidden|secret|first) (?:prompt|instructions?)|passwords?|passcodes?|pass ?phrases?|secret keys?|api[ _-]?keys?|credentials|private keys?|(?:conversation|chat) history|instructions (?:above|you were given))\\b(?!\\s+(?:polic\\w*|requirements?|reset|manager|field|length|strength|format|rules|rotation|expir\\w*|change|hygiene))`,
        String.raw`\brepeat\b${gap(20)}\b(?:everything|all|the (?:text|words|instructions)|your instructions)\b${gap(20)}\b(?:above|before this|so far|verbatim)\b`,
      ].join('|'),
    ),
    need: String.raw`prompt|instruction|password|passcode|phrase|secret|key|credential|history|repeat`,
    starts: {
      words:
        'reveal print output show display include tell share give send list dump leak repeat disclose confirm provide write recite spell what',
    },
    weight: both(0.5),
    negatable: true,
  },
  {
    rule: 'secret-request',
    re: rx(
      String.raw`(?:cuál es|cual es|quel est|qual è|qual é|was ist|wie lautet|какой|каков)\s+(?:\p{L}+\s+){0,2}?(?:contraseña|mot de passe|password|passwort|senha|пароль)|(?:パスワード|密码|密碼|비밀번호)[^。？?\n]{0,10}?(?:何|什么|多少|뭐|무엇|教え|告诉)`,
      'giu',
    ),
    need: String.raw`l es|quel est|qual |was ist|wie lautet|како|パスワード|密码|密碼|비밀번호`,
    // Every match names the password: password/passwort, mot de passe, senha, contraseña (its
    // ASCII part), пароль, パスワード, 密码/密碼, 비밀번호.
    starts: { words: 'passw* mot senha* contrase*', nonAscii: 'пパ密비', gate: true },
    weight: both(0.5),
  },
  {
    rule: 'markdown-exfiltration',
    // An image (or link) whose URL carries a template for the model to fill in: `?data={chat}`,
    // `?q=<SECRET>`, `?x=$HISTORY`, `?d=[DATA]`, or an all-caps placeholder.
    re: rx(
      String.raw`!?\[[^\]\n]{0,200}\]\(\s*${HTTP}[^)\s]{1,300}?[?&#][^)\s]{0,300}?=(?:[^)\s&]{0,40}?(?:\{|\}|%7[Bb]|<|%3[Cc]|\$|\[|%5[Bb])|(?:[A-Z_]{4,}|INSERT|DATA|SECRET|HISTORY)\b)` +
        String.raw`|<[Ii][Mm][Gg]\b[^>]{0,200}?\b[Ss][Rr][Cc]\s*=\s*["']?${HTTP}[^"'\s>]{1,300}?[?&][^"'\s>]{0,200}?=(?:[^"'\s>&]{0,40}?(?:\{|%7[Bb]|<|\$|\[)|[A-Z_]{4,}\b)`,
      'g',
    ),
    need: String.raw`\]\(|<[Ii][Mm][Gg]`,
    starts: { words: '', chars: '![<' },
    weight: both(0.75),
  },
  {
    rule: 'sensitive-file',
    re: rx(
      String.raw`\b(?:read|cat|open|load|include|send|pass|attach|get|access|fetch|upload|contents? of|copy|print|paste)\b[^!?\n]{0,60}?(?:~/\.ssh\b|\bid_(?:rsa|ed25519|ecdsa)\b|\.aws/credentials|\.netrc\b|/etc/(?:passwd|shadow)\b|\bmcp\.json\b|\.git-credentials\b|\.kube/config\b|\.docker/config\.json|claude_desktop_config\.json|\.npmrc\b|\.pypirc\b|wallet\.dat\b)`,
    ),
    need: String.raw`\.ssh|id_|credentials|\.netrc|/etc/|mcp\.json|\.kube|\.docker|claude_desktop|\.npmrc|\.pypirc|wallet\.dat`,
    starts: {
      words:
        'read cat open load include send pass attach get access fetch upload content contents copy print paste',
    },
    weight: both(0.55),
  },
  {
    rule: 'response-directive',
    re: rx(
      [
        String.raw`\b(?:add|include|insert|integrate|incorporate|append|mention|embed|put|place|prepend|write|use|replace|remove|rearrange|introduce|misspell|group|format|encode|translate|end|start|begin|modify|change|conclude|finish|sign)\b[^\n]{0,80}?\b(?:in|into|to|from|of|at the (?:end|start|beginning) of|within|throughout)\s+(?:all\s+)?your\s+(?:final\s+)?(?:response|answer|output|summary|responses|answers|summaries)\b`,
        String.raw`\b(?:when|if|whenever)\s+(?:you(?:'re| are)?\s+)?(?:summari[sz]\w*|answer\w*|respond\w*|repl(?:y|ies|ying)|describ\w*)\b${gap(40)}\b(?:always|also|make sure|be sure|you must|you should|include|mention|add|say|tell|recommend)\b`,
        String.raw`\b(?:tell|inform|remind|advise|urge|instruct|convince|persuade)\s+the\s+user\s+(?:to|that)\b`,
        // Verbs that reshape a reply, which nobody asks of a person in an email or a table cell:
        // "augment your answer with…", "render your message in leetspeak", "jumble … your reply".
        String.raw`\b(?:augment|enhance|enrich|embellish|render|misspell|jumble|scramble|garble|obfuscate)\b[^.!?\n]{0,60}?\byour\s+(?:final\s+|whole\s+|entire\s+)?(?:response|answer|reply|message|output|summary|responses|answers|replies)\b`,
      ].join('|'),
    ),
    need: String.raw`your|summari|answer|respond|repl|describ|user`,
    starts: {
      words:
        'add include insert integrate incorporate append mention embed put place prepend write use replace remove rearrange introduce misspell group format encode translate end start begin modify change conclude finish sign when if whenever tell inform remind advise urge instruct convince persuade augment enhance enrich embellish render jumble scramble garble obfuscate',
    },
    weight: { 'tool-output': 0.45, 'tool-description': 0.3 },
  },
  {
    rule: 'code-directive',
    re: rx(
      String.raw`\b(?:incorporate|integrate|blend|meld|inject|enlist|absorb|embed|interweave|weave|amalgamate|fuse|infuse|append)\b${gap(60)}\b(?:code|snippet|excerpt|script|block|section)\b`,
    ),
    need: String.raw`code|snippet|excerpt|script|block|section`,
    starts: {
      words:
        'incorporate integrate blend meld inject enlist absorb embed interweave weave amalgamate fuse infuse append',
    },
    weight: { 'tool-output': 0.35, 'tool-description': 0.35 },
  },
  {
    rule: 'dangerous-code',
    re: rx(
      [
        String.raw`\b(?:requests\.(?:post|put)|urlopen|urlretrieve|http\.client|fetch|axios\.post|curl|wget|smtplib|ftplib|storbinary|socket\.)\b[^\n]{0,200}?\b(?:environ|cookies?|psutil|passwd|ssh|getenv|keychain|contacts\.csv|\.history)\b`,
        String.raw`\b(?:environ|getenv|cookiejar|psutil|cookies)\b[^\n]{0,200}?\b(?:requests\.(?:post|put|get)|urlopen|sendall|storbinary|smtplib|sendmail|post\()`,
        String.raw`\bexec\s*\(\s*(?:open|requests|urllib|base64)|\beval\s*\(\s*(?:atob|base64|requests)`,
        String.raw`\bdd\s+if=/dev/(?:zero|random|urandom)\s+of=/dev/[sh]d|\brm\s+-rf\s+(?:/|~)(?:\s|$|")|\bmkfs\.\w+\s+/dev/|:\(\)\s*\{\s*:\|:&\s*\};:`,
        String.raw`\b(?:xmrig|cryptonight|stratum\+tcp|miner_url|cryptomine)\b`,
      ].join('|'),
    ),
    need: String.raw`environ|cookie|psutil|passwd|ssh|getenv|keychain|contacts\.csv|\.history|exec|eval|/dev/|-rf|mkfs|:\(\)|xmrig|cryptonight|stratum\+tcp|miner_url|cryptomine`,
    starts: {
      words:
        'requests urlopen urlretrieve http fetch axios curl wget smtplib ftplib storbinary socket environ getenv cookiejar psutil cookies exec eval dd rm mkfs xmrig cryptonight stratum miner cryptomine',
      chars: ':',
    },
    weight: both(0.35),
  },
  {
    rule: 'secrecy',
    re: rx(
      [
        String.raw`\b(?:do not|don'?t|never|without)\s+(?:tell(?:ing)?|inform(?:ing)?|mention(?:ing)?|reveal(?:ing)?|notify(?:ing)?|alert(?:ing)?|let(?:ting)?|show(?:ing)?|disclos(?:e|ing)|report(?:ing)?)\s+(?:this\s+to\s+)?(?:the\s+)?(?:user|users|human|operator)\b`,
        String.raw`\b(?:do not|don'?t|never)\s+(?:mention|reveal|disclose|acknowledge|show|display|explain|admit)\s+(?:this|these|that|it|the (?:above|following|instruction|instructions|tool|step|action))\b(?!\s+(?:file|field|option|flag|setting|screen|page|window|dialog))`,
        String.raw`\bwithout\s+(?:the\s+)?(?:user'?s?|their|anyone'?s?)\s+(?:knowledge|noticing|knowing|awareness|consent|permission|confirmation)\b`,
        String.raw`\b(?:the\s+)?user\s+(?:must|should|need|needs to)\s*(?:not|n't)\s+(?:know|see|notice|be told|find out|be aware)\b`,
        String.raw`\b(?:silently|secretly|covertly|quietly|invisibly)\s+(?:send|forward|call|run|execute|include|add|copy|upload|read|exfiltrate|bcc|email|post|change|modify|replace)\b`,
        String.raw`\bkeep\s+(?:this|these|it)\s+(?:a\s+)?(?:secret|hidden|confidential)\s+from\b`,
      ].join('|'),
    ),
    need: String.raw`user|human|operator|do not|don|never|without|silently|secretly|covertly|quietly|invisibly|keep`,
    starts: { words: 'do don dont never without the user silently secretly covertly quietly invisibly keep' },
    weight: { 'tool-output': 0.45, 'tool-description': 0.6 },
  },
  {
    rule: 'tool-shadowing',
    re: rx(
      [
        String.raw`\b(?:when|whenever|if|once|after|before)\s+(?:the\s+)?(?:user|a user|someone|you|the (?:agent|assistant|model))\s+(?:calls?|uses?|invokes?|runs?|asks?\s+(?:for|to)|requests?|wants? to|tries to|sends?)\b${gap(40)}\b(?:tool|function|email|message|payment|transfer)`,
        String.raw`\binstead of\s+(?:using|calling|invoking|the)\b${gap(40)}\b(?:use|call|invoke|send|redirect|route)\b`,
        String.raw`\b(?:all|every|any|other)\s+(?:other\s+)?tools?\b${gap(40)}\b(?:must|should|need to|have to|are required to)\b`,
        String.raw`\b(?:before|after)\s+(?:using|calling|invoking|running)\s+(?:any|every|each|the)\s+(?:other\s+)?(?:tool|function)s?\b`,
        String.raw`\b(?:change|modify|replace|set|override|rewrite)\s+(?:the\s+)?(?:recipient|destination|to[ -]address|target (?:address|account)|account number|iban|wallet address|(?:\w+\s+)?parameter)\b${gap(40)}\bto\b`,
        String.raw`\b(?:the|this)\s+(?:\w+\s+)?tool\s+(?:is\s+)?(?:deprecated|broken|disabled|unavailable|no longer works)\b${gap(40)}\b(?:use|call)\b`,
      ].join('|'),
    ),
    need: String.raw`tool|function|email|message|payment|transfer|instead of|recipient|destination|address|target|account|iban|parameter`,
    starts: {
      words:
        'when whenever if once after before instead all every any other change modify replace set override rewrite the this',
    },
    weight: { 'tool-output': 0.3, 'tool-description': 0.65 },
  },
];

// Words before a match that say the text is *about* an attack rather than making one: security
// documentation quotes payloads ("phrases such as 'ignore previous instructions'"). A match so
// introduced, or sitting inside quotes or a code span, counts for a third of its weight. An
// attacker can dress a payload the same way, which is why the weight is cut, not dropped.
const MENTION_CUE =
  /\b(?:such as|like|called|known as|phrases?|strings?|payloads?|examples?|e\.g\.|i\.e\.|for instance|detect\w*|block\w*|filter\w*|flag\w*|attacks?|attackers?|injections?|jailbreaks?|malicious|adversarial|classic|typical|says?|said|wrote|contains?|containing|pattern|patterns|heuristics?|classifier)\b[^.\n]{0,80}$/i;
const QUOTES = '"\'`“”‘’«»';
const MENTION_DAMPING = 0.35;

function isMention(view: string, start: number, end: number): boolean {
  const before = view.slice(Math.max(0, start - 100), start);
  if (MENTION_CUE.test(before)) return true;
  const open = view.slice(Math.max(0, start - 3), start);
  const close = view.slice(end, end + 3);
  const quotedOpen = [...open].some((c) => QUOTES.includes(c));
  const quotedClose = [...close].some((c) => QUOTES.includes(c));
  return quotedOpen && quotedClose;
}

// Cyrillic and Greek letters that look like Latin ones; mapped back inside mixed-script words so
// "іgnоrе" (Cyrillic і, о, е) reads as "ignore" to the rules.
const CONFUSABLES: Record<string, string> = {
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ԛ: 'q',
  ԝ: 'w',
  һ: 'h',
  ӏ: 'l',
  ԍ: 'g',
  А: 'A',
  В: 'B',
  Е: 'E',
  К: 'K',
  М: 'M',
  Н: 'H',
  О: 'O',
  Р: 'P',
  С: 'C',
  Т: 'T',
  Х: 'X',
  І: 'I',
  Ј: 'J',
  Ѕ: 'S',
  α: 'a',
  ο: 'o',
  ν: 'v',
  ρ: 'p',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  τ: 't',
  υ: 'u',
  χ: 'x',
  ϲ: 'c',
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Υ: 'Y',
  Χ: 'X',
};
const CONFUSABLE_CLASS = new RegExp(`[${Object.keys(CONFUSABLES).join('')}]`, 'u');
const WORD_RE = /[\p{L}\p{M}]{3,}/gu;
const LATIN_RE = /\p{Script=Latin}/u;

const ASCII_ONLY = /^[\x20-\x7e\t\n\r]*$/;
// The view's own fast path excludes CR: the sanitiser deletes a lone CR, so "ig\rnore" is
// "ignore" to the model and must be to the rules.
const VIEW_PLAIN = /^[\x20-\x7e\t\n]*$/;
// What the sanitiser deletes (escape sequences, controls, lone surrogates, invisible letters) is
// what the view drops, from the sanitiser's own patterns: a character it erases inside a word
// ("Ig\x00nore") must not hide the word from the rules and then vanish before the model reads it.
const ANSI_SEQUENCE = new RegExp(ANSI_SOURCE, 'g');
const ERASED_ANY = new RegExp(ERASED_CHAR_SOURCE, 'u');
const ERASED_ONE = new RegExp(`^${ERASED_CHAR_SOURCE}$`, 'u');

interface View {
  readonly text: string;
  /** view index → raw index; absent when the view is the raw text. */
  readonly map: Int32Array | undefined;
  /**
   * What `classifyUnits` found in the raw text (0 for printable ASCII with tabs and newlines):
   * the raw checks need an erased, confusable or astral character.
   */
  readonly rawUnits: number;
}

// Per UTF-16 code unit, what the view and the raw checks need to know about it, worked out the
// first time the unit is seen (0: not yet) with the very patterns the slow paths use, so a
// lookup answers exactly what they would.
const UNIT_KNOWN = 1;
/** ERASED_ONE matches it (never set for a surrogate: see UNIT_SURROGATE). */
const UNIT_ERASED = 2;
/** CONFUSABLE_CLASS matches it (every confusable is in the BMP). */
const UNIT_CONFUSABLE = 4;
/**
 * NFKC changes it (taken alone). The slow path normalises code point by code point, so a text
 * with nothing erased, nothing confusable, no surrogate and no unit with this bit would come out
 * of it unchanged, with the identity map: it is its own view.
 */
const UNIT_NFKC_UNSAFE = 8;
/** A surrogate: a pair is an astral character, a lone one is erased; the patterns decide. */
const UNIT_SURROGATE = 16;
const unitClass = new Uint8Array(65536);

function classifyUnit(u: number): number {
  let k = UNIT_KNOWN;
  if (u >= 0xd800 && u <= 0xdfff) k |= UNIT_SURROGATE;
  else {
    const ch = String.fromCharCode(u);
    if (ERASED_ONE.test(ch)) k |= UNIT_ERASED;
    if (CONFUSABLE_CLASS.test(ch)) k |= UNIT_CONFUSABLE;
    if (ch.normalize('NFKC') !== ch) k |= UNIT_NFKC_UNSAFE;
  }
  unitClass[u] = k;
  return k;
}

/** The union of the classes of every code unit of `raw`. */
function classifyUnits(raw: string): number {
  let flags = 0;
  for (let i = 0; i < raw.length; i++) {
    const u = raw.charCodeAt(i);
    const k = unitClass[u]!;
    flags |= k === 0 ? classifyUnit(u) : k;
  }
  return flags;
}

/** Exposed for tests: the class bits of one code unit. */
export function unitClassForTest(u: number): {
  erased: boolean;
  confusable: boolean;
  nfkcUnsafe: boolean;
  surrogate: boolean;
} {
  const k = unitClass[u] || classifyUnit(u);
  return {
    erased: (k & UNIT_ERASED) !== 0,
    confusable: (k & UNIT_CONFUSABLE) !== 0,
    nfkcUnsafe: (k & UNIT_NFKC_UNSAFE) !== 0,
    surrogate: (k & UNIT_SURROGATE) !== 0,
  };
}

/** Code units the view's slow path writes, and the raw offset of each; grown when needed. */
let viewUnits = new Uint16Array(4096);
let viewMap = new Int32Array(4096);

/**
 * The text the rules read: what the sanitiser erases dropped, NFKC per code point (fullwidth and
 * mathematical letters become plain), confusables inside mixed-script words mapped to Latin.
 * Keeps a map back to raw offsets so findings point at what the caller gave.
 */
function buildView(raw: string): View {
  if (VIEW_PLAIN.test(raw)) return { text: raw, map: undefined, rawUnits: 0 };
  // One pass of table lookups answers what three whole-text patterns and a normalisation did:
  // is anything erased, is anything confusable, does NFKC change any code point. (The
  // whole-text NFKC test is kept for texts with surrogates; without, the slow path would copy
  // every code point as it is, since it normalises each alone, so the raw text is the view.)
  const units = classifyUnits(raw);
  // Every escape introducer (ESC, 8-bit CSI/DCS/OSC…) is itself an erased control character.
  // A surrogate may be a lone one (erased) or half of a pair (perhaps an erased tag character):
  // the pattern decides.
  const hasErased = (units & UNIT_SURROGATE) !== 0 ? ERASED_ANY.test(raw) : (units & UNIT_ERASED) !== 0;
  if (
    !hasErased &&
    (units & UNIT_CONFUSABLE) === 0 &&
    ((units & (UNIT_NFKC_UNSAFE | UNIT_SURROGATE)) === 0 || raw.normalize('NFKC') === raw)
  ) {
    return { text: raw, map: undefined, rawUnits: units };
  }
  // Terminal escape sequences are dropped from the view: "\x1b[31mIgnore" must read as
  // "Ignore", or a colour code glued to a word would hide it from every \b-anchored rule.
  const skip = new Map<number, number>();
  if (hasErased) for (const m of raw.matchAll(ANSI_SEQUENCE)) skip.set(m.index, m.index + m[0].length);
  let out = viewUnits;
  let map = viewMap;
  let n = 0;
  for (let i = 0; i < raw.length;) {
    if (hasErased) {
      const skipTo = skip.get(i);
      if (skipTo !== undefined) {
        i = skipTo;
        continue;
      }
    }
    // NFKC of one code point is at most 18 code units.
    if (n + 18 > out.length) {
      const grownOut = new Uint16Array(out.length * 2 + 18);
      grownOut.set(out.subarray(0, n));
      const grownMap = new Int32Array(out.length * 2 + 18);
      grownMap.set(map.subarray(0, n));
      out = viewUnits = grownOut;
      map = viewMap = grownMap;
    }
    // Printable ASCII, tab and newline: nothing to erase, NFKC-stable. Most of a mixed text is
    // this, and one comparison beats a pattern test and a normalisation per character.
    const c = raw.charCodeAt(i);
    if ((c >= 0x20 && c < 0x7f) || c === 9 || c === 10) {
      out[n] = c;
      map[n++] = i;
      i++;
      continue;
    }
    const k = unitClass[c]!;
    if ((k & UNIT_SURROGATE) === 0) {
      // A BMP code point: the table says whether it is erased and whether NFKC keeps it.
      if ((k & UNIT_ERASED) === 0) {
        if ((k & UNIT_NFKC_UNSAFE) === 0) {
          out[n] = c;
          map[n++] = i;
        } else {
          const norm = String.fromCharCode(c).normalize('NFKC');
          for (let j = 0; j < norm.length; j++) {
            out[n] = norm.charCodeAt(j);
            map[n++] = i;
          }
        }
      }
      i++;
      continue;
    }
    const cp = raw.codePointAt(i) ?? 0;
    const ch = String.fromCodePoint(cp);
    if (!ERASED_ONE.test(ch)) {
      const norm = ch.normalize('NFKC');
      for (let j = 0; j < norm.length; j++) {
        out[n] = norm.charCodeAt(j);
        map[n++] = i;
      }
    }
    i += ch.length;
  }
  let text = '';
  for (let at = 0; at < n; at += 8192)
    text += String.fromCharCode.apply(null, out.subarray(at, Math.min(n, at + 8192)) as unknown as number[]);
  if ((units & UNIT_CONFUSABLE) !== 0 || CONFUSABLE_CLASS.test(text)) {
    text = text.replace(WORD_RE, (word) =>
      LATIN_RE.test(word) && CONFUSABLE_CLASS.test(word)
        ? [...word].map((c) => CONFUSABLES[c] ?? c).join('')
        : word,
    );
  }
  return { text, map: map.slice(0, n), rawUnits: units };
}

function toRaw(view: View, index: number, rawLength: number): number {
  if (!view.map) return index;
  return index < view.map.length ? (view.map[index] ?? rawLength) : rawLength;
}

/**
 * The raw offset just past the view character before `end`: past the raw character it came
 * from, not at the next kept one, so text the view dropped (an escape sequence, an invisible
 * character) after a match is not counted in the finding.
 */
function endToRaw(view: View, end: number, raw: string): number {
  if (!view.map || end === 0) return toRaw(view, end, raw.length);
  const last = toRaw(view, end - 1, raw.length);
  return last + ((raw.codePointAt(last) ?? 0) > 0xffff ? 2 : 1);
}

interface Hit {
  readonly rule: InjectionRule;
  readonly weight: number;
  readonly start: number;
  readonly end: number;
}

/** Each rule's prefilter, compiled with the rule's own flags (case-insensitivity, `u`). */
const NEEDS: readonly RegExp[] = RULES.map((r) => new RegExp(r.need, r.re.flags.replace(/[gmd]/g, '')));
/** Each rule made sticky, for the anchored attempts at its possible starts. */
const STICKY: readonly RegExp[] = RULES.map(
  (r) => new RegExp(r.re.source, `${r.re.flags.replace('g', '')}y`),
);

/**
 * Every rule's `starts` in one index: a trie over lower-case letters and digits whose nodes carry
 * the rules a word ending there (`exact`) or beginning so (`prefix`) can start, plus the rules
 * per ASCII character and per line start. One pass over the text then lists, per rule, the
 * positions it must be tried at.
 */
const ALNUM = 36;
interface StartIndex {
  readonly next: Int32Array;
  readonly prefix: Int32Array;
  readonly exact: Int32Array;
  readonly char: Int32Array;
  readonly lineStart: number;
  /** Per rule with line starts, its bit and the character they need. */
  readonly lineStartNeeds: ReadonlyArray<readonly [number, string]>;
}

function alnumCode(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return c - 0x61;
  if (c >= 0x41 && c <= 0x5a) return c - 0x41;
  if (c >= 0x30 && c <= 0x39) return 26 + c - 0x30;
  return -1;
}

/** `alnumCode` of every UTF-16 code unit, so the pass over the text reads a table. */
const ALNUM_CODE = new Int8Array(65536).fill(-1);
for (let c = 0; c < 128; c++) ALNUM_CODE[c] = alnumCode(c);

function buildStartIndex(rules: readonly Rule[]): StartIndex {
  if (rules.length > 31) throw new Error('the start index keeps rules in a 31-bit mask');
  const children: number[][] = [[]];
  const prefix: number[] = [0];
  const exact: number[] = [0];
  const char = new Int32Array(128);
  let lineStart = 0;
  const lineStartNeeds: Array<readonly [number, string]> = [];
  rules.forEach((r, i) => {
    const bit = 1 << i;
    for (const w of r.starts.words.split(' ').filter(Boolean)) {
      const isPrefix = w.endsWith('*');
      const word = isPrefix ? w.slice(0, -1) : w;
      let node = 0;
      for (let k = 0; k < word.length; k++) {
        const c = alnumCode(word.charCodeAt(k));
        if (c < 0 || word[k] !== word[k]!.toLowerCase()) throw new Error(`bad start word ${w}`);
        let child = children[node]![c];
        if (child === undefined) {
          child = children.length;
          children.push([]);
          prefix.push(0);
          exact.push(0);
          children[node]![c] = child;
        }
        node = child;
      }
      if (isPrefix) prefix[node]! |= bit;
      else exact[node]! |= bit;
    }
    for (const ch of r.starts.chars ?? '') char[ch.charCodeAt(0)]! |= bit;
    if (r.starts.lineStart !== undefined) {
      lineStart |= bit;
      lineStartNeeds.push([bit, r.starts.lineStart]);
    }
  });
  const next = new Int32Array(children.length * ALNUM);
  children.forEach((kids, node) => kids.forEach((child, c) => (next[node * ALNUM + c] = child)));
  return {
    next,
    prefix: Int32Array.from(prefix),
    exact: Int32Array.from(exact),
    char,
    lineStart,
    lineStartNeeds,
  };
}

const START_INDEX = buildStartIndex(RULES);

/** Per rule with `nonAscii` letters: a pattern for one character matching one of them. */
const NON_ASCII_STARTS: ReadonlyArray<readonly [number, RegExp]> = RULES.flatMap((r, i) =>
  r.starts.nonAscii === undefined
    ? []
    : [[1 << i, new RegExp(`^[${r.starts.nonAscii}]$`, r.re.flags.replace(/[gmdy]/g, ''))] as const],
);
/** Exposed for tests: the one-character patterns of the rules' `nonAscii` letters. */
export const nonAsciiStartPatterns = (): RegExp[] => NON_ASCII_STARTS.map(([, re]) => re);
/** Per BMP code unit beyond ASCII, the rules whose `nonAscii` letters it matches; -1: not yet known. */
const nonAsciiMask = new Int32Array(65536).fill(-1);

function nonAsciiStarts(u: number): number {
  let mask = 0;
  const ch = String.fromCharCode(u);
  for (const [bit, re] of NON_ASCII_STARTS) if (re.test(ch)) mask |= bit;
  nonAsciiMask[u] = mask;
  return mask;
}

interface Starting {
  /** How many entries `position` and `mask` hold. */
  readonly count: number;
  /** Positions at which some rule can start, ascending (a position may repeat)… */
  readonly position: Int32Array;
  /** …and the rules (bit i: RULES[i]) that can start at each. */
  readonly mask: Int32Array;
  /** Per rule, whether any entry names it. */
  readonly any: number;
  /** Whether every character of the text is ASCII. */
  readonly ascii: boolean;
  /**
   * Whether the text has ſ or the Kelvin sign, the only characters beyond ASCII that `u` case
   * folding matches with ASCII letters or `\w` (checked over every code point): the `nonAscii`
   * starts do not cover them (see `Starts.nonAscii`).
   */
  readonly folds: boolean;
  /** Whether the text has 40 base64 characters in a row (see hasBase64Run). */
  readonly base64Run: boolean;
}

// Reused between calls (runRules finishes with them before a nested scan of decoded base64
// starts), grown when a text needs more.
let positionBuffer = new Int32Array(1024);
let maskBuffer = new Int32Array(1024);

/** One pass over the view: where each rule can start, and two facts the other checks reuse. */
function findStarts(text: string): Starting {
  const { next, prefix, exact, char, lineStartNeeds } = START_INDEX;
  let lineStart = 0;
  for (const [bit, needs] of lineStartNeeds) if (text.includes(needs)) lineStart |= bit;
  const length = text.length;
  // At most one entry per character, plus one for the text's start.
  if (positionBuffer.length < length + 2) {
    positionBuffer = new Int32Array(length + 2);
    maskBuffer = new Int32Array(length + 2);
  }
  const position = positionBuffer;
  const masks = maskBuffer;
  let count = 0;
  let any = 0;
  let ascii = true;
  let folds = false;
  let run = 0;
  let base64Run = false;
  let pendingLine = lineStart;
  for (let i = 0; i < length;) {
    const c = text.charCodeAt(i);
    // A line start owed from the previous character merges into this position's entry.
    let mask = pendingLine;
    pendingLine = 0;
    let k = ALNUM_CODE[c]!;
    if (k >= 0) {
      // A word: walk the trie while it has the word's characters.
      const start = i;
      let node = 0;
      do {
        if (node >= 0) {
          node = next[node * ALNUM + k]!;
          if (node === 0) node = -1;
          else mask |= prefix[node]!;
        }
        i++;
        k = i < length ? ALNUM_CODE[text.charCodeAt(i)]! : -1;
      } while (k >= 0);
      if (node > 0) mask |= exact[node]!;
      if (mask !== 0) {
        position[count] = start;
        masks[count++] = mask;
        any |= mask;
      }
      run += i - start;
      if (run >= 40) base64Run = true;
      continue;
    }
    if (c < 0x80) {
      mask |= char[c]!;
      if (c === 0x0a || c === 0x0d) pendingLine = lineStart;
      run = c === 0x2b || c === 0x2f || c === 0x5f || c === 0x2d ? run + 1 : 0;
      if (run >= 40) base64Run = true;
    } else {
      ascii = false;
      run = 0;
      if (c === 0x2028 || c === 0x2029) pendingLine = lineStart;
      else if (c === 0x17f || c === 0x212a) folds = true;
      const m = nonAsciiMask[c]!;
      mask |= m < 0 ? nonAsciiStarts(c) : m;
    }
    if (mask !== 0) {
      position[count] = i;
      masks[count++] = mask;
      any |= mask;
    }
    i++;
  }
  if (pendingLine !== 0) {
    position[count] = length;
    masks[count++] = pendingLine;
    any |= pendingLine;
  }
  return { count, position, mask: masks, any, ascii, folds, base64Run };
}

function runRules(
  view: View,
  raw: string,
  kind: InjectionKind,
  hits: Hit[],
  starting: Starting | undefined,
): void {
  const rawLength = raw.length;
  const text = view.text;
  const record = (r: Rule, w: number, m: RegExpExecArray): void => {
    const end = m.index + m[0].length;
    if (r.negatable && NEGATED_BEFORE.test(text.slice(Math.max(0, m.index - 30), m.index))) return;
    const weight = isMention(text, m.index, end) ? w * MENTION_DAMPING : w;
    hits.push({
      rule: r.rule,
      weight,
      start: toRaw(view, m.index, rawLength),
      end: endToRaw(view, end, raw),
    });
  };
  for (const [i, r] of RULES.entries()) {
    const w = r.weight[kind];
    if (w === 0) continue;
    const anchored =
      starting !== undefined && (starting.ascii || r.starts.nonAscii === undefined || !starting.folds);
    if (anchored && !r.starts.gate) {
      // Tried only where a match can start, in order, from the end of the previous match.
      if ((starting.any & (1 << i)) === 0) continue;
      const sticky = STICKY[i]!;
      const bit = 1 << i;
      let from = 0;
      for (let e = 0; e < starting.count; e++) {
        if ((starting.mask[e]! & bit) === 0) continue;
        const p = starting.position[e]!;
        if (p < from) continue;
        sticky.lastIndex = p;
        const m = sticky.exec(text);
        if (m === null) continue;
        if (m[0].length === 0) {
          from = p + 1;
          continue;
        }
        from = p + m[0].length;
        record(r, w, m);
      }
      continue;
    }
    if (anchored ? (starting.any & (1 << i)) === 0 : starting !== undefined && !NEEDS[i]!.test(text))
      continue;
    r.re.lastIndex = 0;
    for (let m = r.re.exec(text); m !== null; m = r.re.exec(text)) {
      if (m[0].length === 0) {
        r.re.lastIndex++;
        continue;
      }
      record(r, w, m);
    }
  }
}

const TAG_RUN = /[\u{E0000}-\u{E007F}]+/gu;
// Subdivision flags (🏴 + tag letters + cancel tag) are the one legitimate use of tag characters.
const FLAG_BASE = 0x1f3f4;
const ZERO_WIDTH_IN_WORD = /[A-Za-z][\u200b-\u200d\u2060\ufeff]+[A-Za-z]/gu;
const BIDI_OVERRIDE = /[\u202d\u202e]/gu;

function rawChecks(raw: string, hits: Hit[]): void {
  if (ASCII_ONLY.test(raw)) return;
  for (const m of raw.matchAll(TAG_RUN)) {
    const before = raw.codePointAt(m.index - 2);
    const isFlag = before === FLAG_BASE && m[0].length <= 14 && m[0].endsWith('\u{E007F}');
    if (!isFlag)
      hits.push({ rule: 'invisible-tags', weight: 0.85, start: m.index, end: m.index + m[0].length });
  }
  for (const m of raw.matchAll(ZERO_WIDTH_IN_WORD)) {
    hits.push({ rule: 'zero-width-in-word', weight: 0.4, start: m.index, end: m.index + m[0].length });
  }
  for (const m of raw.matchAll(BIDI_OVERRIDE)) {
    hits.push({ rule: 'bidi-override', weight: 0.4, start: m.index, end: m.index + 1 });
  }
  if (CONFUSABLE_CLASS.test(raw)) {
    for (const m of raw.matchAll(WORD_RE)) {
      if (LATIN_RE.test(m[0]) && CONFUSABLE_CLASS.test(m[0])) {
        hits.push({ rule: 'mixed-script-word', weight: 0.45, start: m.index, end: m.index + m[0].length });
      }
    }
  }
}

const isBase64Unit = (c: number): boolean =>
  (c >= 0x41 && c <= 0x5a) ||
  (c >= 0x61 && c <= 0x7a) ||
  (c >= 0x30 && c <= 0x39) ||
  c === 0x2b ||
  c === 0x2f ||
  c === 0x5f ||
  c === 0x2d;

/**
 * Whether `raw` has 40 base64 characters in a row: every base64Runs match needs that, and a plain
 * loop finds out far faster than the look-behind pattern scanning text that has none.
 */
function hasBase64Run(raw: string): boolean {
  let run = 0;
  for (let i = 0; i < raw.length; i++) {
    run = isBase64Unit(raw.charCodeAt(i)) ? run + 1 : 0;
    if (run >= 40) return true;
  }
  return false;
}

/**
 * The matches of `/(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{40,}={0,2}/g` (the pattern this loop
 * replaced), found by a loop: a match starts where a run of base64 characters
 * starts (the look-behind), takes the whole run (greedy, and nothing after it is a base64
 * character) when it is 40 long or more, then up to two '='. The pattern spends a look-behind
 * at every position; detection-view.test.ts compares the two on fuzzed text.
 */
export function base64Runs(raw: string): Array<{ readonly index: number; readonly 0: string }> {
  const found: Array<{ readonly index: number; readonly 0: string }> = [];
  const n = raw.length;
  for (let i = 0; i < n;) {
    if (!isBase64Unit(raw.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    while (i < n && isBase64Unit(raw.charCodeAt(i))) i++;
    if (i - start < 40) continue;
    let end = i;
    while (end < n && end - i < 2 && raw.charCodeAt(end) === 0x3d) end++;
    found.push({ index: start, 0: raw.slice(start, end) });
    i = end;
  }
  return found;
}

/**
 * The least model probability that counts in decoded base64. The description model has only seen
 * short tool descriptions and leans to "attack" on plain prose: benign descriptions in the training
 * split whose base64 decodes to ordinary sentences score up to 0.787 there (above the description
 * threshold, and the encoded-instructions weight then made them malicious), while the decoded
 * attacks it flags score 0.753 once and at least 0.95 otherwise. Tool output's threshold is above
 * this floor, so the floor changes descriptions only.
 */
const DECODED_MODEL_FLOOR = 0.8;

/**
 * Long base64 runs that decode to readable text are decoded and scanned with the same rules; a
 * payload that only says its instructions in base64 is an attack on the filter itself.
 */
function encodedChecks(
  raw: string,
  kind: InjectionKind,
  depth: number,
  engine: 'hybrid' | 'rules',
  hits: Hit[],
  prefilter: boolean,
): void {
  if (depth > 1 || raw.length < 40 || !hasBase64Run(raw)) return;
  for (const m of base64Runs(raw)) {
    const decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64').toString('utf8');
    if (decoded.length < 20) continue;
    let printable = 0;
    for (let i = 0; i < decoded.length; i++) {
      const c = decoded.charCodeAt(i);
      if ((c >= 0x20 && c < 0x7f) || c === 10 || c === 9 || c > 0xa0) printable++;
    }
    if (printable / decoded.length < 0.9) continue;
    const inner = scan(decoded, kind, depth + 1, prefilter, engine, DECODED_MODEL_FLOOR);
    if (inner.score >= SUSPICIOUS_THRESHOLD) {
      hits.push({
        rule: 'encoded-instructions',
        weight: Math.max(0.7, inner.score),
        start: m.index,
        end: m.index + m[0].length,
      });
    }
  }
}

// What the model adds when it says "injection": enough to make a text suspicious on its own, never
// malicious on its own (a malicious verdict blocks trust-on-first-use, and the model cannot say
// why). One fixed weight, so repeating a text does not change its score.
const MODEL_WEIGHT = 0.5;
function modelHit(view: View, raw: string, kind: InjectionKind, hits: Hit[], floor: number): void {
  const threshold = Math.max(MODEL_THRESHOLDS[kind], floor);
  if (threshold >= 1 || view.text.length < MODEL_MIN_LENGTH) return;
  const m = scoreWithModel(view.text, kind, committedModel());
  if (m.probability < threshold) return;
  hits.push({
    rule: 'model',
    weight: MODEL_WEIGHT,
    start: toRaw(view, m.start, raw.length),
    end: m.end === 0 ? 0 : endToRaw(view, m.end, raw),
  });
}

/** The normalised text the rules and the model read (see buildView). */
export function detectionView(raw: string): string {
  return buildView(raw).text;
}

function scan(
  raw: string,
  kind: InjectionKind,
  depth: number,
  prefilter: boolean,
  engine: 'hybrid' | 'rules',
  modelFloor = 0,
): InjectionReport {
  const hits: Hit[] = [];
  const view = buildView(raw);
  const starting = prefilter ? findStarts(view.text) : undefined;
  runRules(view, raw, kind, hits, starting);
  // When the view is the raw text, the pass over it also says whether the raw checks (each needs
  // a character beyond ASCII) and the base64 scan can find anything.
  const same = view.map === undefined && view.text === raw;
  // The raw checks look for tag characters (astral), zero-width and bidi controls (erased) and
  // confusables: a raw text with none of these classes has nothing for them.
  if (!prefilter || (view.rawUnits & (UNIT_ERASED | UNIT_CONFUSABLE | UNIT_SURROGATE)) !== 0)
    rawChecks(raw, hits);
  if (!(same && starting && !starting.base64Run)) encodedChecks(raw, kind, depth, engine, hits, prefilter);
  if (engine === 'hybrid') modelHit(view, raw, kind, hits, modelFloor);
  // Each rule contributes once, at the weight of its strongest match: repeating one phrase a
  // hundred times is no more evidence than saying it once.
  const strongest = new Map<InjectionRule, number>();
  for (const h of hits) strongest.set(h.rule, Math.max(strongest.get(h.rule) ?? 0, h.weight));
  let keep = 1;
  for (const w of strongest.values()) keep *= 1 - w;
  const score = Math.round((1 - keep) * 1000) / 1000;
  const verdict: InjectionVerdict =
    score >= MALICIOUS_THRESHOLD ? 'malicious' : score >= SUSPICIOUS_THRESHOLD ? 'suspicious' : 'clean';
  hits.sort((a, b) => a.start - b.start || a.end - b.end);
  return { verdict, score, findings: hits.map(({ rule, start, end }) => ({ rule, start, end })) };
}

/**
 * Scores text for prompt-injection signals. Run it on the raw text, before sanitising: the
 * invisible-character and mixed-script checks need to see what sanitising would remove.
 */
export function detectInjection(text: string, options: DetectOptions): InjectionReport {
  return scan(text, options.kind, 0, true, options.engine ?? 'hybrid');
}

/**
 * The detector with every rule run on every text (no keyword prefilter). Not for production:
 * it exists so the equivalence test and the evaluation can show the prefilter changes nothing.
 */
export function detectInjectionExhaustive(text: string, options: DetectOptions): InjectionReport {
  return scan(text, options.kind, 0, false, options.engine ?? 'hybrid');
}
