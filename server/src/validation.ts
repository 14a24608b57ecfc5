import type { z } from 'zod';
import { AppError } from './errors.js';

/** Turns zod issues into one message that names every bad field. */
export function describeIssues(error: z.ZodError): { message: string; fields: { field: string; problem: string }[] } {
  const fields = error.issues.map((issue) => {
    const field = issue.path.length ? issue.path.join('.') : '(body)';
    if (issue.code === 'unrecognized_keys') {
      // Nested unknown keys are named with their path (`reminders.useDefault`), not alone.
      return { field: issue.keys.map((key) => [...issue.path, key].join('.')).join(', '), problem: 'unknown field' };
    }
    return { field, problem: issue.message };
  });
  return { message: fields.map((f) => `${f.field}: ${f.problem}`).join('; '), fields };
}

/** The error for input that failed its schema: every bad field named, in `details.fields`. */
export function validationError(
  error: z.ZodError,
  code: 'validation_failed' | 'tool_input_invalid' = 'validation_failed',
) {
  const { message, fields } = describeIssues(error);
  return new AppError(code, message, { details: { fields } });
}
