/** IPv4 subnets as numbers: just what cluster networking needs (parse, overlap, split, nth address). */
export interface Cidr {
  /** network address as an unsigned 32-bit number */
  base: number;
  prefix: number;
}

export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses `a.b.c.d/n`; undefined when malformed or when host bits are set. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(text);
  if (!m) return undefined;
  const ip = parseIpv4(m[1]);
  const prefix = Number(m[2]);
  if (ip === undefined || prefix > 32) return undefined;
  if ((ip & ~mask(prefix)) >>> 0 !== 0) return undefined;
  return { base: ip, prefix };
}

export function formatCidr(c: Cidr): string {
  return `${formatIpv4(c.base)}/${c.prefix}`;
}

export function size(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask(p)) >>> 0 === (b.base & mask(p)) >>> 0;
}

/** The n-th address of the subnet (0 is the network address). */
export function nthAddress(c: Cidr, n: number): string {
  return formatIpv4((c.base + n) >>> 0);
}

/** The i-th subnet of length `prefix` inside `c`. */
export function subnet(c: Cidr, prefix: number, i: number): Cidr {
  return { base: (c.base + i * 2 ** (32 - prefix)) >>> 0, prefix };
}
