import { Command, CommanderError } from 'commander';
import { readFileSync } from 'node:fs';
import { InputError, SettingError } from '../util/errors.js';
import { registerCommands } from './commands.js';

/**
 * robot-nas CLI entry. Each sub-command lives in its own module and registers itself on the
 * program; user errors (InputError) print their message and exit 2, never a stack trace.
 */

/** The package version (package.json sits next to dist/ and src/). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** `--score-batch` for the setting `scoreBatch` of the running command (commander's attribute names). */
export function flagOf(command: Command | undefined, setting: string): string | undefined {
  const opt = command?.options.find((o) => o.attributeName() === setting);
  return opt?.long;
}

/** The user-facing message of an input error: a setting is named by the flag the running command has for it. */
export function userMessage(err: InputError, command: Command | undefined): string {
  if (err instanceof SettingError) {
    const flag = flagOf(command, err.setting);
    return `${flag ?? err.setting}: ${err.detail}`;
  }
  return err.message;
}

/**
 * A closed pipe (`robot-nas table nb201 | head -1`) ends the process quietly, as Unix tools do: EPIPE on
 * stdout or stderr is not an error of ours, and nothing more can be written anyway.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  let running: Command | undefined;
  program
    .name('robot-nas')
    .description('RoBoT: robustified and boosted training-free neural architecture search')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addHelpText(
      'after',
      [
        '',
        'Environment:',
        '  ROBOT_NAS_DATA=DIR             data folder (default ../shared/data next to the package)',
        '  ROBOT_NAS_KERNELS=native|wasm  kernel backend of the engine (default auto: native when its addon is built;',
        '                                 same results either way; the former name ROBOT_NAS_ENGINE is still read)',
        '  ROBOT_NAS_THREADS=N            threads one kernel is split over (default: the cores, at most 8; 1 in a worker thread)',
        '  ROBOT_NAS_DEBUG=1              print the stack trace of an internal error',
      ].join('\n'),
    )
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .hook('preAction', (_program, action) => {
      running = action;
    });
  await registerCommands(program, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help/version exit with code 0; usage errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`robot-nas: ${userMessage(err, running)}\n`);
      return 2;
    }
    // Anything else is a bug or an environment failure (out of memory, disk full): one line, the stack on request.
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as NodeJS.ErrnoException).code;
    if (/^engine heap: out of memory/.test(e.message)) {
      // a network the size checks let through (they are lower bounds) but a metric or step still could not hold
      process.stderr.write(`robot-nas: the network does not fit in the engine's memory (${e.message.replace(/^engine heap: out of memory /, '')}); use fewer --channels or --cells, or a smaller batch\n`);
      return 2;
    }
    if (code === 'ENOSPC' || code === 'EDQUOT') {
      // Everything written so far is whole (atomic files, repaired logs): freeing space and rerunning resumes.
      process.stderr.write(`robot-nas: the disk is full (${e.message}); free some space and run the same command again to resume\n`);
      return 1;
    }
    process.stderr.write(
      process.env.ROBOT_NAS_DEBUG ? `${e.stack ?? e.message}\n` : `robot-nas: internal error: ${e.message} (set ROBOT_NAS_DEBUG=1 for the stack trace)\n`,
    );
    return 1;
  }
}

quietOnClosedPipe();
const code = await main(process.argv.slice(2));
process.exitCode = code;
