// The bottom layer: errors every folder may throw.

/** Errors the user caused (bad model, bad input): the CLI prints their message alone, without a stack. */
export class UserError extends Error {
  override name = 'UserError';
}

/** A command line that does not parse (unknown command or option, missing value): exit status 2. */
export class UsageError extends UserError {
  override name = 'UsageError';
}
