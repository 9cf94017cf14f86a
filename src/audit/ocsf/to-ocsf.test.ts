import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AuditRecord } from '../record.js';
import { recordMaker } from '../test-support.js';
import { syslogSeverityOf, toOcsf } from './to-ocsf.js';

/*
 * The OCSF 1.3.0 class requirements these events must meet, written here from the schema's class
 * pages: the base event's required attributes, each class's required attributes and activity ids,
 * and the "at least one of" constraints of the objects used. A JSON Schema of our own, not the
 * OCSF repository's files.
 */
const enumOf = (ids: readonly number[]) => ({ type: 'integer', enum: [0, ...ids, 99] });
const atLeastOne = (...keys: string[]) => ({ anyOf: keys.map((k) => ({ required: [k] })) });
const user = {
  type: 'object',
  ...atLeastOne('uid', 'name', 'account'),
  properties: { uid: { type: 'string' } },
};
const base = {
  type: 'object',
  required: ['activity_id', 'category_uid', 'class_uid', 'metadata', 'severity_id', 'time', 'type_uid'],
  properties: {
    time: { type: 'integer', minimum: 0 },
    severity_id: enumOf([1, 2, 3, 4, 5, 6]),
    status_id: enumOf([1, 2]),
    duration: { type: 'integer', minimum: 0 },
    metadata: {
      type: 'object',
      required: ['product', 'version'],
      properties: {
        version: { const: '1.3.0' },
        product: { type: 'object', required: ['name', 'vendor_name'] },
        sequence: { type: 'integer' },
      },
    },
  },
};
const classes = {
  6003: {
    required: ['actor', 'api', 'src_endpoint'],
    properties: {
      category_uid: { const: 6 },
      activity_id: enumOf([1, 2, 3, 4]),
      actor: {
        type: 'object',
        ...atLeastOne('user', 'process', 'session', 'app_name', 'app_uid', 'invoked_by'),
      },
      api: {
        type: 'object',
        required: ['operation'],
        properties: { operation: { type: 'string', minLength: 1 } },
      },
      src_endpoint: {
        type: 'object',
        ...atLeastOne('ip', 'hostname', 'name', 'uid', 'domain', 'instance_uid'),
      },
    },
  },
  3002: {
    required: ['user'],
    ...atLeastOne('service', 'dst_endpoint'),
    properties: {
      category_uid: { const: 3 },
      activity_id: enumOf([1, 2, 3, 4, 5, 6]),
      user,
      auth_protocol_id: enumOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
    },
  },
  3001: {
    required: ['user'],
    properties: {
      category_uid: { const: 3 },
      activity_id: enumOf([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
      user,
    },
  },
} as const;

// strictRequired off: the class requirements name attributes whose shape the schema leaves open.
const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
const validators = Object.fromEntries(
  Object.entries(classes).map(([uid, cls]) => [
    uid,
    ajv.compile({ allOf: [base, { type: 'object', ...cls }] }),
  ]),
);

function validate(event: Record<string, unknown>): void {
  const v = validators[String(event.class_uid)];
  assert.ok(v, `class ${String(event.class_uid)} is one of the three`);
  assert.ok(v(event), JSON.stringify(v.errors));
  assert.equal(event.type_uid, (event.class_uid as number) * 100 + (event.activity_id as number));
  assert.equal(event.category_uid, Math.floor((event.class_uid as number) / 1000));
}

const record = recordMaker({
  time: '2026-12-01T10:00:00.000Z',
  prevHash: 'a'.repeat(64),
  hash: 'b'.repeat(64),
  tenant: 'default',
  clientId: 'claude',
  credentialId: 'key_1',
  authMethod: 'api-key',
  latencyMs: 12,
  bytesIn: 40,
  bytesOut: 80,
});
const ctx = { productVersion: '0.1.0' };

test('a tool call becomes an API Activity event that meets the class requirements', () => {
  const source = record({
    args: { hash: 'c'.repeat(64), shape: { content: 'string(12)' } },
    upstream: 'github',
  });
  const event = toOcsf(source, ctx);
  validate(event);
  assert.equal(event.class_uid, 6003);
  assert.deepEqual(event.api, {
    operation: 'tools/call',
    service: { name: 'github' },
    request: { uid: source.correlationId },
  });
  assert.equal(event.status_id, 1);
  const unmapped = (event.unmapped as { portcullis: Record<string, unknown> }).portcullis;
  assert.equal(unmapped.seq, source.seq);
  assert.deepEqual(unmapped.args, { hash: 'c'.repeat(64), shape: { content: 'string(12)' } });
});

test('every MCP operation, denial and control-plane action maps to a valid event of its class', () => {
  const cases: Partial<AuditRecord>[] = [
    { event: 'tool-call', decision: 'deny', outcome: 'denied', reasons: ['scope-missing'] },
    { event: 'tool-call', decision: 'deny', outcome: 'rate-limited', reasons: ['rate-limit-credential'] },
    { event: 'tool-call', decision: 'error', outcome: 'failed', errorCode: 'upstream-unavailable' },
    { event: 'tool-intent', outcome: 'pending' },
    { event: 'tool-call', outcome: 'interrupted' },
    { event: 'tools-list', tool: undefined },
    { event: 'resource-read', tool: 'files__read' },
    { event: 'prompt-get' },
    { event: 'completion' },
    { event: 'surface-list' },
    { event: 'resource-subscribe' },
    { event: 'confirmation', decision: 'confirm' },
    { event: 'authorization', reasons: ['consent-granted'] },
    { event: 'authentication', authMethod: 'oauth', outcome: 'unauthenticated', decision: 'deny' },
    { event: 'authentication', authMethod: 'none', reasons: ['login-succeeded'], tool: undefined },
    { event: 'admin', tool: undefined, reasons: ['grant-revoked'] },
    { event: 'admin', tool: undefined, reasons: ['admin-read'] },
    { event: 'admin', tool: undefined, reasons: ['admin-denied'], decision: 'deny', outcome: 'denied' },
    {
      event: 'admin',
      tool: undefined,
      reasons: ['user-added'],
      args: { hash: 'd', shape: {}, payload: { user: 'bob' } },
    },
    { event: 'admin', tool: undefined, reasons: ['key-created'] },
    { event: 'admin', tool: undefined, reasons: ['role-changed'] },
    { event: 'admin', tool: undefined, reasons: ['user-disabled'] },
    // An erased record has no personal values left.
    { principal: undefined, tenant: undefined, clientId: undefined, credentialId: undefined, erased: true },
    { event: 'authentication', principal: undefined, erased: true },
  ];
  for (const c of cases) validate(toOcsf(record(c), ctx));
});

test('sign-ins are Authentication, person and key changes Account Change aimed at the person changed', () => {
  const login = toOcsf(record({ event: 'authentication', authMethod: 'oauth', tool: undefined }), ctx);
  assert.equal(login.class_uid, 3002);
  assert.equal(login.auth_protocol_id, 6);
  const failed = toOcsf(
    record({
      event: 'authentication',
      decision: 'deny',
      outcome: 'unauthenticated',
      reasons: ['credential-unknown'],
    }),
    ctx,
  );
  assert.equal(failed.status_id, 2);
  assert.equal(failed.status_detail, 'credential-unknown');
  assert.equal(failed.severity_id, 3);

  const added = toOcsf(
    record({
      event: 'admin',
      principal: 'cli:root',
      tool: undefined,
      reasons: ['user-added'],
      args: { hash: 'e', shape: {}, payload: { user: 'bob', role: 'member' } },
    }),
    ctx,
  );
  assert.equal(added.class_uid, 3001);
  assert.equal(added.activity_id, 1);
  assert.equal((added.user as { uid: string }).uid, 'bob');
  assert.equal((added.actor as { user: { uid: string } }).user.uid, 'cli:root');
});

test('arguments leave as their keyed hash and shape only, even when the record holds a full payload', () => {
  const event = toOcsf(
    record({ args: { hash: 'f'.repeat(64), shape: { q: 'string(6)' }, payload: { q: 'secret' } } }),
    ctx,
  );
  assert.doesNotMatch(JSON.stringify(event), /"secret"/);
});

test('syslog severity follows the OCSF severity: informational, notice, warning', () => {
  assert.equal(syslogSeverityOf(record({})), 6);
  assert.equal(syslogSeverityOf(record({ outcome: 'rate-limited', decision: 'deny' })), 5);
  assert.equal(syslogSeverityOf(record({ outcome: 'denied', decision: 'deny' })), 4);
});
