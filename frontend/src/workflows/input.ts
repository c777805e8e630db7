/** Parse the run input textarea and suggest slugs (plain TS, no React). */

export type ParsedInput =
  | { ok: true; value: Record<string, unknown> }
  | { ok: false; error: string };

/** Parse run input: a JSON object; blank means {}. */
export function parseRunInput(text: string): ParsedInput {
  if (text.trim() === '') return { ok: true, value: {} };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, error: `Input is not valid JSON: ${detail}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: 'Input must be a JSON object, such as {"order_id": 42}.' };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

/** Suggest a slug from a name: "Order intake (EU)" → "order-intake-eu". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 64)
    .replace(/-+$/g, '');
}
