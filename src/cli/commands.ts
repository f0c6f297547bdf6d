import type { Command } from 'commander';

/**
 * Every sub-command module exports `register(program)`; list them here, in the order `--help` shows them. Modules are
 * imported on demand: a run loads only the command it names (the whole set costs start-up time in module loading
 * — vega, protobufjs, bullmq — that `bench` or `table` never use); `--help`, `--version` and unknown commands load all.
 */
const COMMANDS: Record<string, () => Promise<{ register(program: Command): void }>> = {
  bench: () => import('./bench.js'),
  proxies: () => import('./proxies.js'),
  table: () => import('./table.js'),
  search: () => import('./search.js'),
  train: () => import('./train.js'),
  predict: () => import('./predict.js'),
  export: () => import('./export.js'),
  worker: () => import('./worker.js'),
  queue: () => import('./queue.js'),
};

/** Registers the command `argv` runs (its first word, if a known command), or all of them. */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  const modules = await Promise.all(names.map((name) => COMMANDS[name]!()));
  for (const m of modules) m.register(program);
}
