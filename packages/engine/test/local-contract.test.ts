import { defineContractSuite } from './contract/contract-suite.js';
import { createHarness } from './support/harness.js';

// The image is ignored by the local executor: the same workflow text runs on every executor.
defineContractSuite('local', () => createHarness({ executor: 'local' }), 'localhost/pilotage/base:latest');
