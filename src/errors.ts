// The bottom layer: errors every folder may throw.

/** Errors the user caused (bad model, bad input): the CLI prints their message alone, without a stack. */
export class UserError extends Error {
  override name = 'UserError';
}
