/** Releasing a version: the publish gate, canaries, and the release settings form (no React). */

import type {
  CanaryState,
  GateResult,
  PublishGateMode,
  ReleaseSettings,
  ReleaseSettingsPatch,
  RollbackCriteria,
} from '../api/changeSafety';
import { formatRelative } from '../ui/format';

export const GATE_MODES: readonly { mode: PublishGateMode; text: string }[] = [
  { mode: 'off', text: 'off — publish without checking' },
  { mode: 'warn', text: 'warn — publish, and say what falls short' },
  { mode: 'block', text: 'block — refuse until the cases pass and cover enough' },
];

/** Say what the publish gate asks of a draft: "Gate: block · cases must pass, coverage ≥ 80 %". */
export function gateText(settings: Pick<ReleaseSettings, 'publish_gate' | 'coverage_threshold'>): string {
  if (settings.publish_gate === 'off') return 'Publish gate off: test cases are not checked.';
  const what = `the test cases must pass${settings.coverage_threshold > 0 ? ` and cover ≥ ${settings.coverage_threshold} % of the edges` : ''}`;
  return settings.publish_gate === 'block'
    ? `Publish gate blocks: ${what}.`
    : `Publish gate warns: ${what}, or publishing says what fell short.`;
}

/** Describe the gate's verdict after a publish: "" when the gate is off. */
export function gateVerdict(gate: GateResult | null): string {
  if (gate === null) return '';
  const counts = `${gate.passed} passed, ${gate.failed} failed`;
  const coverage = gate.coverage.percent === null ? '' : `, coverage ${gate.coverage.percent} %`;
  return gate.ok ? `Gate passed: ${counts}${coverage}.` : `Gate (${gate.mode}) found problems: ${counts}${coverage}.`;
}

/** Return the problems a 409 `publish_gate_failed` names ("publishing is blocked: a; b"). */
export function blockedProblems(message: string): string[] {
  const colon = message.indexOf(':');
  const rest = colon === -1 ? message : message.slice(colon + 1);
  return rest
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
}

/** "v2 is a canary: 30 % of new runs since 14:02 (5 min ago); live v1 takes the rest." */
export function canaryText(canary: CanaryState, live: number | null, now: number): string {
  const at = Date.parse(canary.started_at);
  const since = Number.isNaN(at)
    ? ''
    : ` since ${new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })} (${formatRelative(canary.started_at, now)})`;
  const rest = live === null ? '' : `; live v${live} takes the rest`;
  return `v${canary.version} is a canary: ${canary.percent} % of new runs${since}${rest}.`;
}

/** Link to the board's scorecard comparing the live version (A) with the canary (B). */
export function scorecardLink(slug: string, live: number | null, canary: number | null): string {
  const params = new URLSearchParams({ tab: 'scorecard', workflow: slug });
  if (live !== null) params.set('a', String(live));
  if (live !== null && canary !== null) params.set('b', String(canary));
  return `/board/?${params.toString()}`;
}

/** Return what publishing did: "Published v3; it is the live version now." */
export function publishedText(version: number, canaryPercent: number): string {
  return canaryPercent > 0
    ? `Published v${version} as a canary: it takes ${canaryPercent} % of new runs.`
    : `Published v${version}; it is the live version now.`;
}

/** Read a canary share typed by a person: a whole number from 1 to 99. */
export function parseCanaryPercent(text: string): { ok: true; value: number } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return { ok: false, error: 'A whole number of percent, 1 to 99.' };
  const value = Number(trimmed);
  if (value < 1 || value > 99) return { ok: false, error: 'A canary takes from 1 to 99 % of new runs.' };
  return { ok: true, value };
}

// -- the settings form ------------------------------------------------------------------

/** The release settings as typed; ratios are shown in percent, blanks mean "not set". */
export interface SettingsForm {
  gate: PublishGateMode;
  threshold: string;
  minSuccessRate: string; // %
  maxRetryBurden: string; // %
  maxDelayP95: string; // s
  minRuns: string;
  windowS: string; // s
}

