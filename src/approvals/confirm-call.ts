import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintConfirmationState, verifyConfirmationState, type CallBinding } from './confirmation-state.js';
import type { JsonValue } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { hashArgs, type ApprovalChannel, type DecisionReason } from '../policy/index.js';
import { revealHiddenText } from '../safety/index.js';
import type { ConfirmationStore } from '../storage/index.js';
import type { Tool } from '../tools/index.js';

/**
 * The confirmation stage: enforces a `confirm` decision. The tool runs only once the same
 * person has approved this exact call (same credential, tool and canonical arguments).
 *
 * Out of band (the default, `obligations.approval: out-of-band`): the person decides on the
 * approval page `/approvals/<id>`, signed in as themselves. Client software can show the link
 * but cannot answer for the person, so an agent loop that accepts its own prompts gets nothing.
 * The client is given the link the way it can show one:
 *
 * - `input-required` clients (2026-07-28) that declare URL-mode elicitation: an input-required
 *   result with a URL elicitation (`inputRequired.elicitUrl`). Its "accept" only says the link
 *   was shown; the retry that carries it is held open for the person's decision (at most
 *   `approvalWaitMs`), then runs, is declined, or is asked again.
 * - `session` clients (2025-11-25) that declare URL-mode elicitation: a URL elicitation on the
 *   request's own stream; after "accept" the call waits for the decision in the same way, and
 *   the client is sent `notifications/elicitation/complete` once the page was answered.
 * - everyone else: an `isError` result with the link; the client's retry of the same call
 *   (credential binding + tool + argument hash) uses the person's answer once.
 *
 * In band (the operator opted the tool in, the caller acts for a person, and the whole call
 * fits in the message): a form elicitation the client answers.
 *
 * - `input-required`: an input-required result holding the form and a server-minted, signed
 *   request state bound to the call; the retry must echo the state and carry an accepting
 *   answer. The state's nonce is recorded when used, so it answers once.
 * - `session`: an elicitation on the request's own stream; the binding holds by construction
 *   (one request, one credential, arguments already parsed) and the answer is awaited at most
 *   the in-band TTL.
 */

/** What a client's answer to an elicitation says. */
export type ElicitAnswer =
  | { readonly action: 'accept'; readonly content?: Record<string, unknown> }
  | { readonly action: 'decline' | 'cancel' }
  | { readonly action: 'expired' }
  /** The session's client declared no URL-mode elicitation: it can only be given text. */
  | { readonly action: 'unsupported' };

/** Done by the transport once a URL elicitation's page was answered (2025-11-25). */
export interface SessionHooks {
  readonly complete?: () => Promise<void>;
}

type Finished = ConfirmStep & { kind: 'proceed' | 'stop' };

export type ConfirmStep =
  | { readonly kind: 'proceed' }
  /** The tool does not run; the client gets `text` as an isError result. */
  | { readonly kind: 'stop'; readonly reason: DecisionReason; readonly text: string }
  /**
   * 2026-07-28: an input-required result: the confirmation form with its signed state, or
   * (`url`) a URL elicitation of the approval page.
   */
  | {
      readonly kind: 'ask-input';
      readonly message: string;
      readonly requestState?: string;
      readonly url?: string;
      /** Why it asks again, for the audit record (a pending or renewed approval). */
      readonly reason?: 'confirmation-pending' | 'confirmation-expired';
    }
  /** 2025 session: an elicitation on the request's stream, the form or (`url`) the page. */
  | {
      readonly kind: 'ask-session';
      readonly message: string;
      readonly timeoutMs: number;
      readonly url?: string;
      readonly elicitationId?: string;
      readonly answer: (a: ElicitAnswer, hooks?: SessionHooks) => Promise<Finished>;
    };

export interface ConfirmDeps {
  readonly key: Buffer;
  readonly store: ConfirmationStore;
  readonly inBandTtlMs: number;
  readonly approvalTtlMs: number;
  /** How long a call whose client showed the approval link waits for the person's decision. */
  readonly approvalWaitMs: number;
  /** `<publicUrl>/approvals/<id>`; the public URL is known only once the listener is bound. */
  readonly approvalUrl: (id: string) => string;
  readonly now: () => Date;
}

