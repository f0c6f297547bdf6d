import { Command, CommanderError } from 'commander';
import { InputError } from '../util/errors.js';
import { registerCommands } from './commands.js';

/**
 * robot-nas CLI entry. Each sub-command lives in its own module and registers itself on the
 * program; user errors (InputError) print their message and exit 2, never a stack trace.
 */
export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('robot-nas')
    .description('RoBoT: robustified and boosted training-free neural architecture search')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)');
  registerCommands(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help/version exit with code 0; usage errors were already printed by commander
      return err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof InputError) {
      process.stderr.write(`robot-nas: ${err.message}\n`);
      return 2;
    }
    // Anything else is a bug or an environment failure (out of memory, disk full): one line, the stack on request.
    const e = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(
      process.env.ROBOT_NAS_DEBUG ? `${e.stack ?? e.message}\n` : `robot-nas: internal error: ${e.message} (set ROBOT_NAS_DEBUG=1 for the stack trace)\n`,
    );
    return 1;
  }
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
