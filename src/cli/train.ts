import { Command, Option } from 'commander';
import { trainArchitecture, type TrainRequest } from '../pipeline/train.js';
import { choice, DATA_HELP, parseImageChannels, parseLimit, parseNumber, parsePositiveInt, parseSeed, TRAIN_DATASETS } from './options.js';
import { trainingProgress } from './progress.js';

/**
 * `robot-nas train`: the step after a search — train one architecture for longer and report train, validation
 * and test accuracy (src/pipeline/train.ts does the work; this is its console).
 */

export interface TrainFlags extends TrainRequest {
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('train')
    .description('train one architecture and report its train / validation / test accuracy (the step after a search)')
    .addOption(new Option('--space <space>', 'search space').choices(['nb201', 'darts']).default('nb201'))
    .requiredOption('--arch <arch>', "architecture: an NB201 cell string ('|nor_conv_3x3~0|+|…|') or a DARTS genotype as printed by search")
    .addOption(new Option('--dataset <name>', `dataset: ${TRAIN_DATASETS.join(', ')}`).argParser(choice(TRAIN_DATASETS)).default('mnist'))
    .option('--data <dir|file>', DATA_HELP)
    .option('--image-size <N>', 'resize the images to N×N (default: their own size)', parsePositiveInt)
    .option('--image-channels <1|3>', "grey (1) or RGB (3) input (default: the images' own)", parseImageChannels)
    .option('--confusion <dir>', 'write the confusion matrix of the test images (validation images when the dataset has no test part) as confusion.csv and confusion.svg into this folder')
    .option('--epochs <E>', 'training epochs', parsePositiveInt, 10)
    .option('--channels <C>', 'network width (nb201 C; darts initial channels)', parsePositiveInt, 8)
    .option('--cells <N>', 'nb201: cells per stage; darts: number of cells', parsePositiveInt, 1)
    .option('--batch-size <n>', 'training batch size', parsePositiveInt, 32)
    .option('--lr <x>', 'initial learning rate (cosine to 0.001; SGD momentum 0.9, weight decay 3e-4, clip 5)', parseNumber, 0.1)
    .option('--valid-fraction <x>', 'share of the training images held out for validation', parseNumber, 0.2)
    .option('--train-limit <n|all>', 'train on at most n images', parseLimit)
    .option('--valid-limit <n|all>', 'validate on at most n images', parseLimit)
    .option('--test-limit <n|all>', 'test on at most n images', parseLimit)
    .option('--seed <s>', 'seed of split, initial weights, batch order and augmentation', parseSeed, 0)
    .option('--out <file>', 'also write the report as JSON to this file')
    .option('--save <dir>', 'save the trained model (weights, architecture, preprocessing, accuracies) as a model folder')
    .option('--json', 'print the report as JSON')
    .action(async (f: TrainFlags) => {
      const progress = trainingProgress(f.epochs);
      const run = await trainArchitecture(f, progress).finally(() => progress.stop());
      process.stdout.write((f.json ? JSON.stringify(run.report, null, 2) : run.summary) + '\n');
      if (run.notSaved) throw run.notSaved;
    });
}
