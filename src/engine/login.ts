// login/logout: credentials checked against the registry, then kept in the auth file pull and push read.
import { TspodError } from '../errors.js';

/** The auth file key: a registry, or REGISTRY/NAMESPACE (a scheme and trailing slash dropped). */
function loginKey(input: string): string {
  const key = input.replace(/^https?:\/\//, '').replace(/\/+$/, '');
  if (!key || /[\s@]/.test(key)) throw new TspodError('E_USAGE', `"${input}" is not a registry`, { hint: 'give HOST[:PORT], e.g. localhost:5000' });
  return key === 'index.docker.io' || key === 'registry-1.docker.io' ? 'docker.io' : key;
}

export interface LoginOptions { username: string; password: string; authFile?: string; tlsVerify?: boolean; certDir?: string }

export async function login(registry: string, o: LoginOptions): Promise<string> {
  const key = loginKey(registry);
  const [{ RegistryClient }, { loginAuthFile, storeCredentials }, { loadRegistriesConfig, registryFor }, { parseReference }] = await Promise.all([
    import('../registry/client.js'), import('../registry/auth.js'), import('../registry/config.js'), import('../registry/reference.js'),
  ]);
  const domain = key.split('/')[0];
  const insecure = o.tlsVerify === false || (o.tlsVerify === undefined && !!registryFor(loadRegistriesConfig(), parseReference(`${domain}/x`))?.insecure);
  const client = new RegistryClient(domain, { insecure, certDir: o.certDir });
  try { await client.checkLogin({ username: o.username, password: o.password }); } finally { await client.close(); }
  const file = loginAuthFile(o.authFile);
  storeCredentials(file, key, { username: o.username, password: o.password });
  return file;
}

export async function loggedInAs(registry: string, authFile?: string): Promise<string | undefined> {
  const { loginAuthFile, storedLogin } = await import('../registry/auth.js');
  return storedLogin(loginAuthFile(authFile), loginKey(registry));
}

/** false when there was nothing to remove. */
export async function logout(registry: string | undefined, authFile?: string): Promise<boolean> {
  const { loginAuthFile, removeCredentials } = await import('../registry/auth.js');
  return removeCredentials(loginAuthFile(authFile), registry === undefined ? undefined : loginKey(registry));
}
