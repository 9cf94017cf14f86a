import type { ChildHandle } from '../sandbox/index.js';
import type { Channel, RpcMessage } from './rpc-connection.js';

/** Bytes kept from the end of an oversized line: enough for `"jsonrpc":"2.0","id":N}`. */
const TAIL_BYTES = 256;

/**
 * MCP's stdio transport over a started process: one JSON-RPC message per line on stdout,
 * UTF-8, no embedded newlines (MCP basic/transports §stdio). A line longer than
 * `maxMessageBytes` is never buffered whole: the rest of it is skipped and only its last bytes
 * are handed to `onOversized`, so the connection can fail the request it answered. Lines that
 * are not JSON objects are ignored, as servers sometimes print banners to stdout.
 */
export function createStdioChannel(child: ChildHandle, maxMessageBytes: number): Channel {
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let skipping = false;
  let tail = Buffer.alloc(0);
  let closed = false;

  const channel: Channel = {
    onMessage: undefined,
    onClose: undefined,
    onOversized: undefined,
    send(message) {
      if (closed) return Promise.reject(new Error('channel closed'));
      return new Promise<void>((resolve, reject) => {
        child.stdin.write(`${JSON.stringify(message)}\n`, (err) => (err ? reject(err) : resolve()));
      });
    },
    async close() {
      finish('closed by the gateway');
      child.stdin.end();
    },
  };

  function finish(reason: string) {
    if (closed) return;
    closed = true;
    buffered = [];
    channel.onClose?.(reason);
  }

  function deliver(line: Buffer) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line.toString('utf8'));
    } catch {
      return;
    }
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      channel.onMessage?.(parsed as RpcMessage);
    }
  }

  const keepTail = (piece: Buffer) => {
    tail = Buffer.concat([tail, piece]).subarray(-TAIL_BYTES);
  };

  child.stdout.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl !== -1 && !closed; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      start = nl + 1;
      if (skipping || bufferedBytes + piece.length > maxMessageBytes) {
        keepTail(piece);
        channel.onOversized?.(tail.toString('utf8'));
        skipping = false;
        tail = Buffer.alloc(0);
      } else {
        deliver(buffered.length ? Buffer.concat([...buffered, piece]) : piece);
      }
      buffered = [];
      bufferedBytes = 0;
    }
    if (closed || start >= chunk.length) return;
    const rest = chunk.subarray(start);
    if (!skipping && bufferedBytes + rest.length > maxMessageBytes) {
      skipping = true;
      buffered = [];
      bufferedBytes = 0;
    }
    if (skipping) keepTail(rest);
    else {
      bufferedBytes += rest.length;
      buffered.push(Buffer.from(rest));
    }
  });
  child.stdout.on('close', () => finish('the process closed its output'));
  void child.exited.then((exit) =>
    finish(
      exit.error
        ? `the process could not start: ${exit.error.message}`
        : `the process exited (code ${exit.code}, signal ${exit.signal})`,
    ),
  );
  return channel;
}
