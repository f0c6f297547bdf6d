import { Command, Option } from 'commander';
import { trainArchitecture, type TrainRequest } from '../pipeline/train.js';
import { addMaxPixels, applyMaxPixels, choice, DATA_HELP, parseImageChannels, parseLimit, parseNumber, parsePositiveInt, parseSeed, TRAIN_DATASETS } from './options.js';
import { InputError } from '../util/errors.js';
import { trainingProgress } from './progress.js';
import { readSearchAnswer } from './train-from.js';

/**
 * `robot-nas train`: the step after a search — train one architecture for longer and report train, validation
 * and test accuracy (src/pipeline/train.ts does the work; this is its console).
 */

export interface TrainFlags extends TrainRequest {
  json?: boolean;
  maxPixels?: number;
}

/** `train`'s defaults (search's `next` line leaves out what equals them). */
export const TRAIN_DEFAULTS = { epochs: 10, channels: 8, cells: 1, batchSize: 32, lr: 0.1, validFraction: 0.2, seed: 0 } as const;

export function register(program: Command): void {
  const cmd = program
    .command('train')
    .description('train one architecture and report its train / validation / test accuracy (the step after a search)')
    .addOption(new Option('--space <space>', 'search space').choices(['nb201', 'darts']).default('nb201'))
    .option('--arch <arch>', "architecture: an NB201 cell string ('|nor_conv_3x3~0|+|…|') or a DARTS genotype as printed by search")
    .option('--from <dir>', "a search's output folder (or its result.json): its answer, space, dataset, data, width, depth and split; flags given here win (e.g. --channels 32 to train the answer wider)")
    .addOption(new Option('--dataset <name>', `dataset: ${TRAIN_DATASETS.join(', ')}`).argParser(choice(TRAIN_DATASETS)).default('mnist'))
    .option('--data <dir|file>', DATA_HELP)
    .option('--image-size <N>', 'resize the images to N×N (default: their own size)', parsePositiveInt)
    .option('--image-channels <1|3>', "grey (1) or RGB (3) input (default: the images' own)", parseImageChannels)
    .option('--confusion <dir>', 'write the confusion matrix of the test images (validation images when the dataset has no test part) as confusion.csv and confusion.svg into this folder')
    .option('--epochs <E>', 'training epochs', parsePositiveInt, TRAIN_DEFAULTS.epochs)
    .option('--channels <C>', 'network width (nb201 C; darts initial channels)', parsePositiveInt, TRAIN_DEFAULTS.channels)
    .option('--cells <N>', 'nb201: cells per stage; darts: number of cells', parsePositiveInt, TRAIN_DEFAULTS.cells)
    .option('--batch-size <n>', 'training batch size', parsePositiveInt, TRAIN_DEFAULTS.batchSize)
    .option('--lr <x>', 'initial learning rate (cosine to 0.001; SGD momentum 0.9, weight decay 3e-4, clip 5)', parseNumber, TRAIN_DEFAULTS.lr)
    .option('--valid-fraction <x>', 'share of the training images held out for validation', parseNumber, TRAIN_DEFAULTS.validFraction)
    .option('--train-limit <n|all>', 'train on at most n images', parseLimit)
    .option('--valid-limit <n|all>', 'validate on at most n images', parseLimit)
    .option('--test-limit <n|all>', 'test on at most n images', parseLimit)
    .option('--seed <s>', 'seed of split, initial weights, batch order and augmentation', parseSeed, TRAIN_DEFAULTS.seed)
    .option('--out <file>', 'also write the report as JSON to this file')
    .option('--save <dir>', 'save the trained model (weights, architecture, preprocessing, accuracies) as a model folder')
    .option('--json', 'print the report as JSON');
  addMaxPixels(cmd).action(async (f0: TrainFlags & { from?: string }, c: Command) => {
      const f = withSearchAnswer(f0, (k) => c.getOptionValueSource(k) === 'cli');
      applyMaxPixels(f);
      const progress = trainingProgress(f.epochs);
      const run = await trainArchitecture(f, progress).finally(() => progress.stop());
      process.stdout.write((f.json ? JSON.stringify(run.report, null, 2) : run.summary) + '\n');
      if (run.notSaved) throw run.notSaved;
    });
}

/** The flags with --from's search answer filled in where the command line did not set them (`given`). */
export function withSearchAnswer(f: TrainFlags & { from?: string }, given: (flag: string) => boolean): TrainFlags {
  if (f.from === undefined) {
    if (f.arch === undefined) throw new InputError('train: --arch or --from is required (the architecture, or the output folder of a search)');
    return f;
  }
  if (f.arch !== undefined) throw new InputError('train: give --arch or --from, not both (--from already names the architecture)');
  const a = readSearchAnswer(f.from);
  const out: TrainFlags = { ...f, arch: a.arch };
  const fill = <K extends keyof TrainFlags>(k: K, v: TrainFlags[K] | undefined): void => {
    if (v !== undefined && !given(k)) out[k] = v;
  };
  fill('space', a.space);
  fill('dataset', a.dataset);
  fill('data', a.data);
  fill('imageSize', a.imageSize);
  fill('imageChannels', a.imageChannels);
  fill('channels', a.channels);
  fill('cells', a.cells);
  fill('validFraction', a.validFraction);
  fill('seed', a.seed);
  return out;
}
