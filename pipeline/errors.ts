// Permanent pipeline failures: not retried; the scan goes to manual review with the error's code.
import { UnrecoverableError } from 'bullmq';

export class PermanentJobError extends UnrecoverableError {
  constructor(readonly code: string, message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}
