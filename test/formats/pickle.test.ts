import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { InputError } from '../../src/util/errors.js';
import { NumpyArray, PyObject, pyNumber, readPickleFile, toPlain, unpickle, unpickleStream } from '../../src/formats/pickle.js';
import { SHARED_DATA } from '../helpers/shared.js';
import { np64, npScalar, pickle, pickleStream, pyFloat, pyTuple, type PyVal } from '../helpers/pickle-writer.js';

const ARCH = '|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|none~1|nor_conv_1x1~2|';

// Written by Python 3.12 / numpy 2.4 with
//   v = {'i': 7, 'arch': ARCH, 'logmeasures': {'grad_norm': np.float64(1.5), 'snip': 2.25,
//        'jacob_cov': np.float64(-65.25), 'f4': np.float32(0.5)}, 'valacc': 85.0,
//        'neg': -(2**40), 'arr': np.array([1.5, -2.0])}
//   pickle.dumps(v, protocol=p).hex()
const PY_PICKLES: Record<number, string> = {
  0: '286470300a56690a70310a49370a7356617263680a70320a567c6e6f725f636f6e765f3378337e307c2b7c6e6f6e657e307c736b69705f636f6e6e6563747e317c2b7c6176675f706f6f6c5f3378337e307c6e6f6e657e317c6e6f725f636f6e765f3178317e327c0a70330a73566c6f676d656173757265730a70340a286470350a56677261645f6e6f726d0a70360a636e756d70792e5f636f72652e6d756c746961727261790a7363616c61720a70370a28636e756d70790a64747970650a70380a285666380a70390a4930300a4930310a747031300a527031310a2849330a563c0a7031320a4e4e4e492d310a492d310a49300a747031330a62635f636f646563730a656e636f64650a7031340a28565c75303030305c75303030305c75303030305c75303030305c75303030305c7530303030f83f0a7031350a566c6174696e310a7031360a747031370a527031380a747031390a527032300a7356736e69700a7032310a46322e32350a73566a61636f625f636f760a7032320a67370a286731310a6731340a28565c75303030305c75303030305c75303030305c75303030305c75303030305050c00a7032330a6731360a747032340a527032350a747032360a527032370a735666340a7032380a67370a2867380a285666340a7032390a4930300a4930310a747033300a527033310a2849330a6731320a4e4e4e492d310a492d310a49300a747033320a626731340a28565c75303030305c75303030305c75303030303f0a7033330a6731360a747033340a527033350a747033360a527033370a73735676616c6163630a7033380a4638352e300a73566e65670a7033390a4c2d313039393531313632373737364c0a73566172720a7034300a636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7034310a28636e756d70790a6e6461727261790a7034320a2849300a747034330a6731340a2856620a7034340a6731360a747034350a527034360a747034370a527034380a2849310a2849320a747034390a6731310a4930300a6731340a28565c75303030305c75303030305c75303030305c75303030305c75303030305c7530303030f83f5c75303030305c75303030305c75303030305c75303030305c75303030305c75303030305c7530303030c00a7035300a6731360a747035310a527035320a747035330a62732e',
  2: '80027d71002858010000006971014b075804000000617263687102584f0000007c6e6f725f636f6e765f3378337e307c2b7c6e6f6e657e307c736b69705f636f6e6e6563747e317c2b7c6176675f706f6f6c5f3378337e307c6e6f6e657e317c6e6f725f636f6e765f3178317e327c7103580b0000006c6f676d6561737572657371047d7105285809000000677261645f6e6f726d7106636e756d70792e5f636f72652e6d756c746961727261790a7363616c61720a7107636e756d70790a64747970650a7108580200000066387109898887710a52710b284b0358010000003c710c4e4e4e4affffffff4affffffff4b0074710d62635f636f646563730a656e636f64650a710e5809000000000000000000c3b83f710f58060000006c6174696e3171108671115271128671135271145804000000736e6970711547400200000000000058090000006a61636f625f636f7671166807680b680e580900000000000000005050c3807117681086711852711986711a52711b58020000006634711c6807680858020000006634711d898887711e52711f284b03680c4e4e4e4affffffff4affffffff4b0074712062680e58040000000000003f7121681086712252712386712452712575580600000076616c616363712647405540000000000058030000006e656771278a060000000000ff58030000006172727128636e756d70792e5f636f72652e6d756c746961727261790a5f7265636f6e7374727563740a7129636e756d70790a6e6461727261790a712a4b0085712b680e580100000062712c681086712d52712e87712f527130284b014b02857131680b89680e5812000000000000000000c3b83f00000000000000c3807132681086713352713474713562752e',
  5: '800595c5010000000000007d94288c0169944b078c0461726368948c4f7c6e6f725f636f6e765f3378337e307c2b7c6e6f6e657e307c736b69705f636f6e6e6563747e317c2b7c6176675f706f6f6c5f3378337e307c6e6f6e657e317c6e6f725f636f6e765f3178317e327c948c0b6c6f676d65617375726573947d94288c09677261645f6e6f726d948c166e756d70792e5f636f72652e6d756c74696172726179948c067363616c61729493948c056e756d7079948c0564747970659493948c02663894898887945294284b038c013c944e4e4e4affffffff4affffffff4b007494624308000000000000f83f94869452948c04736e6970944740020000000000008c096a61636f625f636f76946809680f430800000000005050c094869452948c026634946809680c8c02663494898887945294284b0368104e4e4e4affffffff4affffffff4b0074946243040000003f9486945294758c0676616c616363944740554000000000008c036e6567948a060000000000ff8c03617272948c136e756d70792e5f636f72652e6e756d65726963948c0b5f66726f6d62756666657294939428961000000000000000000000000000f83f00000000000000c094680f4b0285948c01439474945294752e',
};

