import { execFileSync } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRegistry, type TestRegistry } from './registry.js';

/**
 * A Docker token service (the Bearer flow of the Registry API): it checks Basic credentials and
 * hands out RS256 JWTs with the requested repository access, signed by a self-signed certificate
 * the registry trusts (`auth.token.rootcertbundle`).
 */
export interface TokenRegistry {
  registry: TestRegistry;
  /** Token requests seen (their query strings). */
  requests: string[];
  stop(): Promise<void>;
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

export async function startTokenRegistry(user: string, password: string): Promise<TokenRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'sk-token-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=sifkube-test-token'], { stdio: 'ignore' });
  const key = readFileSync(join(dir, 'key.pem'), 'utf8');
  const certDer = Buffer.from(readFileSync(join(dir, 'cert.pem'), 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const port = await freePort();
  const realm = `http://127.0.0.1:${port}/token`;
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', realm);
    requests.push(url.search);
    const auth = req.headers.authorization ?? '';
    if (auth !== `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = (url.searchParams.getAll('scope').join(' ') || '')
      .split(' ')
      .filter(Boolean)
      .map((s) => {
        const [type, name, actions] = s.split(':');
        return { type, name, actions: actions.split(',') };
      });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [certDer.toString('base64')] };
    const claims = { iss: 'sifkube-test-issuer', sub: user, aud: url.searchParams.get('service'), exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(key);
    const token = `${input}.${b64url(sig)}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  const registry = await startRegistry({ tokenAuth: { realm, service: 'sifkube-test-registry', issuer: 'sifkube-test-issuer', rootCertBundle: join(dir, 'cert.pem') } });
  return {
    registry,
    requests,
    stop: async () => {
      await registry.stop();
      await new Promise((r) => server.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
