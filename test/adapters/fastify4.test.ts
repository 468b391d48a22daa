import { describeFastifyClose } from './fastify-close.js';
import { ADAPTERS, describeAdapter } from './suite.js';

describeAdapter(ADAPTERS.fastify4);
describeFastifyClose(ADAPTERS.fastify4);
