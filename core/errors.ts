import type { FieldIssue } from './events';

/** Errors the domain raises; handlers map each to one HTTP status (see lambdas/shared/http.ts). */
export class ScherpError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The input is malformed; `issues` name each bad field. → 400 */
export class ValidationError extends ScherpError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super('invalid_request', message);
  }
}

/** Missing or wrong credentials. → 401 */
export class AuthenticationError extends ScherpError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

/** Nothing stored under that identifier. → 404 */
export class NotFoundError extends ScherpError {
  constructor(message: string) {
    super('not_found', message);
  }
}

/** The thing to create exists already (a source name); `issues` name the field. → 409 */
export class AlreadyExistsError extends ScherpError {
  constructor(
    message: string,
    readonly issues: FieldIssue[] = [],
  ) {
    super('conflict', message);
  }
}

/** The request conflicts with work in progress (a job running for the same audience). → 409 */
export class ConflictError extends AlreadyExistsError {}

/** A size or count limit was exceeded; `limit` names it. → 413 */
export class LimitExceededError extends ScherpError {
  constructor(
    message: string,
    readonly limit: string,
  ) {
    super('payload_too_large', message);
  }
}

/** A source sent more requests than its rate limit allows (`core/rate-limit.ts`). → 429 with Retry-After */
export class RateLimitedError extends ScherpError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super('rate_limited', message);
  }
}
