import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './shared.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** The parsed last stdout line (for --json runs). */
  json<T = Record<string, unknown>>(): T;
}

/** Run the built CLI (`npm test` builds first) as a user would. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    cwd: REPO,
    maxBuffer: 64 * 1024 * 1024,
  });
  const stdout = r.stdout ?? '';
  return {
    code: r.status ?? -1,
    stdout,
    stderr: r.stderr ?? '',
    json<T>() {
      const lines = stdout.trimEnd().split('\n');
      return JSON.parse(lines[lines.length - 1]) as T;
    },
  };
}
