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

/**
 * A job's images could not be matched: the data a worker finds (here, or on another machine) have another
 * fingerprint than the job's. Not worth retrying anywhere with the same data.
 */
export class DataMismatchError extends InputError {
  constructor(message: string) {
    super(message);
    this.name = 'DataMismatchError';
  }
}

/**
 * An invalid setting, named by its option key (`scoreBatch`, `lr`, `pool`…). Library code knows settings, not
 * flags; the CLI maps the key to the flag of the running command (`--score-batch`), so every message names the
 * flag the user typed without the library knowing about the CLI.
 */
export class SettingError extends InputError {
  constructor(
    readonly setting: string,
    readonly detail: string,
  ) {
    super(`${setting}: ${detail}`);
    this.name = 'SettingError';
  }
}
