/** Messages into waiting runs: `POST /api/v1/messages/` (operator role). */

import { api } from './client';

export interface MessageInput {
  name: string;
  /** The correlation key; a number is matched as its text. */
  key: string;
  payload: unknown;
}

/** `202` answer: the runs it reached, or that it is kept for a run still to come. */
export interface MessageSent {
  delivered_to: number[];
  kept: boolean;
  expires_at: string | null;
}

export function sendMessage(message: MessageInput): Promise<MessageSent> {
  return api.post<MessageSent>('/api/v1/messages/', message);
}
