import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createSyslogSink, syslogSeverityOf, toOcsf, type AuditRecord } from '../../src/audit/index.js';
import { recordMaker } from '../../src/audit/test-support.js';
import { createEgressGuard, INTERNAL_NETWORK_RANGES } from '../../src/egress/index.js';
import { tempDir } from '../helpers/gateway.js';
import { makeSelfSignedCert, TEST_CERT } from '../helpers/oauth-tls.js';
import { startSyslogReceiver } from '../helpers/syslog-receiver.js';

/*
 * Attacks on the SIEM export: forging extra syslog messages through a value the caller
 * controls, and a receiver that is not the one configured. The legitimate delivery beside each
 * still works.
 */

const record = recordMaker();

function sinkTo(port: number, ca: string, host = '127.0.0.1') {
  const guard = createEgressGuard({ allowHosts: [host], allowAddresses: INTERNAL_NETWORK_RANGES });
  const failures: unknown[] = [];
  const sink = createSyslogSink({
    connect: () => guard.connectTls({ host, port, ca }),
    encode: (r) => JSON.stringify(toOcsf(r, { productVersion: 'test' })),
    severityOf: syslogSeverityOf,
    readFrom: () => Promise.resolve([]),
    initialBackoffMs: 20,
    maxBackoffMs: 50,
    closeTimeoutMs: 300,
    onFailure: (err) => failures.push(err),
  });
  return {
    sink,
    failures,
    async close() {
      await sink.close();
      await guard.close();
    },
  };
}

describe('syslog export: a caller-controlled value cannot forge extra messages', () => {
  let receiver: Awaited<ReturnType<typeof startSyslogReceiver>>;
  before(async () => (receiver = await startSyslogReceiver()));
  after(() => receiver.close());

  it('a principal and tool holding newlines and a whole fake frame arrive as one message each', async () => {
    const s = sinkTo(receiver.port, TEST_CERT);
    const forged = '<13>1 2026-01-01T00:00:00Z host portcullis 1 admin - {"class_uid":3001,"forged":true}';
    s.sink.write([
      record({ principal: `mallory\n${forged}`, tool: `x\r\n${forged.length} ${forged}` }),
      record({ tool: 'memory_get' }),
    ]);
    const messages = await receiver.waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    await s.close();
    assert.equal(receiver.messages.length, 2, 'exactly one message per record');
    const first = JSON.parse(messages[0]!.text) as { actor: { user: { uid: string } }; class_uid: number };
    assert.equal(first.class_uid, 6003);
    assert.equal(first.actor.user.uid, `mallory\n${forged}`, 'the hostile value stays data inside the JSON');
    assert.ok(!receiver.messages.some((m) => m.text.startsWith('{"class_uid":3001')));
    assert.equal(JSON.parse(messages[1]!.text).resources[0].name, 'memory_get');
  });

  it('an event name cannot put spaces or control characters into the RFC 5424 header', async () => {
    const s = sinkTo(receiver.port, TEST_CERT);
    const before = receiver.messages.length;
    s.sink.write([record({ event: 'tool-call 5 - evil\n' as AuditRecord['event'] })]);
    const messages = await receiver.waitFor(before + 1);
    await s.close();
    assert.equal(messages[before]!.msgid, 'tool-call5-evil');
  });
});

describe('syslog export: a receiver that is not the configured one gets nothing', () => {
  const dir = tempDir('pc-siem-cert-');
  let elsewhere: ReturnType<typeof makeSelfSignedCert>;
  let impostor: Awaited<ReturnType<typeof startSyslogReceiver>>;
  let genuine: Awaited<ReturnType<typeof startSyslogReceiver>>;
  before(async () => {
    // A certificate that is valid, but for another name: what a receiver on a hijacked address has.
    elsewhere = makeSelfSignedCert(dir, {
      commonName: 'elsewhere.test',
      subjectAltName: 'DNS:elsewhere.test',
      days: 2,
    });
    impostor = await startSyslogReceiver({ cert: elsewhere.cert, key: elsewhere.key });
    genuine = await startSyslogReceiver();
  });
  after(async () => {
    await impostor.close();
    await genuine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a receiver whose certificate names another host, even one signed by the trusted CA', async () => {
    const s = sinkTo(impostor.port, elsewhere.cert);
    s.sink.write([record()]);
    await new Promise((r) => setTimeout(r, 400));
    await s.close();
    assert.equal(impostor.messages.length, 0);
    assert.ok(s.failures.length > 0);
    assert.match(String((s.failures[0] as Error).message), /altnames|certificate|Hostname/i);
  });

  it('refuses a receiver whose certificate no configured CA signed', async () => {
    const s = sinkTo(impostor.port, TEST_CERT);
    s.sink.write([record()]);
    await new Promise((r) => setTimeout(r, 300));
    await s.close();
    assert.equal(impostor.messages.length, 0);
    assert.ok(s.failures.length > 0);
  });

  it('never connects to a link-local (cloud metadata) address, whatever is allowed', async () => {
    const guard = createEgressGuard({
      allowHosts: ['169.254.169.254'],
      allowAddresses: INTERNAL_NETWORK_RANGES,
    });
    await assert.rejects(guard.connectTls({ host: '169.254.169.254', port: 6514 }), {
      code: 'egress-blocked-address',
    });
    await assert.rejects(guard.connectTls({ host: 'not-allowed.example', port: 6514 }), {
      code: 'egress-host-not-allowed',
    });
    await guard.close();
  });

  it('refuses a host written so that a URL parser reads another host out of it', async () => {
    const guard = createEgressGuard({ allowHosts: ['*'], allowAddresses: INTERNAL_NETWORK_RANGES });
    for (const host of [
      '127.0.0.1/@10.0.0.1',
      '127.0.0.1#.example',
      '127.0.0.1?x',
      'user@127.0.0.1',
      ' 127.0.0.1',
    ])
      await assert.rejects(guard.connectTls({ host, port: genuine.port, ca: TEST_CERT }), {
        code: 'egress-invalid-url',
      });
    const ok = await guard.connectTls({ host: '127.0.0.1', port: genuine.port, ca: TEST_CERT });
    ok.destroy();
    await guard.close();
  });

  it('delivers to the genuine receiver beside them', async () => {
    const s = sinkTo(genuine.port, TEST_CERT);
    s.sink.write([record({ tool: 'memory_search' })]);
    const [m] = await genuine.waitFor(1);
    await s.close();
    assert.equal(JSON.parse(m!.text).resources[0].name, 'memory_search');
  });
});
