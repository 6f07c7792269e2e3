import { and, assemble, BPF_MAXINSNS, ja, jeq, jge, jgt, label, ld, ret, type Insn } from './bpf.js';
import { SeccompProfileError, SeccompUnsupportedError } from './errors.js';
import { SYSCALLS_I386, SYSCALLS_X32, SYSCALLS_X86_64 } from './syscall-tables.js';
import type { CompiledSeccomp, LinuxSeccomp, LinuxSeccompArg } from './types.js';

// SECCOMP_RET_* (linux/seccomp.h).
const RET = {
  KILL_PROCESS: 0x80000000,
  KILL_THREAD: 0x00000000,
  TRAP: 0x00030000,
  ERRNO: 0x00050000,
  TRACE: 0x7ff00000,
  LOG: 0x7ffc0000,
  ALLOW: 0x7fff0000,
} as const;

const EPERM = 1;
const ENOSYS = 38;
const AUDIT_ARCH_X86_64 = 0xc000003e;
const AUDIT_ARCH_I386 = 0x40000003;
const X32_SYSCALL_BIT = 0x40000000;
// struct seccomp_data: nr at 0, arch at 4, args[6] (u64, little-endian) from 16.
const DATA_NR = 0;
const DATA_ARCH = 4;
const argLow = (i: number) => 16 + 8 * i;
const argHigh = (i: number) => 20 + 8 * i;

/** libseccomp's bad-architecture action (SCMP_ACT_KILL): a foreign-arch syscall kills the thread. */
const BAD_ARCH = RET.KILL_THREAD;

const FLAGS: Record<string, number> = {
  SECCOMP_FILTER_FLAG_TSYNC: 1,
  SECCOMP_FILTER_FLAG_LOG: 2,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW: 4,
  SECCOMP_FILTER_FLAG_TSYNC_ESRCH: 16,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: 32,
};

type ArchName = 'x86_64' | 'x32' | 'x86';
const ARCHES: Record<string, ArchName> = { SCMP_ARCH_X86_64: 'x86_64', SCMP_ARCH_X32: 'x32', SCMP_ARCH_X86: 'x86' };
const TABLES: Record<ArchName, Readonly<Record<string, number>>> = { x86_64: SYSCALLS_X86_64, x32: SYSCALLS_X32, x86: SYSCALLS_I386 };
// Architectures libseccomp knows that an x86 kernel can never report: listed in portable profiles, no code needed.
const FOREIGN_ARCHES = new Set(
  ['AARCH64', 'ARM', 'MIPS', 'MIPS64', 'MIPS64N32', 'MIPSEL', 'MIPSEL64', 'MIPSEL64N32', 'PPC', 'PPC64', 'PPC64LE', 'S390', 'S390X', 'PARISC', 'PARISC64', 'RISCV64', 'LOONGARCH64', 'M68K', 'SH', 'SHEB'].map(
    (a) => `SCMP_ARCH_${a}`,
  ),
);

const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ']);

interface Cond {
  index: number;
  op: string;
  value: bigint;
  valueTwo: bigint;
}

interface Rule {
  action: number;
  conds: Cond[];
}

/** The SECCOMP_RET_* value of an OCI action name, with its errno where the action carries one. */
function actionValue(action: string, errnoRet: number | undefined, field: string): number {
  const errno = (e: number | undefined) => {
    const v = e ?? EPERM;
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new SeccompProfileError(`${field} errnoRet`, `is ${e}`, 'use an errno number from 0 to 65535');
    return v;
  };
  switch (action) {
    case 'SCMP_ACT_KILL':
    case 'SCMP_ACT_KILL_THREAD':
      return RET.KILL_THREAD;
    case 'SCMP_ACT_KILL_PROCESS':
      return RET.KILL_PROCESS;
    case 'SCMP_ACT_TRAP':
      return RET.TRAP;
    case 'SCMP_ACT_ERRNO':
      return RET.ERRNO | errno(errnoRet);
    case 'SCMP_ACT_TRACE':
      return RET.TRACE | errno(errnoRet);
    case 'SCMP_ACT_LOG':
      return RET.LOG;
    case 'SCMP_ACT_ALLOW':
      return RET.ALLOW;
    case 'SCMP_ACT_NOTIFY':
      throw new SeccompUnsupportedError(field, 'SCMP_ACT_NOTIFY (seccomp user notification)');
    default:
      throw new SeccompProfileError(field, `is an unknown action ${JSON.stringify(action)}`, 'use one of SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_KILL_THREAD, SCMP_ACT_TRAP, SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_LOG, SCMP_ACT_ALLOW');
  }
}

function u64(v: number | bigint | undefined, field: string): bigint {
  const ok = typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v));
  const b = ok ? BigInt(v as number | bigint) : -1n;
  if (b < 0n || b > 0xffffffffffffffffn) throw new SeccompProfileError(field, `is ${String(v)}`, 'use an unsigned 64-bit integer');
  return b;
}