test('reads pickles written by Python (protocols 0, 2, 5) with numpy scalars and arrays', () => {
  for (const [p, hex] of Object.entries(PY_PICKLES)) {
    const v = toPlain(unpickle(Buffer.from(hex, 'hex'), `py${p}.p`)) as Record<string, unknown>;
    assert.equal(v['i'], 7, `protocol ${p}`);
    assert.equal(v['arch'], ARCH);
    assert.deepEqual({ ...(v['logmeasures'] as object) }, { grad_norm: 1.5, snip: 2.25, jacob_cov: -65.25, f4: 0.5 }, `protocol ${p}`);
    assert.equal(v['valacc'], 85);
    assert.equal(v['neg'], -(2 ** 40), `protocol ${p}: negative LONG`);
    assert.deepEqual(v['arr'], [1.5, -2], `protocol ${p}: numpy array`);
  }
});

test('pickle writer round-trips every supported value kind (protocols 2 and 4)', () => {
  const value: PyVal = {
    int: 5,
    big: 70000,
    neg: -3,
    neg32: -(2 ** 31),
    long: 2 ** 40,
    longNeg: -(2 ** 40),
    bigint: 2n ** 70n,
    float: 0.1,
    wholeFloat: pyFloat(85),
    nan: NaN,
    inf: -Infinity,
    none: null,
    t: true,
    f: false,
    str: 'héllo → ok',
    list: [1, 'a', [2, 3]],
    tuple: pyTuple(1, 'x'),
    f8: np64(-65.3),
    f8nan: np64(NaN),
    f4: npScalar(0.5, 'f4'),
    i8: npScalar(-7, 'i8'),
    i4: npScalar(123456, 'i4'),
    nested: { a: { b: np64(1e36) } },
  };
  for (const protocol of [2, 4] as const) {
    const v = unpickle(pickle(value, { protocol }), 'w.p') as Map<string, unknown>;
    assert.ok(v instanceof Map);
    const plain = toPlain(v) as Record<string, unknown>;
    assert.equal(plain['int'], 5);
    assert.equal(plain['big'], 70000);
    assert.equal(plain['neg'], -3);
    assert.equal(plain['neg32'], -(2 ** 31));
    assert.equal(plain['long'], 2 ** 40);
    assert.equal(plain['longNeg'], -(2 ** 40));
    // ints beyond ±2^53 come back as the nearest JS number (a documented limitation)
    assert.equal(plain['bigint'], 2 ** 70);
    assert.equal(plain['float'], 0.1);
    assert.equal(plain['wholeFloat'], 85);
    assert.ok(Number.isNaN(plain['nan']));
    assert.equal(plain['inf'], -Infinity);
    assert.equal(plain['none'], null);
    assert.equal(plain['t'], true);
    assert.equal(plain['f'], false);
    assert.equal(plain['str'], 'héllo → ok');
    assert.deepEqual(plain['list'], [1, 'a', [2, 3]]);
    assert.deepEqual(plain['tuple'], [1, 'x']);
    assert.equal(plain['f8'], -65.3, `protocol ${protocol}: numpy float64`);
    assert.ok(Number.isNaN(plain['f8nan']));
    assert.equal(plain['f4'], 0.5);
    assert.equal(plain['i8'], -7);
    assert.equal(plain['i4'], 123456);
    assert.equal((plain['nested'] as { a: { b: number } }).a.b, 1e36);
  }
});

