/** Expression endpoints: check one expression, preview its value against a run. */

import { api } from './client';

/** A problem of an expression, at a 1-based line and column (0-based offset). */
export interface ExpressionProblem {
  code: string;
  message: string;
  line: number;
  column: number;
  offset: number;
}

export type ExpressionCheck = { ok: true } | { ok: false; errors: ExpressionProblem[] };

export type ExpressionPreview =
  | { ok: true; value: unknown; too_large?: number }
  | { ok: false; errors: ExpressionProblem[] };

export function checkExpression(expression: string, signal?: AbortSignal): Promise<ExpressionCheck> {
  return api.post<ExpressionCheck>('/api/v1/expressions/check/', { expression }, signal);
}

/** Evaluate against a run's data; `nodeId` gives `outcome` and `attempt` (an edge's source). */
export function previewExpression(expression: string, runId: number, nodeId?: string, signal?: AbortSignal): Promise<ExpressionPreview> {
  return api.post<ExpressionPreview>('/api/v1/expressions/preview/', { expression, run_id: runId, ...(nodeId ? { node_id: nodeId } : {}) }, signal);
}
