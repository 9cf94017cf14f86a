import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { TEST_CERT, TEST_KEY } from './oauth-tls.js';

export interface SyslogMessage {
  readonly pri: number;
  readonly header: string;
  readonly msgid: string;
  /** The MSG part with its BOM removed. */
  readonly text: string;
  readonly hadBom: boolean;
}

/**
 * A syslog-over-TLS receiver on 127.0.0.1 (RFC 5425 octet-counted framing) with the test
 * certificate, or the certificate given. Parses every frame into RFC 5424 parts.
 */
export async function startSyslogReceiver(opts: { cert?: string; key?: string } = {}): Promise<{
  port: number;
  messages: SyslogMessage[];
  connections: () => number;
  /** Destroys every open connection (the sender must reconnect). */
  dropConnections(): void;
  waitFor(count: number, timeoutMs?: number): Promise<SyslogMessage[]>;
  close(): Promise<void>;
}> {
  const messages: SyslogMessage[] = [];
  const sockets = new Set<tls.TLSSocket>();
  let accepted = 0;
  const server = tls.createServer({ cert: opts.cert ?? TEST_CERT, key: opts.key ?? TEST_KEY }, (socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (;;) {
        const space = buffer.indexOf(0x20);
        if (space <= 0) return;
        const length = Number(buffer.subarray(0, space).toString('ascii'));
        if (!Number.isInteger(length) || length <= 0) {
          socket.destroy();
          return;
        }
        if (buffer.length < space + 1 + length) return;
        const frame = buffer.subarray(space + 1, space + 1 + length).toString('utf8');
        buffer = buffer.subarray(space + 1 + length);
        messages.push(parse(frame));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    messages,
    connections: () => accepted,
    dropConnections() {
      for (const s of sockets) s.destroy();
    },
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline)
          throw new Error(`syslog receiver: ${messages.length} of ${count} messages`);
        await new Promise((r) => setTimeout(r, 20));
      }
      return messages;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function parse(frame: string): SyslogMessage {
  const m = /^<(\d{1,3})>1 (\S+ \S+ \S+ \S+ (\S+) \S+) (.*)$/s.exec(frame);
  if (!m) throw new Error(`not an RFC 5424 message: ${frame.slice(0, 80)}`);
  const msg = m[4]!;
  const hadBom = msg.startsWith('\uFEFF');
  return { pri: Number(m[1]), header: m[2]!, msgid: m[3]!, text: hadBom ? msg.slice(1) : msg, hadBom };
}
