/**
 * Orders: Postgres holds them, Redis caches single-order reads. The cache is an optimisation, not
 * a dependency: when Redis is slow or gone, reads go to Postgres and the service stays up.
 */
import type { Redis } from 'ioredis';
import type { Pool } from 'pg';

export interface Order {
  id: number;
  item: string;
  quantity: number;
  createdAt: string;
}

export interface NewOrder {
  item: string;
  quantity: number;
}

export interface OrdersStore {
  /** Creates the table if it is missing. Safe to run from several replicas at once. */
  migrate(): Promise<void>;
  create(order: NewOrder): Promise<Order>;
  /** Reads through the cache; `cached` says where the answer came from. */
  get(id: number): Promise<{ order: Order | undefined; cached: boolean }>;
  list(limit: number): Promise<Order[]>;
}

const CACHE_TTL_SECONDS = 60;
/** What a table name may be: it is written into the SQL, so nothing that would need quoting. */
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

interface Row {
  id: string;
  item: string;
  quantity: number;
  created_at: Date;
}

const toOrder = (row: Row): Order => ({ id: Number(row.id), item: row.item, quantity: row.quantity, createdAt: row.created_at.toISOString() });

export interface OrdersStoreOptions {
  pool: Pool;
  redis: Redis;
  /** The orders table (also the prefix of the cache keys). Each example has its own, so both can share one database. */
  table: string;
  /** Called when a cache read or write fails; the request goes on without the cache. */
  onCacheError: (error: unknown) => void;
}

export function createOrdersStore({ pool, redis, table, onCacheError }: OrdersStoreOptions): OrdersStore {
  if (!PLAIN_IDENTIFIER.test(table)) throw new Error(`table must be a plain lower-case SQL identifier, got "${table}"`);
  const cacheKey = (id: number) => `${table}:${id}`;
  return {
    async migrate() {
      const client = await pool.connect();
      try {
        // Two replicas starting together would race on CREATE TABLE IF NOT EXISTS (it can fail
        // with a duplicate pg_type row); a transaction-scoped advisory lock serialises them.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [table]);
        await client.query(`CREATE TABLE IF NOT EXISTS ${table} (
          id bigserial PRIMARY KEY,
          item text NOT NULL,
          quantity integer NOT NULL CHECK (quantity > 0),
          created_at timestamptz NOT NULL DEFAULT now()
        )`);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },

    async create({ item, quantity }) {
      const { rows } = await pool.query<Row>(`INSERT INTO ${table} (item, quantity) VALUES ($1, $2) RETURNING *`, [item, quantity]);
      return toOrder(rows[0]!);
    },

    async get(id) {
      try {
        const hit = await redis.get(cacheKey(id));
        if (hit) return { order: JSON.parse(hit) as Order, cached: true };
      } catch (error) {
        onCacheError(error);
      }
      const { rows } = await pool.query<Row>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
      const order = rows[0] ? toOrder(rows[0]) : undefined;
      if (order) redis.set(cacheKey(id), JSON.stringify(order), 'EX', CACHE_TTL_SECONDS).catch(onCacheError);
      return { order, cached: false };
    },

    async list(limit) {
      const { rows } = await pool.query<Row>(`SELECT * FROM ${table} ORDER BY id DESC LIMIT $1`, [limit]);
      return rows.map(toOrder);
    },
  };
}
