import { nodeLayout } from '../components/layout.js';
import { startNode } from '../node/container.js';
import type { ClusterPlan, NodePlan } from '../plan.js';
import type { ComponentSpec } from '../supervisor/index.js';
import { criAnswers, until } from './wait.js';

/** How long a node's CRI socket may take to answer after its container starts. */
const CRI_READY_MS = 30_000;

/**
 * Starts node containers (our runtime by default), then waits until every node's CRI server answers
 * a Version call on its socket: from then on a kubelet can run there.
 */
export async function bootNodes(plan: ClusterPlan, nodes: NodePlan[], components: (node: NodePlan) => ComponentSpec[], runtime?: string): Promise<void> {
  // One after another: each start is quick in-process, and nodes boot while the next one starts.
  for (const node of nodes) await startNode(plan, node, { runtime, components: components(node) });
  await Promise.all(
    nodes.map((node) =>
      until(`the CRI server of node ${node.name} answering`, CRI_READY_MS, `read ${nodeLayout(plan, node).logs}/node.log and cri.log`, () => criAnswers(nodeLayout(plan, node).criSocket)),
    ),
  );
}