export interface CallToConfirm {
  readonly principal: Principal;
  readonly tool: Tool;
  /** The arguments exactly as the client sent them: what the confirmation is bound to. */
  readonly args: unknown;
  /** The arguments as the person sees them: exact, but for the gateway's own secret values. */
  readonly shownArgs: JsonValue;
  readonly channel: ApprovalChannel;
  /** What the client can carry (decided by the HTTP layer from the protocol and capabilities). */
  readonly client: 'input-required' | 'session' | 'none';
  /** `input-required`: the elicitation modes the request declares. */
  readonly elicits?: { readonly form: boolean; readonly url: boolean };
  readonly requestState?: unknown;
  readonly inputResponses?: Record<string, unknown>;
  /** Aborted when the client goes away: a call waiting for the page stops waiting. */
  readonly signal?: AbortSignal;
}

/** The schema of the confirmation form: one boolean, the person's yes. */
export const confirmSchema = () => ({
  type: 'object' as const,
  properties: {
    approve: {
      type: 'boolean' as const,
      title: 'Approve this call',
      description: 'Run this exact call once.',
    },
  },
  required: ['approve'],
});
export const CONFIRM_KEY = 'portcullis-confirm';

/** The longest argument text an in-band form shows; a longer call is asked on the page. */
const SHOWN_ARGS_MAX = 4000;
/** How often a waiting call looks for the person's decision. */
const POLL_MS = 250;

/**
 * The call in plain words, for the person who confirms it in-band, with hidden characters
 * (bidi controls, zero-width, tag characters) shown by name. `complete` is false when the
 * arguments do not fit: an in-band prompt is never cut short; that call goes to the page.
 */
function describeCall(tool: Tool, shownArgs: JsonValue): { text: string; complete: boolean } {
  const args = revealHiddenText(JSON.stringify(shownArgs, null, 2));
  const from = tool.upstream ? `the upstream server "${tool.upstream}"` : 'Portcullis (built in)';
  return {
    complete: args.length <= SHOWN_ARGS_MAX,
    text:
      `Portcullis asks you to approve a ${tool.class} action.\n` +
      `Tool: ${tool.name} (${tool.title}), from ${from}.\n` +
      `What it does: ${tool.description}\n` +
      `Arguments:\n${args}\n` +
      'Approve only if you asked for exactly this.',
  };
}

/** An elicitation answer as sent by a client: untrusted, so read field by field. */
export function readElicitAnswer(value: unknown): ElicitAnswer {
  if (typeof value !== 'object' || value === null) return { action: 'cancel' };
  const v = value as Record<string, unknown>;
  if (v.action === 'accept') {
    const content =
      typeof v.content === 'object' && v.content !== null
        ? (v.content as Record<string, unknown>)
        : undefined;
    return content ? { action: 'accept', content } : { action: 'accept' };
  }
  return { action: v.action === 'decline' ? 'decline' : 'cancel' };
}

const approved = (a: ElicitAnswer) => a.action === 'accept' && a.content?.approve === true;

const declined = (tool: Tool): ConfirmStep & { kind: 'stop' } => ({
  kind: 'stop',
  reason: 'confirmation-declined',
  text: `The person declined this ${tool.name} call; it did not run. Do not retry unless they ask you to.`,
});

/** The approval of a call on the page: decided (and now used), or still waiting for the person. */
type PageState =
  | { readonly kind: 'decided'; readonly step: Finished }
  | {
      readonly kind: 'pending';
      readonly id: string;
      readonly expiresAt: Date;
      readonly reason: 'confirmation-pending' | 'confirmation-expired';
    };