// Written by Python 3.11 with
//   pickle.dumps([inf, -inf, nan, -(2**70), 2**70, -(2**40), 'é\\ü\n€', b'\x80\x9f\x00\\', {'a': 1.5}], p).hex()
// They exercise what pickleparser 0.2.1 gets wrong and the adapter works around: text FLOAT inf,
// LONG1 sign, protocol-0 UNICODE escapes and bytes 0x80–0x9f.
const PY_EDGE: Record<number, string> = {
  0: '286c70300a46696e660a61462d696e660a61466e616e0a614c2d313138303539313632303731373431313330333432344c0a614c313138303539313632303731373431313330333432344c0a614c2d313039393531313632373737364c0a6156e95c7530303563fc5c75303030615c75323061630a70310a61635f636f646563730a656e636f64650a70320a2856809f5c75303030305c75303035630a70330a566c6174696e310a70340a7470350a5270360a61286470370a56610a70380a46312e350a73612e',
  1: '5d710028477ff000000000000047fff0000000000000477ff80000000000004c2d313138303539313632303731373431313330333432344c0a4c313138303539313632303731373431313330333432344c0a4c2d313039393531313632373737364c0a5809000000c3a95cc3bc0ae282ac7101635f636f646563730a656e636f64650a7102285806000000c280c29f005c710358060000006c6174696e3171047471055271067d71075801000000617108473ff800000000000073652e',
  2: '80025d710028477ff000000000000047fff0000000000000477ff80000000000008a090000000000000000c08a090000000000000000408a060000000000ff5809000000c3a95cc3bc0ae282ac7101635f636f646563730a656e636f64650a71025806000000c280c29f005c710358060000006c6174696e3171048671055271067d71075801000000617108473ff800000000000073652e',
};

test('protocol 0–2 edge cases: inf/nan text floats, big and negative ints, escaped text, latin-1 bytes', () => {
  for (const [p, hex] of Object.entries(PY_EDGE)) {
    const v = unpickle(Buffer.from(hex, 'hex'), `edge${p}.p`) as unknown[];
    assert.equal(v.length, 9, `protocol ${p}`);
    assert.deepEqual(v.slice(0, 2), [Infinity, -Infinity], `protocol ${p}: inf`);
    assert.ok(Number.isNaN(v[2]), `protocol ${p}: nan`);
    assert.deepEqual(v.slice(3, 6), [-(2 ** 70), 2 ** 70, -(2 ** 40)], `protocol ${p}: LONG`);
    assert.equal(v[6], 'é\\ü\n€', `protocol ${p}: str`);
    assert.deepEqual([...(v[7] as Uint8Array)], [0x80, 0x9f, 0x00, 0x5c], `protocol ${p}: bytes`);
    assert.deepEqual(toPlain(v[8]), Object.assign(Object.create(null), { a: 1.5 }), `protocol ${p}: dict`);
  }
});

test('Python 2 pickles: STRING escapes and numpy scalars whose raw bytes are a str', () => {
  // laid out as Python 2.7 + numpy write {'s': "x\ny'z", 'v': np.float64(1.5)} (protocol 0)
  // and np.float64(0.1) (protocol 2: the raw bytes 9a 99 99 99 99 99 b9 3f as SHORT_BINSTRING)
  const p0 = Buffer.concat([
    Buffer.from(`(dp0\nS's'\np1\nS"x\\ny'z"\np2\nsS'v'\np3\ncnumpy.core.multiarray\nscalar\np4\n(cnumpy\ndtype\np5\n(S'f8'\np6\nI00\nI01\ntp7\nRp8\n`, 'latin1'),
    Buffer.from(`(I3\nS'<'\np9\nNNNI-1\nI-1\nI0\ntp10\nbS'\\x00\\x00\\x00\\x00\\x00\\x00\\xf8?'\np11\ntp12\nRp13\ns.`, 'latin1'),
  ]);
  const d = unpickle(p0, 'py2-0.p') as Map<string, unknown>;
  assert.equal(d.get('s'), "x\ny'z");
  assert.equal(d.get('v'), 1.5);
  const p2 = Buffer.concat([
    Buffer.from('\x80\x02cnumpy.core.multiarray\nscalar\nq\x00cnumpy\ndtype\nq\x01U\x02f8q\x02\x89\x88\x87q\x03Rq\x04', 'latin1'),
    Buffer.from('(K\x03U\x01<q\x05NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tq\x06b', 'latin1'),
    Buffer.from([0x55, 0x08, 0x9a, 0x99, 0x99, 0x99, 0x99, 0x99, 0xb9, 0x3f]), // SHORT_BINSTRING
    Buffer.from('q\x07\x86q\x08Rq\x09.', 'latin1'),
  ]);
  assert.equal(unpickle(p2, 'py2-2.p'), 0.1);
});

