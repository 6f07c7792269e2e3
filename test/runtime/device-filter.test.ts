import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { deviceFilterProgram, normalizeDeviceRules, type LinuxDeviceCgroup } from '../../src/runtime/cgroups/index.js';

/**
 * Disassembles a device filter into runc's listing format (cilium/ebpf's asm.Instructions.String as
 * runc's devicefilter_test.go prints it), so the expected listings below are runc's own.
 */
function listing(prog: Buffer): string {
  const n = prog.length / 8;
  const ins = [...Array(n).keys()].map((i) => ({
    op: prog.readUInt8(i * 8),
    dst: prog.readUInt8(i * 8 + 1) & 0xf,
    src: prog.readUInt8(i * 8 + 1) >> 4,
    off: prog.readInt16LE(i * 8 + 2),
    imm: prog.readInt32LE(i * 8 + 4),
  }));
  const starts = [6];
  ins.forEach((x, i) => x.op === 0x95 && i + 1 < n && starts.push(i + 1));
  const block = (i: number, off: number) => {
    const b = starts.indexOf(i + 1 + off);
    if (b < 0) throw new Error(`jump at ${i} lands inside a block`);
    return `<block-${b}>`;
  };
  const out: string[] = [];
  ins.forEach((x, i) => {
    if (starts.includes(i)) out.push(`block-${starts.indexOf(i)}:`);
    const d = `dst: r${x.dst}`;
    const text: Record<number, () => string> = {
      0x61: () => `LdXMemW ${d} src: r${x.src} off: ${x.off} imm: ${x.imm}`,
      0x54: () => `AndImm32 ${d} imm: ${x.imm}`,
      0x74: () => `RShImm32 ${d} imm: ${x.imm}`,
      0x55: () => `JNEImm ${d} off: -1 imm: ${x.imm} ${block(i, x.off)}`,
      0xbc: () => `MovReg32 ${d} src: r${x.src}`,
      0x5d: () => `JNEReg ${d} off: -1 src: r${x.src} ${block(i, x.off)}`,
      0xb4: () => `MovImm32 ${d} imm: ${x.imm}`,
      0x95: () => 'Exit',
    };
    out.push(`${i}: ${text[x.op]?.() ?? `unknown opcode 0x${x.op.toString(16)}`}`);
  });
  return out.join('\n');
}

const trim = (s: string) =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join('\n');
const check = (rules: LinuxDeviceCgroup[], expected: string) => assert.fixture(listing(deviceFilterProgram(normalizeDeviceRules(rules))), trim(expected));

const PROLOGUE = `
  0: LdXMemW dst: r2 src: r1 off: 0 imm: 0
  1: AndImm32 dst: r2 imm: 65535
  2: LdXMemW dst: r3 src: r1 off: 0 imm: 0
  3: RShImm32 dst: r3 imm: 16
  4: LdXMemW dst: r4 src: r1 off: 4 imm: 0
  5: LdXMemW dst: r5 src: r1 off: 8 imm: 0`;

test('runc TestDeviceFilter_Nil: no rules reject everything', () => {
  check([], `${PROLOGUE}\nblock-0:\n6: MovImm32 dst: r0 imm: 0\n7: Exit`);
});

test('runc TestDeviceFilter_Privileged: "a" allow accepts everything', () => {
  check([{ allow: true, type: 'a', access: 'rwm' }], `${PROLOGUE}\nblock-0:\n6: MovImm32 dst: r0 imm: 1\n7: Exit`);
});

test('runc TestDeviceFilter_PrivilegedExceptSingleDevice and _Weird', () => {
  const expected = (minor: number) => `${PROLOGUE}
    block-0:
    6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
    7: JNEImm dst: r4 off: -1 imm: 8 <block-1>
    8: JNEImm dst: r5 off: -1 imm: ${minor} <block-1>
    9: MovImm32 dst: r0 imm: 0
    10: Exit
    block-1:
    11: MovImm32 dst: r0 imm: 1
    12: Exit`;
  check(
    [
      { allow: true, type: 'a', access: 'rwm' },
      { allow: false, type: 'b', major: 8, minor: 0, access: 'rwm' },
    ],
    expected(0),
  );
  check(
    [
      { allow: false, type: 'b', major: 8, minor: 1, access: 'rwm' },
      { allow: true, type: 'a', access: 'rwm' },
      { allow: false, type: 'b', major: 8, minor: 2, access: 'rwm' },
    ],
    expected(2),
  );
});

test('runc TestDeviceFilter_BuiltInAllowList: the default container devices', () => {
  const c = (major: number, minor: number | undefined, access = 'rwm'): LinuxDeviceCgroup => ({ allow: true, type: 'c', major, minor, access });
  const rules: LinuxDeviceCgroup[] = [
    { allow: true, type: 'c', access: 'm' },
    { allow: true, type: 'b', access: 'm' },
    c(1, 3), c(1, 8), c(1, 7), c(5, 0), c(1, 5), c(1, 9), c(136, undefined), c(5, 2), c(10, 200),
  ];
  const exact = (b: number, at: number, major: number, minor: number) => `
    block-${b}:
    ${at}: JNEImm dst: r2 off: -1 imm: 2 <block-${b + 1}>
    ${at + 1}: JNEImm dst: r4 off: -1 imm: ${major} <block-${b + 1}>
    ${at + 2}: JNEImm dst: r5 off: -1 imm: ${minor} <block-${b + 1}>
    ${at + 3}: MovImm32 dst: r0 imm: 1
    ${at + 4}: Exit`;
  check(
    rules,
    `${PROLOGUE}
    block-0:
    6: JNEImm dst: r2 off: -1 imm: 1 <block-1>
    7: MovReg32 dst: r1 src: r3
    8: AndImm32 dst: r1 imm: 1
    9: JNEReg dst: r1 off: -1 src: r3 <block-1>
    10: MovImm32 dst: r0 imm: 1
    11: Exit
    block-1:
    12: JNEImm dst: r2 off: -1 imm: 2 <block-2>
    13: MovReg32 dst: r1 src: r3
    14: AndImm32 dst: r1 imm: 1
    15: JNEReg dst: r1 off: -1 src: r3 <block-2>
    16: MovImm32 dst: r0 imm: 1
    17: Exit
    ${exact(2, 18, 1, 3)}
    ${exact(3, 23, 1, 5)}
    ${exact(4, 28, 1, 7)}
    ${exact(5, 33, 1, 8)}
    ${exact(6, 38, 1, 9)}
    ${exact(7, 43, 5, 0)}
    ${exact(8, 48, 5, 2)}
    ${exact(9, 53, 10, 200)}
    block-10:
    58: JNEImm dst: r2 off: -1 imm: 2 <block-11>
    59: JNEImm dst: r4 off: -1 imm: 136 <block-11>
    60: MovImm32 dst: r0 imm: 1
    61: Exit
    block-11:
    62: MovImm32 dst: r0 imm: 0
    63: Exit`,
  );
});

test.run();
