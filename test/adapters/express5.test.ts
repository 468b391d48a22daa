import { ADAPTERS, describeAdapter } from './suite.js';

describeAdapter(ADAPTERS.express5);
