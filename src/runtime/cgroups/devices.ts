import { CgroupConfigError } from './errors.js';
import type { LinuxDeviceCgroup } from './types.js';

/** A device rule after defaults: type a/b/c, major/minor -1 for the wildcard, access a subset of "rwm". */
export interface DeviceRule {
  type: 'a' | 'b' | 'c';
  major: number;
  minor: number;
  access: string;
  allow: boolean;
}

export function normalizeDeviceRules(devices: LinuxDeviceCgroup[]): DeviceRule[] {
  return devices.map((d, i) => {
    const field = `linux.resources.devices[${i}]`;
    const type = d.type ?? 'a';
    if (type !== 'a' && type !== 'b' && type !== 'c') throw new CgroupConfigError(`${field}.type`, `is ${JSON.stringify(type)}`, 'use "a" (all), "b" (block) or "c" (char)');
    const num = (v: number | undefined, name: string) => {
      if (v === undefined || v === -1) return -1;
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new CgroupConfigError(`${field}.${name}`, `is ${v}`, 'use a device number from 0 to 4294967295, or leave it out for all');
      return v;
    };
    const access = d.access ?? 'rwm';
    if (!/^[rwm]+$/.test(access)) throw new CgroupConfigError(`${field}.access`, `is ${JSON.stringify(access)}`, 'use letters from "rwm"');
    return { type, major: num(d.major, 'major'), minor: num(d.minor, 'minor'), access: [...new Set(access)].join(''), allow: d.allow === true };
  });
}

const perms = (s: string) => new Set(s);
const str = (p: Set<string>) => ['r', 'w', 'm'].filter((c) => p.has(c)).join('');

/**
 * runc's devices emulator: replays rules as the v1 devices controller would and yields the minimal
 * rule set (a default, then exceptions) — the same semantics on v1 and v2. It refuses to punch a
 * hole in a wildcard rule, which v1 silently ignores.
 */
export class DeviceEmulator {
  defaultAllow = false;
  private rules = new Map<string, { type: 'b' | 'c'; major: number; minor: number; perms: Set<string> }>();

  apply(rule: DeviceRule): void {
    if (rule.type === 'a') {
      this.defaultAllow = rule.allow;
      this.rules.clear();
      return;
    }
    const addsException = rule.allow !== this.defaultAllow;
    if (addsException) this.add(rule);
    else this.remove(rule);
  }

  private key(type: string, major: number, minor: number) {
    return `${type}:${major}:${minor}`;
  }

  private add(rule: DeviceRule) {
    const k = this.key(rule.type, rule.major, rule.minor);
    const old = this.rules.get(k);
    this.rules.set(k, { type: rule.type as 'b' | 'c', major: rule.major, minor: rule.minor, perms: new Set([...(old?.perms ?? []), ...perms(rule.access)]) });
  }

  private remove(rule: DeviceRule) {
    for (const [maj, min] of [
      [-1, rule.minor],
      [rule.major, -1],
      [-1, -1],
    ]) {
      if (maj === rule.major && min === rule.minor) continue;
      const partial = this.rules.get(this.key(rule.type, maj, min));
      if (partial && [...perms(rule.access)].some((p) => partial.perms.has(p))) {
        throw new CgroupConfigError(
          'linux.resources.devices',
          `cannot remove ${rule.type} ${rule.major}:${rule.minor} ${rule.access} from the wildcard rule ${rule.type} ${maj}:${min} ${str(partial.perms)}`,
          'list the devices one by one instead of a wildcard, or drop the narrower rule',
        );
      }
    }
    const k = this.key(rule.type, rule.major, rule.minor);
    const old = this.rules.get(k);
    if (!old) return;
    for (const p of rule.access) old.perms.delete(p);
    if (old.perms.size === 0) this.rules.delete(k);
  }

  /** The exceptions to the default, sorted by (major, minor, type) as runc sorts them. */
  exceptions(): DeviceRule[] {
    return [...this.rules.values()]
      .sort((a, b) => a.major - b.major || a.minor - b.minor || a.type.localeCompare(b.type))
      .map((r) => ({ type: r.type, major: r.major, minor: r.minor, access: str(r.perms), allow: !this.defaultAllow }));
  }
}

export function emulate(rules: DeviceRule[]): DeviceEmulator {
  const emu = new DeviceEmulator();
  for (const r of rules) emu.apply(r);
  return emu;
}

