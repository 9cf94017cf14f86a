import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createAlertDetector,
  logAlertHandler,
  webhookAlertHandler,
  type Alert,
  type CallObservation,
} from './alerts.js';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const SECOND = 1000;
const MINUTE = 60 * SECOND;

const call = (at: number, overrides: Partial<CallObservation> = {}): CallObservation => ({
  at,
  credentialId: 'key-1',
  tool: 'notes__search',
  labels: [],
  outcome: 'ok',
  ...overrides,
});

test('a spike of denied and invalid calls from one credential raises one alert', () => {
  const detector = createAlertDetector({ denialSpike: { windowMs: MINUTE, threshold: 5 } });
  const alerts: Alert[] = [];
  for (let i = 0; i < 8; i++) {
    alerts.push(...detector.observe(call(T0 + i * SECOND, { outcome: i % 2 ? 'denied' : 'invalid' })));
  }
  assert.equal(alerts.length, 1, 'cooldown keeps it to one alert');
  assert.equal(alerts[0]?.kind, 'denial-spike');
  assert.equal(alerts[0]?.credentialId, 'key-1');
});

test('denials spread beyond the window do not raise an alert', () => {
  const detector = createAlertDetector({ denialSpike: { windowMs: MINUTE, threshold: 5 } });
  const alerts: Alert[] = [];
  for (let i = 0; i < 20; i++)
    alerts.push(...detector.observe(call(T0 + i * 20 * SECOND, { outcome: 'denied' })));
  assert.deepEqual(alerts, []);
});

test('call volume far above the credential baseline raises an alert', () => {
  const detector = createAlertDetector({
    volume: { bucketMs: MINUTE, baselineBuckets: 10, minHistoryBuckets: 5, factor: 5, minCalls: 20 },
  });
  const alerts: Alert[] = [];
  // Ten quiet minutes: 3 calls each.
  for (let m = 0; m < 10; m++)
    for (let i = 0; i < 3; i++) alerts.push(...detector.observe(call(T0 + m * MINUTE + i * SECOND)));
  assert.equal(alerts.length, 0);
  // Then 40 calls in one minute.
  for (let i = 0; i < 40; i++) alerts.push(...detector.observe(call(T0 + 10 * MINUTE + i * SECOND)));
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.kind, 'call-volume-anomaly');
});

test('a new credential without history raises no volume alert', () => {
  const detector = createAlertDetector();
  const alerts: Alert[] = [];
  for (let i = 0; i < 100; i++) alerts.push(...detector.observe(call(T0 + i * 100)));
  assert.deepEqual(
    alerts.filter((a) => a.kind === 'call-volume-anomaly'),
    [],
  );
});

test('reading private data then calling an external sink in one session raises an alert', () => {
  const detector = createAlertDetector({ exfiltration: { windowMs: 10 * MINUTE } });
  assert.deepEqual(
    detector.observe(call(T0, { sessionId: 's1', tool: 'crm__get', labels: ['private-data'] })),
    [],
  );
  const alerts = detector.observe(
    call(T0 + MINUTE, { sessionId: 's1', tool: 'web__post', labels: ['external-sink'] }),
  );
  assert.equal(alerts.length, 1);
  assert.equal(alerts[0]?.kind, 'private-data-to-external-sink');
  assert.match(alerts[0]?.detail ?? '', /web__post .* crm__get/);
});

test('the exfiltration sequence is tracked per session and expires after its window', () => {
  const detector = createAlertDetector({ exfiltration: { windowMs: 10 * MINUTE } });
  detector.observe(call(T0, { sessionId: 's1', tool: 'crm__get', labels: ['private-data'] }));
  assert.deepEqual(
    detector.observe(call(T0 + MINUTE, { sessionId: 's2', tool: 'web__post', labels: ['external-sink'] })),
    [],
  );
  assert.deepEqual(
    detector.observe(
      call(T0 + 11 * MINUTE, { sessionId: 's1', tool: 'web__post', labels: ['external-sink'] }),
    ),
    [],
  );
});

test('a denied private-data read does not arm the exfiltration detector', () => {
  const detector = createAlertDetector();
  detector.observe(
    call(T0, { principal: 'alice', tool: 'crm__get', labels: ['private-data'], outcome: 'denied' }),
  );
  assert.deepEqual(
    detector.observe(call(T0 + SECOND, { principal: 'alice', tool: 'web__post', labels: ['external-sink'] })),
    [],
  );
});

test('alerts go to every handler; a failing handler is reported and does not stop the others', async () => {
  const detector = createAlertDetector({ denialSpike: { windowMs: MINUTE, threshold: 1 } });
  const warnings: unknown[] = [];
  const posted: string[] = [];
  const errors: unknown[] = [];
  const failing = createAlertDetector({
    denialSpike: { windowMs: MINUTE, threshold: 1 },
    onHandlerError: (err) => errors.push(err),
  });
  detector.onAlert(logAlertHandler({ warn: (obj: unknown) => warnings.push(obj) } as never));
  detector.onAlert(
    webhookAlertHandler({
      url: 'https://siem.example/alerts',
      fetch: (_url, init) => {
        posted.push(init.body);
        return Promise.resolve({ ok: true, status: 204 });
      },
    }),
  );
  failing.onAlert(() => {
    throw new Error('handler down');
  });
  failing.onAlert(
    webhookAlertHandler({ url: 'x', fetch: () => Promise.resolve({ ok: false, status: 500 }) }),
  );
  detector.observe(call(T0, { outcome: 'denied' }));
  failing.observe(call(T0, { outcome: 'denied' }));
  await new Promise((r) => setImmediate(r));
  assert.equal(warnings.length, 1);
  assert.equal((JSON.parse(posted[0] ?? '{}') as Alert).kind, 'denial-spike');
  assert.equal(errors.length, 2);
});
