// Load-time graph rewrites that do not depend on the input shape.
import type { Graph } from './ir.js';

export function optimizeGraph(graph: Graph): Graph {
  return graph;
}
