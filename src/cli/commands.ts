import type { Command } from 'commander';
import { register as bench } from './bench.js';
import { register as exportModel } from './export.js';
import { register as predict } from './predict.js';
import { register as proxies } from './proxies.js';
import { register as queue } from './queue.js';
import { register as search } from './search.js';
import { register as table } from './table.js';
import { register as train } from './train.js';
import { register as worker } from './worker.js';

/** Every sub-command module exports `register(program)`; list them here. */
export function registerCommands(program: Command): void {
  bench(program);
  proxies(program);
  table(program);
  search(program);
  train(program);
  predict(program);
  exportModel(program);
  worker(program);
  queue(program);
}
