/**
 * An error caused by the user's input (a file, a flag, a value). The CLI prints its message
 * without a stack trace and exits with code 2; library callers can catch it by type.
 */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Location-prefixed input error: `file:line: message` or `file: message`. */
export function inputError(file: string | undefined, where: string | number | undefined, message: string): InputError {
  const loc = file === undefined ? '' : where === undefined ? `${file}: ` : `${file}:${where}: `;
  return new InputError(`${loc}${message}`);
}
