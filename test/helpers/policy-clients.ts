import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

export type ElicitAnswer =
  { action: 'accept'; content: Record<string, string | number | boolean> } | { action: 'decline' | 'cancel' };
export type ToolResult = {
  content: { type: string; text?: string }[];
  structuredContent?: any;
  isError?: boolean;
};

export const ACCEPT: ElicitAnswer = { action: 'accept', content: { approve: true } };
export const DECLINE: ElicitAnswer = { action: 'decline' };

/**
 * An SDK v2 client on 2026-07-28 whose person answers confirmation forms with `answer` (the
 * elicitation handler the SDK's input-required driver calls). Every request it was shown is
 * kept in `asked`. Without `answer`, the client declares no elicitation at all.
 */
export async function connectV2(
  url: string,
  key: string,
  answer?: (message: string) => ElicitAnswer | Promise<ElicitAnswer>,
): Promise<{ client: Client; asked: string[] }> {
  const asked: string[] = [];
  const client = new Client(
    { name: 'policy-test', version: '1.0.0' },
    {
      versionNegotiation: { mode: 'auto' },
      ...(answer ? { capabilities: { elicitation: { form: {} } } } : {}),
    },
  );
  if (answer) {
    client.setRequestHandler('elicitation/create', async (request) => {
      const message = (request.params as { message: string }).message;
      asked.push(message);
      return answer(message);
    });
  }
  await client.connect(
    new StreamableHTTPClientTransport(new URL(url), {
      requestInit: { headers: { authorization: `Bearer ${key}` } },
    }),
  );
  return { client, asked };
}

export async function callTool(
  client: Client,
  name: string,
  args: Record<string, unknown>,
): Promise<ToolResult> {
  const result: unknown = await client.callTool({ name, arguments: args });
  return result as ToolResult;
}

export const textOf = (r: ToolResult) => r.content.map((c) => c.text ?? '').join('\n');

/**
 * A raw 2026-07-28 tools/call, as a hostile or hand-rolled client would send it: with whatever
 * `requestState` and `inputResponses` it likes. Returns the JSON-RPC response body.
 */
export async function modernCall(
  url: string,
  key: string,
  name: string,
  args: Record<string, unknown>,
  extra: { requestState?: unknown; inputResponses?: Record<string, unknown>; elicitation?: boolean } = {},
): Promise<{ result?: any; error?: { code: number; message: string } }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': name,
      authorization: `Bearer ${key}`,
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: {
        name,
        arguments: args,
        ...(extra.requestState !== undefined ? { requestState: extra.requestState } : {}),
        ...(extra.inputResponses ? { inputResponses: extra.inputResponses } : {}),
        _meta: {
          'io.modelcontextprotocol/protocolVersion': '2026-07-28',
          'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
          'io.modelcontextprotocol/clientCapabilities':
            extra.elicitation === false ? {} : { elicitation: { form: {} } },
        },
      },
    }),
  });
  return (await res.json()) as { result?: any; error?: { code: number; message: string } };
}

/** The answer a client sends back for Portcullis's confirmation form. */
export const answers = (a: ElicitAnswer) => ({ 'portcullis-confirm': a });
