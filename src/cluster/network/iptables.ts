import { spawnSync } from 'node:child_process';
import { HostSetupError } from '../errors.js';
import type { ClusterNames } from '../names.js';
import type { ClusterPlan } from '../plan.js';

type Table = 'nat' | 'filter';

/** The chains of one cluster: egress masquerade, port-mapping DNAT, bridge forwarding. */
function chains(names: ClusterNames): { table: Table; chain: string }[] {
  return [
    { table: 'nat', chain: names.natChain },
    { table: 'nat', chain: dnatChain(names) },
    { table: 'filter', chain: names.forwardChain },
  ];
}

function dnatChain(names: ClusterNames): string {
  return `SIFKUBE-${names.id}-DNAT`;
}

/**
 * Applies rule lines per table in one iptables-restore transaction (--noflush: other rules stay):
 * all or nothing, and one process instead of one per rule.
 */
function restore(what: string, tables: Record<Table, string[]>): void {
  const text = (Object.entries(tables) as [Table, string[]][])
    .filter(([, lines]) => lines.length > 0)
    .map(([table, lines]) => `*${table}\n${lines.join('\n')}\nCOMMIT\n`)
    .join('');
  if (!text) return;
  const r = spawnSync('iptables-restore', ['-w', '--noflush'], { input: text, encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new HostSetupError(what, (r.error?.message ?? r.stderr).trim().split('\n')[0]);
}

const quote = (s: string) => `"${s}"`;

/**
 * Egress NAT for the node subnet, forwarding to and from the bridge, and DNAT of each node's
 * extraPortMappings from the host's own addresses (127.0.0.1 included: the OUTPUT jump, and the
 * loopback masquerade), in chains named SIFKUBE-<id>-…, each reached by
 * one jump carrying the cluster's comment. Fails (changing nothing) if a chain already exists.
 */
export function addClusterRules(plan: ClusterPlan): void {
  const n = plan.names;
  const br = plan.bridge.name;
  const comment = `-m comment --comment ${quote(n.ruleComment)}`;
  const dnat = dnatChain(n);
  const mappings = plan.nodes.flatMap((node) =>
    node.extraPortMappings.map((p) => `-A ${dnat} -p ${p.protocol.toLowerCase()} --dport ${p.hostPort} -j DNAT --to-destination ${node.address}:${p.containerPort}`),
  );
  // A connection to 127.0.0.1:HOSTPORT keeps its loopback source after the OUTPUT DNAT: the node could
  // not answer it, so it leaves on the bridge from the bridge's address (only the mapped ports).
  const loopback = plan.nodes.flatMap((node) =>
    node.extraPortMappings.map((p) => `-A ${n.natChain} -s 127.0.0.0/8 -o ${br} -d ${node.address} -p ${p.protocol.toLowerCase()} --dport ${p.containerPort} -j MASQUERADE`),
  );
  restore(`adding iptables chains ${n.natChain}, ${dnat}, ${n.forwardChain}`, {
    nat: [
      `-N ${n.natChain}`,
      `-N ${dnat}`,
      `-A ${n.natChain} -s ${plan.bridge.subnet} ! -o ${br} -j MASQUERADE`,
      ...loopback,
      ...mappings,
      `-A POSTROUTING ${comment} -j ${n.natChain}`,
      `-A PREROUTING -m addrtype --dst-type LOCAL ${comment} -j ${dnat}`,
      `-A OUTPUT -m addrtype --dst-type LOCAL ${comment} -j ${dnat}`,
    ],
    filter: [`-N ${n.forwardChain}`, `-A ${n.forwardChain} -i ${br} -j ACCEPT`, `-A ${n.forwardChain} -o ${br} -j ACCEPT`, `-I FORWARD ${comment} -j ${n.forwardChain}`],
  });
}

/** `iptables-save -t TABLE` lines, or none when the table cannot be read. */
function saved(table: Table): string[] {
  const r = spawnSync('iptables-save', ['-t', table], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n') : [];
}

/** Removes the cluster's chains and every jump to them, in one transaction; true when there was something to remove. */
export function removeClusterRules(names: ClusterNames): boolean {
  const tables: Record<Table, string[]> = { nat: [], filter: [] };
  for (const table of ['nat', 'filter'] as const) {
    const lines = saved(table);
    const ours = chains(names).filter((c) => c.table === table && lines.some((l) => l.startsWith(`:${c.chain} `)));
    for (const c of ours) {
      const jump = new RegExp(`^-A (?!${c.chain} )\\S+ .*-j ${c.chain}$`);
      tables[table].push(...lines.filter((l) => jump.test(l)).map((l) => l.replace(/^-A /, '-D ')));
    }
    tables[table].push(...ours.map((c) => `-F ${c.chain}`), ...ours.map((c) => `-X ${c.chain}`));
  }
  restore(`removing iptables chains SIFKUBE-${names.id}-*`, tables);
  return tables.nat.length + tables.filter.length > 0;
}

/** The cluster's chains and the rules naming them that are still present (for leak checks). */
export function clusterChains(names: ClusterNames): string[] {
  return (['nat', 'filter'] as const).flatMap((t) => saved(t).filter((l) => l.includes(`SIFKUBE-${names.id}-`)).map((l) => `${t}: ${l}`));
}
