import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';

const tmp = mkdtempSync(join(tmpdir(), 'robot-nas-cli-'));

function expectUserError(args: string[], pattern: RegExp) {
  const r = runCli(args);
  assert.equal(r.code, 2, `exit code for ${args.join(' ')}: ${r.stderr}`);
  assert.match(r.stderr, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'no stack trace');
}

test('missing table file names the file', () => {
  expectUserError(['bench', '--table', join(tmp, 'nope.csv')], /nope\.csv/);
});

test('unknown metric lists the available ones', () => {
  expectUserError(['bench', '--benchmark', 'nb201', '--task', 'cifar10', '--metrics', 'sz.bogus'], /sz\.bogus.*available: .*sz\.snip/s);
});

test('unknown task lists the valid ones', () => {
  expectUserError(['bench', '--benchmark', 'nb201', '--task', 'mnist'], /cifar10.*cifar100.*imagenet16-120/s);
});

test('bad seeds and bad method are usage errors with exit code 2', () => {
  expectUserError(['bench', '--benchmark', 'nb201', '--seeds', 'ten'], /seeds/);
  expectUserError(['bench', '--benchmark', 'nb201', '--method', 'darts'], /robot/);
  expectUserError(['bench', '--benchmark', 'nb201', '--budget', '0'], /positive integer/);
});

test('unparsable number in a table names line and column', () => {
  const f = join(tmp, 'bad-number.csv');
  writeFileSync(
    f,
    'arch,hp12_valid_acc,test_acc,m1\n' +
      '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|,90.1,93.2,1\n' +
      '|none~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|,abc,93.2,2\n',
  );
  expectUserError(['bench', '--table', f], /bad-number\.csv.*(line )?3.*hp12_valid_acc.*'abc'/s);
});

test('unknown architecture string and duplicate architecture are reported with their lines', () => {
  const f = join(tmp, 'bad-arch.csv');
  writeFileSync(f, 'arch,hp12_valid_acc,test_acc,m1\n|conv~0|+|a~0|b~1|+|c~0|d~1|e~2|,90,91,1\n');
  expectUserError(['bench', '--table', f], /bad-arch\.csv.*2/s);
  const g = join(tmp, 'dup.csv');
  const a = '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|';
  writeFileSync(g, `arch,hp12_valid_acc,test_acc,m1\n${a},90,91,1\n${a},91,92,2\n`);
  expectUserError(['bench', '--table', g], /dup\.csv: line 3: duplicate architecture.*already on line 2/is);
});

test('a data folder that does not exist says what to download', () => {
  expectUserError(['bench', '--benchmark', 'nb201', '--data', join(tmp, 'no-such-dir')], /no-such-dir/);
  const r = runCli(['bench', '--benchmark', 'nb201'], { ROBOT_NAS_DATA: join(tmp, 'empty-env') });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /ROBOT_NAS_DATA|empty-env/);
});
