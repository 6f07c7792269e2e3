import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The smallest stand-in for kube-apiserver + kubelet that lets real clients (kubectl,
 * @kubernetes/client-node) reach the streaming server: it serves one Running pod object and proxies
 * upgrade requests for pods/POD/{exec,attach,portforward} to the URL `route` returns (as the
 * kubelet proxies to the CRI's URL), bytes untouched both ways.
 */
export class FakeApiServer {
  private readonly http: Server;
  private readonly sockets = new Set<Socket>();
  readonly dir = mkdtempSync(join(tmpdir(), 'sifkube-stream-kc-'));
  kubeconfig = '';

  constructor(private readonly route: (kind: 'exec' | 'attach' | 'portforward', query: URLSearchParams) => string) {
    this.http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/.exec(path);
      const body = m ? pod(m[1], m[2]) : discovery[path];
      if (req.method === 'GET' && body) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(body));
        return;
      }
      res.statusCode = 404;
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404, message: `not served: ${req.url}` }));
    });
    this.http.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.http.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.proxy(req, socket, head));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve));
    const { port } = this.http.address() as AddressInfo;
    this.kubeconfig = join(this.dir, 'kubeconfig');
    writeFileSync(
      this.kubeconfig,
      `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n    namespace: x\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n`,
    );
  }

  get server(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private proxy(req: IncomingMessage, socket: Socket, head: Buffer): void {
    socket.on('error', () => {});
    const u = new URL(req.url ?? '/', 'http://x');
    const m = /\/pods\/[^/]+\/(exec|attach|portforward)$/.exec(u.pathname);
    if (!m) {
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = new URL(this.route(m[1] as 'exec' | 'attach' | 'portforward', u.searchParams));
    const upstream = connect(Number(target.port), target.hostname);
    upstream.on('error', () => socket.destroy());
    const lines = [`${req.method} ${target.pathname} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i].toLowerCase() === 'host' ? target.host : req.rawHeaders[i + 1]}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
    socket.on('close', () => upstream.destroy());
    upstream.on('close', () => socket.destroy());
  }
}

/** Discovery documents kubectl reads to resolve `pod/NAME`. */
const subresource = (name: string, kind: string) => ({ name, singularName: '', namespaced: true, kind, verbs: ['create', 'get'] });
const discovery: Record<string, object> = {
  '/api': { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] },
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [] },
  '/api/v1': {
    kind: 'APIResourceList',
    groupVersion: 'v1',
    resources: [
      { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
      subresource('pods/exec', 'PodExecOptions'),
      subresource('pods/attach', 'PodAttachOptions'),
      subresource('pods/portforward', 'PodPortForwardOptions'),
    ],
  },
};

function pod(namespace: string, name: string) {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name, namespace, uid: '00000000-0000-0000-0000-000000000001' },
    spec: { containers: [{ name: 'c1', image: 'example' }] },
    status: { phase: 'Running', containerStatuses: [{ name: 'c1', ready: true, restartCount: 0, image: 'example', imageID: '', state: { running: {} } }] },
  };
}

/** The CRI-side request the kubelet would make from a pods/exec query. */
export function streamsFromQuery(q: URLSearchParams): { stdin: boolean; stdout: boolean; stderr: boolean; tty: boolean } {
  const on = (k: string) => q.get(k) === 'true' || q.get(k) === '1';
  return { stdin: on('stdin'), stdout: on('stdout'), stderr: on('stderr') && !on('tty'), tty: on('tty') };
}
