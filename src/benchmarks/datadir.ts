/**
 * Finding the benchmark data folder and the files in it.
 *
 * The data folder is, in this order: `--data DIR`; else the `ROBOT_NAS_DATA` environment
 * variable; else `../shared/data` next to the package root (the folder holding package.json).
 *
 * Supported layout (file names are those of the public releases; nothing needs converting):
 *
 * ```
 * DIR/
 *   nb201/                                  NAS-Bench-201
 *     cifar10.csv, cifar100.csv, imagenet16-120.csv
 *         converted tables (columns: index, arch, hp12_valid_acc, hp12_cost, valid_acc_12ep,
 *         time_12ep, …, test_acc, zc.*, sz.*); used when present. Otherwise the official files:
 *     official/        (these may also sit directly in DIR/nb201/ or in DIR/)
 *       nb2_cf10_hp12_info.p                RoBoT: CIFAR-10 12-epoch valid acc + training seconds
 *                                           (the paper's objective and cost, for all three tasks)
 *       nb2_cf10_test_accuracy.p            RoBoT: test accuracy (final metric), one per task:
 *       nb2_cf100_test_accuracy.p             cf10 = cifar10, cf100 = cifar100,
 *       nb2_im120_test_accuracy.p             im120 = imagenet16-120
 *       nb2_cf10_seed42_dlrandom_dlinfo1_initwnone_initbnone.p    optional, zero-cost-proxies
 *       (…cf100…, …im120…)                  release: metrics grad_norm, snip, grasp, fisher,
 *                                           synflow, jacob_cov (named as in the file)
 *       zc_nasbench201.json                 optional, NAS-Bench-Suite-Zero (full release): metrics
 *                                           named sz.<name>, like the CSV's columns
 *   tnb101/                                 TransNAS-Bench-101
 *     micro.csv, macro.csv                  required: id, arch, api_arch, one column per task
 *     zc_transbench101_micro.json           optional NAS-Bench-Suite-Zero metrics (full releases;
 *     zc_transbench101_macro.json             also looked for in DIR/tnb101/official/ and DIR/)
 *     official/zc_transbench101_micro_<task>_*.json   task-specific samples
 *     official/zc_transbench101_<space>_subset.json   subset samples
 *         (metrics come from the first of these files that holds the requested task)
 * ```
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { findDataFolder, isDir, isFile, packageRoot } from '../formats/data-folder.js';

export { packageRoot };

/** nb201 task → the short name used in RoBoT / zero-cost-proxies file names. */
export const NB201_FILE_TASK: Readonly<Record<string, string>> = {
  cifar10: 'cf10',
  cifar100: 'cf100',
  'imagenet16-120': 'im120',
};

export const LAYOUT_HELP = `Put the benchmark files in a folder laid out like this:
  DIR/nb201/cifar10.csv, cifar100.csv, imagenet16-120.csv   (converted tables), or the official files
  DIR/nb201/official/nb2_cf10_hp12_info.p                   (RoBoT release: 12-epoch CIFAR-10 accuracy and cost)
  DIR/nb201/official/nb2_{cf10,cf100,im120}_test_accuracy.p (RoBoT release: test accuracies)
  DIR/nb201/official/nb2_{cf10,cf100,im120}_seed42_dlrandom_dlinfo1_initwnone_initbnone.p  (optional: zero-cost-proxies release)
  DIR/nb201/official/zc_nasbench201.json                    (optional: NAS-Bench-Suite-Zero)
  DIR/tnb101/micro.csv, DIR/tnb101/macro.csv                (TransNAS-Bench-101 tables)
  DIR/tnb101/zc_transbench101_micro.json, zc_transbench101_macro.json  (optional: NAS-Bench-Suite-Zero)
then pass --data DIR or set ROBOT_NAS_DATA=DIR.`;

/**
 * The data folder: `explicit` (--data DIR), then env.ROBOT_NAS_DATA, then `../shared/data` next
 * to `repoRoot` (default: the package root). A named folder that does not exist is an error;
 * so is finding none, with instructions on what to download and where to put it.
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env, repoRoot?: string): string {
  return findDataFolder(
    explicit,
    env,
    repoRoot,
    'Download the benchmark data: NAS-Bench-201 (RoBoT\'s nb2_cf10_hp12_info.p and nb2_{cf10,cf100,im120}_test_accuracy.p, ' +
      'optionally the zero-cost-proxies nb2_*_seed42_dlrandom_dlinfo1_initwnone_initbnone.p and NAS-Bench-Suite-Zero\'s ' +
      'zc_nasbench201.json), TransNAS-Bench-101 tables (micro.csv, macro.csv) and optionally NAS-Bench-Suite-Zero\'s ' +
      'zc_transbench101_micro.json and zc_transbench101_macro.json.\n' +
      LAYOUT_HELP,
    'benchmark data folder',
  );
}

/** First existing file among candidates. */
export function firstFile(candidates: readonly string[]): string | undefined {
  return candidates.find(isFile);
}

/** Files in `dir` whose names match `re`, sorted by name (empty if the folder is missing). */
export function filesMatching(dir: string, re: RegExp): string[] {
  if (!isDir(dir)) return [];
  return readdirSync(dir)
    .filter((f) => re.test(f))
    .sort()
    .map((f) => join(dir, f))
    .filter(isFile);
}

/** Folders searched for NAS-Bench-201's official files, in order. */
export function nb201OfficialDirs(dataDir: string): string[] {
  return [join(dataDir, 'nb201', 'official'), join(dataDir, 'nb201'), dataDir];
}

export interface Nb201Files {
  /** Converted table `DIR/nb201/<task>.csv` (or `DIR/<task>.csv`). */
  csv?: string;
  hp12Info?: string;
  testAccuracy?: string;
  zeroCost?: string;
  suiteZero?: string;
}

export function findNb201Files(dataDir: string, task: string): Nb201Files {
  const t = NB201_FILE_TASK[task] ?? task;
  const dirs = nb201OfficialDirs(dataDir);
  const inDirs = (name: string): string | undefined => firstFile(dirs.map((d) => join(d, name)));
  return {
    csv: firstFile([join(dataDir, 'nb201', `${task}.csv`), join(dataDir, `${task}.csv`)]),
    hp12Info: inDirs('nb2_cf10_hp12_info.p'),
    testAccuracy: inDirs(`nb2_${t}_test_accuracy.p`),
    zeroCost: inDirs(`nb2_${t}_seed42_dlrandom_dlinfo1_initwnone_initbnone.p`),
    suiteZero: inDirs('zc_nasbench201.json'),
  };
}

export function tnb101CsvPath(dataDir: string, space: 'micro' | 'macro'): string | undefined {
  return firstFile([join(dataDir, 'tnb101', `${space}.csv`)]);
}

/** Suite-Zero json candidates for a TransNAS-Bench-101 space and task, in the order they are tried. */
export function tnb101SuiteZeroCandidates(dataDir: string, space: 'micro' | 'macro', task: string): string[] {
  const tnb = join(dataDir, 'tnb101');
  const official = join(tnb, 'official');
  const esc = task.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const out = [
    join(tnb, `zc_transbench101_${space}.json`),
    join(official, `zc_transbench101_${space}.json`),
    join(dataDir, `zc_transbench101_${space}.json`),
    ...filesMatching(official, new RegExp(`^zc_transbench101_${space}_${esc}_.*\\.json$`)),
    join(official, `zc_transbench101_${space}_subset.json`),
  ];
  return out.filter(isFile);
}
