/**
 * Every command whose output the README shows. `npm run docs` reruns them and rewrites their README blocks;
 * test/docs/readme.test.ts reruns the quick ones and compares byte for byte (timings masked).
 * `{arch:ID}` in a command stands for the best architecture that example ID reported (the README's train
 * command trains the main job's answer).
 */
import type { ReadmeExample } from './readme.js';

const CLI = '{repo}/bin/robot-nas.js';
const TSX = 'file://{repo}/node_modules/tsx/dist/loader.mjs';
/** Wall-clock figures: "23.2 s", "(9.34 s)", "wall 239 s", "455.2 s". */
const SECONDS = /\d+(\.\d+)? s\b/;
/** The folder the model examples share (train --save writes it, the others read it). */
const MODEL_CHAIN = { shared: 'model-chain' };

export const EXAMPLES: readonly ReadmeExample[] = [
  {
    id: 'search-default',
    speed: 'long',
    shown: 'npx robot-nas search',
    argv: [CLI, 'search'],
    cwd: 'temp',
    streams: 'stderr+stdout',
    format: 'code',
    elide: { match: /^query /, head: 1, tail: 3 },
    volatile: [SECONDS],
    artifacts: [{ from: 'robot-nas-results/search-mnist-nb201-robot-plus-s0/search-curve.svg', to: 'docs/figures/search-mnist-default.svg' }],
  },
  {
    id: 'train-answer',
    speed: 'long',
    shown: "npx robot-nas train --arch '{arch:search-default}' --dataset mnist --epochs 10",
    argv: [CLI, 'train', '--arch', '{arch:search-default}', '--dataset', 'mnist', '--epochs', '10'],
    cwd: 'temp',
    streams: 'stderr+stdout',
    format: 'code',
    volatile: [SECONDS],
  },
  {
    id: 'search-limits',
    speed: 'long',
    shown: 'npx robot-nas search --pool 100 --budget 10 --max-params 40k --max-latency 5 --train-best 3 --save small-model',
    argv: [CLI, 'search', '--pool', '100', '--budget', '10', '--max-params', '40k', '--max-latency', '5', '--train-best', '3', '--save', 'small-model'],
    cwd: 'temp',
    streams: 'stderr+stdout',
    format: 'code',
    elide: { match: /^query /, head: 1, tail: 2 },
    volatile: [SECONDS, /\d+\.\d+ ms\b/],
  },
  // "A worked example: your own folder": a folder of colour photos written from the shared CIFAR-10 images.
  {
    id: 'folder-search',
    speed: 'long',
    shown: 'npx robot-nas search --dataset folder --data my-photos --pool 20 --budget 5 --epochs 2',
    setup: [{ argv: ['--import', TSX, '{repo}/scripts/docs/write-photos.ts'] }],
    argv: [CLI, 'search', '--dataset', 'folder', '--data', 'my-photos', '--pool', '20', '--budget', '5', '--epochs', '2'],
    cwd: { shared: 'photos' },
    streams: 'stderr+stdout',
    format: 'code',
    volatile: [SECONDS, /\d+\.\d+ ms\b/],
  },
  {
    id: 'folder-train',
    speed: 'long',
    shown: "npx robot-nas train --arch '{arch:folder-search}' --dataset folder --data my-photos --epochs 10 --confusion confusion --save photo-model",
    argv: [CLI, 'train', '--arch', '{arch:folder-search}', '--dataset', 'folder', '--data', 'my-photos', '--epochs', '10', '--confusion', 'confusion', '--save', 'photo-model'],
    cwd: { shared: 'photos' },
    streams: 'stderr+stdout',
    format: 'code',
    volatile: [SECONDS],
    artifacts: [{ from: 'confusion/confusion.svg', to: 'docs/figures/photos-confusion.svg' }],
  },
  // "Use the network you found": one chain in one folder — train --save, predict, export, load in other runtimes.
  {
    id: 'model-train',
    speed: 'quick',
    shown: "npx robot-nas train --arch '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|' --dataset mnist --epochs 3 --train-limit 2000 --save mnist-model",
    argv: [CLI, 'train', '--arch', '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|', '--dataset', 'mnist', '--epochs', '3', '--train-limit', '2000', '--save', 'mnist-model'],
    cwd: MODEL_CHAIN,
    streams: 'stderr+stdout',
    format: 'code',
    volatile: [SECONDS],
  },
  {
    id: 'model-predict-files',
    speed: 'quick',
    shown: 'npx robot-nas predict --model mnist-model my-digits/0-a.png my-digits/5-b.png my-digits/9-c.png',
    setup: [{ argv: ['--import', TSX, '{repo}/scripts/docs/write-digits.ts', '0', '5', '9'] }],
    argv: [CLI, 'predict', '--model', 'mnist-model', 'my-digits/0-a.png', 'my-digits/5-b.png', 'my-digits/9-c.png'],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'model-predict-test',
    speed: 'quick',
    shown: 'npx robot-nas predict --model mnist-model --dataset mnist --split test',
    argv: [CLI, 'predict', '--model', 'mnist-model', '--dataset', 'mnist', '--split', 'test'],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
    elide: { match: /^mnist:test:/, head: 3, tail: 0 },
  },
  {
    id: 'model-predict-valid',
    speed: 'quick',
    shown: 'npx robot-nas predict --model mnist-model --dataset mnist --split valid | tail -1',
    program: 'sh',
    argv: ['-c', `"${process.execPath}" {repo}/bin/robot-nas.js predict --model mnist-model --dataset mnist --split valid | tail -1`],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
  },
  ...(['onnx', 'tfjs', 'pytorch'] as const).map(
    (format): ReadmeExample => ({
      id: `model-export-${format}`,
      speed: 'quick',
      shown: `npx robot-nas export --model mnist-model --format ${format} --out mnist-${format}`,
      argv: [CLI, 'export', '--model', 'mnist-model', '--format', format, '--out', `mnist-${format}`],
      cwd: MODEL_CHAIN,
      streams: 'stdout',
      format: 'code',
    }),
  ),
  {
    id: 'model-pytorch-check',
    speed: 'quick',
    shown: "/usr/bin/python3 mnist-pytorch/model.py          # Debian's python3-torch",
    program: '/usr/bin/python3',
    argv: ['mnist-pytorch/model.py'],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'model-onnxruntime',
    speed: 'quick',
    shown: 'npx tsx examples/onnxruntime-load.ts mnist-onnx',
    argv: ['--import', TSX, '{repo}/examples/onnxruntime-load.ts', 'mnist-onnx'],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'model-tfjs',
    speed: 'quick',
    shown: 'npx tsx examples/tfjs-load.ts mnist-tfjs',
    argv: ['--import', TSX, '{repo}/examples/tfjs-load.ts', 'mnist-tfjs'],
    cwd: MODEL_CHAIN,
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'bench-nb201',
    speed: 'quick',
    shown: 'npx robot-nas bench --benchmark nb201 --task cifar10 --method robot --budget 20 --seeds 10-19 --json',
    argv: [CLI, 'bench', '--benchmark', 'nb201', '--task', 'cifar10', '--method', 'robot', '--budget', '20', '--seeds', '10-19', '--json'],
    cwd: 'temp',
    streams: 'stdout',
    format: 'code',
    maxLine: 170,
  },
  {
    id: 'example-robot-nb201',
    speed: 'quick',
    shown: 'npx tsx examples/robot-nb201.ts',
    argv: ['--import', TSX, '{repo}/examples/robot-nb201.ts'],
    cwd: 'temp',
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'example-own-method',
    speed: 'quick',
    shown: 'npx tsx examples/own-method.ts',
    argv: ['--import', TSX, '{repo}/examples/own-method.ts'],
    cwd: 'temp',
    streams: 'stdout',
    format: 'code',
  },
  {
    id: 'example-search-mnist',
    speed: 'long',
    shown: 'npx tsx examples/search-mnist.ts',
    argv: ['--import', TSX, '{repo}/examples/search-mnist.ts'],
    cwd: 'temp',
    streams: 'stdout',
    format: 'code',
    volatile: [SECONDS],
  },
  {
    id: 'proxies-fixture',
    speed: 'quick',
    shown: 'npx robot-nas proxies --fixture ../shared/fixtures/metrics/nb201-c16n5-cifar10-a',
    argv: [CLI, 'proxies', '--fixture', '../shared/fixtures/metrics/nb201-c16n5-cifar10-a'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'code',
    volatile: [SECONDS],
  },
  // The Speed section: each benchmark's own printout (PyTorch's figures from the same run where there is an anchor).
  ...(
    [
      ['bench', 'bench.ts', []],
      ['bench-metrics', 'bench-metrics.ts', []],
      ['bench-train', 'bench-train.ts', []],
      ['bench-data', 'bench-data.ts', []],
    ] as const
  ).map(
    ([id, script, args]): ReadmeExample => ({
      id,
      speed: 'long',
      shown: `npm run ${id.replace('-', ':')}`,
      argv: ['--import', TSX, `{repo}/scripts/${script}`, ...args],
      cwd: 'repo',
      streams: 'stdout',
      format: 'code',
    }),
  ),
  // The metric study (issue 20): the report of the scored rows; `npm run study:metrics` computes them first (hours).
  {
    id: 'study-metrics',
    speed: 'long',
    shown: 'npm run study:metrics',
    argv: ['--import', TSX, '{repo}/scripts/study-metrics.ts', '--report-only'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'code',
  },
  // RoBoT with candidate metric sets on every pool with a ground truth (scripts/metric-sets.ts; the runs are kept).
  {
    id: 'study-sets',
    speed: 'long',
    shown: 'npm run study:sets',
    argv: ['--import', TSX, '{repo}/scripts/metric-sets.ts', '--report-only'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'markdown',
  },
  {
    // Long: the pools' trainings (about an hour of CPU, resumable, kept in robot-nas-results/evidence/); with the
    // pools built, the replays take minutes.
    id: 'evidence-search',
    speed: 'long',
    shown: 'npm run evidence:search',
    argv: ['--import', TSX, '{repo}/scripts/search-evidence.ts'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'markdown',
  },
  {
    // The tables from the runs stored in robot-nas-results/robust/ (`npm run bench:robust` computes them: hours of
    // CPU the first time, resumable); a cell with fewer runs than the study's seeds says how many it has.
    id: 'bench-robust',
    speed: 'long',
    shown: 'npm run bench:robust -- --cached-only',
    argv: ['--import', TSX, '{repo}/scripts/bench-robust.ts', '--cached-only'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'markdown',
  },
  {
    id: 'parallel-table',
    speed: 'long',
    shown: 'npm run bench:parallel',
    argv: ['--import', TSX, '{repo}/scripts/parallel-table.ts'],
    cwd: 'repo',
    streams: 'stdout',
    format: 'markdown',
  },
  ...(['nb201', 'tnb101-macro', 'tnb101-micro'] as const).map(
    (id): ReadmeExample => ({
      id: `table-${id}`,
      speed: 'long',
      shown: `npx robot-nas table ${id}`,
      argv: [CLI, 'table', id],
      cwd: 'temp',
      streams: 'stdout',
      format: 'markdown',
      // the README has its own heading; the last line is where the files went and how long it took
      dropLines: [/^### /, /^wrote /],
      artifacts:
        id === 'nb201'
          ? ['cifar10', 'cifar100', 'imagenet16-120'].map((t) => ({ from: `robot-nas-results/nb201-${t}.svg`, to: `docs/figures/nb201-${t}.svg` }))
          : ['class_scene', 'class_object', 'jigsaw', 'room_layout', 'segmentsemantic', 'normal', 'autoencoder'].map((t) => ({
              from: `robot-nas-results/${id}-${t}.svg`,
              to: `docs/figures/${id}-${t}.svg`,
            })),
    }),
  ),
];
