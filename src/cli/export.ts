import { Command, Option } from 'commander';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { EXPORT_FORMATS, exportModel, SAMPLE_LOGITS_FILE, type ExportFormat } from '../export/bundle.js';
import { EXPORT_FOLDER } from '../export/folder.js';
import { loadModel } from '../model/store.js';
import { writeFolderAtomic } from '../util/atomic.js';
import { checkReplaceable } from '../util/owned-folder.js';
import { shellCommand } from '../util/shell.js';
import { startEngine } from './engine.js';
import { choice } from './options.js';

/**
 * `robot-nas export`: a saved model as ONNX, a TF.js LayersModel or PyTorch (model.py + safetensors), in a
 * folder written atomically, with the test vector (sample-input.bin, sample-logits.json) of every export.
 */

interface Flags {
  model: string;
  format: ExportFormat;
  out: string;
}

const require = createRequire(import.meta.url);
const VERSION = (require('../../package.json') as { version: string }).version;

const NAMES: Record<ExportFormat, string> = { onnx: 'ONNX', tfjs: 'a TF.js LayersModel', pytorch: 'PyTorch' };

function size(b: Uint8Array | string): string {
  const n = typeof b === 'string' ? Buffer.byteLength(b) : b.length;
  return n < 1024 ? `${n} B` : n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} kB` : `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a saved model (robot-nas train … --save DIR) as ONNX, TF.js or PyTorch, with sample inputs and logits')
    .requiredOption('--model <dir>', 'model folder written by train --save')
    .addOption(new Option('--format <format>', EXPORT_FORMATS.join(' | ')).argParser(choice(EXPORT_FORMATS)).makeOptionMandatory())
    .requiredOption('--out <dir>', 'output folder (created; a previous export there is replaced, any other non-empty folder is refused)')
    .action(async (f: Flags) => {
      const m = loadModel(f.model);
      checkReplaceable(f.out, 'out', EXPORT_FOLDER);
      startEngine();
      const bundle = exportModel(m, f.format, VERSION);
      writeFolderAtomic(f.out, bundle.files, EXPORT_FOLDER);
      const { card } = m;
      const width = Math.max(...[...bundle.files.keys()].map((k) => k.length));
      const lines = [`exported ${card.space} ${card.arch} (${card.network.params.toLocaleString('en-US')} parameters) as ${NAMES[f.format]} to ${f.out}`];
      for (const [name, data] of bundle.files) lines.push(`  ${name.padEnd(width)}  ${size(data).padStart(8)}  ${bundle.describe.get(name) ?? ''}`);
      const check =
        f.format === 'onnx'
          ? `onnxruntime: new InferenceSession on ${join(f.out, 'model.onnx')}, feed sample-input.bin as 'input'`
          : f.format === 'tfjs'
            ? 'tfjs: tf.loadLayersModel on model.json, predict sample-input.bin'
            : `${shellCommand(['python3', join(f.out, 'model.py')])} (needs torch)`;
      lines.push(`check: ${check}; compare with ${SAMPLE_LOGITS_FILE}`);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
