/**
 * The README's example outputs are the code's real output: every registered example has exactly one block, and
 * the quick ones, rerun now, reproduce their block byte for byte (wall-clock timings masked). The long ones
 * (main job, train, the paper tables) are refreshed by `npm run docs -- --all`. The model examples form one chain
 * in one folder (train --save, then predict, export and the runtime loads), run in order.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXAMPLES } from '../../scripts/docs/examples.js';
import { join } from 'node:path';
import { layoutBlock, layoutProblems, renderLayout, treeFolders } from '../../scripts/docs/layout.js';
import { fileBlocks, masked, README, readmeBlocks, renderBlock, removeSharedDirs, renderFile, REPO, runExample, type ReadmeExample } from '../../scripts/docs/readme.js';

const blocks = readmeBlocks(readFileSync(README, 'utf8'));

test('every README output block belongs to a registered example, and every example has its block', () => {
  const ids = new Set(EXAMPLES.map((e) => e.id));
  assert.equal(ids.size, EXAMPLES.length, 'example ids are unique');
  assert.deepEqual([...blocks.keys()].filter((id) => !ids.has(id)), [], 'README blocks without an example');
  assert.deepEqual(EXAMPLES.filter((e) => !blocks.has(e.id)).map((e) => e.id), [], 'examples without a README block');
});

test('every source listing in the README is its file, whole and current', () => {
  const files = fileBlocks(readFileSync(README, 'utf8'));
  assert.ok(files.size >= 2);
  for (const [path, block] of files) assert.equal(block, renderFile(path, readFileSync(join(REPO, path), 'utf8')), `README listing of ${path} is stale: run \`npm run docs\``);
});

test('the project layout is the tree: one described line per folder, no description without its folder', () => {
  assert.deepEqual(layoutProblems(REPO), { undescribed: [], stale: [] }, 'edit FOLDERS in scripts/docs/layout.ts');
  const block = layoutBlock(readFileSync(README, 'utf8'));
  assert.equal(block, renderLayout(REPO), 'the README layout is stale: run `npm run docs`');
  const lines = block!.split('\n').filter((l) => /^\w/.test(l));
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), treeFolders(REPO));
  assert.ok(lines.some((l) => l.startsWith('src/jobs/ ')) && lines.some((l) => l.startsWith('native/kernels/ ')));
});

test('rendering elides, cuts and frames output as the README shows it', () => {
  const ex: ReadmeExample = { id: 'x', speed: 'quick', shown: 'cmd', argv: [], cwd: 'repo', streams: 'stderr+stdout', format: 'code', elide: { match: /^q/, head: 1, tail: 1 }, maxLine: 6 };
  assert.equal(renderBlock(ex, 'done\n', 'q1\nq2\nq3\nq4\nlonger line\n'), '```\n$ cmd\nq1\n…\nq4\nlonge…\ndone\n```\n');
});

for (const ex of EXAMPLES.filter((e) => e.speed === 'quick')) {
  test(`README block '${ex.id}' is the real output of \`${ex.shown}\``, () => {
    const r = runExample(ex);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(masked(ex, r.block), masked(ex, blocks.get(ex.id) ?? ''), `README block '${ex.id}' is stale: run \`npm run docs\``);
  });
}

after(removeSharedDirs);
