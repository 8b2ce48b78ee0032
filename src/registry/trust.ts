// The certificates tspod's TLS connections trust. Node reads NODE_EXTRA_CA_CERTS at every start,
// before any code runs: ~28 ms for a distribution's bundle, paid by `tspod ps` as much as by a pull.
// The launcher hands the path over as TSPOD_EXTRA_CA_CERTS instead, read here on the first TLS
// connection; to that connection it is what Node would have made of it: Node's roots and these.
import fs from 'node:fs';
import tls from 'node:tls';

let context: tls.SecureContext | null | undefined;

/** TLS options for a verified connection: {} (Node's own roots) or a context with the extra CAs too. */
export function trustedTls(): { secureContext?: tls.SecureContext } {
  const file = process.env.TSPOD_EXTRA_CA_CERTS;
  if (!file) return {};
  if (context === undefined) {
    try {
      context = tls.createSecureContext({ ca: [...tls.rootCertificates, fs.readFileSync(file, 'utf8')] });
    } catch (e) {
      // As Node does with NODE_EXTRA_CA_CERTS: a warning, and the roots it has.
      process.stderr.write(`Warning: ignoring extra certs from ${file}, load failed: ${(e as Error).message}\n`);
      context = null;
    }
  }
  return context ? { secureContext: context } : {};
}
