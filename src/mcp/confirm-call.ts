import { randomBytes } from 'node:crypto';
import { mintConfirmationState, verifyConfirmationState, type CallBinding } from '../approvals/index.js';
import type { JsonValue } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { hashArgs, type ApprovalChannel, type DecisionReason } from '../policy/index.js';
import type { ConfirmationStore } from '../storage/index.js';
import type { Tool } from '../tools/index.js';

/**
 * The confirmation stage: enforces a `confirm` decision. The tool runs only once the same
 * person has approved this exact call (same credential, tool and canonical arguments), through
 * whichever channel the client can carry:
 *
 * - `input-required` (2026-07-28 clients that declare elicitation): the call is answered with an
 *   input-required result holding a form elicitation and a server-minted, signed request state
 *   bound to the call; the retry must echo the state and carry an accepting answer. The state's
 *   nonce is recorded when used, so it answers once.
 * - `session` (2025 clients in a stateful session): an elicitation on the request's own stream;
 *   the binding holds by construction (one request, one credential, arguments already parsed)
 *   and the answer is awaited at most the in-band TTL.
 * - `page` (every other client, and tools whose policy says `approval: out-of-band`): the call
 *   is answered with the URL of an approval page; the person signs in, approves or denies; the
 *   client's retry of the same call (credential binding + tool + argument hash) uses the answer
 *   once.
 */

export type ConfirmVia = 'input-required' | 'session' | 'page';

/** What a client's answer to an elicitation says. */
export type ElicitAnswer =
  | { readonly action: 'accept'; readonly content?: Record<string, unknown> }
  | { readonly action: 'decline' | 'cancel' }
  | { readonly action: 'expired' };

export type ConfirmStep =
  | { readonly kind: 'proceed' }
  /** The tool does not run; the client gets `text` as an isError result. */
  | { readonly kind: 'stop'; readonly reason: DecisionReason; readonly text: string }
  | { readonly kind: 'ask-input'; readonly message: string; readonly requestState: string }
  | {
      readonly kind: 'ask-session';
      readonly message: string;
      readonly timeoutMs: number;
      readonly answer: (a: ElicitAnswer) => ConfirmStep & { kind: 'proceed' | 'stop' };
    };

export interface ConfirmDeps {
  readonly key: Buffer;
  readonly store: ConfirmationStore;
  readonly inBandTtlMs: number;
  readonly approvalTtlMs: number;
  /** `<publicUrl>/approvals/<id>`; the public URL is known only once the listener is bound. */
  readonly approvalUrl: (id: string) => string;
  readonly now: () => Date;
}

export interface CallToConfirm {
  readonly principal: Principal;
  readonly tool: Tool;
  /** The arguments exactly as the client sent them: what the confirmation is bound to. */
  readonly args: unknown;
  /** The arguments as the person sees them (secrets redacted). */
  readonly shownArgs: JsonValue;
  readonly channel: ApprovalChannel;
  /** What the client can carry (decided by the HTTP layer from the protocol and capabilities). */
  readonly client: 'input-required' | 'session' | 'none';
  readonly requestState?: unknown;
  readonly inputResponses?: Record<string, unknown>;
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

const SHOWN_ARGS_MAX = 4000;

/** The call in plain words, for the person who confirms it. */
export function describeCall(tool: Tool, shownArgs: JsonValue): string {
  let args = JSON.stringify(shownArgs, null, 2);
  if (args.length > SHOWN_ARGS_MAX) args = `${args.slice(0, SHOWN_ARGS_MAX)}\n… (cut)`;
  const from = tool.upstream ? `the upstream server "${tool.upstream}"` : 'Portcullis (built in)';
  return (
    `Portcullis asks you to approve a ${tool.class} action.\n` +
    `Tool: ${tool.name} (${tool.title}), from ${from}.\n` +
    `What it does: ${tool.description}\n` +
    `Arguments:\n${args}\n` +
    'Approve only if you asked for exactly this.'
  );
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

export function createConfirmStage(deps: ConfirmDeps) {
  const retryText = (tool: Tool, why: string) =>
    `This ${tool.name} call did not run: ${why}. Call ${tool.name} again, without requestState, to ask the person afresh.`;

  async function viaInputRequired(call: CallToConfirm, binding: CallBinding): Promise<ConfirmStep> {
    const now = deps.now().getTime();
    // Answers without a server-minted state are ignored: a client cannot pre-fill "accept".
    if (call.requestState === undefined) {
      return {
        kind: 'ask-input',
        message: describeCall(call.tool, call.shownArgs),
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

  function viaSession(call: CallToConfirm): ConfirmStep {
    let answered = false;
    return {
      kind: 'ask-session',
      message: describeCall(call.tool, call.shownArgs),
      timeoutMs: deps.inBandTtlMs,
      answer(a) {
        if (answered)
          return {
            kind: 'stop',
            reason: 'confirmation-replayed',
            text: retryText(call.tool, 'answered twice'),
          };
        answered = true;
        if (a.action === 'expired') {
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

  async function viaPage(call: CallToConfirm, binding: CallBinding): Promise<ConfirmStep> {
    const now = deps.now();
    const existing = await deps.store.findApproval(binding.binding, binding.tool, binding.argsHash);
    if (existing && existing.expiresAt > now) {
      if (existing.status === 'approved' || existing.status === 'denied') {
        // The retry consumes the person's answer, whichever it was: one approval, one run.
        if (!(await deps.store.useApproval(existing.id))) {
          return {
            kind: 'stop',
            reason: 'confirmation-replayed',
            text: retryText(call.tool, 'its approval was already used'),
          };
        }
        return existing.status === 'approved' ? { kind: 'proceed' } : declined(call.tool);
      }
      return pending(call, existing.id, existing.expiresAt, 'confirmation-pending');
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
    return pending(call, id, expiresAt, existing ? 'confirmation-expired' : 'confirmation-pending');
  }

  function pending(
    call: CallToConfirm,
    id: string,
    expiresAt: Date,
    reason: 'confirmation-pending' | 'confirmation-expired',
  ): ConfirmStep {
    const minutes = Math.max(1, Math.round((expiresAt.getTime() - deps.now().getTime()) / 60_000));
    return {
      kind: 'stop',
      reason,
      text:
        `${reason === 'confirmation-expired' ? 'The earlier approval expired. ' : ''}` +
        `${call.tool.name} needs a person's approval before it runs. Ask the user (${call.principal.subject}) ` +
        `to open ${deps.approvalUrl(id)} , sign in, check this exact call and approve it; then call ` +
        `${call.tool.name} again with exactly the same arguments. The approval expires in ${minutes} ` +
        `minute${minutes === 1 ? '' : 's'}. Pending call: ${id}`,
    };
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
      const via: ConfirmVia = call.channel === 'out-of-band' || call.client === 'none' ? 'page' : call.client;
      switch (via) {
        case 'input-required':
          return viaInputRequired(call, binding);
        case 'session':
          return viaSession(call);
        case 'page':
          return viaPage(call, binding);
      }
    },
  };
}

export type ConfirmStage = ReturnType<typeof createConfirmStage>;
