import { describeExampleRollingRestarts } from '../example-suite.js';

describeExampleRollingRestarts('express', 'health-checked');
