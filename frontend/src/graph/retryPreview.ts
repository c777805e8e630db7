/** Preview the delays between attempts that a retry policy allows (engine/retry.py). */

export type Jitter = 'full' | 'equal' | 'none';

export interface RetryPolicyInput {
  max_attempts?: number;
  initial_interval_s?: number;
  backoff?: number;
  max_interval_s?: number;
  jitter?: string;
  non_retryable?: string[];
}

export interface RetryDelay {
  attempt: number; // the attempt this delay comes before (2 is the first retry)
  cap_s: number; // the un-jittered delay
  min_s: number; // jitter's range
  max_s: number;
}

// RetryPolicy's defaults in engine/retry.py.
export const ENGINE_RETRY_DEFAULTS = {
  max_attempts: 3,
  initial_interval_s: 1,
  backoff: 2,
  max_interval_s: 60,
  jitter: 'full' as Jitter,
};
// The graph schema's ceiling on max_attempts; also bounds the preview's length.
const MAX_ATTEMPTS = 100;

/** Return `value` if it is a finite number within bounds, else `fallback`. */
function number(value: unknown, fallback: number, min: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= min ? value : fallback;
}

/**
 * Return the policy the engine would use: the node's `retry` over the graph's
 * `defaults.retry` over the engine's defaults. Values the server would refuse fall
 * back to the layer below, so that a half-typed form still previews something.
 */
export function effectiveRetryPolicy(
  policy: RetryPolicyInput = {},
  defaults?: RetryPolicyInput | { retry?: RetryPolicyInput },
): Required<Omit<RetryPolicyInput, 'non_retryable' | 'jitter'>> & { jitter: Jitter } {
  // Accept either `defaults.retry` or the whole `defaults` object of a graph.
  const base: RetryPolicyInput =
    defaults && 'retry' in defaults && typeof defaults.retry === 'object' && defaults.retry !== null
      ? defaults.retry
      : ((defaults ?? {}) as RetryPolicyInput);
  const pick = <K extends keyof RetryPolicyInput>(key: K): unknown => policy[key] ?? base[key];
  const layered = (key: 'max_attempts' | 'initial_interval_s' | 'backoff' | 'max_interval_s', min: number) =>
    number(policy[key], number(base[key], ENGINE_RETRY_DEFAULTS[key], min), min);
  const jitter = pick('jitter');
  const attempts = Math.floor(layered('max_attempts', 1));
  return {
    max_attempts: Math.min(attempts, MAX_ATTEMPTS),
    initial_interval_s: layered('initial_interval_s', 0),
    backoff: layered('backoff', 1),
    max_interval_s: layered('max_interval_s', 0),
    jitter: jitter === 'full' || jitter === 'equal' || jitter === 'none' ? jitter : ENGINE_RETRY_DEFAULTS.jitter,
  };
}

/** Return the un-jittered delay after failed attempt number `attempt` (RetryPolicy.cap). */
export function retryCap(
  policy: { initial_interval_s: number; backoff: number; max_interval_s: number },
  attempt: number,
): number {
  const exponent = Math.max(attempt, 1) - 1;
  if (policy.initial_interval_s === 0) return 0;
  // An overflow to Infinity is capped just as Python's OverflowError is.
  return Math.min(policy.max_interval_s, policy.initial_interval_s * policy.backoff ** exponent);
}

/**
 * Return the delay before each retry (attempts 2..max_attempts) and its jitter range:
 * full jitter waits anywhere in [0, cap], equal in [cap/2, cap], none exactly cap.
 */
export function backoffPreview(
  policy: RetryPolicyInput,
  defaults?: RetryPolicyInput | { retry?: RetryPolicyInput },
): RetryDelay[] {
  const effective = effectiveRetryPolicy(policy, defaults);
  const delays: RetryDelay[] = [];
  for (let attempt = 2; attempt <= effective.max_attempts; attempt += 1) {
    const cap = retryCap(effective, attempt - 1);
    const min = effective.jitter === 'full' ? 0 : effective.jitter === 'equal' ? cap / 2 : cap;
    delays.push({ attempt, cap_s: cap, min_s: min, max_s: cap });
  }
  return delays;
}
