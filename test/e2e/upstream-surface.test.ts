import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { callerContext, eventually, startManager, type ManagerHarness } from '../helpers/upstream-manager.js';
import { NODE, REFERENCE_SERVERS } from '../helpers/upstream-servers.js';

const text = (block: unknown) => (block as { text?: string }).text ?? '';

/**
 * The reference "everything" server from the npm registry (sandboxed, over stdio) behind the
 * upstream manager: its prompts and resource templates are pinned like tools, and once approved
 * its prompts, resources, completions and progress reach a caller in the gateway's namespace.
 */
describe('the everything server’s prompts, resources and completions behind the upstream manager', () => {
  let h: ManagerHarness;

  before(async () => {
    h = await startManager([
      {
        name: 'everything',
        stdio: { command: NODE, args: [REFERENCE_SERVERS.everything, 'stdio'] },
        resources: { 'demo://resource/dynamic/blob/*': { scope: 'everything:blobs' } },
      },
    ]);
  });
  after(async () => h?.close());

  it('prompts and resource templates are pinned under their own keys and blocked until approved', async () => {
    const keys = h.manager.pins().map((p) => `${p.key} ${p.state} ${p.served}`);
    assert.ok(keys.includes('prompt:simple-prompt pending false'), keys.join('\n'));
    assert.ok(keys.includes('prompt:args-prompt pending false'));
    assert.ok(keys.includes('resource-template:demo://resource/dynamic/text/{resourceId} pending false'));
    const surface = h.catalogue.surface('everything');
    assert.ok(surface, 'the surface is published (with nothing approved in it)');
    assert.deepEqual(surface.prompts, []);
    assert.deepEqual(surface.resourceTemplates, []);
    assert.equal(
      surface.completer({ type: 'ref/prompt', name: 'everything__completable-prompt' }),
      undefined,
    );
  });

  it('after approval, prompts are listed namespaced and templates in the gateway’s URI namespace', async () => {
    await h.approve('everything');
    const surface = await eventually(
      async () =>
        h.catalogue.surface('everything')?.prompts.length ? h.catalogue.surface('everything') : undefined,
      'approved prompts',
    );
    const names = surface.prompts.map((p) => p.listed.name).sort();
    assert.deepEqual(names, [
      'everything__args-prompt',
      'everything__completable-prompt',
      'everything__resource-prompt',
      'everything__simple-prompt',
    ]);
    const args = h.catalogue.prompt('everything__args-prompt')!;
    assert.deepEqual(
      args.listed.arguments?.map((a) => [a.name, a.required ?? false]),
      [
        ['city', true],
        ['state', false],
      ],
    );
    assert.deepEqual(
      [args.op.surface, args.op.scope, args.op.class, args.op.labels],
      ['prompts/get', 'everything:prompts', 'read', ['untrusted-source']],
    );
    const templates = surface.resourceTemplates.map((t) => [t.listed.uriTemplate, t.scope]);
    assert.deepEqual(templates.sort(), [
      ['portcullis://everything/demo://resource/dynamic/blob/{resourceId}', 'everything:blobs'],
      ['portcullis://everything/demo://resource/dynamic/text/{resourceId}', 'everything:resources'],
    ]);
    assert.ok(
      h.events.some(
        (e) => e.upstream === 'everything' && e.event.kind === 'list-changed' && e.event.list === 'prompts',
      ),
      'listeners hear that the served prompts changed',
    );
  });

  it('prompts/get checks arguments strictly and returns the messages with their roles', async () => {
    const op = h.catalogue.prompt('everything__args-prompt')!.op;
    const missing = op.checkArgs({});
    assert.equal(missing.ok, false);
    assert.match(JSON.stringify(missing), /city.*is required/);
    const extra = op.checkArgs({ city: 'Paris', country: 'FR' });
    assert.match(JSON.stringify(extra), /unknown argument country; this prompt takes: city, state/);
    assert.equal(op.checkArgs({ city: 3 }).ok, false);
    const out = await op.execute({ city: 'Paris', state: 'IDF' }, callerContext());
    assert.deepEqual(out.roles, ['user']);
    assert.equal(text(out.content[0]), "What's weather in Paris, IDF?");
  });

  it('an embedded resource in a prompt comes back with its URI in the gateway namespace', async () => {
    const op = h.catalogue.prompt('everything__resource-prompt')!.op;
    const out = await op.execute({ resourceType: 'Text', resourceId: '2' }, callerContext());
    const embedded = out.content.find((b) => b.type === 'resource') as unknown as {
      resource: { uri: string; text: string };
    };
    assert.equal(embedded.resource.uri, 'portcullis://everything/demo://resource/dynamic/text/2');
    assert.match(embedded.resource.text, /Resource 2/);
  });

  it('resources are listed live, rewritten into the namespace and scoped by the URI rules', async () => {
    const page = await h.catalogue.surface('everything')!.resources!.list(undefined, callerContext());
    assert.ok(page.resources.length > 0);
    for (const r of page.resources) {
      assert.match(r.uri, /^portcullis:\/\/everything\/demo:\/\/resource\/static\/document\//);
      assert.equal(r.scope, 'everything:resources');
    }
  });

  it('a text resource and a blob resource are read; the blob passes unchanged, each under its rule’s scope', async () => {
    const resources = h.catalogue.surface('everything')!.resources!;
    const textUri = 'portcullis://everything/demo://resource/dynamic/text/7';
    const reader = resources.reader(textUri);
    assert.deepEqual(
      [reader.surface, reader.scope, reader.class],
      ['resources/read', 'everything:resources', 'read'],
    );
    assert.equal(reader.checkArgs({ uri: textUri }).ok, true);
    assert.equal(
      reader.checkArgs({ uri: 'portcullis://everything/demo://resource/dynamic/text/8' }).ok,
      false,
    );
    assert.equal(reader.checkArgs({ uri: textUri, extra: 1 }).ok, false);
    const out = await reader.execute({ uri: textUri }, callerContext());
    const item = (out.content[0] as unknown as { resource: { uri: string; text: string } }).resource;
    assert.equal(item.uri, textUri);
    assert.match(item.text, /Resource 7/);

    const blobUri = 'portcullis://everything/demo://resource/dynamic/blob/3';
    const blobReader = resources.reader(blobUri);
    assert.equal(blobReader.scope, 'everything:blobs');
    const blob = await blobReader.execute({ uri: blobUri }, callerContext());
    const b = (blob.content[0] as unknown as { resource: { uri: string; blob: string } }).resource;
    assert.equal(b.uri, blobUri);
    assert.match(Buffer.from(b.blob, 'base64').toString('utf8'), /Resource 3: This is a base64 blob/);
  });

  it('completions of an approved prompt and template go upstream under the server’s own names', async () => {
    const surface = h.catalogue.surface('everything')!;
    const ref = { type: 'ref/prompt' as const, name: 'everything__completable-prompt' };
    const complete = surface.completer(ref)!;
    assert.equal(complete.scope, 'everything:prompts');
    const args = { ref, argument: { name: 'department', value: 'E' } };
    assert.equal(complete.checkArgs(args).ok, true);
    assert.equal(
      complete.checkArgs({ ...args, ref: { type: 'ref/prompt', name: 'completable-prompt' } }).ok,
      false,
    );
    assert.equal(complete.checkArgs({ ref, argument: { name: 'salary', value: '' } }).ok, false);
    const out = await complete.execute(args, callerContext());
    assert.deepEqual(out.content.map(text), ['Engineering']);
    const team = await complete.execute(
      { ref, argument: { name: 'name', value: '' }, context: { arguments: { department: 'Sales' } } },
      callerContext(),
    );
    assert.deepEqual(team.content.map(text), ['David', 'Eve', 'Frank']);

    const tref = {
      type: 'ref/resource' as const,
      uri: 'portcullis://everything/demo://resource/dynamic/text/{resourceId}',
    };
    const byTemplate = surface.completer(tref)!;
    const ids = await byTemplate.execute(
      { ref: tref, argument: { name: 'resourceId', value: '12' } },
      callerContext(),
    );
    assert.deepEqual(ids.content.map(text), ['12']);
    assert.equal(
      surface.completer({ type: 'ref/resource', uri: 'demo://resource/dynamic/text/{resourceId}' }),
      undefined,
    );
  });

  it('progress of a long call reaches its caller under the caller’s own token', async () => {
    const tool = h.catalogue.get('everything__trigger-long-running-operation')!;
    const ctx = callerContext({ progressToken: 'caller-token-1' });
    const out = await tool.execute({ duration: 0.3, steps: 3 }, ctx);
    assert.match(text(out.content[0]), /completed/);
    const progress = ctx.received.filter((n) => n.method === 'notifications/progress').map((n) => n.params);
    assert.deepEqual(progress, [
      { progressToken: 'caller-token-1', progress: 1, total: 3 },
      { progressToken: 'caller-token-1', progress: 2, total: 3 },
      { progressToken: 'caller-token-1', progress: 3, total: 3 },
    ]);
  });

  it('a cancelled prompts/get fails at once with a clear error', async () => {
    const ac = new AbortController();
    ac.abort();
    const op = h.catalogue.prompt('everything__simple-prompt')!.op;
    await assert.rejects(op.execute({}, callerContext({ signal: ac.signal })), /cancelled/);
  });

  it('a subscription is relayed, and the server’s update reaches listeners under the gateway URI', async () => {
    const resources = h.catalogue.surface('everything')!.resources!;
    const page = await resources.list(undefined, callerContext());
    const uri = page.resources[0]!.uri;
    await resources.subscribe!(uri);
    await h.catalogue.get('everything__toggle-subscriber-updates')!.execute({}, callerContext());
    await eventually(
      async () =>
        h.events.some((e) => e.event.kind === 'resource-updated' && e.event.uri === uri) ? true : undefined,
      'the resource update',
    );
    await resources.unsubscribe!(uri);
    await assert.rejects(resources.subscribe!('portcullis://other/demo://x'), /not a resource of everything/);
  });
});
