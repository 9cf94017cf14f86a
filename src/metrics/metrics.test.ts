import { test } from 'node:test';
import assert from 'node:assert/strict';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from './metrics.js';

test('each helper records into its own registry, not the global one', async () => {
  const metrics = createMetrics();
  metrics.recordRequest('/mcp', 200);
  metrics.recordRequest('/mcp', 200);
  metrics.recordDecision('deny', 'scope-missing');
  metrics.observeStage('validate', 0.002);
  metrics.recordRateLimitRejection('credential');
  metrics.recordAuditSinkFailure('webhook');
  metrics.setUpstreamUp('github', true);
  metrics.setUpstreamUp('jira', false);
  let depth = 7;
  metrics.setAuditQueueDepthSource(() => depth);
  const text = await metrics.registry.metrics();
  assert.match(text, /portcullis_requests_total\{route="\/mcp",status="200"\} 2/);
  assert.match(text, /portcullis_decisions_total\{effect="deny",reason="scope-missing"\} 1/);
  assert.match(text, /portcullis_stage_duration_seconds_count\{stage="validate"\} 1/);
  assert.match(text, /portcullis_rate_limit_rejections_total\{tier="credential"\} 1/);
  assert.match(text, /portcullis_audit_sink_failures_total\{sink="webhook"\} 1/);
  assert.match(text, /portcullis_upstream_up\{upstream="github"\} 1/);
  assert.match(text, /portcullis_upstream_up\{upstream="jira"\} 0/);
  assert.match(text, /portcullis_audit_queue_depth 7/);
  depth = 0;
  assert.match(await metrics.registry.metrics(), /portcullis_audit_queue_depth 0/);
  assert.doesNotMatch(await globalRegistry.metrics(), /portcullis_/);
});

test('two metric sets do not share counts', async () => {
  const a = createMetrics();
  const b = createMetrics();
  a.recordRateLimitRejection('tool');
  assert.doesNotMatch(await b.registry.metrics(), /portcullis_rate_limit_rejections_total\{/);
});

test('a started stage timer records one observation when stopped', async () => {
  const metrics = createMetrics();
  const stop = metrics.startStage('execute');
  stop();
  assert.match(
    await metrics.registry.metrics(),
    /portcullis_stage_duration_seconds_count\{stage="execute"\} 1/,
  );
});