export type SettingsField = keyof SettingsForm;
export type SettingsErrors = Partial<Record<SettingsField, string>>;

function percentOf(ratio: number | undefined): string {
  return ratio === undefined ? '' : String(Math.round(ratio * 1000) / 10);
}

function plain(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

export function settingsFormOf(settings: Pick<ReleaseSettings, 'publish_gate' | 'coverage_threshold' | 'rollback_criteria'>): SettingsForm {
  const c = settings.rollback_criteria ?? {};
  return {
    gate: settings.publish_gate,
    threshold: String(settings.coverage_threshold),
    minSuccessRate: percentOf(c.min_success_rate),
    maxRetryBurden: percentOf(c.max_retry_burden),
    maxDelayP95: plain(c.max_queue_delay_p95_s),
    minRuns: plain(c.min_runs),
    windowS: plain(c.window_s),
  };
}

type NumberRule = { min: number; max?: number; integer?: boolean };

function readNumber(text: string, rule: NumberRule): { value: number | undefined; error?: string } {
  const trimmed = text.trim();
  if (!trimmed) return { value: undefined };
  const value = Number(trimmed);
  if (!Number.isFinite(value)) return { value: undefined, error: 'A number.' };
  if (rule.integer && !Number.isInteger(value)) return { value: undefined, error: 'A whole number.' };
  if (value < rule.min || (rule.max !== undefined && value > rule.max)) {
    return { value: undefined, error: rule.max === undefined ? `At least ${rule.min}.` : `From ${rule.min} to ${rule.max}.` };
  }
  return { value };
}

/** Turn the form into the PATCH body, or say what is wrong with each field. */
export function settingsPatchOf(form: SettingsForm): { ok: true; value: ReleaseSettingsPatch } | { ok: false; errors: SettingsErrors } {
  const errors: SettingsErrors = {};
  const threshold = readNumber(form.threshold, { min: 0, max: 100, integer: true });
  if (threshold.error) errors.threshold = threshold.error;
  else if (threshold.value === undefined) errors.threshold = 'From 0 to 100 (0: any coverage).';

  const criteria: RollbackCriteria = {};
  const fields: [SettingsField, keyof RollbackCriteria, NumberRule, number][] = [
    ['minSuccessRate', 'min_success_rate', { min: 0, max: 100 }, 100],
    ['maxRetryBurden', 'max_retry_burden', { min: 0, max: 100 }, 100],
    ['maxDelayP95', 'max_queue_delay_p95_s', { min: 0 }, 1],
    ['minRuns', 'min_runs', { min: 1, integer: true }, 1],
    ['windowS', 'window_s', { min: 1 }, 1],
  ];
  for (const [field, key, rule, scale] of fields) {
    const read = readNumber(form[field], rule);
    if (read.error) errors[field] = read.error;
    else if (read.value !== undefined) criteria[key] = scale === 1 ? read.value : Math.round((read.value / scale) * 10000) / 10000;
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    value: { publish_gate: form.gate, coverage_threshold: threshold.value!, rollback_criteria: criteria },
  };
}

/** Say in one line when Switchyard rolls back by itself, or that it does not. */
export function criteriaText(criteria: RollbackCriteria): string {
  const parts: string[] = [];
  if (criteria.min_success_rate !== undefined) parts.push(`success rate < ${percentOf(criteria.min_success_rate)} %`);
  if (criteria.max_retry_burden !== undefined) parts.push(`retry burden > ${percentOf(criteria.max_retry_burden)} %`);
  if (criteria.max_queue_delay_p95_s !== undefined) parts.push(`queue delay p95 > ${criteria.max_queue_delay_p95_s} s`);
  if (parts.length === 0) return 'No automatic rollback: set a threshold to have one.';
  const runs = criteria.min_runs ?? 20;
  return `Rolls back automatically when ${parts.join(' or ')}, over at least ${runs} finished runs.`;
}
