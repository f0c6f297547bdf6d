/**
 * Issue 18, class 3 — every stored result is keyed by everything it depends on, the images included: the metric table
 * of a search and of `proxies` (fingerprint of the scoring batch's images, scoring code version), trainings (fingerprint of
 * the train and validation images); every job carries the fingerprint and a worker whose images differ refuses it.
 * (The queue worker started with another --data: test/trust/queue.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tempDirs } from '../helpers/tmp.js';
import { writeClassFolders } from '../helpers/images.js';
import { jobExecutor, scoringJob as makeScoringJob, type ScoringJob, type TrainingJob } from '../../src/jobs/index.js';
import { scoreArchitecture, scoringDataset, scoringFingerprint } from '../../src/proxies/spec.js';
import { loadScoringDataset } from '../../src/proxies/datasets.js';
import { METRICS_CODE_VERSION } from '../../src/proxies/types.js';
import { localRunner } from '../../src/runner/index.js';
import { DataMismatchError, InputError } from '../../src/util/errors.js';
import { trainFromSpec } from '../../src/train/spec.js';
import { DARTS_TRAINING } from '../../src/train/trainer.js';

const tmp = tempDirs('robot-nas-trust-stored-');
const TINY = ['--dataset', 'folder', '--pool', '3', '--budget', '2', '--channels', '4', '--epochs', '1', '--score-batch', '8', '--parallel', '0', '--seed', '2'];
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';

/** Replaces the images of class `name` by others (other colours): same names, other pixels. */
function replaceClass(data: string, name: string): void {
  rmSync(join(data, name), { recursive: true });
  writeClassFolders(data, [name], 8, 8, () => 5);
}

test("after a class's images are replaced, a search scores the pool again instead of reusing the old images' metric rows", () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee', 'cat'], 8, 8);
  const first = runCli(['search', ...TINY, '--data', data, '--out', join(base, 'runs', 'a')]);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /0 already in \S+metrics-[0-9a-f]{16}\.csv, 3 to score/);
  replaceClass(data, 'bee');
  const second = runCli(['search', ...TINY, '--data', data, '--out', join(base, 'runs', 'b')]);
  assert.equal(second.code, 0, second.stderr);
  assert.match(second.stderr, /0 already in \S+metrics-[0-9a-f]{16}\.csv, 3 to score/, 'not "3 already in …, 0 to score"');
  const tables = readdirSync(join(base, 'runs')).filter((f) => /^metrics-[0-9a-f]{16}\.csv$/.test(f));
  assert.equal(tables.length, 2, 'one table per set of images');
  // the same images again: every row is reused
  const third = runCli(['search', ...TINY, '--data', data, '--out', join(base, 'runs', 'c')]);
  assert.match(third.stderr, /3 already in \S+metrics-[0-9a-f]{16}\.csv, 0 to score/);
});

test('proxies --out resumes only on the images it was scored from', () => {
  const base = tmp();
  const data = join(base, 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  const out = join(base, 'p.csv');
  const args = ['proxies', '--space', 'nb201', '--dataset', 'folder', '--data', data, '--archs', '2', '--channels', '4', '--batch', '8', '--workers', '0', '--out', out];
  assert.equal(runCli(args).code, 0);
  replaceClass(data, 'ant');
  const r = runCli(args);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /p\.csv was scored on other images: the data changed \(fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)/);
  // rows recorded by an older robot-nas (no fingerprint) cannot be matched: not reused
  const meta = JSON.parse(readFileSync(`${out}.meta.json`, 'utf8')) as Record<string, unknown>;
  delete meta.fingerprint;
  writeFileSync(`${out}.meta.json`, JSON.stringify(meta));
  const old = runCli(args);
  assert.equal(old.code, 2);
  assert.match(old.stderr, /scored by an older robot-nas that did not record which images it used/);
});

function scoringJob(fingerprint: string, dir: string): ScoringJob {
  return makeScoringJob({ space: 'nb201', arch: ARCH, config: { channels: 4, cells: 1, batch: 8, classes: 2, metrics: ['snip'] }, data: { dataset: 'folder', dir, fingerprint }, seed: 1, version: METRICS_CODE_VERSION });
}

test('a scoring job whose images differ from the ones here is refused, in this thread and on a worker thread, with both fingerprints', async () => {
  const data = join(tmp(), 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  const here = scoringFingerprint(await loadScoringDataset({ dataset: 'folder', dir: data }), 8, 1);
  await assert.rejects(scoreArchitecture(scoringJob('0123456789abcdef', data)), (e: unknown) => e instanceof DataMismatchError && /fingerprint 0123456789abcdef, but .* here gives [0-9a-f]{16}: this machine holds other data/.test(e.message));
  const runner = localRunner(1, jobExecutor());
  try {
    await assert.rejects(runner.run(scoringJob('0123456789abcdef', data)), (e: unknown) => e instanceof InputError && /fingerprint 0123456789abcdef/.test(e.message));
    const ok = (await runner.run(scoringJob(here, data))) as { values: Record<string, unknown> };
    assert.ok('snip' in ok.values);
  } finally {
    await runner.close();
  }
});

test('a long-lived process reads the images again when a job names newer ones (a stale copy is not used, nor refused)', async () => {
  const data = join(tmp(), 'images');
  writeClassFolders(data, ['ant', 'bee'], 6, 8);
  const old = await scoringDataset({ dataset: 'folder', dir: data });
  replaceClass(data, 'ant');
  const now = scoringFingerprint(await loadScoringDataset({ dataset: 'folder', dir: data }), 8, 1);
  assert.notEqual(now, scoringFingerprint(old, 8, 1));
  const r = await scoreArchitecture(scoringJob(now, data));
  assert.ok('snip' in r.values);
});

test('a training job whose images differ is refused with both fingerprints', async () => {
  const job: TrainingJob = {
    kind: 'train',
    space: 'nb201',
    arch: ARCH,
    network: { channels: 4, cells: 1 },
    data: { dataset: 'mnist', dir: null, validFraction: 0.2, trainLimit: 40, validLimit: 20, seed: 0, fingerprint: '0123456789abcdef' },
    train: { ...DARTS_TRAINING, epochs: 1, batchSize: 16, augment: null },
    seed: 0,
  };
  await assert.rejects(trainFromSpec(job), (e: unknown) => e instanceof DataMismatchError && /fingerprint 0123456789abcdef, but the default location here gives [0-9a-f]{16}/.test(e.message));
});
