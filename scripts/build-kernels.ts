/**
 * Builds the engine's kernels (native/kernels/*.c) for its two targets, and the GP's loops (native/gp/gp.c).
 *
 *   node --import tsx scripts/build-kernels.ts --wasm     native/kernels.wasm and native/gp.wasm with Debian's
 *                                                         clang-14 + wasm-ld-14
 *   node --import tsx scripts/build-kernels.ts --check    rebuilds both .wasm in a temporary folder and fails unless
 *                                                         each is byte for byte the committed one
 *   node --import tsx scripts/build-kernels.ts --native   the Node-API addon build/Release/robot_nas_native.node with
 *                                                         node-gyp (never fails: without a compiler the engine runs
 *                                                         the WebAssembly kernels); --strict makes a failure an error
 *
 * The WebAssembly build is deterministic for a given clang version (no paths, no timestamps in the output), which is
 * what lets the committed binary be checked against its source.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const KERNEL_DIR = join(ROOT, 'native', 'kernels');
export const KERNEL_SOURCES = ['conv.c', 'channels.c', 'elementwise.c', 'pool.c', 'depthwise.c', 'maxpool.c', 'copy.c', 'activation.c', 'dispatch.c'];
export const WASM_OUT = join(ROOT, 'native', 'kernels.wasm');
export const CLANG = 'clang-14';

/** clang flags of the WebAssembly build (relative source names, run from native/kernels). */
export const WASM_FLAGS = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-matomics',
  '-mbulk-memory',
  '-mmutable-globals',
  // WebAssembly has no fused multiply-add; keep clang from assuming otherwise.
  '-ffp-contract=off',
  '-nostdlib',
  '-Wall',
  '-Wextra',
  '-Wno-unused-parameter',
  '-Werror',
  '-Wl,--no-entry',
  '-Wl,--import-memory',
  '-Wl,--shared-memory',
  '-Wl,--max-memory=4294967296',
  '-Wl,--export=dispatch',
  '-Wl,--export=kernel_count',
  '-Wl,--export=__stack_pointer',
  '-Wl,--export=__heap_base',
  '-Wl,--stack-first',
  '-Wl,-z,stack-size=262144',
  '-Wl,--strip-debug',
];

/**
 * The GP module: single-threaded (each thread instantiates its own), with its own growable memory; no stack to speak
 * of. Same floating-point flags as the kernels (no contraction: results must equal the JavaScript loops bit for bit).
 */
export const GP_WASM_FLAGS = [
  '--target=wasm32',
  '-O3',
  '-msimd128',
  '-mbulk-memory',
  // Saturating float → int conversions: without them clang guards every (int) cast with range checks.
  '-mnontrapping-fptoint',
  '-ffp-contract=off',
  '-nostdlib',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-Wl,--no-entry',
  '-Wl,--export=__heap_base',
  '-Wl,--stack-first',
  '-Wl,-z,stack-size=65536',
  '-Wl,--strip-debug',
];
export const GP_WASM_OUT = join(ROOT, 'native', 'gp.wasm');

/** The WebAssembly artefacts: what each is built from and how. */
const WASM_TARGETS = [
  { out: WASM_OUT, dir: KERNEL_DIR, sources: KERNEL_SOURCES, flags: WASM_FLAGS },
  { out: GP_WASM_OUT, dir: join(ROOT, 'native', 'gp'), sources: ['gp.c'], flags: GP_WASM_FLAGS },
];

/** Whether the WebAssembly toolchain is installed (apt-get install clang-14 lld-14). */
export function haveWasmToolchain(): boolean {
  const r = spawnSync(CLANG, ['--version'], { encoding: 'utf8' });
  const l = spawnSync('wasm-ld-14', ['--version'], { encoding: 'utf8' });
  return r.status === 0 && l.status === 0;
}

/** Compiles one target to `out`; throws with clang's output on failure. */
function buildWasm(target: (typeof WASM_TARGETS)[number], out: string): void {
  const r = spawnSync(CLANG, [...target.flags, '-o', out, ...target.sources], { cwd: target.dir, encoding: 'utf8' });
  if (r.error) throw new Error(`${CLANG} could not be run (apt-get install clang-14 lld-14): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${CLANG} failed:\n${r.stderr}`);
}

/** Builds the addon with node-gyp; returns an error message or null. */
function buildNative(): string | null {
  const gyp = findNodeGyp();
  if (gyp === null) return 'node-gyp not found (it comes with npm)';
  const args = [gyp, 'rebuild'];
  // Outside npm, point node-gyp at the installed headers so that it never tries to download them.
  if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
  const r = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return `node-gyp failed:\n${(r.stderr || r.stdout).split('\n').slice(-15).join('\n')}`;
  return null;
}

function findNodeGyp(): string | null {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  for (const c of candidates) if (c && existsSync(c)) return c;
  return null;
}

function main(argv: string[]): number {
  if (argv.includes('--wasm')) {
    for (const t of WASM_TARGETS) {
      buildWasm(t, t.out);
      process.stdout.write(`wrote ${t.out} (${readFileSync(t.out).length} bytes)\n`);
    }
  }
  if (argv.includes('--check')) {
    const dir = mkdtempSync(join(tmpdir(), 'robot-nas-kernels-'));
    try {
      for (const t of WASM_TARGETS) {
        const name = `native/${t.out.split('/').pop()}`;
        const out = join(dir, 'check.wasm');
        buildWasm(t, out);
        if (!readFileSync(out).equals(readFileSync(t.out))) {
          process.stderr.write(`${name} differs from a build of its source (${t.sources.join(', ')}): run npm run build:kernels and commit it\n`);
          return 1;
        }
        process.stdout.write(`${name} matches its source\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  if (argv.includes('--native')) {
    const err = buildNative();
    if (err !== null) {
      process.stdout.write(`native kernels not built (${err.split('\n')[0]}); the WebAssembly kernels will be used\n`);
      if (argv.includes('--strict')) {
        process.stderr.write(err + '\n');
        return 1;
      }
    } else {
      process.stdout.write('built build/Release/robot_nas_native.node\n');
    }
  }
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
