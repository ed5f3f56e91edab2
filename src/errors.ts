// The bottom layer: errors every folder may throw.

/**
 * Errors the user caused (bad model, bad input): the CLI prints their message alone, without a stack.
 * The message is one line whatever it quotes: control characters (a node name in a damaged model may
 * hold a newline) are written as escapes.
 */
export class UserError extends Error {
  override name = 'UserError';

  constructor(message: string, options?: ErrorOptions) {
    super(oneLine(message), options);
  }
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A command line that does not parse (unknown command or option, missing value): exit status 2. */
export class UsageError extends UserError {
  override name = 'UsageError';
}
