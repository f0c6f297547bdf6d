/**
 * Issue 18, class 7 — every command robot-nas prints runs as printed: the `next` line of a search keeps `--data`,
 * `--seed` and every setting of the split and recipe, and paths with spaces, quotes or non-ASCII characters are quoted
 * by the one quoting function (util/shell). The tests parse the printed line with a real shell and run it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { shellQuote } from '../../src/util/shell.js';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';
import { writeClassFolders } from '../helpers/images.js';

const tmp = tempDirs('robot-nas-trust-cmd-');
const CLI = join(REPO, 'bin', 'robot-nas.js');

/** What `sh -c` makes of a printed word: the argument it passes on. */
function shellReads(shell: string, quoted: string): string {
  const r = spawnSync(shell, ['-c', `printf '%s' ${quoted}`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

test('shellQuote: bash and dash read every quoted word back unchanged', () => {
  const words = ["it's", 'a b', 'ünï cöde', '$HOME', '`id`', 'a\\b', 'x!y', '"q"', "Genotype(normal=[('sep_conv_3x3', 0)], normal_concat=range(2, 6))", '', '~', '*.png', 'a;b&c|d', "both ' and $"];
  for (const w of words) {
    assert.equal(shellReads('bash', shellQuote(w)), w, w);
    assert.equal(shellReads('dash', shellQuote(w)), w, w);
  }
  assert.equal(shellQuote('plain/path-1.png'), 'plain/path-1.png', 'safe words stay bare');
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 12 }).filter((s) => !s.includes('\0')), (w) => shellReads('bash', shellQuote(w)) === w),
    { numRuns: 60 },
  );
});

/** Runs a printed `npx robot-nas …` line in bash, with this checkout's CLI standing in for npx. */
function runPrinted(line: string, extra = ''): { code: number; stdout: string; stderr: string } {
  assert.match(line, /^npx robot-nas /);
  const r = spawnSync('bash', ['-c', `${line.replace(/^npx robot-nas /, `${shellQuote(process.execPath)} ${shellQuote(CLI)} `)}${extra}`], { encoding: 'utf8', cwd: tmp() });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test("a folder search's next line, with --data naming a path with spaces, a quote and non-ASCII characters and a non-default split and recipe, trains on the same data and split", () => {
  const base = tmp();
  const data = join(base, "my data", "ünï 'set'");
  writeClassFolders(data, ['cat', 'dog', 'emu'], 8, 8);
  const out = join(base, 'run');
  const s = runCli(['search', '--dataset', 'folder', '--data', data, '--pool', '3', '--budget', '2', '--channels', '4', '--epochs', '1', '--score-batch', '8', '--parallel', '0', '--seed', '3', '--batch-size', '16', '--lr', '0.05', '--valid-fraction', '0.25', '--out', out]);
  assert.equal(s.code, 0, s.stderr);
  const next = /^next\s+(.*)$/m.exec(s.stdout)?.[1];
  assert.ok(next, s.stdout);
  for (const flag of ['--data', '--seed 3', '--valid-fraction 0.25', '--batch-size 16', '--lr 0.05']) assert.ok(next.includes(flag), `${flag} in ${next}`);
  const report = join(base, 'report.json');
  const t = runPrinted(next, ` --epochs 1 --out ${shellQuote(report)}`);
  assert.equal(t.code, 0, t.stderr);
  const searched = JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')) as { data: { fingerprint: string; trainCount: number; validCount: number } };
  const trained = JSON.parse(readFileSync(report, 'utf8')) as { data: { fingerprint: string }; settings: { batchSize: number; lr: number; seed: number } };
  assert.equal(trained.data.fingerprint, searched.data.fingerprint, 'the same images and the same split');
  assert.deepEqual([trained.settings.batchSize, trained.settings.lr, trained.settings.seed], [16, 0.05, 3]);
});

test("the commands a saved model's line prints (predict, export) run as printed for a folder name with spaces and non-ASCII", () => {
  const base = tmp();
  const model = join(base, "mödel 'one'");
  const t = runCli(['train', '--arch', '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '20', '--save', model]);
  assert.equal(t.code, 0, t.stderr);
  const m = /^saved model\s+.* \(predict: (npx robot-nas predict .*) IMAGE\.png; export: (npx robot-nas export .*) DIR\)$/m.exec(t.stdout);
  assert.ok(m, t.stdout);
  const img = join(base, 'digit one.png');
  writeClassFolders(join(base, 'imgs'), ['x'], 1, 28);
  spawnSync('cp', [join(base, 'imgs', 'x', '000.png'), img]);
  const p = runPrinted(m[1]!, ` ${shellQuote(img)}`);
  assert.equal(p.code, 0, p.stderr);
  assert.match(p.stdout, /'.*digit one\.png'\s+\d\s+p /, 'the name with a space is quoted in the column');
  const e = runPrinted(m[2]!, ` ${shellQuote(join(base, 'ëxport dir'))}`);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /^exported /);
});
