import { sh, trySh } from '../host.js';
import type { ClusterNames } from '../names.js';
import type { ClusterPlan } from '../plan.js';
import { spawnSync } from 'node:child_process';

/** The chains of one cluster, each reached by one jump rule carrying the cluster's comment. */
function chains(names: ClusterNames) {
  return [
    { table: 'nat', chain: names.natChain, from: ['POSTROUTING'] },
    { table: 'nat', chain: `SIFKUBE-${names.id}-DNAT`, from: ['PREROUTING', 'OUTPUT'] },
    { table: 'filter', chain: names.forwardChain, from: ['FORWARD'] },
  ];
}

function ipt(args: string[]): string {
  return sh('iptables', ['-w', ...args]);
}

/**
 * Egress NAT for the node subnet, forwarding to and from the bridge, and DNAT of each node's
 * extraPortMappings from the host's own addresses, all in chains named SIFKUBE-<id>-….
 */
export function addClusterRules(plan: ClusterPlan): void {
  const n = plan.names;
  const br = plan.bridge.name;
  for (const c of chains(n)) ipt(['-t', c.table, '-N', c.chain]);
  ipt(['-t', 'nat', '-A', n.natChain, '-s', plan.bridge.subnet, '!', '-o', br, '-j', 'MASQUERADE']);
  ipt(['-t', 'filter', '-A', n.forwardChain, '-i', br, '-j', 'ACCEPT']);
  ipt(['-t', 'filter', '-A', n.forwardChain, '-o', br, '-j', 'ACCEPT']);
  const dnat = `SIFKUBE-${n.id}-DNAT`;
  for (const node of plan.nodes) {
    for (const p of node.extraPortMappings) {
      const proto = p.protocol.toLowerCase();
      ipt(['-t', 'nat', '-A', dnat, '-p', proto, '--dport', String(p.hostPort), '-j', 'DNAT', '--to-destination', `${node.address}:${p.containerPort}`]);
    }
  }
  const comment = ['-m', 'comment', '--comment', n.ruleComment];
  ipt(['-t', 'nat', '-A', 'POSTROUTING', ...comment, '-j', n.natChain]);
  for (const from of ['PREROUTING', 'OUTPUT']) ipt(['-t', 'nat', '-A', from, '-m', 'addrtype', '--dst-type', 'LOCAL', ...comment, '-j', dnat]);
  ipt(['-t', 'filter', '-I', 'FORWARD', ...comment, '-j', n.forwardChain]);
}

/** The jump rules of `chain` in `from`, as `iptables -S` prints them (ready to turn into -D). */
function jumpRules(table: string, from: string, chain: string): string[] {
  const r = spawnSync('iptables', ['-w', '-t', table, '-S', from], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  return r.stdout.split('\n').filter((l) => l.startsWith(`-A ${from} `) && new RegExp(`-j ${chain}( |$)`).test(l));
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
function splitRule(rule: string): string[] {
  return (rule.match(/"[^"]*"|\S+/g) ?? []).map((a) => a.replace(/^"(.*)"$/, '$1'));
}

/** Removes the cluster's chains and every jump to them; true when something was removed. */
export function removeClusterRules(names: ClusterNames): boolean {
  let removed = false;
  for (const c of chains(names)) {
    for (const from of c.from) {
      for (const rule of jumpRules(c.table, from, c.chain)) {
        const args = splitRule(rule);
        args[0] = '-D';
        removed = trySh('iptables', ['-w', '-t', c.table, ...args]) || removed;
      }
    }
    if (trySh('iptables', ['-w', '-t', c.table, '-F', c.chain])) {
      removed = trySh('iptables', ['-w', '-t', c.table, '-X', c.chain]) || removed;
    }
  }
  return removed;
}

/** The cluster's chains still present (for leak checks). */
export function clusterChains(names: ClusterNames): string[] {
  const out: string[] = [];
  for (const table of ['nat', 'filter']) {
    const r = spawnSync('iptables', ['-w', '-t', table, '-S'], { encoding: 'utf8' });
    for (const l of r.stdout.split('\n')) if (l.includes(`SIFKUBE-${names.id}-`)) out.push(`${table}: ${l}`);
  }
  return out;
}