export function createConfirmStage(deps: ConfirmDeps) {
  const retryText = (tool: Tool, why: string) =>
    `This ${tool.name} call did not run: ${why}. Call ${tool.name} again, without requestState, to ask the person afresh.`;

  async function viaInputRequired(
    call: CallToConfirm,
    binding: CallBinding,
    message: string,
  ): Promise<ConfirmStep> {
    const now = deps.now().getTime();
    // Answers without a server-minted state are ignored: a client cannot pre-fill "accept".
    if (call.requestState === undefined) {
      return {
        kind: 'ask-input',
        message,
        requestState: mintConfirmationState(deps.key, binding, now + deps.inBandTtlMs),
      };
    }
    const checked = verifyConfirmationState(deps.key, call.requestState, binding, now);
    if (!checked.ok) {
      const why = {
        'confirmation-invalid': 'its confirmation state was not issued by Portcullis',
        'confirmation-expired': 'its confirmation expired',
        'confirmation-mismatch': 'its confirmation was given for another call (tool, arguments or caller)',
      }[checked.reason];
      return { kind: 'stop', reason: checked.reason, text: retryText(call.tool, why) };
    }
    // Single use: the nonce is recorded before the answer is read, so a replayed decline is a
    // replay too, and two concurrent retries cannot both run the tool.
    if (!(await deps.store.useNonce(checked.claims.n, new Date(checked.claims.e)))) {
      return {
        kind: 'stop',
        reason: 'confirmation-replayed',
        text: retryText(call.tool, 'its confirmation was already used'),
      };
    }
    return approved(readElicitAnswer(call.inputResponses?.[CONFIRM_KEY]))
      ? { kind: 'proceed' }
      : declined(call.tool);
  }

  function viaSession(call: CallToConfirm, message: string): ConfirmStep {
    let answered = false;
    return {
      kind: 'ask-session',
      message,
      timeoutMs: deps.inBandTtlMs,
      async answer(a) {
        if (answered)
          return {
            kind: 'stop',
            reason: 'confirmation-replayed',
            text: retryText(call.tool, 'answered twice'),
          };
        answered = true;
        if (a.action === 'expired' || a.action === 'unsupported') {
          return {
            kind: 'stop',
            reason: 'confirmation-expired',
            text: `Nobody confirmed this ${call.tool.name} call in time; it did not run.`,
          };
        }
        return approved(a) ? { kind: 'proceed' } : declined(call.tool);
      },
    };
  }

  /**
   * The page's answer for this exact call. A decided approval is consumed here, whichever way
   * it went (one approval, one run); a missing or expired one is created afresh.
   */
  async function pageState(call: CallToConfirm, binding: CallBinding): Promise<PageState> {
    const now = deps.now();
    const existing = await deps.store.findApproval(binding.binding, binding.tool, binding.argsHash);
    if (existing && existing.expiresAt > now) {
      if (existing.status === 'approved' || existing.status === 'denied') {
        if (!(await deps.store.useApproval(existing.id))) {
          return {
            kind: 'decided',
            step: {
              kind: 'stop',
              reason: 'confirmation-replayed',
              text: retryText(call.tool, 'its approval was already used'),
            },
          };
        }
        return {
          kind: 'decided',
          step: existing.status === 'approved' ? { kind: 'proceed' } : declined(call.tool),
        };
      }
      return {
        kind: 'pending',
        id: existing.id,
        expiresAt: existing.expiresAt,
        reason: 'confirmation-pending',
      };
    }
    const id = `apr_${randomBytes(16).toString('base64url')}`;
    const expiresAt = new Date(now.getTime() + deps.approvalTtlMs);
    await deps.store.insertApproval({
      id,
      binding: binding.binding,
      subject: call.principal.subject,
      tenant: call.principal.tenant,
      clientId: call.principal.clientId ?? null,
      tool: call.tool.name,
      upstream: call.tool.upstream ?? null,
      argsHash: binding.argsHash,
      args: JSON.stringify(call.shownArgs),
      createdAt: now,
      expiresAt,
      status: 'pending',
      decidedAt: null,
    });
    // A retry after an earlier approval expired is told so, and gets a new page.
    return {
      kind: 'pending',
      id,
      expiresAt,
      reason: existing ? 'confirmation-expired' : 'confirmation-pending',
    };
  }

  /**
   * Holds a call whose client showed the link until the person decides on the page (or the
   * approval expires), at most `approvalWaitMs`. True when there is something new to read.
   */
  async function waitForDecision(id: string, signal: AbortSignal | undefined): Promise<boolean> {
    const until = deps.now().getTime() + deps.approvalWaitMs;
    for (;;) {
      const a = await deps.store.getApproval(id);
      const now = deps.now().getTime();
      if (!a || a.status !== 'pending' || a.expiresAt.getTime() <= now) return true;
      if (now >= until || signal?.aborted) return false;
      try {
        await sleep(Math.min(POLL_MS, until - now), undefined, signal ? { signal } : {});
      } catch {
        return false; // the client went away
      }
    }
  }

  /** Waits for the page after the client showed the link, then reads its answer. */
  async function afterLinkShown(
    call: CallToConfirm,
    binding: CallBinding,
    pending: PageState & { kind: 'pending' },
  ): Promise<PageState> {
    return (await waitForDecision(pending.id, call.signal)) ? pageState(call, binding) : pending;
  }

  function pendingText(call: CallToConfirm, p: PageState & { kind: 'pending' }): Finished {
    const minutes = Math.max(1, Math.round((p.expiresAt.getTime() - deps.now().getTime()) / 60_000));
    return {
      kind: 'stop',
      reason: p.reason,
      text:
        `${p.reason === 'confirmation-expired' ? 'The earlier approval expired. ' : ''}` +
        `${call.tool.name} needs a person's approval before it runs. Ask the user (${call.principal.subject}) ` +
        `to open ${deps.approvalUrl(p.id)} , sign in, check this exact call and approve it; then call ` +
        `${call.tool.name} again with exactly the same arguments. The approval expires in ${minutes} ` +
        `minute${minutes === 1 ? '' : 's'}. Pending call: ${p.id}`,
    };
  }

  /** What the client shows beside the link: what is asked and where; the page shows the call. */
  const linkMessage = (call: CallToConfirm) =>
    `Portcullis needs ${call.principal.subject}'s approval before the ${call.tool.class} tool ` +
    `${call.tool.name} runs. Open the link, sign in, and check the exact call there.`;

  async function viaPage(call: CallToConfirm, binding: CallBinding): Promise<ConfirmStep> {
    let state = await pageState(call, binding);
    if (state.kind === 'decided') return state.step;
    const pending = state;
    const url = deps.approvalUrl(pending.id);

    if (call.client === 'input-required' && call.elicits?.url) {
      // A retry that answers our URL request: the client showed the link (its "accept" says no
      // more than that), so the person is given time to decide before the client asks again.
      if (readElicitAnswer(call.inputResponses?.[CONFIRM_KEY]).action === 'accept') {
        state = await afterLinkShown(call, binding, pending);
        if (state.kind === 'decided') return state.step;
      }
      return {
        kind: 'ask-input',
        message: linkMessage(call),
        url: deps.approvalUrl(state.id),
        reason: state.reason,
      };
    }

    if (call.client === 'session') {
      let answered = false;
      return {
        kind: 'ask-session',
        message: linkMessage(call),
        timeoutMs: deps.inBandTtlMs,
        url,
        elicitationId: pending.id,
        async answer(a, hooks) {
          if (answered || a.action !== 'accept') return pendingText(call, pending);
          answered = true;
          const after = await afterLinkShown(call, binding, pending);
          if (after.kind === 'pending') return pendingText(call, after);
          // The page was answered: tell the client its URL interaction is over.
          await hooks?.complete?.().catch(() => undefined);
          return after.step;
        },
      };
    }
    return pendingText(call, pending);
  }

  return {
    /** Runs the stage for one call whose decision is `confirm`. */
    async confirm(call: CallToConfirm): Promise<ConfirmStep> {
      const binding: CallBinding = {
        binding: call.principal.binding,
        subject: call.principal.subject,
        clientId: call.principal.clientId ?? '',
        tool: call.tool.name,
        argsHash: hashArgs(call.args),
      };
      if (call.channel === 'in-band') {
        const described = describeCall(call.tool, call.shownArgs);
        // A prompt that had to hide something is not the whole call: it goes to the page.
        const complete =
          described.complete && JSON.stringify(call.shownArgs) === JSON.stringify(call.args ?? {});
        const { text } = described;
        if (complete && call.client === 'session') return viaSession(call, text);
        if (complete && call.client === 'input-required' && call.elicits?.form !== false) {
          return viaInputRequired(call, binding, text);
        }
      }
      return viaPage(call, binding);
    },
  };
}

export type ConfirmStage = ReturnType<typeof createConfirmStage>;
