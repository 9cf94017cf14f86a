import type pg from 'pg';
import type { PinChange, PinStore } from '../contracts.js';
import { definitionText, pinsFromRows, type ApprovedRow, type RejectedRow } from '../pin-rows.js';
import { inTransaction } from './open-pools.js';

/**
 * The pin store on PostgreSQL (tables of core migration 7). Every write takes the one
 * pins_revision row FOR UPDATE first, so pin writers from every replica and the CLI run one after
 * the other (no lost update), and moves the revision in the same transaction. Reads go through
 * the read pool, the whole set in one REPEATABLE READ snapshot.
 */
export function createPostgresPins(write: pg.Pool, read: pg.Pool): PinStore {
  const lockRevision = async (client: pg.PoolClient) =>
    Number(
      (await client.query<{ revision: string }>('SELECT revision FROM pins_revision WHERE id = 1 FOR UPDATE'))
        .rows[0]!.revision,
    );
  const bump = async (client: pg.PoolClient) =>
    Number(
      (
        await client.query<{ revision: string }>(
          'UPDATE pins_revision SET revision = revision + 1 WHERE id = 1 RETURNING revision',
        )
      ).rows[0]!.revision,
    );
  const changedBy = async (client: pg.PoolClient, sql: string, params: unknown[]) =>
    ((await client.query(sql, params)).rowCount ?? 0) > 0;

  const applyOne = async (client: pg.PoolClient, c: PinChange): Promise<boolean> => {
    switch (c.op) {
      case 'approve':
        await client.query(
          `INSERT INTO pins_approved (upstream, pin_key, hash, approved_at, definition) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (upstream, pin_key) DO UPDATE SET hash = excluded.hash, approved_at = excluded.approved_at,
             definition = excluded.definition`,
          [c.upstream, c.key, c.hash, c.at.toISOString(), definitionText(c.definition)],
        );
        await client.query('DELETE FROM pins_rejected WHERE upstream = $1 AND pin_key = $2 AND hash = $3', [
          c.upstream,
          c.key,
          c.hash,
        ]);
        return true;
      case 'reject':
        return changedBy(
          client,
          `INSERT INTO pins_rejected (upstream, pin_key, hash, rejected_at, position)
           SELECT $1, $2, $3, $4, COALESCE(MAX(position) + 1, 0) FROM pins_rejected WHERE upstream = $1 AND pin_key = $2
           ON CONFLICT (upstream, pin_key, hash) DO NOTHING`,
          [c.upstream, c.key, c.hash, c.at.toISOString()],
        );
      case 'withdraw':
        return changedBy(
          client,
          'DELETE FROM pins_approved WHERE upstream = $1 AND pin_key = $2 AND hash = $3',
          [c.upstream, c.key, c.hash],
        );
    }
  };

  return {
    revision: async () =>
      Number(
        (await read.query<{ revision: string }>('SELECT revision FROM pins_revision WHERE id = 1')).rows[0]!
          .revision,
      ),
    read: () =>
      inTransaction(
        read,
        async (client) => {
          const revision = Number(
            (await client.query<{ revision: string }>('SELECT revision FROM pins_revision WHERE id = 1'))
              .rows[0]!.revision,
          );
          const approved = (
            await client.query<ApprovedRow>('SELECT * FROM pins_approved ORDER BY upstream, pin_key')
          ).rows;
          const rejected = (
            await client.query<RejectedRow>(
              'SELECT * FROM pins_rejected ORDER BY upstream, pin_key, position, hash',
            )
          ).rows;
          return { revision, upstreams: pinsFromRows(approved, rejected) };
        },
        'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
      ),
    apply: (changes) =>
      inTransaction(write, async (client) => {
        const before = await lockRevision(client);
        let changed = false;
        for (const c of changes) changed = (await applyOne(client, c)) || changed;
        return changed ? bump(client) : before;
      }),
    replace: (upstreams) =>
      inTransaction(write, async (client) => {
        await lockRevision(client);
        await client.query('DELETE FROM pins_approved');
        await client.query('DELETE FROM pins_rejected');
        for (const [name, u] of Object.entries(upstreams)) {
          for (const [key, pin] of Object.entries(u.approved)) {
            await client.query(
              'INSERT INTO pins_approved (upstream, pin_key, hash, approved_at, definition) VALUES ($1, $2, $3, $4, $5)',
              [name, key, pin.hash, pin.approvedAt, definitionText(pin.definition)],
            );
          }
          for (const [key, list] of Object.entries(u.rejected)) {
            for (const [i, rej] of list.entries()) {
              await client.query(
                'INSERT INTO pins_rejected (upstream, pin_key, hash, rejected_at, position) VALUES ($1, $2, $3, $4, $5)',
                [name, key, rej.hash, rej.rejectedAt, i],
              );
            }
          }
        }
        return bump(client);
      }),
    observed: async () =>
      Object.fromEntries(
        (
          await read.query<{ upstream: string; snapshot: string }>(
            'SELECT upstream, snapshot FROM pins_observed ORDER BY upstream',
          )
        ).rows.map((o) => [o.upstream, JSON.parse(o.snapshot) as unknown]),
      ),
    putObserved: async (upstream, snapshot) => {
      await write.query(
        `INSERT INTO pins_observed (upstream, snapshot) VALUES ($1, $2)
         ON CONFLICT (upstream) DO UPDATE SET snapshot = excluded.snapshot`,
        [upstream, definitionText(snapshot)],
      );
    },
    deleteObserved: async (upstream) => {
      await write.query('DELETE FROM pins_observed WHERE upstream = $1', [upstream]);
    },
  };
}
