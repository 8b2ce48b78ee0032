// The certificates tspod's TLS connections trust, and the client certificate they show, as
// containers/image has them:
// - Node's roots, and the PEM file NODE_EXTRA_CA_CERTS names. Node would parse that file at every
//   start (~28 ms for a distribution's bundle), paid by `tspod ps` as much as by a pull; the
//   launcher hands the path over as TSPOD_EXTRA_CA_CERTS instead, and it is read here, on the first
//   TLS connection.
// - For a registry, the first of ~/.config/containers/certs.d/HOST[:PORT],
//   /etc/containers/certs.d/HOST[:PORT] and /etc/docker/certs.d/HOST[:PORT] that exists: its *.crt
//   are more CAs, and a *.cert with the *.key of the same name is the client certificate.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { userConfigHome } from '../paths.js';
import { TspodError } from '../errors.js';

const contexts = new Map<string, tls.SecureContext | null>();

/** The certs.d directory of a registry ("host[:port]"), if there is one. */
export function certsDir(registry: string): string | undefined {
  const roots = [path.join(userConfigHome(), 'containers/certs.d'), '/etc/containers/certs.d', '/etc/docker/certs.d'];
  return roots.map((r) => path.join(r, registry)).find(isDir);
}

const isDir = (d: string) => { try { return fs.statSync(d).isDirectory(); } catch { return false; } };

/**
 * TLS options for a verified connection (to `registry`, when it is one; `certDir`, --cert-dir, in
 * place of its certs.d): {} for Node's own roots, or a context with the rest.
 */
export function trustedTls(registry?: string, certDir?: string): { secureContext?: tls.SecureContext } {
  const extraFile = process.env.TSPOD_EXTRA_CA_CERTS || undefined;
  if (certDir && !isDir(certDir)) throw new TspodError('E_TLS_CONFIG', `--cert-dir ${certDir}: no such directory`, { hint: 'give a directory holding the registry\'s *.crt (and *.cert with *.key)' });
  const dir = certDir ?? (registry ? certsDir(registry) : undefined);
  if (!extraFile && !dir) return {};
  const key = `${extraFile ?? ''}\0${dir ?? ''}`;
  if (!contexts.has(key)) contexts.set(key, makeContext(extraFile, dir));
  const context = contexts.get(key);
  return context ? { secureContext: context } : {};
}

function makeContext(extraFile: string | undefined, dir: string | undefined): tls.SecureContext | null {
  const ca: string[] = [];
  if (extraFile) {
    // As Node does with NODE_EXTRA_CA_CERTS: a warning, and the roots it has.
    try { ca.push(fs.readFileSync(extraFile, 'utf8')); } catch (e) { process.stderr.write(`Warning: ignoring extra certs from ${extraFile}, load failed: ${(e as Error).message}\n`); }
  }
  let cert: string | undefined;
  let keyPem: string | undefined;
  if (dir) {
    const names = fs.readdirSync(dir).sort();
    for (const n of names.filter((f) => f.endsWith('.crt'))) ca.push(fs.readFileSync(path.join(dir, n), 'utf8'));
    const certName = names.find((f) => f.endsWith('.cert'));
    if (certName) {
      const keyName = `${certName.slice(0, -'.cert'.length)}.key`;
      if (!names.includes(keyName)) throw new TspodError('E_TLS_CONFIG', `${path.join(dir, certName)} has no key beside it (${keyName})`, { hint: 'put the client certificate\'s key there, or remove the certificate' });
      cert = fs.readFileSync(path.join(dir, certName), 'utf8');
      keyPem = fs.readFileSync(path.join(dir, keyName), 'utf8');
    }
  }
  if (!ca.length && !cert) return null;
  try {
    return tls.createSecureContext({ ca: [...tls.rootCertificates, ...ca], cert, key: keyPem });
  } catch (e) {
    throw new TspodError('E_TLS_CONFIG', `cannot use the certificates ${dir ? `in ${dir}` : `from ${extraFile}`}: ${(e as Error).message}`, { hint: 'check that they are PEM files' });
  }
}
