/**
 * `npm run docs`: reruns the README's example commands and rewrites their output blocks with the real output.
 *   npm run docs                  the quick ones (seconds; also what `npm test` checks)
 *   npm run docs -- --all         every one, including the main job, `train` and the paper tables (about an hour)
 *   npm run docs -- --only ID,…   just these (ids in scripts/docs/examples.ts)
 * Run `--all` after any change to numerics or defaults, before a release.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXAMPLES } from './docs/examples.js';
import { refreshLayout } from './docs/layout.js';
import { README, readmeBlocks, refreshFiles, removeSharedDirs, replaceBlocks, REPO, runExample, type ReadmeExample } from './docs/readme.js';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',').filter(Boolean)) : undefined;
const all = args.includes('--all');
const unknown = only ? [...only].filter((id) => !EXAMPLES.some((e) => e.id === id)) : [];
if (unknown.length > 0) {
  process.stderr.write(`docs: unknown example id(s) ${unknown.join(', ')}; known: ${EXAMPLES.map((e) => e.id).join(', ')}\n`);
  process.exit(2);
}
const chosen = EXAMPLES.filter((e) => (only ? only.has(e.id) : all || e.speed === 'quick'));

// Source listings and the layout first: they are always cheap, so every run refreshes them.
let text = refreshLayout(refreshFiles(readFileSync(README, 'utf8'), (path) => readFileSync(join(REPO, path), 'utf8')), REPO);
writeFileSync(README, text);
const blocks = readmeBlocks(text);
for (const e of EXAMPLES) if (!blocks.has(e.id)) throw new Error(`README has no block <!-- output: ${e.id} -->`);

/** `{arch:ID}` → the best architecture in example ID's current block. */
function resolveArch(e: ReadmeExample, current: Map<string, string>): ReadmeExample {
  const sub = (s: string): string =>
    s.replace(/\{arch:([\w.-]+)\}/g, (_m, id: string) => {
      const m = /^best architecture\s+(\S+)$/m.exec(current.get(id) ?? '');
      if (!m) throw new Error(`example ${e.id}: no 'best architecture' line in block ${id}`);
      return m[1];
    });
  return { ...e, shown: sub(e.shown), argv: e.argv.map(sub) };
}

for (const e0 of chosen) {
  const e = resolveArch(e0, blocks);
  const t0 = performance.now();
  process.stderr.write(`docs: ${e.id}: ${e.shown} … `);
  const r = runExample(e);
  if (r.code !== 0) {
    process.stderr.write(`failed (exit ${r.code})\n${r.stderr}\n`);
    removeSharedDirs();
    process.exit(1);
  }
  blocks.set(e.id, r.block);
  // written after each example, so a long --all run keeps what it has done
  text = replaceBlocks(text, blocks);
  writeFileSync(README, text);
  process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
removeSharedDirs();
