import type { EgressGuard, EgressRequestInit } from './create-egress-guard.js';

/** What a webhook sender needs of a reply: whether it was a 2xx, and its status for the log. */
export interface WebhookReply {
  readonly ok: boolean;
  readonly status: number;
}

/** The guard's fetch for a webhook sender (audit sink, alert handler): every post goes through it. */
export function webhookFetch(
  guard: EgressGuard,
): (url: string, init: EgressRequestInit) => Promise<WebhookReply> {
  return async (url, init) => {
    const res = await guard.fetch(url, init);
    return { ok: res.status >= 200 && res.status < 300, status: res.status };
  };
}
