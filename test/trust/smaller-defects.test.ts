/**
 * Issue 18, class 8 — the smaller defects: broken symlink class folders, contradictory flags, predict's names and
 * columns, train's divergence rule (code and README agree), a changed dataset in an existing --out, a truncated PNG,
 * `predict DIR`, the README's limits example followed in order, the README's table sections, the search's wall figure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { REPO } from '../helpers/shared.js';
import { tempDirs } from '../helpers/tmp.js';
import { pngBytes, writeClassFolders } from '../helpers/images.js';
import { runSearch } from '../../src/pipeline/search.js';
import { DEFAULT_METHOD } from '../../src/search/registry.js';

const tmp = tempDirs('robot-nas-trust-small-');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const TINY_SEARCH = ['--pool', '3', '--budget', '2', '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '8', '--parallel', '0'];
const TINY_TRAIN = ['train', '--arch', ARCH, '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '20'];

/** The CLI run in `cwd` (where the default robot-nas-results/ goes). */
function cliIn(cwd: string, args: string[]): { code: number; stdout: string; stderr: string; seconds: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'robot-nas.js'), ...args], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

test('a dangling or looping symlink as a class folder is an error naming it, not a class that vanishes', () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  symlinkSync(join(base, 'gone'), join(data, 'cat'));
  const r = runCli(['search', '--dataset', 'folder', '--data', data, ...TINY_SEARCH, '--out', join(base, 'run')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /images\/cat: class folder is a symbolic link that leads nowhere \(dangling\)/);
  rmSync(join(data, 'cat'));
  symlinkSync(join(data, 'loop'), join(data, 'loop'));
  const l = runCli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', data, '--epochs', '1']);
  assert.equal(l.code, 2);
  assert.match(l.stderr, /images\/loop: class folder is a symbolic link that leads nowhere \(a loop\)/);
});

test('--cache FILE --no-cache and --async --parallel 0 are refused as contradictions', () => {
  const d = tmp();
  const c = runCli(['search', ...TINY_SEARCH, '--cache', join(d, 'c.jsonl'), '--no-cache', '--out', join(d, 'run')]);
  assert.equal(c.code, 2);
  assert.match(c.stderr, /--cache FILE and --no-cache contradict each other/);
  const c2 = runCli(['search', ...TINY_SEARCH, '--no-cache', '--cache', join(d, 'c.jsonl'), '--out', join(d, 'run')]);
  assert.equal(c2.code, 2);
  const a = runCli(['search', ...TINY_SEARCH, '--async', '--out', join(d, 'run')]);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--async: with --parallel 0/);
  assert.ok(!existsSync(join(d, 'run')));
});

