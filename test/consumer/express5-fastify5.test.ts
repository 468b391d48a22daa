import { describeConsumer, GENERATIONS } from './suite.js';

describeConsumer(GENERATIONS[5]);
