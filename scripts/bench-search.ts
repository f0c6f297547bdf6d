/**
 * `npm run bench:search`: the main job's wall time with every core busy against one job at a time, in the same
 * run: `robot-nas search` (defaults) with `--parallel 1` and with `--parallel <cores>`, each in a fresh folder
 * with a fresh cache (so everything is scored and trained), one after the other. `ROUNDS=2` alternates twice.
 * Extra arguments go to both searches (e.g. `-- --pool 50 --budget 8` for a quicker look).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const cores = availableParallelism();
const rounds = Number(process.env.ROUNDS ?? 1);
const extra = process.argv.slice(2);

interface Res { wallSeconds: number; pool: { scoringSeconds: number }; queryWallSeconds: number; scheduleSeconds: number; totalCost: number; best: { arch: string; validAccuracy: number }; t0: number | null }

function search(parallel: number): Res {
  const dir = mkdtempSync(join(tmpdir(), `robot-nas-bench-search-p${parallel}-`));
  try {
    const r = spawnSync(process.execPath, [join(repo, 'bin', 'robot-nas.js'), 'search', '--parallel', String(parallel), ...extra, '--json'], { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`search --parallel ${parallel} failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Res;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (r: Res): string =>
  `wall ${r.wallSeconds.toFixed(0).padStart(4)} s  (scoring ${r.pool.scoringSeconds.toFixed(0).padStart(3)} s, queries ${r.queryWallSeconds.toFixed(0).padStart(4)} s; ` +
  `Σ training ${r.totalCost.toFixed(0)} s)  best ${r.best.validAccuracy.toFixed(2)} %  T0 ${r.t0}`;

process.stdout.write(`robot-nas search${extra.length ? ' ' + extra.join(' ') : ''}: --parallel 1 against --parallel ${cores} (${cores} cores), fresh caches\n`);
const ratios: number[] = [];
for (let k = 0; k < rounds; k++) {
  const one = search(1);
  process.stdout.write(`  --parallel 1   ${fmt(one)}\n`);
  const all = search(cores);
  process.stdout.write(`  --parallel ${cores}   ${fmt(all)}\n`);
  ratios.push(all.wallSeconds / one.wallSeconds);
}
process.stdout.write(`wall time with ${cores} at a time: ${ratios.map((r) => `${(100 * r).toFixed(0)} %`).join(', ')} of one at a time\n`);