test('predict --dataset folder names images by their files and quotes names with spaces, so columns stay columns', () => {
  const base = tmp();
  const data = join(base, 'photos');
  writeClassFolders(join(data, 'train'), ['t shirt', 'trouser'], 12, 8);
  writeClassFolders(join(data, 'test'), ['t shirt', 'trouser'], 2, 8);
  const m = join(base, 'model');
  assert.equal(runCli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', data, '--channels', '4', '--epochs', '2', '--batch-size', '8', '--save', m]).code, 0);
  const r = runCli(['predict', '--model', m, '--dataset', 'folder', '--split', 'test']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').slice(0, -1);
  assert.equal(lines.length, 4);
  for (const l of lines) {
    assert.doesNotMatch(l, /folder:test:/);
    // a quoted name is one shell word: split as a shell would, the columns are name, class, p, value, label, class
    const words = spawnSync('bash', ['-c', `printf '%s\\n' ${l.replace(/✗/, '')}`], { encoding: 'utf8' }).stdout.trim().split('\n');
    assert.equal(words.length, 6, l);
    assert.ok(existsSync(words[0]!), `${words[0]} is the image's file`);
    assert.equal(words[5], words[0]!.split('/').at(-2), 'labelled by its folder');
  }
});

test('predict DIR predicts every image in the folder', () => {
  const base = tmp();
  const m = join(base, 'model');
  assert.equal(runCli([...TINY_TRAIN, '--save', m]).code, 0);
  const dir = join(base, 'my digits');
  mkdirSync(dir);
  for (const n of ['a.png', 'b.png', 'c.png']) writeFileSync(join(dir, n), pngBytes(28, [200, 200, 200], n.charCodeAt(0)));
  writeFileSync(join(dir, 'notes.txt'), 'not an image');
  const r = runCli(['predict', '--model', m, dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, / — 3 image file\(s\)$/m);
  for (const n of ['a.png', 'b.png', 'c.png']) assert.ok(r.stdout.includes(`${n}'`), n);
  const empty = join(base, 'empty');
  mkdirSync(empty);
  const e = runCli(['predict', '--model', m, empty]);
  assert.equal(e.code, 2);
  assert.match(e.stderr, /empty: a folder with no \.png, \.jpg or \.jpeg files to predict/);
});

test('train: a blown-up training saves nothing and exits 2 after its report; a training at chance is saved and marked — as the README says', () => {
  const base = tmp();
  const m = join(base, 'model');
  const blown = runCli([...TINY_TRAIN, '--lr', '1000', '--save', m]);
  assert.equal(blown.code, 2, blown.stderr);
  assert.match(blown.stdout, /^diverged\s+yes — (non-finite loss|loss above bound)/m);
  assert.match(blown.stderr, /training diverged \((non-finite loss|loss above bound)\); no model saved to .*model \(try a lower --lr\)/);
  assert.ok(!existsSync(m), 'nothing saved');
  const chance = runCli([...TINY_TRAIN, '--save', m]);
  assert.equal(chance.code, 0, chance.stderr);
  assert.match(chance.stdout, /^diverged\s+yes — chance accuracy after the last epoch \(the model is saved and marked so in its card\)/m);
  const card = JSON.parse(readFileSync(join(m, 'manifest.json'), 'utf8')) as { training: { divergence: string } };
  assert.equal(card.training.divergence, 'chance accuracy');
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  assert.match(readme, /A training that blew up — its loss became non-finite, or ended\s+above 10·ln K for K classes — saves nothing: exit 2 after the report\. One whose accuracy is still at chance after its\s+last epoch/);
});

test('a changed dataset in an existing --out says "the data changed (fingerprint a → b)", not a blob of derived settings', () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee'], 8, 8);
  const out = join(base, 'run');
  assert.equal(runCli(['search', '--dataset', 'folder', '--data', data, ...TINY_SEARCH, '--out', out]).code, 0);
  rmSync(join(data, 'bee'), { recursive: true });
  writeClassFolders(data, ['bee'], 8, 8, () => 4);
  const r = runCli(['search', '--dataset', 'folder', '--data', data, ...TINY_SEARCH, '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /run holds a search with other settings — the data changed \(fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)\. Use another --out/);
  assert.doesNotMatch(r.stderr, /padValue|mean|\{|undefined/);
});

test('a truncated PNG is an error naming the file and saying it is truncated (not the decoder\'s stream message)', () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  const whole = pngBytes(64, [9, 99, 199], 7);
  writeFileSync(join(data, 'bee', 'cut.png'), whole.subarray(0, Math.floor(whole.length / 2)));
  const r = runCli(['search', '--dataset', 'folder', '--data', data, ...TINY_SEARCH, '--out', join(base, 'run')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bee\/cut\.png: the PNG file is truncated or incomplete/);
  assert.doesNotMatch(r.stderr, /waitng|finished stream/);
});

test("the README's limits example runs when the README is followed in order (the default folder holds the default search)", () => {
  const cwd = tmp();
  const first = cliIn(cwd, ['search', ...TINY_SEARCH]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, new RegExp(`^results\\s+robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0/`, 'm'));
  // the same command again resumes in the same folder
  assert.match(cliIn(cwd, ['search', ...TINY_SEARCH]).stdout, new RegExp(`^results\\s+robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0/`, 'm'));
  const limits = cliIn(cwd, ['search', ...TINY_SEARCH.map((a) => (a === '3' ? '6' : a)), '--max-params', '40k', '--train-best', '1', '--save', 'small-model']);
  assert.equal(limits.code, 0, limits.stderr);
  assert.match(limits.stdout, new RegExp(`^results\\s+robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0-2/`, 'm'));
  assert.ok(existsSync(join(cwd, 'small-model', 'manifest.json')));
  // with --out naming the first folder, the refusal names the differences plainly
  const refused = cliIn(cwd, ['search', ...TINY_SEARCH.map((a) => (a === '3' ? '6' : a)), '--max-params', '40k', '--out', `robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0`]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /holds a search with other settings — pool 3 → 6; limits none → maxParams 40000\. Use another --out/);
  assert.doesNotMatch(refused.stderr, /undefined|[{}"]/);
});

test("the README's table sections speak of the paper and the reference code, not of 'the issue'", () => {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /\bthe issue\b/i);
  assert.match(readme, /what the reference code \(RoBoT's official implementation\) gives when run on the\s+same CSV/);
});

test("the search's wall figure counts from the process's start (start-up and data loading included)", async () => {
  const d = tmp();
  const r = cliIn(d, ['search', ...TINY_SEARCH, '--out', 'run']);
  assert.equal(r.code, 0, r.stderr);
  const res = JSON.parse(readFileSync(join(d, 'run', 'result.json'), 'utf8')) as { wallSeconds: number; queryWallSeconds: number; pool: { scoringSeconds: number } };
  assert.ok(res.wallSeconds <= r.seconds, `the figure (${res.wallSeconds} s) is within the process's life (${r.seconds} s)`);
  assert.ok(res.wallSeconds >= res.queryWallSeconds + res.pool.scoringSeconds);
  assert.match(r.stdout, new RegExp(`wall ${res.wallSeconds.toFixed(0)} s$`, 'm'));
  // the library counts from the moment the caller gives (the CLI gives 0, the process's start)
  const lib = await runSearch(
    { space: 'nb201', dataset: 'mnist', pool: 3, budget: 2, method: 'robot', metrics: ['snip', 'synflow'], channels: 4, cells: 1, epochs: 1, batchSize: 32, lr: 0.1, scoreBatch: 8, validFraction: 0.2, trainLimit: 64, validLimit: 32, seed: 0, out: join(d, 'lib'), cache: null, parallel: 0 },
    {},
    { startedAt: performance.now() - 3600_000 },
  );
  assert.ok(lib.wallSeconds >= 3600);
});
