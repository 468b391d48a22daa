import { describeExampleRollingRestarts } from '../example-suite.js';

describeExampleRollingRestarts('express', 'kube-proxy');
