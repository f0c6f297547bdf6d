/**
 * The README's project layout, generated from the tree: one line per folder, its description from FOLDERS below.
 * `npm run docs` rewrites the `<!-- layout -->` block; test/docs/readme.test.ts checks it against the tree, so a
 * new folder needs its line here and a removed one loses it.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What each folder holds, one line each. */
export const FOLDERS: Readonly<Record<string, string>> = {
  'anchors/': 'the PyTorch anchor of the metrics (metrics_anchor.py; writes test/fixtures/metrics/anchors.json)',
  'bin/': 'the `robot-nas` executable (runs dist/cli/main.js)',
  'docs/': 'material the README links to',
  'docs/figures/': 'figures the README shows, written by `npm run docs`',
  'examples/': 'library examples the README lists and runs (`npm run docs`)',
  'native/': 'C sources of the kernels and the GP loops, their WebAssembly builds (kernels.wasm, gp.wasm), the Node addon (addon.c)',
  'native/gp/': "the GP's C loops (likelihood, posterior, the sweep's bounds), built to gp.wasm",
  'native/kernels/': 'the kernels: C functions for convolutions (dense and depthwise), pooling, activations, channel and elementwise ops (built into the addon and kernels.wasm)',
  'scripts/': 'benchmarks and evidence runs (`npm run bench…`, `evidence:…`), the metric study (`npm run study:metrics`, metric-sets.ts), the anchor fixtures (`npm run anchors:fixtures`), the trust sweep (`npm run sweep`), the kernels build, the README generator (`npm run docs`)',
  'scripts/anchors/': "PyTorch anchor scripts the benchmarks time against (the MBConv network's training step)",
  'scripts/bench/': "the benchmarks' own networks (MBConv, defined as the PyTorch anchor defines it)",
  'scripts/evidence/': 'the real-training evidence pools (MNIST, CIFAR-10 1k, a Fashion-MNIST folder) and their report',
  'scripts/docs/': "the README generator's examples, block rendering and this layout",
  'src/': 'the library; src/index.ts is its public API',
  'src/benchmarks/': 'tabular benchmarks: the data folder, one module per format (CSV, Suite-Zero json, pickles, official files) behind load.ts',
  'src/cli/': 'the `robot-nas` command (commander, cli-progress): flags, progress bars, printing; the work is done elsewhere',
  'src/data/': 'image datasets and the image cache (decode once, read rows on demand), decoding on worker threads, image-file lists, idx/npz arrays, CIFAR-10/100, ImageNet16-120, MNIST',
  'src/engine/': 'the engine: tensors in one shared memory, the kernels\' loader (native addon or WebAssembly), ops on the kernels (convolutions, depthwise, pooling, activations), autodiff',
  'src/experiments/': 'tabular experiments: candidate pools, a method over seeds, the paper tables; replays of real-training pools (as the search runs them), rank agreement of metrics, noise figures, the robustness study',
  'src/export/': 'the inference graph of a network and its ONNX, TF.js and PyTorch writers',
  'src/formats/': 'generic file formats: pickles (pickleparser), CSV (csv-parse), the data folder',
  'src/gp/': 'Gaussian process (Matérn 5/2), UCB/EI and the acquisition sweep, bounded optimisers (L-BFGS-B as scipy), ask/tell Bayesian optimisation',
  'src/jobs/': 'the job kinds (score, train, table-cell): constructors, keys, checks, and the executor every runner is given',
  'src/model/': 'saved model folders (card, safetensors weights, samples), size (params, FLOPs), latency',
  'src/networks/': 'network definitions on the engine: the Exec interface and layers, NB201 and DARTS cells and networks, their parameters, the loss',
  'src/numpy/': "numpy-compatible pieces: MT19937 with RandomState's draws, numpy's argsort and sum order",
  'src/objective/': 'the Objective interface, the QueryLedger (cache, cost, rounds, simulated schedule), the tabular and the job objectives',
  'src/pipeline/': 'real-data workflows as steps: a search (plan → data → pool and limits → metrics → queries → results), batch scoring, training the answer',
  'src/plot/': 'SVG plots (vega-lite): a search curve, Figure-2-style best-so-far curves',
  'src/proxies/': "training-free metrics (one module per later metric: zico, meco, swap, aznas), their fixtures, one architecture's scoring from its description, the results CSV",
  'src/runner/': 'where jobs run: this thread, worker threads, a BullMQ queue on Redis (coordinator and worker); each is given an executor',
  'src/search/': 'search methods (RoBoT, RoBoT+ with its rank fit, RS, REA, REINFORCE, training-free), normalisation, the registry, batch scheduling, why an answer won, the Pareto front',
  'src/spaces/': 'search spaces: nb201, tnb101-micro, tnb101-macro, darts (encodings, enumeration, mutation)',
  'src/store/': 'result stores: the interface (get/put/scan/claim), JSON Lines (several processes at once), memory',
  'src/train/': 'training: SGD steps on the engine, optimiser and schedule, augmentation, splits, the loop, one training from its description',
  'src/util/': 'seeds (the seed table), keys, errors, atomic writes, output-path checks, which output folders are ours to replace (owned-folder), shell quoting of printed commands, statistics',
  'test/': 'unit, property (fast-check), contract and end-to-end tests: a folder per src folder, plus api, docs, structure, and trust (the cases of issue 18)',
};

/** Folders walked to the bottom; test/ is one line. */
const WALKED = ['anchors', 'bin', 'docs', 'examples', 'native', 'scripts', 'src'];

/** The folders of the tree the layout covers, as `path/`, sorted. */
export function treeFolders(repo: string): string[] {
  const out = ['test/'];
  const walk = (rel: string): void => {
    out.push(`${rel}/`);
    for (const name of readdirSync(join(repo, rel)).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      if (statSync(join(repo, rel, name)).isDirectory()) walk(`${rel}/${name}`);
    }
  };
  for (const top of WALKED) walk(top);
  return out.sort();
}

/** Folders without a description, and descriptions without a folder. */
export function layoutProblems(repo: string): { undescribed: string[]; stale: string[] } {
  const tree = treeFolders(repo);
  return {
    undescribed: tree.filter((f) => FOLDERS[f] === undefined),
    stale: Object.keys(FOLDERS).filter((f) => !tree.includes(f)),
  };
}

/** The layout block: a code block, one line per folder of the tree. */
export function renderLayout(repo: string): string {
  const { undescribed, stale } = layoutProblems(repo);
  if (undescribed.length > 0 || stale.length > 0) {
    throw new Error(`scripts/docs/layout.ts: describe ${undescribed.join(', ') || '–'}; remove ${stale.join(', ') || '–'}`);
  }
  const tree = treeFolders(repo);
  const width = Math.max(...tree.map((f) => f.length)) + 2;
  return '```\n' + tree.map((f) => `${f.padEnd(width)}${FOLDERS[f]}`).join('\n') + '\n```\n';
}

const LAYOUT_BLOCK = /<!-- layout -->\n[\s\S]*?<!-- \/layout -->/;

/** The README's layout block (without its markers), or undefined. */
export function layoutBlock(readme: string): string | undefined {
  const m = LAYOUT_BLOCK.exec(readme);
  return m ? m[0].slice('<!-- layout -->\n'.length, -'<!-- /layout -->'.length) : undefined;
}

/** The README with its layout block regenerated. */
export function refreshLayout(readme: string, repo: string): string {
  if (!LAYOUT_BLOCK.test(readme)) throw new Error('README has no <!-- layout --> block');
  return readme.replace(LAYOUT_BLOCK, () => `<!-- layout -->\n${renderLayout(repo)}<!-- /layout -->`);
}
