import { startProcess, type ChildHandle, type SandboxRequest } from '../sandbox/index.js';
import { ScanError } from './errors.js';
import {
  asReply,
  initializeParams,
  isObject,
  legacyHello,
  type RpcReply,
  type ServerHello,
  type Session,
} from './session.js';

export interface StdioTarget {
  readonly command: string;
  readonly args: readonly string[];
  /** The complete environment of the server (nothing is inherited). */
  readonly env: Readonly<Record<string, string>>;
  /** Always a sandbox: the scanner runs code it is auditing, so it never runs it unconfined. */
  readonly sandbox: SandboxRequest;
  /** Working directory (made visible read-only): relative paths in `args` resolve from it. */
  readonly cwd?: string;
  readonly timeoutMs: number;
}

/** One message line; a longer one is dropped unread (a server cannot make the scanner buffer it). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;
/** Everything a server may write to stdout over one scan before it is stopped. */
export const MAX_TOTAL_BYTES = 64 * 1024 * 1024;
/** The tail of stderr kept for the error message when the server dies. */
const STDERR_TAIL = 2048;

interface Pending {
  resolve(reply: RpcReply): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

class StdioSession implements Session {
  readonly transport = 'stdio';
  hello: ServerHello = { era: 'legacy', protocolVersion: '', capabilities: {} };
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private exitedWith: ScanError | undefined;
  private stderrTail = '';

  constructor(
    private readonly child: ChildHandle,
    private readonly timeoutMs: number,
  ) {
    let buffered: Buffer[] = [];
    let size = 0;
    let skipping = false;
    let total = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > MAX_TOTAL_BYTES) {
        this.fail(new ScanError('scan-too-large', `the server wrote more than ${MAX_TOTAL_BYTES} bytes`));
        child.kill(0);
        return;
      }
      let start = 0;
      for (let nl = chunk.indexOf(10, start); nl !== -1; nl = chunk.indexOf(10, start)) {
        if (!skipping) this.onLine(Buffer.concat([...buffered, chunk.subarray(start, nl)]).toString('utf8'));
        buffered = [];
        size = 0;
        skipping = false;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (skipping || rest.length === 0) return;
      size += rest.length;
      if (size > MAX_LINE_BYTES) {
        // Too long to be a message we would read: drop it up to its newline.
        buffered = [];
        size = 0;
        skipping = true;
      } else {
        buffered.push(rest);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    void child.exited.then((exit) => {
      const how = exit.error
        ? exit.error.message
        : exit.signal
          ? `signal ${exit.signal}`
          : `code ${exit.code}`;
      const tail = this.stderrTail.trim();
      this.fail(
        new ScanError(
          'scan-server-exited',
          `the server exited (${how})${tail ? `: ${tail.slice(-500)}` : ''}`,
        ),
      );
    });
  }

  private fail(err: ScanError): void {
    this.exitedWith ??= err;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(err);
    }
  }

  private onLine(line: string): void {
    if (line.trim() === '') return;
    let message: unknown;
    try {
      message = JSON.parse(line);
    } catch {
      return; // Log noise on stdout: not a message.
    }
    if (!isObject(message)) return;
    if (typeof message.method === 'string' && message.id !== undefined && message.id !== null) {
      // A server-to-client request (sampling, roots, elicitation): the scanner offers none.
      this.write({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32601, message: 'Not supported by the scanner' },
      });
      return;
    }
    if (typeof message.id !== 'number') return;
    const p = this.pending.get(message.id);
    const reply = asReply(message, message.id);
    if (!p || !reply) return;
    clearTimeout(p.timer);
    this.pending.delete(message.id);
    p.resolve(reply);
  }

  private write(message: unknown): void {
    this.child.stdin.write(`${JSON.stringify(message)}\n`);
  }

  notify(method: string): void {
    this.write({ jsonrpc: '2.0', method });
  }

  request(method: string, params?: Record<string, unknown>): Promise<RpcReply> {
    if (this.exitedWith) return Promise.reject(this.exitedWith);
    const id = this.nextId++;
    return new Promise<RpcReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new ScanError('scan-timeout', `${method}: no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.write({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) });
    });
  }

  async close(): Promise<void> {
    this.child.stdin.end();
    this.child.kill(1000);
    await this.child.exited;
  }
}

/**
 * Starts a stdio server inside the gateway's sandbox (bubblewrap + prlimit: no network unless
 * asked, read-only system, private /tmp) and opens a 2025 session with it. stdio servers built
 * on 2025 SDKs exit on any request before `initialize`, so no 2026-07-28 probe is sent here.
 */
export async function openStdioSession(target: StdioTarget): Promise<Session> {
  let child: ChildHandle;
  try {
    child = startProcess({
      command: target.command,
      args: target.args,
      env: target.env,
      sandbox: target.sandbox,
      ...(target.cwd !== undefined ? { cwd: target.cwd } : {}),
    });
  } catch (err) {
    throw new ScanError('scan-connect-failed', err instanceof Error ? err.message : String(err), {
      cause: err,
    });
  }
  const session = new StdioSession(child, target.timeoutMs);
  try {
    const init = await session.request('initialize', initializeParams());
    if (!init.result) {
      throw new ScanError('scan-protocol-error', `initialize failed: ${init.error?.message ?? 'no result'}`);
    }
    session.hello = legacyHello(init.result);
    session.notify('notifications/initialized');
    return session;
  } catch (err) {
    await session.close();
    throw err;
  }
}
