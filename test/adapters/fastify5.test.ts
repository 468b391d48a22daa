import { describeFastifyClose } from './fastify-close.js';
import { ADAPTERS, describeAdapter } from './suite.js';

describeAdapter(ADAPTERS.fastify5);
describeFastifyClose(ADAPTERS.fastify5);
