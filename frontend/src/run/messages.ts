/** What a waiting receive step waits for, the message form checked, and the answer in words (no React). */

import type { MessageInput, MessageSent } from '../api/messages';
import type { RunEvent, StepDetail } from '../api/types';
import type { WorkflowGraph } from '../graph';
import { formatDateTime } from '../ui/format';

// The server's limits (engine/nodes/receive.py).
const MESSAGE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
export const MAX_KEY_LENGTH = 200;

/** What a receive step waits for; each part null when not known. */
export interface ReceiveWait {
  message: string | null;
  key: string | null;
  timeoutAt: string | null;
}

/**
 * Return what each step waits for, from the events that put it in `waiting`: their
 * data holds `{message, key, timeout_at}`. {step_id: wait}, the newest event winning.
 */
export function receiveWaits(events: readonly RunEvent[]): Map<number, ReceiveWait> {
  const waits = new Map<number, ReceiveWait>();
  for (const event of events) {
    if (event.step_id === null || typeof event.data !== 'object' || event.data === null) continue;
    const data = event.data as Record<string, unknown>;
    if (typeof data.message !== 'string') continue;
    waits.set(event.step_id, {
      message: data.message,
      key: typeof data.key === 'string' || typeof data.key === 'number' ? String(data.key) : null,
      timeoutAt: typeof data.timeout_at === 'string' ? data.timeout_at : null,
    });
  }
  return waits;
}

/** Say whether a step is a receive waiting for its message. */
export function isWaitingReceive(step: Pick<StepDetail, 'node_type' | 'state'>): boolean {
  return step.node_type === 'receive' && step.state === 'waiting';
}

/**
 * Return what a waiting receive step waits for: its event's data, else the message
 * name its node has in the graph (the key is an expression there, not a value).
 */
export function receiveWaitOf(step: Pick<StepDetail, 'id' | 'node_id' | 'wake_at'>, waits: ReadonlyMap<number, ReceiveWait>, graph: WorkflowGraph | null): ReceiveWait {
  const known = waits.get(step.id);
  if (known !== undefined) return { ...known, timeoutAt: known.timeoutAt ?? step.wake_at };
  const node = graph?.nodes.find((n) => n.id === step.node_id);
  const message = typeof node?.message === 'string' && node.message ? node.message : null;
  return { message, key: null, timeoutAt: step.wake_at };
}

/** Say what a receive waits for: "Waiting for message paid with key 42, until …", or "Waiting for a message". */
export function describeWait(wait: ReceiveWait): string {
  let text = wait.message === null ? 'Waiting for a message' : `Waiting for message ${wait.message}`;
  if (wait.key !== null) text += ` with key ${wait.key}`;
  if (wait.timeoutAt !== null) text += `, until ${formatDateTime(wait.timeoutAt)}`;
  return text;
}

export interface MessageForm {
  name: string;
  key: string;
  payload: string; // JSON text
}

export type MessageErrors = Partial<Record<keyof MessageForm, string>>;

/** Check the form and return the message to send; an empty payload is {}. */
export function messageOf(form: MessageForm): { ok: true; value: MessageInput } | { ok: false; errors: MessageErrors } {
  const errors: MessageErrors = {};
  const name = form.name.trim();
  if (!MESSAGE_NAME.test(name)) errors.name = 'A name of 1 to 100 letters, digits, “_”, “.”, “:” or “-”, such as payment.confirmed.';
  const key = form.key.trim();
  if (key === '' || key.length > MAX_KEY_LENGTH) errors.key = `The correlation key: 1 to ${MAX_KEY_LENGTH} characters.`;
  let payload: unknown = {};
  if (form.payload.trim() !== '') {
    try {
      payload = JSON.parse(form.payload);
    } catch (error) {
      errors.payload = `Not valid JSON: ${(error as Error).message}`;
    }
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { name, key, payload } };
}

/** Say what became of a sent message. */
export function describeSent(answer: MessageSent): string {
  const runs = answer.delivered_to;
  if (runs.length > 0) {
    const list = runs.map((id) => `#${id}`).join(', ');
    return `Delivered to ${runs.length === 1 ? 'run' : `${runs.length} runs:`} ${list}.`;
  }
  if (answer.kept) {
    const until = answer.expires_at ? ` until ${formatDateTime(answer.expires_at)}` : '';
    return `No run waits for it now: it is kept${until} for the first run that comes to wait for it.`;
  }
  return 'No run waits for it, and it was not kept.';
}