function parseArg(a: LinuxSeccompArg, field: string): Cond {
  if (!Number.isInteger(a.index) || a.index < 0 || a.index > 5) throw new SeccompProfileError(`${field}.index`, `is ${a.index}`, 'use an argument index from 0 to 5');
  if (!OPS.has(a.op)) throw new SeccompProfileError(`${field}.op`, `is an unknown operator ${JSON.stringify(a.op)}`, `use one of ${[...OPS].join(', ')}`);
  return { index: a.index, op: a.op, value: u64(a.value, `${field}.value`), valueTwo: a.valueTwo === undefined ? 0n : u64(a.valueTwo, `${field}.valueTwo`) };
}

/** runc's rule: conditions on distinct arguments are ANDed; two on the same argument become separate rules (ORed). */
function splitConditions(conds: Cond[]): Cond[][] {
  if (conds.length === 0) return [[]];
  const seen = new Set<number>();
  const repeated = conds.some((c) => (seen.has(c.index) ? true : (seen.add(c.index), false)));
  return repeated ? conds.map((c) => [c]) : [conds];
}

let labelSeq = 0;
const fresh = (p: string) => `${p}${labelSeq++}`;

/** Instructions that fall through when the condition holds and jump to `fail` when it does not. */
function condition(c: Cond, fail: string, wide: boolean): Insn[] {
  const lo = (v: bigint) => Number(v & 0xffffffffn);
  const hi = (v: bigint) => Number(v >> 32n);
  const pass = fresh('pass');
  const [val, datum] = [c.value, c.valueTwo];
  // A 32-bit architecture's arguments are 32 bits wide: only the low word is compared (as libseccomp does).
  const high = (insns: Insn[]): Insn[] => (wide ? insns : []);
  let out: Insn[];
  switch (c.op) {
    case 'SCMP_CMP_EQ':
      out = [...high([ld(argHigh(c.index)), jeq(hi(val), 0, fail)]), ld(argLow(c.index)), jeq(lo(val), pass, fail)];
      break;
    case 'SCMP_CMP_NE':
      out = [...high([ld(argHigh(c.index)), jeq(hi(val), 0, pass)]), ld(argLow(c.index)), jeq(lo(val), fail, pass)];
      break;
    case 'SCMP_CMP_GT':
      out = [...high([ld(argHigh(c.index)), jgt(hi(val), pass, 0), jeq(hi(val), 0, fail)]), ld(argLow(c.index)), jgt(lo(val), pass, fail)];
      break;
    case 'SCMP_CMP_GE':
      out = [...high([ld(argHigh(c.index)), jgt(hi(val), pass, 0), jeq(hi(val), 0, fail)]), ld(argLow(c.index)), jge(lo(val), pass, fail)];
      break;
    case 'SCMP_CMP_LT':
      out = [...high([ld(argHigh(c.index)), jgt(hi(val), fail, 0), jeq(hi(val), 0, pass)]), ld(argLow(c.index)), jge(lo(val), fail, pass)];
      break;
    case 'SCMP_CMP_LE':
      out = [...high([ld(argHigh(c.index)), jgt(hi(val), fail, 0), jeq(hi(val), 0, pass)]), ld(argLow(c.index)), jgt(lo(val), fail, pass)];
      break;
    default: // SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo
      out = [
        ...high([ld(argHigh(c.index)), and(hi(val)), jeq(hi(datum), 0, fail)]),
        ld(argLow(c.index)),
        and(lo(val)),
        jeq(lo(datum), pass, fail),
      ];
  }
  return [...out, label(pass)];
}

/** The rules of one architecture: syscall number -> rules in profile order. */
type ArchRules = Map<number, Rule[]>;

function archBody(rules: ArchRules, defaultAction: number, enosysAbove: number | undefined, wide: boolean): Insn[] {
  const out: Insn[] = [ld(DATA_NR)];
  // runc's stub: syscalls newer than any the profile names get ENOSYS, so libc falls back to older ones.
  if (enosysAbove !== undefined) out.push(jgt(enosysAbove, 0, 1), ret(RET.ERRNO | ENOSYS));
  // Syscalls with an unconditional rule: as in libseccomp, it overrides any argument rule of the
  // same syscall. Runs of `jeq` share one `ret` per action.
  const unconditional = (rs: Rule[]) => rs.find((r) => r.conds.length === 0);
  const runs: { action: number; nrs: number[] }[] = [];
  for (const [nr, rs] of rules) {
    const action = unconditional(rs)?.action;
    if (action === undefined) continue;
    const last = runs[runs.length - 1];
    if (last && last.action === action && last.nrs.length < 200) last.nrs.push(nr);
    else runs.push({ action, nrs: [nr] });
  }
  for (const run of runs) {
    const hit = fresh('hit');
    const next = fresh('next');
    for (const nr of run.nrs) out.push(jeq(nr, hit, 0));
    out.push(ja(next), label(hit), ret(run.action), label(next));
  }
  // Syscalls with argument conditions: each rule in turn; the first whose conditions all hold decides.
  for (const [nr, rs] of rules) {
    if (unconditional(rs)) continue;
    const after = fresh('after');
    out.push(jeq(nr, 1, 0), ja(after));
    for (const r of rs) {
      const nextRule = fresh('rule');
      for (const c of r.conds) out.push(...condition(c, nextRule, wide));
      out.push(ret(r.action), label(nextRule));
    }
    out.push(ret(defaultAction), label(after));
  }
  out.push(ret(defaultAction));
  return out;
}

