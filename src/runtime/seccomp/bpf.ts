/**
 * A tiny classic-BPF assembler for seccomp filters: instructions may name labels as jump targets;
 * `assemble` lays them out and resolves the labels. Conditional jumps reach at most 255 instructions
 * ahead (the jt/jf fields are 8 bits); the compiler keeps them short and uses `ja` for far jumps.
 */

export const BPF = {
  LD_W_ABS: 0x20,
  ALU_AND_K: 0x54,
  JA: 0x05,
  JEQ_K: 0x15,
  JGT_K: 0x25,
  JGE_K: 0x35,
  RET_K: 0x06,
} as const;

/** Where a jump goes: a label name, or how many instructions to skip (0: the next one). */
export type Target = string | number;

export type Insn =
  | { op: 'ld'; offset: number }
  | { op: 'and'; k: number }
  | { op: 'jmp'; code: number; k: number; jt: Target; jf: Target }
  | { op: 'ja'; to: string }
  | { op: 'ret'; k: number }
  | { op: 'label'; name: string };

export const ld = (offset: number): Insn => ({ op: 'ld', offset });
export const and = (k: number): Insn => ({ op: 'and', k });
export const jeq = (k: number, jt: Target, jf: Target): Insn => ({ op: 'jmp', code: BPF.JEQ_K, k, jt, jf });
export const jgt = (k: number, jt: Target, jf: Target): Insn => ({ op: 'jmp', code: BPF.JGT_K, k, jt, jf });
export const jge = (k: number, jt: Target, jf: Target): Insn => ({ op: 'jmp', code: BPF.JGE_K, k, jt, jf });
export const ja = (to: string): Insn => ({ op: 'ja', to });
export const ret = (k: number): Insn => ({ op: 'ret', k });
export const label = (name: string): Insn => ({ op: 'label', name });

/** The most instructions the kernel accepts in one filter (BPF_MAXINSNS). */
export const BPF_MAXINSNS = 4096;

export function assemble(insns: Insn[]): Buffer {
  const at = new Map<string, number>();
  let pc = 0;
  for (const i of insns) {
    if (i.op === 'label') at.set(i.name, pc);
    else pc++;
  }
  const out = Buffer.alloc(pc * 8);
  const offset = (from: number, t: Target, max: number): number => {
    if (typeof t === 'number') return t;
    const to = at.get(t);
    if (to === undefined) throw new Error(`seccomp assembler: unknown label ${t}`);
    const d = to - from - 1;
    if (d < 0 || d > max) throw new Error(`seccomp assembler: jump to ${t} out of range (${d})`);
    return d;
  };
  pc = 0;
  for (const i of insns) {
    if (i.op === 'label') continue;
    let code = 0;
    let jt = 0;
    let jf = 0;
    let k = 0;
    switch (i.op) {
      case 'ld':
        code = BPF.LD_W_ABS;
        k = i.offset;
        break;
      case 'and':
        code = BPF.ALU_AND_K;
        k = i.k;
        break;
      case 'jmp':
        code = i.code;
        k = i.k;
        jt = offset(pc, i.jt, 255);
        jf = offset(pc, i.jf, 255);
        break;
      case 'ja':
        code = BPF.JA;
        k = offset(pc, i.to, 0xffffffff);
        break;
      case 'ret':
        code = BPF.RET_K;
        k = i.k;
        break;
    }
    out.writeUInt16LE(code, pc * 8);
    out.writeUInt8(jt, pc * 8 + 2);
    out.writeUInt8(jf, pc * 8 + 3);
    out.writeUInt32LE(k >>> 0, pc * 8 + 4);
    pc++;
  }
  return out;
}