/** A rule as devices.allow / devices.deny take it: "c 1:3 rwm". */
export function v1RuleString(r: { type: string; major: number; minor: number; access: string }): string {
  const n = (v: number) => (v < 0 ? '*' : String(v));
  return r.type === 'a' ? 'a' : `${r.type} ${n(r.major)}:${n(r.minor)} ${r.access}`;
}

// eBPF encoding (linux/bpf.h): opcode byte, dst/src registers, 16-bit offset, 32-bit immediate.
const BPF_DEVCG_ACC_MKNOD = 1;
const BPF_DEVCG_ACC_READ = 2;
const BPF_DEVCG_ACC_WRITE = 4;
const BPF_DEVCG_DEV_BLOCK = 1;
const BPF_DEVCG_DEV_CHAR = 2;
const OP = {
  LDX_MEM_W: 0x61, // r_dst = *(u32 *)(r_src + off)
  ALU_AND_K: 0x54, // w_dst &= imm
  ALU_RSH_K: 0x74, // w_dst >>= imm
  ALU_MOV_K: 0xb4, // w_dst = imm
  ALU_MOV_X: 0xbc, // w_dst = w_src
  JMP_JNE_K: 0x55, // if r_dst != imm goto +off
  JMP_JNE_X: 0x5d, // if r_dst != r_src goto +off
  EXIT: 0x95,
};

interface EbpfInsn {
  op: number;
  dst: number;
  src: number;
  off: number | 'next';
  imm: number;
}
const insn = (op: number, dst: number, src: number, off: number | 'next', imm: number): EbpfInsn => ({ op, dst, src, off, imm });

/**
 * The BPF_PROG_TYPE_CGROUP_DEVICE program for `rules`, instruction for instruction the one runc's
 * devicefilter generates: R2 = device type, R3 = access, R4 = major, R5 = minor; one block per
 * exception returning its verdict; the default verdict at the end.
 */
export function deviceFilterProgram(rules: DeviceRule[]): Buffer {
  const emu = emulate(rules);
  const out: EbpfInsn[] = [
    insn(OP.LDX_MEM_W, 2, 1, 0, 0),
    insn(OP.ALU_AND_K, 2, 0, 0, 0xffff),
    insn(OP.LDX_MEM_W, 3, 1, 0, 0),
    insn(OP.ALU_RSH_K, 3, 0, 0, 16),
    insn(OP.LDX_MEM_W, 4, 1, 4, 0),
    insn(OP.LDX_MEM_W, 5, 1, 8, 0),
  ];
  for (const r of emu.exceptions()) {
    const block: EbpfInsn[] = [insn(OP.JMP_JNE_K, 2, 0, 'next', r.type === 'c' ? BPF_DEVCG_DEV_CHAR : BPF_DEVCG_DEV_BLOCK)];
    let access = 0;
    for (const c of r.access) access |= c === 'r' ? BPF_DEVCG_ACC_READ : c === 'w' ? BPF_DEVCG_ACC_WRITE : BPF_DEVCG_ACC_MKNOD;
    if (access !== (BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD)) {
      block.push(insn(OP.ALU_MOV_X, 1, 3, 0, 0), insn(OP.ALU_AND_K, 1, 0, 0, access), insn(OP.JMP_JNE_X, 1, 3, 'next', 0));
    }
    if (r.major >= 0) block.push(insn(OP.JMP_JNE_K, 4, 0, 'next', r.major | 0));
    if (r.minor >= 0) block.push(insn(OP.JMP_JNE_K, 5, 0, 'next', r.minor | 0));
    block.push(insn(OP.ALU_MOV_K, 0, 0, 0, r.allow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
    // "next" is the first instruction after this block.
    block.forEach((b, i) => {
      if (b.off === 'next') b.off = block.length - i - 1;
    });
    out.push(...block);
  }
  out.push(insn(OP.ALU_MOV_K, 0, 0, 0, emu.defaultAllow ? 1 : 0), insn(OP.EXIT, 0, 0, 0, 0));
  const buf = Buffer.alloc(out.length * 8);
  out.forEach((x, i) => {
    buf.writeUInt8(x.op, i * 8);
    buf.writeUInt8((x.src << 4) | x.dst, i * 8 + 1);
    buf.writeInt16LE(x.off as number, i * 8 + 2);
    buf.writeInt32LE(x.imm | 0, i * 8 + 4);
  });
  return buf;
}
