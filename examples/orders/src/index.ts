/**
 * What the orders examples (examples/express, examples/fastify) share, so each of them shows only
 * what is particular to its framework.
 */
export { readConfig } from './config.js';
export type { Config } from './config.js';
export { createOrdersStore } from './orders.js';
export type { NewOrder, Order, OrdersStore, OrdersStoreOptions } from './orders.js';
export { createOrdersService } from './service.js';
export type { OrdersService, OrdersServiceOptions } from './service.js';
