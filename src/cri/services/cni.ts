import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CriOperationError } from '../errors.js';

/** One network configuration list, as the CNI spec defines it (a .conf file is a list of one). */
export interface CniNetwork {
  file: string;
  name: string;
  cniVersion: string;
  plugins: Record<string, unknown>[];
}

export interface CniPortMapping {
  hostPort: number;
  containerPort: number;
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIP?: string;
}

/** What one attachment of a pod to the network is: the same values must be given to ADD, CHECK and DEL. */
export interface CniAttachment {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (K8S_POD_NAME, …). */
  args: Record<string, string>;
  portMappings: CniPortMapping[];
}

export interface CniResult {
  cniVersion?: string;
  ips?: { address: string; gateway?: string; interface?: number }[];
  [key: string]: unknown;
}

/** The network configuration files in `dir`, in the order the CNI convention picks them (lexical). */
function configFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => /\.(conflist|conf|json)$/.test(n))
    .sort()
    .map((n) => join(dir, n));
}

function parseNetwork(file: string): CniNetwork {
  const doc = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const plugins = Array.isArray(doc.plugins) ? (doc.plugins as Record<string, unknown>[]) : [doc];
  if (typeof doc.name !== 'string' || plugins.some((p) => typeof p.type !== 'string')) {
    throw new Error('it needs a "name" and a "type" for every plugin');
  }
  return { file, name: doc.name, cniVersion: String(doc.cniVersion ?? '0.4.0'), plugins };
}

/** The first valid network configuration in `dir`, or the reason there is none. */
export function findNetwork(dir: string): { network?: CniNetwork; problem?: string } {
  const files = configFiles(dir);
  const problems: string[] = [];
  for (const file of files) {
    try {
      return { network: parseNetwork(file) };
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
    }
  }
  return { problem: files.length === 0 ? `no CNI network configuration in ${dir}` : `no valid CNI network configuration in ${dir} (${problems.join('; ')})` };
}

function invoke(binDir: string, command: 'ADD' | 'DEL' | 'CHECK', plugin: Record<string, unknown>, att: CniAttachment): Promise<CniResult | undefined> {
  const type = String(plugin.type);
  const bin = join(binDir, type);
  if (!existsSync(bin)) {
    return Promise.reject(new CriOperationError(`CNI plugin ${type} is not in ${bin}: install it (apt-get install -y containernetworking-plugins) or set cni.binDir`));
  }
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    CNI_COMMAND: command,
    CNI_CONTAINERID: att.containerId,
    CNI_NETNS: att.netns,
    CNI_IFNAME: att.ifName,
    CNI_PATH: binDir,
    CNI_ARGS: ['IgnoreUnknown=1', ...Object.entries(att.args).map(([k, v]) => `${k}=${v}`)].join(';'),
  };
  return new Promise((resolve, reject) => {
    // The plugin dies with the server (setpriv's parent-death signal): after a kill -9 no ADD may finish
    // behind the restarted server's rollback, whose DEL then undoes whatever part of it was done.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', bin], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CriOperationError(`CNI plugin ${type} ${command} could not run: ${e.message}`)));
    child.on('close', (code) => {
      const text = Buffer.concat(out).toString('utf8').trim();
      if (code !== 0) {
        let msg = text || Buffer.concat(err).toString('utf8').trim();
        try {
          const e = JSON.parse(text) as { msg?: string; details?: string };
          msg = [e.msg, e.details].filter(Boolean).join(': ');
        } catch {
          // not the spec's error object: keep the raw output
        }
        reject(new CriOperationError(`CNI plugin ${type} ${command} for ${att.containerId.slice(0, 12)} failed: ${msg}`));
        return;
      }
      resolve(text ? (JSON.parse(text) as CniResult) : undefined);
    });
    child.stdin.end(JSON.stringify(plugin));
  });
}

/** The configuration one plugin of the list receives: the list's name and version, the chained result, capabilities. */
function pluginConfig(net: CniNetwork, plugin: Record<string, unknown>, att: CniAttachment, prevResult: CniResult | undefined): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, name: net.name, cniVersion: net.cniVersion };
  if (prevResult) conf.prevResult = prevResult;
  const caps = (plugin.capabilities ?? {}) as Record<string, boolean>;
  if (caps.portMappings && att.portMappings.length > 0) conf.runtimeConfig = { portMappings: att.portMappings };
  return conf;
}

/** ADD through the list, each plugin given the previous one's result; returns the last result. */
export async function cniAdd(binDir: string, net: CniNetwork, att: CniAttachment): Promise<CniResult> {
  let result: CniResult | undefined;
  for (const plugin of net.plugins) {
    result = (await invoke(binDir, 'ADD', pluginConfig(net, plugin, att, result), att)) ?? result;
  }
  return result ?? {};
}

/** DEL through the list in reverse order, each plugin given the cached ADD result. */
export async function cniDel(binDir: string, net: CniNetwork, att: CniAttachment, cached: CniResult | undefined): Promise<void> {
  for (const plugin of [...net.plugins].reverse()) {
    await invoke(binDir, 'DEL', pluginConfig(net, plugin, att, cached), att);
  }
}

/**
 * A Linux bridge without a MAC of its own takes its lowest port's, so it changes as other pods come
 * and go; the bridge plugin's CHECK compares it with the ADD result. The cached result gets the
 * bridge's current MAC, so only a missing or changed pod interface fails CHECK.
 */
function withCurrentBridgeMacs(cached: CniResult): CniResult {
  const interfaces = (cached.interfaces ?? []) as { name?: string; mac?: string; sandbox?: string }[];
  return {
    ...cached,
    interfaces: interfaces.map((i) => {
      const sys = `/sys/class/net/${i.name}`;
      if (i.sandbox || !i.name || !existsSync(`${sys}/bridge`)) return i;
      return { ...i, mac: readFileSync(`${sys}/address`, 'utf8').trim() };
    }),
  };
}

/** CHECK through the list (CNI 0.4.0 and later), each plugin given the cached ADD result. */
export async function cniCheck(binDir: string, net: CniNetwork, att: CniAttachment, cached: CniResult): Promise<void> {
  const result = withCurrentBridgeMacs(cached);
  for (const plugin of net.plugins) {
    await invoke(binDir, 'CHECK', pluginConfig(net, plugin, att, result), att);
  }
}

/** The pod's addresses from a result: the first IPv4 (else the first) is the pod IP. */
export function resultIps(result: CniResult): string[] {
  const ips = (result.ips ?? []).map((i) => i.address.split('/')[0]);
  const v4 = ips.filter((ip) => !ip.includes(':'));
  const v6 = ips.filter((ip) => ip.includes(':'));
  return [...v4, ...v6];
}

/** The loopback plugin on `lo`, as containerd does for every pod network namespace. */
export function loopbackNetwork(): CniNetwork {
  return { file: '(built in)', name: 'cni-loopback', cniVersion: '1.0.0', plugins: [{ type: 'loopback' }] };
}
