/**
 * @podkit/fastify: the Fastify plugin of @podkit/lifecycle (Fastify 4 and 5).
 * Default export and named export are the same plugin.
 */
import { podkitFastify } from './plugin.js';

export { podkitFastify };
export type { PodkitFastifyOptions } from './plugin.js';
export default podkitFastify;
