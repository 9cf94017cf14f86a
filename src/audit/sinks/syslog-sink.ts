import { hostname } from 'node:os';
import type { Duplex } from 'node:stream';
import type { AuditRecord } from '../record.js';
import {
  deliverInOrder,
  PermanentDeliveryError,
  type OrderedDeliveryOptions,
  type OrderedDeliveryStats,
} from './deliver-in-order.js';
import type { AuditSink } from './sink.js';

export interface SyslogSinkOptions extends Omit<OrderedDeliveryOptions, 'deliver'> {
  /** Opens the TLS connection to the receiver (the egress guard's `connectTls`). */
  readonly connect: () => Promise<Duplex>;
  /** One record as the message text (JSON, no newline). */
  readonly encode: (record: AuditRecord) => string;
  /** RFC 5424 severity (0–7) of a record. */
  readonly severityOf: (record: AuditRecord) => number;
  /** RFC 5424 facility. Default 13, "log audit". */
  readonly facility?: number;
  /** Largest syslog message sent; a record encoding to more is refused (dead-lettered). Default 64 KiB. */
  readonly maxMessageBytes?: number;
  /**
   * How long the socket may take to accept one batch. A receiver that stops reading (or a path
   * that silently drops packets) would otherwise hold the export forever with no failure counted.
   * Default 30 s.
   */
  readonly writeTimeoutMs?: number;
  readonly name?: string;
}

/** RFC 5424 §6.2: PRINTUSASCII only, each field bounded; NILVALUE when empty. */
function field(value: string, max: number): string {
  const clean = value.replace(/[^\x21-\x7e]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

const BOM = '\uFEFF';
const HOST = field(hostname(), 255);

/**
 * One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - BOM MSG`. The message is
 * UTF-8 JSON, so it starts with the BOM (§6.4). No structured data: the JSON carries everything,
 * and an SD-ID of our own would need a private enterprise number.
 */
export function formatSyslogMessage(
  record: AuditRecord,
  text: string,
  options: { facility: number; severity: number },
): string {
  const pri = options.facility * 8 + options.severity;
  return `<${pri}>1 ${record.time} ${HOST} portcullis ${process.pid} ${field(record.event, 32)} - ${BOM}${text}`;
}

/**
 * Delivers committed records to a syslog receiver over TLS (RFC 5425), one RFC 5424 message per
 * record, framed by octet counting (RFC 5425 §4.3: `MSG-LEN SP SYSLOG-MSG`), in seq order.
 *
 * Syslog has no acknowledgement: a batch counts as delivered when the socket took it. A batch whose
 * write fails is sent again on a new connection, so a receiver may see a record twice around a
 * reconnect (de-duplicate by `unmapped.portcullis.seq` or `metadata.sequence`).
 */
export function createSyslogSink(options: SyslogSinkOptions): AuditSink & { stats(): OrderedDeliveryStats } {
  const facility = options.facility ?? 13;
  const maxBytes = options.maxMessageBytes ?? 64 * 1024;
  const writeTimeout = options.writeTimeoutMs ?? 30_000;
  let socket: Duplex | undefined;

  const drop = (s: Duplex) => {
    if (socket === s) socket = undefined;
    s.destroy();
  };

  async function open(): Promise<Duplex> {
    if (socket !== undefined && !socket.destroyed && socket.writable) return socket;
    const s = await options.connect();
    s.on('error', () => drop(s));
    s.on('close', () => drop(s));
    // The receiver never speaks on this channel (RFC 5425 §4.2): anything read is discarded.
    s.resume();
    socket = s;
    return s;
  }

  const delivery = deliverInOrder({
    ...options,
    async deliver(batch, stop) {
      const frames: Buffer[] = [];
      for (const record of batch) {
        const message = Buffer.from(
          formatSyslogMessage(record, options.encode(record), {
            facility,
            severity: options.severityOf(record),
          }),
          'utf8',
        );
        if (message.byteLength > maxBytes)
          throw new PermanentDeliveryError(`audit record ${record.seq} is larger than ${maxBytes} bytes`);
        frames.push(Buffer.from(`${message.byteLength} `, 'ascii'), message);
      }
      const s = await open();
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => {
          clearTimeout(timer);
          drop(s);
          reject(new Error('syslog delivery stopped'));
        };
        const timer = setTimeout(() => {
          stop.removeEventListener('abort', onAbort);
          drop(s);
          reject(new Error(`the syslog receiver did not take the batch within ${writeTimeout} ms`));
        }, writeTimeout);
        stop.addEventListener('abort', onAbort, { once: true });
        s.write(Buffer.concat(frames), (err) => {
          clearTimeout(timer);
          stop.removeEventListener('abort', onAbort);
          if (err) {
            drop(s);
            reject(err);
          } else resolve();
        });
      });
    },
  });

  return {
    name: options.name ?? 'syslog',
    write: delivery.write,
    stats: delivery.stats,
    async close() {
      await delivery.close();
      if (socket) {
        const s = socket;
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end();
          setTimeout(() => {
            s.destroy();
            resolve();
          }, 1000).unref();
        });
      }
    },
  };
}
