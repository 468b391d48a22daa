import { describeExampleRollingRestarts } from '../example-suite.js';

describeExampleRollingRestarts('fastify', 'health-checked');
