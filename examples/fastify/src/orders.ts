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

/** Each example has its own table, so both can share one database. */
export const TABLE = 'podkit_example_fastify_orders';
const CACHE_TTL_SECONDS = 60;
const cacheKey = (id: number) => `${TABLE}:${id}`;

interface Row {
  id: string;
  item: string;
  quantity: number;
  created_at: Date;
}

const toOrder = (row: Row): Order => ({ id: Number(row.id), item: row.item, quantity: row.quantity, createdAt: row.created_at.toISOString() });

export function createOrdersStore(pool: Pool, redis: Redis, onCacheError: (error: unknown) => void): OrdersStore {
  return {
    async migrate() {
      const client = await pool.connect();
      try {
        // Two replicas starting together would race on CREATE TABLE IF NOT EXISTS (it can fail
        // with a duplicate pg_type row); a transaction-scoped advisory lock serialises them.
        await client.query('BEGIN');
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [TABLE]);
        await client.query(`CREATE TABLE IF NOT EXISTS ${TABLE} (
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
      const { rows } = await pool.query<Row>(`INSERT INTO ${TABLE} (item, quantity) VALUES ($1, $2) RETURNING *`, [item, quantity]);
      return toOrder(rows[0]!);
    },

    async get(id) {
      try {
        const hit = await redis.get(cacheKey(id));
        if (hit) return { order: JSON.parse(hit) as Order, cached: true };
      } catch (error) {
        onCacheError(error);
      }
      const { rows } = await pool.query<Row>(`SELECT * FROM ${TABLE} WHERE id = $1`, [id]);
      const order = rows[0] ? toOrder(rows[0]) : undefined;
      if (order) redis.set(cacheKey(id), JSON.stringify(order), 'EX', CACHE_TTL_SECONDS).catch(onCacheError);
      return { order, cached: false };
    },

    async list(limit) {
      const { rows } = await pool.query<Row>(`SELECT * FROM ${TABLE} ORDER BY id DESC LIMIT $1`, [limit]);
      return rows.map(toOrder);
    },
  };
}