/**
 * Compiles an OCI `linux.seccomp` profile into a classic BPF seccomp filter for x86 (x86_64, x32,
 * i386), with libseccomp's and runc's semantics: unknown syscall names are skipped, a syscall of an
 * architecture the profile does not list kills the thread, conditions compare 64-bit arguments.
 */
export function compileSeccomp(profile: LinuxSeccomp, warn: (msg: string) => void = () => {}): CompiledSeccomp {
  const defaultAction = actionValue(profile.defaultAction, profile.defaultErrnoRet, 'defaultAction');
  let flags = 0;
  for (const f of profile.flags ?? []) {
    if (f === 'SECCOMP_FILTER_FLAG_NEW_LISTENER') throw new SeccompUnsupportedError('flags', f);
    if (!(f in FLAGS)) throw new SeccompProfileError('flags', `has an unknown flag ${JSON.stringify(f)}`, `use one of ${Object.keys(FLAGS).join(', ')}`);
    flags |= FLAGS[f];
  }
  if (profile.listenerPath) throw new SeccompUnsupportedError('listenerPath', 'seccomp user notification (SCMP_ACT_NOTIFY)');
  const arches = new Set<ArchName>();
  for (const a of profile.architectures ?? []) {
    if (ARCHES[a]) arches.add(ARCHES[a]);
    else if (!FOREIGN_ARCHES.has(a)) throw new SeccompProfileError('architectures', `has an unknown architecture ${JSON.stringify(a)}`, 'use SCMP_ARCH_X86_64, SCMP_ARCH_X86, SCMP_ARCH_X32 (or another SCMP_ARCH_* name)');
  }
  // No architecture listed means the native one only, as libseccomp's filter starts with it.
  if (arches.size === 0) arches.add('x86_64');

  const perArch = new Map<ArchName, ArchRules>([...arches].map((a) => [a, new Map()]));
  const skipped: string[] = [];
  (profile.syscalls ?? []).forEach((sc, i) => {
    const field = `syscalls[${i}]`;
    const action = actionValue(sc.action, sc.errnoRet, `${field}.action`);
    const conds = (sc.args ?? []).map((a, j) => parseArg(a, `${field}.args[${j}]`));
    if (!Array.isArray(sc.names) || sc.names.length === 0) throw new SeccompProfileError(`${field}.names`, 'is empty', 'name at least one syscall');
    // libseccomp refuses rules that repeat the default action; runc skips them, and so do we.
    if (action === defaultAction) return;
    for (const name of sc.names) {
      let known = false;
      for (const [arch, rules] of perArch) {
        const nr = TABLES[arch][name];
        if (nr === undefined) continue;
        known = true;
        const list = rules.get(nr) ?? [];
        for (const group of splitConditions(conds)) list.push({ action, conds: group });
        rules.set(nr, list);
      }
      if (!known && !skipped.includes(name)) {
        skipped.push(name);
        warn(`seccomp: syscall ${name} is unknown on ${[...arches].join(', ')}: skipped`);
      }
    }
  });

  const stub = (arch: ArchName): number | undefined => {
    if (defaultAction === RET.ALLOW || defaultAction === RET.LOG) return undefined;
    const nrs = [...(perArch.get(arch)?.keys() ?? [])];
    return nrs.length > 0 ? Math.max(...nrs) : undefined;
  };
  const prog: Insn[] = [ld(DATA_ARCH)];
  const has64 = arches.has('x86_64') || arches.has('x32');
  if (has64) prog.push(jeq(AUDIT_ARCH_X86_64, 0, 1), ja('arch_x86_64'));
  if (arches.has('x86')) prog.push(jeq(AUDIT_ARCH_I386, 0, 1), ja('arch_i386'));
  prog.push(ret(BAD_ARCH));
  if (has64) {
    // x32 syscalls arrive as AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set in the number.
    prog.push(label('arch_x86_64'), ld(DATA_NR), jge(X32_SYSCALL_BIT, 0, 1));
    prog.push(arches.has('x32') ? ja('arch_x32') : ret(BAD_ARCH));
    if (arches.has('x86_64')) prog.push(...archBody(perArch.get('x86_64')!, defaultAction, stub('x86_64'), true));
    else prog.push(ret(BAD_ARCH));
    if (arches.has('x32')) prog.push(label('arch_x32'), ...archBody(perArch.get('x32')!, defaultAction, stub('x32'), true));
  }
  if (arches.has('x86')) prog.push(label('arch_i386'), ...archBody(perArch.get('x86')!, defaultAction, stub('x86'), false));

  const program = assemble(prog);
  if (program.length / 8 > BPF_MAXINSNS) {
    throw new SeccompProfileError('syscalls', `compile to ${program.length / 8} BPF instructions, more than the kernel's ${BPF_MAXINSNS}`, 'list fewer architectures or fewer argument rules');
  }
  return { program, flags, skipped };
}
