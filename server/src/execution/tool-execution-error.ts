import { AppError } from '../errors.js';

/**
 * A tool call that ran and failed: the failure's code, message and details, with the id of
 * its tool_call_logs row, so the edge can hand it back beside the error.
 */
export class ToolExecutionError extends AppError {
  readonly executionId: string;

  constructor(failure: AppError, executionId: string) {
    super(failure.code, failure.message, { cause: failure, details: failure.details });
    this.name = 'ToolExecutionError';
    this.executionId = executionId;
  }
}