test('large lists and dicts are batched like Python does (>1000 items)', () => {
  const list = Array.from({ length: 2500 }, (_, i) => np64(i / 7));
  const v = unpickle(pickle(list), 'big.p') as number[];
  assert.equal(v.length, 2500);
  assert.equal(v[2499], 2499 / 7);
});

test('streams of pickles are read until EOF', () => {
  const bytes = pickleStream([{ i: 0 }, { i: 1 }, [np64(2.5)]]);
  const items = unpickleStream(bytes, 's.p');
  assert.equal(items.length, 3);
  assert.equal((items[1] as Map<string, unknown>).get('i'), 1);
  assert.deepEqual(items[2], [2.5]);
  assert.throws(() => unpickle(bytes, 's.p'), /s\.p: unexpected data after the pickle/);
});

test('truncated, empty and non-pickle data are InputErrors naming the file', () => {
  const one = pickle({ a: np64(1.5), b: 'text' });
  assert.throws(
    () => unpickle(one.subarray(0, one.length - 5), 'cut.p'),
    (e: unknown) => e instanceof InputError && /^cut\.p: the file is truncated: it ends in the middle of a pickle$/.test(e.message),
  );
  const stream = pickleStream([{ i: 0 }, { i: 1 }, { i: 2 }]);
  assert.throws(
    () => unpickleStream(stream.subarray(0, stream.length - 3), 'cut-stream.p'),
    (e: unknown) => e instanceof InputError && /cut-stream\.p: the file is truncated: it ends in the middle of a pickle #3 of the stream \(starting at byte \d+\)/.test(e.message),
  );
  assert.throws(() => unpickle(new Uint8Array(0), 'empty.p'), /empty\.p: empty file, expected a Python pickle/);
  assert.throws(() => unpickle(Buffer.from('arch,valacc\n'), 'x.csv'), /x\.csv: not a Python pickle/);
  assert.throws(() => unpickle(Buffer.from([0x80, 0x04, 0xff]), 'bad.p'), /bad\.p: invalid pickle: unknown opcode 0xff at byte 2/);
  assert.throws(() => readPickleFile('/nonexistent/file.p'), /\/nonexistent\/file\.p: file not found/);
});

test('unknown Python classes become inert placeholders; pyNumber only accepts numbers', () => {
  // GLOBAL torch._utils _rebuild_tensor_v2, EMPTY_TUPLE, REDUCE, STOP
  const bytes = Buffer.concat([Buffer.from([0x80, 0x02, 0x63]), Buffer.from('torch._utils\n_rebuild_tensor_v2\n'), Buffer.from([0x29, 0x52, 0x2e])]);
  const v = unpickle(bytes, 't.p');
  assert.ok(v instanceof PyObject);
  assert.equal(String(v), 'torch._utils._rebuild_tensor_v2');
  assert.equal(pyNumber(v), undefined);
  assert.equal(pyNumber(3), 3);
  assert.equal(pyNumber(true), 1);
  assert.equal(pyNumber(5n), 5);
  const arr = new NumpyArray();
  arr.shape = [];
  arr.data = [2.5];
  assert.equal(pyNumber(arr), 2.5);
});

test('reads the official RoBoT pickles (numpy float64 values)', () => {
  const info = readPickleFile(join(SHARED_DATA, 'nb201', 'official', 'nb2_cf10_hp12_info.p')) as Map<string, unknown>[];
  assert.equal(info.length, 15625);
  assert.equal(info[0]!.get('arch'), '|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|');
  assert.equal(info[0]!.get('valacc'), 63.36399998046875);
  assert.equal(info[0]!.get('cost'), 86.65311598777771);
  assert.equal(info[15624]!.get('valacc'), 55.76199999694825);
  const test10 = readPickleFile(join(SHARED_DATA, 'nb201', 'official', 'nb2_cf10_test_accuracy.p')) as number[];
  assert.equal(test10.length, 15625);
  assert.deepEqual(test10.slice(0, 3), [85.86333333333334, 93.66000000000001, 85.74000000000001]);
});
