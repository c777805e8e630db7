/** Time auto-layout on large graphs: `npx vitest bench src/graph` (not part of the tests). */

import { bench, describe } from 'vitest';
import { ACTIONS, exampleGraph, largeWorkflow } from './fixtures';
import { autoLayout } from './layout';
import { validateGraph } from './validate';

const large = largeWorkflow(500, 600);
const medium = largeWorkflow(200, 240);
const example = exampleGraph();

describe('autoLayout', () => {
  bench('500 nodes, 600 edges', () => void autoLayout(large), { iterations: 10 });
  bench('200 nodes, 240 edges (all edges ranked, network simplex)', () => void autoLayout(medium), { iterations: 10 });
  bench('the design example', () => void autoLayout(example));
});

describe('validateGraph', () => {
  bench('500 nodes, 600 edges', () => void validateGraph(large, ACTIONS));
});
