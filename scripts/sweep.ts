/**
 * `npm run sweep`: issue 18's cases, run as a user runs them — the built CLI, real files in temporary folders, a
 * private Redis for the queue cases — each checked for the outcome the issue asks for. Prints one line per case and
 * `N cases, N ok`; exits 1 when any case fails. About 10–15 minutes on 2 cores (the README's default search and limits
 * example run in full). `npm run sweep -- --only 4,7` runs the cases of some classes; `--list` lists them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pngBytes, writeClassFolders } from '../test/helpers/images.js';
import { DEFAULT_METHOD } from '../src/search/registry.js';

const REPO = resolve(import.meta.dirname, '..');
const CLI = join(REPO, 'bin', 'robot-nas.js');
const SHARED = process.env.ROBOT_NAS_DATA ?? resolve(REPO, '..', 'shared', 'data');
const ARCH = '|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|';
const TINY = ['--pool', '3', '--budget', '2', '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--score-batch', '8', '--parallel', '0'];
const TRAIN = ['train', '--arch', ARCH, '--channels', '4', '--epochs', '1', '--train-limit', '64', '--valid-limit', '32', '--test-limit', '20'];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
  seconds: number;
}

const root = mkdtempSync(join(tmpdir(), 'robot-nas-sweep-'));
let n = 0;
const dir = (tag: string): string => {
  const d = join(root, `${String(++n).padStart(3, '0')}-${tag}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** The CLI as a user types it, in `cwd`. */
function cli(args: string[], cwd = root, env: NodeJS.ProcessEnv = {}): Run {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 << 20 });
  return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '', seconds: (Date.now() - t0) / 1000 };
}

/** A printed `npx robot-nas …` line run by bash, with this checkout's CLI for npx. */
function printed(line: string, extra = '', cwd = root): Run {
  const t0 = Date.now();
  const cmd = line.replace(/^npx robot-nas /, `'${process.execPath}' '${CLI}' `) + extra;
  const r = spawnSync('bash', ['-c', cmd], { cwd, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr, seconds: (Date.now() - t0) / 1000 };
}

class Fail extends Error {}
function expect(ok: boolean, what: string, r?: Run): void {
  if (!ok) throw new Fail(`${what}${r ? `\n      exit ${r.code}; stderr: ${r.stderr.trim().split('\n').slice(-3).join(' | ').slice(0, 400)}` : ''}`);
}
const refused = (r: Run, re: RegExp, what: string): void => {
  expect(r.code === 2, `${what}: expected exit 2`, r);
  expect(re.test(r.stderr), `${what}: stderr should match ${re}`, r);
  expect(!/internal error/.test(r.stderr), `${what}: no internal error`, r);
};
function snapshot(d: string): string {
  const out: string[] = [];
  const walk = (p: string, pre: string): void => {
    for (const e of readdirSync(p, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(p, e.name), `${pre}${e.name}/`);
      else out.push(`${pre}${e.name}:${readFileSync(join(p, e.name), 'utf8')}`);
    }
  };
  walk(d, '');
  return out.join('\n');
}

let modelDir: string | undefined;
/** A small trained model (saved once). */
function model(): string {
  if (modelDir === undefined) {
    modelDir = join(dir('model'), 'model');
    const r = cli([...TRAIN, '--save', modelDir]);
    expect(r.code === 0, 'training the shared model', r);
  }
  return modelDir;
}

// ---------------------------------------------------------------------------------------------- a private Redis

let redis: { child: ChildProcess; url: string; dir: string } | undefined;
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}
async function startRedis(): Promise<{ child: ChildProcess; url: string; dir: string }> {
  const port = await freePort();
  const d = dir('redis');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', d, '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    if (spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, url: `redis://127.0.0.1:${port}`, dir: d };
}
async function stopRedis(r: { child: ChildProcess }): Promise<void> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return;
  const gone = new Promise((res) => r.child.once('exit', res));
  r.child.kill('SIGKILL');
  await gone;
}

