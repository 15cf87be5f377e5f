/**
 * vitest setup file: a schema violation seen by any Cloudflare double fails the test that caused it
 * (or, for traffic in beforeAll/afterAll hooks, the file).
 */
import { afterAll, afterEach } from 'vitest';
import { ViolationGate } from './violation-gate.js';

const gate = new ViolationGate();

afterEach(() => gate.check());
afterAll(() => gate.check());
