import { readFileSync } from 'node:fs';
import { CAPABILITIES } from './spec/constants.js';
import type { Capabilities } from './spec/types.js';

/** The five capability sets as kernel bit masks. */
export interface CapabilityMasks {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

let own: bigint | undefined;

/** The bounding set of this runtime process: a container cannot get a capability outside it. */
export function runtimeBoundingSet(): bigint {
  own ??= BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  return own;
}

/**
 * Turns capability names into masks. Capabilities the runtime itself lacks (root here has no
 * CAP_SYS_RESOURCE) are dropped, as "all capabilities" must still start; `dropped` names them.
 */
export function capabilityMasks(caps: Capabilities | undefined): { masks: CapabilityMasks; dropped: string[] } {
  const allowed = runtimeBoundingSet();
  const dropped = new Set<string>();
  const mask = (names: string[] | undefined): bigint => {
    let m = 0n;
    for (const n of names ?? []) {
      const bit = 1n << BigInt(CAPABILITIES.indexOf(n as (typeof CAPABILITIES)[number]));
      if (allowed & bit) m |= bit;
      else dropped.add(n);
    }
    return m;
  };
  const masks = {
    bounding: mask(caps?.bounding),
    effective: mask(caps?.effective),
    permitted: mask(caps?.permitted),
    inheritable: mask(caps?.inheritable),
    ambient: mask(caps?.ambient),
  };
  // The kernel refuses an ambient capability that is not both permitted and inheritable.
  masks.ambient &= masks.permitted & masks.inheritable;
  return { masks, dropped: [...dropped] };
}