interface Proc {
  child: ChildProcess;
  text: () => string;
  exited: Promise<number | null>;
  waitFor: (re: RegExp, ms?: number) => Promise<boolean>;
}
function spawnCli(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: root });
  let text = '';
  child.stdout!.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  return {
    child,
    text: () => text,
    exited,
    async waitFor(re, ms = 120_000) {
      const t0 = Date.now();
      while (Date.now() - t0 < ms) {
        if (re.test(text)) return true;
        if (child.exitCode !== null) return re.test(text);
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
  };
}
let q = 0;
const queueName = (): string => `sweep-${process.pid}-${q++}`;

// --------------------------------------------------------------------------------------------------- the cases

interface Case {
  cls: number;
  name: string;
  run: () => void | Promise<void>;
}

const cases: Case[] = [
  // 1. output folders: replaced only when provably ours
  {
    cls: 1,
    name: 'train --save into a web app with a manifest.json: exit 2 before training, every file kept',
    run: () => {
      const w = join(dir('webapp'), 'W');
      mkdirSync(join(w, 'src'), { recursive: true });
      writeFileSync(join(w, 'manifest.json'), '{"name":"my app"}');
      writeFileSync(join(w, 'package.json'), '{"name":"my-app"}');
      writeFileSync(join(w, 'src', 'app.js'), 'console.log(1)\n');
      const before = snapshot(w);
      const r = cli([...TRAIN, '--save', w]);
      refused(r, /--save: .*W is not a model folder of robot-nas/, 'refusal');
      expect(!/epoch 1/.test(r.stderr), 'no training before the refusal', r);
      expect(snapshot(w) === before, 'files unchanged');
    },
  },
  {
    cls: 1,
    name: 'train --save into a folder with manifest.json {} and notes.txt: refused, notes.txt kept',
    run: () => {
      const w = join(dir('manifest-empty'), 'W');
      mkdirSync(w);
      writeFileSync(join(w, 'manifest.json'), '{}');
      writeFileSync(join(w, 'notes.txt'), 'mine');
      refused(cli([...TRAIN, '--save', w]), /W is not a model folder of robot-nas/, 'refusal');
      expect(readFileSync(join(w, 'notes.txt'), 'utf8') === 'mine', 'notes.txt kept');
    },
  },
  {
    cls: 1,
    name: 'export --out into a folder with sample-logits.json {}, thesis.tex, sub/data.csv: refused, nothing deleted',
    run: () => {
      const x = join(dir('export-clobber'), 'X');
      mkdirSync(join(x, 'sub'), { recursive: true });
      writeFileSync(join(x, 'sample-logits.json'), '{}');
      writeFileSync(join(x, 'thesis.tex'), '\\documentclass{article}');
      writeFileSync(join(x, 'sub', 'data.csv'), 'a,b\n');
      const before = snapshot(x);
      refused(cli(['export', '--model', model(), '--format', 'onnx', '--out', x]), /--out: .*X is not an export folder of robot-nas/, 'refusal');
      expect(snapshot(x) === before, 'files unchanged');
    },
  },
  {
    cls: 1,
    name: 'a previous model folder and a previous export are replaced; with a file added they are refused',
    run: () => {
      const d = dir('replace');
      const m = join(d, 'm');
      expect(cli([...TRAIN, '--save', m]).code === 0, 'first save');
      expect(cli([...TRAIN, '--seed', '1', '--save', m]).code === 0, 'second save replaces the first');
      writeFileSync(join(m, 'notes.txt'), 'x');
      refused(cli([...TRAIN, '--save', m]), /also holds 'notes\.txt'/, 'model folder with an added file');
      const e = join(d, 'e');
      expect(cli(['export', '--model', model(), '--format', 'onnx', '--out', e]).code === 0, 'first export');
      expect(cli(['export', '--model', model(), '--format', 'pytorch', '--out', e]).code === 0, 'second export replaces the first');
      writeFileSync(join(e, 'README.md'), 'x');
      refused(cli(['export', '--model', model(), '--format', 'onnx', '--out', e]), /also holds 'README\.md'/, 'export folder with an added file');
    },
  },
  {
    cls: 1,
    name: "search --out with someone's result.json, --cache naming someone's file, train --out naming someone's file: refused, unchanged",
    run: () => {
      const d = dir('search-out');
      mkdirSync(join(d, 'mine'));
      writeFileSync(join(d, 'mine', 'result.json'), '{"my":1}');
      refused(cli(['search', ...TINY, '--out', join(d, 'mine')]), /mine is not a search folder of robot-nas/, 'search --out');
      writeFileSync(join(d, 'notes.txt'), 'one\ntwo without newline');
      refused(cli(['search', ...TINY, '--out', join(d, 'run'), '--cache', join(d, 'notes.txt')]), /notes\.txt is not a robot-nas query cache/, '--cache');
      expect(readFileSync(join(d, 'notes.txt'), 'utf8') === 'one\ntwo without newline', 'the cache file is not cut');
      writeFileSync(join(d, 'r.json'), '{"mine":true}');
      refused(cli([...TRAIN, '--out', join(d, 'r.json')]), /r\.json exists and is not a training report of robot-nas/, 'train --out');
    },
  },

  // 2. folder classes matched by name
  {
    cls: 2,
    name: 'folder test split without a class: said, every image labelled by its own folder; renamed and extra classes: exit 2 naming them',
    run: () => {
      const d = dir('classes');
      const names = ['0-tshirt', '1-trouser', '2-pullover'];
      const colour = (c: string): number => names.indexOf(c);
      writeClassFolders(join(d, 'data', 'train'), names, 10, 8, colour);
      writeClassFolders(join(d, 'data', 'test'), ['0-tshirt', '2-pullover'], 3, 8, colour);
      const m = join(d, 'm');
      const t = cli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', join(d, 'data'), '--channels', '4', '--epochs', '1', '--batch-size', '8', '--save', m]);
      expect(t.code === 0 && /test: no images of class '1-trouser'/.test(t.stderr), 'train says the missing class', t);
      const p = cli(['predict', '--model', m, '--dataset', 'folder', '--split', 'test']);
      expect(p.code === 0, 'predict runs', p);
      const rows = p.stdout.trim().split('\n').filter((l) => / label /.test(l));
      expect(rows.length === 6 && rows.every((l) => l.split(/\s+/)[0]!.split('/').at(-2) === / label (\S+)/.exec(l)![1]), `labels by folder name:\n${rows.join('\n')}`);
      cpSync(join(d, 'data'), join(d, 'renamed'), { recursive: true });
      renameSync(join(d, 'renamed', 'test', '2-pullover'), join(d, 'renamed', 'test', '3-dress'));
      refused(cli(['predict', '--model', m, '--dataset', 'folder', '--data', join(d, 'renamed'), '--split', 'test']), /renamed\/test: class '3-dress' not among the training classes/, 'renamed class in predict');
      refused(cli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', join(d, 'renamed'), '--epochs', '1']), /renamed\/test: class '3-dress' not among the training classes/, 'renamed class in train');
      writeClassFolders(join(d, 'other'), ['1-trouser', '2-pullover', '4-coat'], 2, 8);
      refused(cli(['predict', '--model', m, '--dataset', 'folder', '--data', join(d, 'other'), '--split', 'train']), /other: class '4-coat' not among the training classes/, 'extra class');
      writeClassFolders(join(d, 'subset'), ['1-trouser', '2-pullover'], 3, 8, colour);
      const s = cli(['predict', '--model', m, '--dataset', 'folder', '--data', join(d, 'subset'), '--split', 'train']);
      expect(s.code === 0 && /subset: no images of class '0-tshirt'/.test(s.stderr) && !/label 0-tshirt/.test(s.stdout), 'a folder with 2 of 3 classes is labelled by name', s);
    },
  },

  // 3. stored results keyed by the data
  {
    cls: 3,
    name: "a class's images replaced: the next search scores again (not '3 already in metrics-…csv, 0 to score')",
    run: () => {
      const d = dir('stale');
      writeClassFolders(join(d, 'data'), ['ant', 'bee', 'cat'], 8, 8);
      expect(cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'runs', 'a')]).code === 0, 'first search');
      rmSync(join(d, 'data', 'bee'), { recursive: true });
      writeClassFolders(join(d, 'data'), ['bee'], 8, 8, () => 5);
      const r = cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'runs', 'b')]);
      expect(r.code === 0 && /0 already in \S+, 3 to score/.test(r.stderr), 'rescored', r);
      const c = cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'runs', 'a')]);
      refused(c, /the data changed \(fingerprint [0-9a-f]{16} → [0-9a-f]{16}\)/, 'the first folder after the change');
    },
  },
  {
    cls: 3,
    name: 'proxies --out resumes only on the images it was scored from',
    run: () => {
      const d = dir('proxies');
      writeClassFolders(join(d, 'data'), ['ant', 'bee'], 6, 8);
      const args = ['proxies', '--space', 'nb201', '--dataset', 'folder', '--data', join(d, 'data'), '--archs', '2', '--channels', '4', '--batch', '8', '--workers', '0', '--out', join(d, 'p.csv')];
      expect(cli(args).code === 0, 'first scoring');
      rmSync(join(d, 'data', 'ant'), { recursive: true });
      writeClassFolders(join(d, 'data'), ['ant'], 6, 8, () => 3);
      refused(cli(args), /scored on other images: the data changed \(fingerprint/, 'resume on other images');
    },
  },

  // 5. sizes and images before any work
  ...[
    [['search', '--channels', '100000'], '--channels'],
    [['search', '--cells', '10000'], '--cells'],
    [['search', '--batch-size', '100000000', '--train-limit', 'all', '--pool', '3', '--budget', '2'], '--batch-size'],
    [['search', '--score-batch', '5000', '--train-limit', 'all', '--pool', '3', '--budget', '2'], '--score-batch'],
    [['train', '--arch', ARCH, '--channels', '100000'], '--channels'],
    [['train', '--arch', ARCH, '--cells', '10000'], '--cells'],
    [['proxies', '--space', 'nb201', '--dataset', 'cifar10-1k', '--channels', '100000', '--out', 'SWEEP/p.csv'], '--channels'],
  ].map(
    ([args, flag]): Case => ({
      cls: 5,
      name: `${(args as string[]).slice(0, 3).join(' ')}…: exit 2 naming ${flag as string} before any work`,
      run: () => {
        const d = dir('size');
        const a = (args as string[]).map((x) => x.replace('SWEEP', d));
        const r = cli(a[0] === 'search' ? [...a, '--out', join(d, 'run')] : a);
        refused(r, new RegExp(`^robot-nas: ${flag as string}: .*needs at least`, 'm'), 'refusal');
        expect(!/to score \(|epoch 1/.test(r.stderr), 'nothing scored or trained', r);
      },
    }),
  ),
  {
    cls: 5,
    name: 'pool and thread counts beyond what the machine holds: refused before scoring',
    run: () => {
      const d = dir('pool');
      refused(cli(['search', '--space', 'darts', '--pool', '2000000', '--out', join(d, 'run')]), /--pool: 2000000 architectures: at most 1,000,000/, 'darts pool');
      refused(cli(['search', '--pool', 'all', '--parallel', '100000', '--out', join(d, 'run')]), /--parallel: 100000 worker threads (\(\d+ for this pool\) need at least|would each hold at least) [\d.]+ [MG]B.*more than this machine's [\d.]+ GB of memory/, 'threads');
    },
  },
  {
    cls: 5,
    name: 'a 20000×20000 PNG is refused from its header, naming the file (not 32 s and 3.2 GB)',
    run: () => {
      const d = dir('huge-png');
      writeClassFolders(join(d, 'data'), ['ant', 'bee'], 6, 8);
      // a real PNG of that size would take the time the issue complains of to write: its header is what is read
      const png = pngBytes(8, [1, 2, 3], 0);
      png.writeUInt32BE(20000, 16);
      png.writeUInt32BE(20000, 20);
      writeFileSync(join(d, 'data', 'bee', 'huge.png'), png);
      const r = cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'run')]);
      refused(r, /bee\/huge\.png: 20000×20000 PNG image: 400\.0 megapixels, above the limit of 50\.0 megapixels/, 'huge image');
      expect(r.seconds < 30, `refused at once (${r.seconds} s)`);
      const big = join(d, 'big.png');
      writeFileSync(big, pngBytes(2050, [9, 9, 9], 1));
      refused(cli(['predict', '--model', model(), big, '--max-pixels', '4M']), /big\.png: 2050×2050 PNG image: 4\.2 megapixels, above the limit of 4\.0 megapixels/, '--max-pixels');
      expect(cli(['predict', '--model', model(), big]).code === 0, 'accepted under the default limit');
    },
  },

  // 6. non-finite numbers in benchmark tables
  {
    cls: 6,
    name: 'NaN in hp12_valid_acc, Infinity in test_acc (CSV), NaN val_accuracy (Suite-Zero JSON): exit 2 with file, line and column',
    run: () => {
      const d = dir('nonfinite');
      const lines = readFileSync(join(SHARED, 'nb201', 'cifar10.csv'), 'utf8').split('\n');
      const head = lines[0]!.split(',');
      const edit = (col: string, row: number, v: string): string => {
        const copy = [...lines];
        const cells = copy[row]!.split(',');
        cells[head.indexOf(col)] = v;
        copy[row] = cells.join(',');
        return copy.join('\n');
      };
      writeFileSync(join(d, 'nan.csv'), edit('hp12_valid_acc', 5, 'NaN'));
      refused(cli(['bench', '--table', join(d, 'nan.csv'), '--seeds', '10', '--metrics', 'sz.grad_norm,sz.snip,sz.grasp,sz.fisher,sz.synflow,sz.jacov']), /nan\.csv: line 6, column hp12_valid_acc: expected a finite number, got 'NaN'/, 'NaN objective');
      writeFileSync(join(d, 'inf.csv'), edit('test_acc', 3, 'Infinity'));
      refused(cli(['bench', '--table', join(d, 'inf.csv'), '--seeds', '10', '--metrics', 'sz.grad_norm,sz.snip']), /inf\.csv: line 4, column test_acc: expected a finite number, got 'Infinity'/, 'Infinity final');
      writeFileSync(join(d, 'zc.json'), '{"cifar10": {\n "(0, 1, 2, 3, 4, 0)": {"val_accuracy": 91.2, "snip": NaN},\n "(1, 1, 2, 3, 4, 0)": {"val_accuracy": NaN, "snip": 3}\n}}');
      refused(cli(['bench', '--table', join(d, 'zc.json'), '--budget', '1', '--seeds', '10', '--metrics', 'snip']), /zc\.json:3:41: .*val_accuracy: expected a finite number, got NaN/, 'Suite-Zero NaN');
      const ok = cli(['bench', '--benchmark', 'nb201', '--task', 'cifar100', '--seeds', '10']);
      expect(ok.code === 0, 'the shared tables (with -inf naswot metrics) still load', ok);
    },
  },

  // 7. printed commands run as printed
  {
    cls: 7,
    name: "a folder search's next line (path with a space, a quote, non-ASCII; --seed 3, other split and recipe) runs as printed on the same split",
    run: () => {
      const d = dir('next');
      const data = join(d, 'my data', "ünï 'set'");
      writeClassFolders(data, ['cat', 'dog', 'emu'], 8, 8);
      const s = cli(['search', '--dataset', 'folder', '--data', data, ...TINY, '--seed', '3', '--batch-size', '16', '--lr', '0.05', '--valid-fraction', '0.25', '--out', join(d, 'run')]);
      expect(s.code === 0, 'search', s);
      const next = /^next\s+(.*)$/m.exec(s.stdout)?.[1] ?? '';
      const t = printed(next, ` --epochs 1 --out '${join(d, 'report.json')}'`);
      expect(t.code === 0, `the printed line runs: ${next}`, t);
      const a = JSON.parse(readFileSync(join(d, 'run', 'result.json'), 'utf8')) as { data: { fingerprint: string } };
      const b = JSON.parse(readFileSync(join(d, 'report.json'), 'utf8')) as { data: { fingerprint: string } };
      expect(a.data.fingerprint === b.data.fingerprint, 'same images, same split');
    },
  },
  {
    cls: 7,
    name: "a saved model's printed predict and export commands run as printed for 'mödel one'",
    run: () => {
      const d = dir('saved-line');
      const m = join(d, "mödel 'one'");
      const t = cli([...TRAIN, '--save', m]);
      const line = /\(predict: (npx robot-nas predict .*) IMAGE\.png; export: (npx robot-nas export .*) DIR\)$/m.exec(t.stdout);
      expect(t.code === 0 && line !== null, 'saved, with the commands', t);
      writeFileSync(join(d, 'digit one.png'), pngBytes(28, [200, 200, 200], 3));
      expect(printed(line![1]!, ` '${join(d, 'digit one.png')}'`).code === 0, 'predict as printed');
      expect(printed(line![2]!, ` '${join(d, 'ëxport')}'`).code === 0, 'export as printed');
    },
  },

  // 8. smaller defects
  {
    cls: 8,
    name: 'a dangling and a looping symlink class folder: errors naming them',
    run: () => {
      const d = dir('symlinks');
      writeClassFolders(join(d, 'data'), ['ant', 'bee'], 6, 8);
      symlinkSync(join(d, 'gone'), join(d, 'data', 'cat'));
      refused(cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'run')]), /data\/cat: class folder is a symbolic link that leads nowhere \(dangling\)/, 'dangling');
      rmSync(join(d, 'data', 'cat'));
      symlinkSync(join(d, 'data', 'loop'), join(d, 'data', 'loop'));
      refused(cli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', join(d, 'data')]), /data\/loop: class folder is a symbolic link that leads nowhere \(a loop\)/, 'looping');
    },
  },
  {
    cls: 8,
    name: '--cache F --no-cache and --async --parallel 0: refused as contradictions',
    run: () => {
      const d = dir('conflicts');
      refused(cli(['search', ...TINY, '--cache', join(d, 'c.jsonl'), '--no-cache', '--out', join(d, 'run')]), /--cache FILE and --no-cache contradict/, 'cache');
      refused(cli(['search', ...TINY, '--async', '--out', join(d, 'run')]), /--async: with --parallel 0/, 'async');
    },
  },
  {
    cls: 8,
    name: "predict --dataset folder names images by their files and quotes 't shirt'; predict DIR predicts every image",
    run: () => {
      const d = dir('predict-names');
      writeClassFolders(join(d, 'data', 'train'), ['t shirt', 'trouser'], 12, 8);
      writeClassFolders(join(d, 'data', 'test'), ['t shirt', 'trouser'], 2, 8);
      const m = join(d, 'm');
      expect(cli(['train', '--arch', ARCH, '--dataset', 'folder', '--data', join(d, 'data'), '--channels', '4', '--epochs', '2', '--batch-size', '8', '--save', m]).code === 0, 'train');
      const p = cli(['predict', '--model', m, '--dataset', 'folder', '--split', 'test']);
      expect(p.code === 0 && !/folder:test:/.test(p.stdout) && /^'.*t shirt\/000\.png'\s+('t shirt'|trouser)\s+p [\d.]+\s+label 't shirt'/m.test(p.stdout), `files as names, quoted:\n${p.stdout}`, p);
      const r = cli(['predict', '--model', m, join(d, 'data', 'test', 'trouser')]);
      expect(r.code === 0 && / — 2 image file\(s\)$/m.test(r.stdout), 'a folder argument', r);
    },
  },
  {
    cls: 8,
    name: 'train: a blown-up training saves nothing (exit 2 after the report); a chance-level one is saved and marked — as the README says',
    run: () => {
      const d = dir('diverged');
      const blown = cli([...TRAIN, '--lr', '1000', '--save', join(d, 'm')]);
      expect(blown.code === 2 && /^diverged\s+yes/m.test(blown.stdout) && !existsSync(join(d, 'm')), 'nothing saved, exit 2', blown);
      const chance = cli([...TRAIN, '--save', join(d, 'm2')]);
      expect(chance.code === 0 && /chance accuracy after the last epoch \(the model is saved and marked/.test(chance.stdout), 'chance: saved and said', chance);
      expect(/saves nothing: exit 2 after the report/.test(readFileSync(join(REPO, 'README.md'), 'utf8')), 'the README states the rule');
    },
  },
  {
    cls: 8,
    name: 'a truncated PNG: an error naming the file that says it is truncated',
    run: () => {
      const d = dir('truncated');
      writeClassFolders(join(d, 'data'), ['ant', 'bee'], 6, 8);
      const whole = pngBytes(64, [9, 99, 199], 7);
      writeFileSync(join(d, 'data', 'bee', 'cut.png'), whole.subarray(0, whole.length >> 1));
      const r = cli(['search', '--dataset', 'folder', '--data', join(d, 'data'), ...TINY, '--out', join(d, 'run')]);
      refused(r, /bee\/cut\.png: the PNG file is truncated or incomplete/, 'truncated');
      expect(!/waitng|finished stream/.test(r.stderr), "not the decoder's words", r);
    },
  },
  {
    cls: 8,
    name: "the README followed in order: the default search, then the limits example (exactly as printed), in one folder",
    run: () => {
      const d = dir('readme-order');
      const first = cli(['search'], d);
      expect(first.code === 0, 'npx robot-nas search', first);
      const limits = cli(['search', '--pool', '100', '--budget', '10', '--max-params', '40k', '--max-latency', '5', '--train-best', '3', '--save', 'small-model'], d);
      expect(limits.code === 0, 'the limits example', limits);
      expect(new RegExp(`^results\\s+robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0-2/`, 'm').test(limits.stdout) && existsSync(join(d, 'small-model', 'manifest.json')), 'it went to -2 and saved', limits);
      const wall = Number(/wall (\d+) s$/m.exec(first.stdout)?.[1]);
      expect(wall >= first.seconds * 0.8 && wall <= first.seconds + 1, `the wall figure (${wall} s) is the process's (${first.seconds.toFixed(0)} s)`);
      const refusedRun = cli(['search', '--pool', '100', '--budget', '10', '--max-params', '40k', '--out', `robot-nas-results/search-mnist-nb201-${DEFAULT_METHOD}-s0`], d);
      refused(refusedRun, /holds a search with other settings — pool 200 → 100; budget 20 → 10; limits none → maxParams 40000\./, 'explicit --out');
      expect(!/undefined|[{}]/.test(refusedRun.stderr), 'no undefined, no JSON', refusedRun);
    },
  },
  {
    cls: 8,
    name: "the README's table sections speak of the paper and the reference code, not of 'the issue'",
    run: () => {
      const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
      expect(!/\bthe issue\b/i.test(readme), "no 'the issue'");
    },
  },

  // 4 (and 3's queue case): waiting, with a private Redis
  {
    cls: 4,
    name: 'a queued search with no worker says what it waits for and gives up after --queue-timeout (exit 2)',
    run: async () => {
      redis ??= await startRedis();
      const s = spawnCli(['search', ...TINY.slice(0, -2), '--parallel', '2', '--out', join(dir('no-worker'), 'run'), '--queue', redis.url, '--queue-name', queueName(), '--queue-timeout', '8']);
      expect(await s.waitFor(/queue: waiting \d+ s for a worker .* start one: npx robot-nas worker --queue/), `said what it waits for:\n${s.text()}`);
      const code = await s.exited;
      expect(code === 2 && /--queue-timeout: gave up after waiting/.test(s.text()), `exit 2 with the reason (exit ${code}):\n${s.text()}`);
    },
  },
  {
    cls: 4,
    name: 'Redis killed and not restarted: the search says it waits for Redis, then gives up (exit 2)',
    run: async () => {
      const own = await startRedis();
      const s = spawnCli(['search', ...TINY.slice(0, -2), '--parallel', '2', '--out', join(dir('redis-gone'), 'run'), '--queue', own.url, '--queue-name', queueName(), '--queue-timeout', '8']);
      expect(await s.waitFor(/^pool: /m), 'started');
      await stopRedis(own);
      expect(await s.waitFor(/waiting \d+ s for Redis at .* to be reachable again/), `said it waits for Redis:\n${s.text()}`);
      const code = await s.exited;
      expect(code === 2, `exit 2 (got ${code}):\n${s.text()}`);
    },
  },
  {
    cls: 4,
    name: 'a worker asked to stop while Redis is down exits within its lock timeout on one SIGTERM',
    run: async () => {
      const own = await startRedis();
      const w = spawnCli(['worker', '--queue', own.url, '--queue-name', queueName(), '--concurrency', '1', '--lock-timeout', '3']);
      expect(await w.waitFor(/taking jobs from/), 'worker started');
      await stopRedis(own);
      expect(await w.waitFor(/lost the connection/), 'saw Redis go');
      w.child.kill('SIGTERM');
      const t0 = Date.now();
      const code = await Promise.race([w.exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), 20_000))]);
      if (code === 'alive') w.child.kill('SIGKILL');
      expect(code === 0, `exit 0 after one SIGTERM (got ${code} after ${((Date.now() - t0) / 1000).toFixed(0)} s):\n${w.text()}`);
    },
  },
  {
    cls: 3,
    name: 'a queue worker started with the wrong --data refuses the scoring jobs (one clear failure); a correct run then scores the right images',
    run: async () => {
      redis ??= await startRedis();
      const d = dir('wrong-data');
      writeClassFolders(join(d, 'right'), ['ant', 'bee'], 8, 8);
      writeClassFolders(join(d, 'wrong'), ['ant', 'bee'], 8, 8, (c) => (c === 'ant' ? 3 : 4));
      const queue = queueName();
      const args = ['search', ...TINY.slice(0, -2), '--parallel', '2', '--dataset', 'folder', '--data', join(d, 'right'), '--out', join(d, 'run'), '--queue', redis.url, '--queue-name', queue];
      const bad = spawnCli(['worker', '--queue', redis.url, '--queue-name', queue, '--concurrency', '1', '--data', join(d, 'wrong')]);
      const s = spawnCli(args);
      const code = await s.exited;
      bad.child.kill('SIGTERM');
      await bad.exited;
      expect(code === 2 && /this machine holds other data/.test(s.text()), `refused (exit ${code}):\n${s.text()}`);
      expect(!/done +score/.test(bad.text()), 'nothing scored on the wrong images');
      const good = spawnCli(['worker', '--queue', redis.url, '--queue-name', queue, '--concurrency', '1', '--data', join(d, 'right')]);
      const again = spawnCli(args);
      const ok = await again.exited;
      good.child.kill('SIGTERM');
      await good.exited;
      expect(ok === 0, `the correct run (exit ${ok}):\n${again.text()}`);
    },
  },
];

