import { describeExampleRollingRestarts } from '../example-suite.js';

describeExampleRollingRestarts('fastify', 'kube-proxy');
