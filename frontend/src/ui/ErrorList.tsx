/** Show API errors (or one message) inline, as text. */

import { ApiError } from '../api/client';
import type { ApiErrorItem } from '../api/types';

/** Return the error items of anything thrown by an API call. */
export function errorItems(error: unknown): ApiErrorItem[] {
  if (error instanceof ApiError) return error.errors;
  if (error instanceof Error) return [{ code: 'error', message: error.message }];
  return [{ code: 'error', message: String(error) }];
}

interface ErrorListProps {
  errors: ApiErrorItem[];
  testId?: string;
}

export function ErrorList({ errors, testId }: ErrorListProps) {
  if (errors.length === 0) return null;
  return (
    <ul className="error-list" role="alert" data-testid={testId}>
      {errors.map((error, i) => (
        <li key={i}>
          {error.field && error.field !== 'input' ? <strong>{error.field}: </strong> : null}
          {error.message}
        </li>
      ))}
    </ul>
  );
}