// ----------------------------------------------------------------------------------------------------- the run

const argv = process.argv.slice(2);
if (argv.includes('--list')) {
  for (const c of cases) process.stdout.write(`${c.cls}  ${c.name}\n`);
  process.exit(0);
}
const onlyAt = argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set((argv[onlyAt + 1] ?? '').split(',').map(Number)) : undefined;
const chosen = cases.filter((c) => only === undefined || only.has(c.cls));
process.stdout.write(`issue 18 sweep: ${chosen.length} cases, the built CLI in ${root}\n`);
let ok = 0;
const t0 = Date.now();
try {
  for (const [i, c] of chosen.entries()) {
    const tc = Date.now();
    try {
      await c.run();
      ok++;
      process.stdout.write(`ok    ${String(i + 1).padStart(2)}  [${c.cls}] ${c.name}  (${((Date.now() - tc) / 1000).toFixed(0)} s)\n`);
    } catch (e) {
      process.stdout.write(`FAIL  ${String(i + 1).padStart(2)}  [${c.cls}] ${c.name}\n      ${e instanceof Fail ? e.message : (e as Error).stack}\n`);
    }
  }
} finally {
  if (redis) await stopRedis(redis);
  rmSync(root, { recursive: true, force: true });
}
process.stdout.write(`${chosen.length} cases, ${ok} ok (${((Date.now() - t0) / 1000).toFixed(0)} s)\n`);
process.exitCode = ok === chosen.length ? 0 : 1;
