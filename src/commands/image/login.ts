import fs from 'node:fs';
import { Option } from '../kit.js';
import { TspodCommand, tlsVerifyFlag } from '../base.js';
import { TspodError, UsageError } from '../../errors.js';

export class LoginCommand extends TspodCommand {
  static paths = [['login']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'log in to a registry',
    details: 'The credentials are checked with the registry first; only then are they written to the auth file (`$XDG_RUNTIME_DIR/containers/auth.json`, or `--authfile`, or `REGISTRY_AUTH_FILE`), which pull and push read.',
    examples: [
      ['Log in with the password on stdin', 'echo "$PASS" | $0 login -u ci --password-stdin registry.example.com'],
      ['Who am I logged in as?', '$0 login --get-login registry.example.com'],
    ],
  });

  username = Option.String('-u,--username', { description: 'user name' });
  password = Option.String('-p,--password', { description: 'password (prefer --password-stdin)' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'read the password from stdin' });
  getLogin = Option.Boolean('--get-login', false, { description: 'print the user name stored for the registry' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  tlsVerify = Option.String('--tls-verify', { tolerateBoolean: true, description: 'require HTTPS and verify certificates (default true)' });
  certDir = Option.String('--cert-dir', { description: 'the registry\'s certificates (*.crt CAs, a *.cert with its *.key) from this directory instead of its certs.d' });
  registry = Option.String({ name: 'REGISTRY' });

  async run(): Promise<number> {
    const { login, loggedInAs } = await import('../../engine/login.js');
    if (this.getLogin) {
      const user = await loggedInAs(this.registry, this.authfile);
      if (!user) throw new TspodError('E_NOT_LOGGED_IN', `not logged into ${this.registry}`, { hint: `tspod login ${this.registry}` });
      process.stdout.write(`${user}\n`);
      return 0;
    }
    if (this.password !== undefined && this.passwordStdin) throw new UsageError('--password and --password-stdin are mutually exclusive');
    if (!this.username) throw new UsageError('a user name is needed: give -u USER', 'tspod never prompts: give -u and -p or --password-stdin');
    let password = this.password;
    if (this.passwordStdin) password = fs.readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    if (password === undefined) throw new UsageError('a password is needed: give -p or --password-stdin', 'tspod never prompts');
    await login(this.registry, { username: this.username, password, authFile: this.authfile, tlsVerify: tlsVerifyFlag(this.tlsVerify), certDir: this.certDir });
    process.stdout.write('Login Succeeded!\n');
    return 0;
  }
}

export class LogoutCommand extends TspodCommand {
  static paths = [['logout']];
  static usage = TspodCommand.Usage({
    category: 'Images',
    description: 'remove the credentials stored for a registry',
    examples: [['Log out of one registry', '$0 logout registry.example.com'], ['Forget every login', '$0 logout --all']],
  });

  all = Option.Boolean('-a,--all', false, { description: 'remove every stored credential' });
  authfile = Option.String('--authfile', { description: 'path of the authentication file' });
  rest = Option.Rest({ name: 'REGISTRY' });
  get registry(): string | undefined { return this.rest[0]; }

  async run(): Promise<number> {
    if (!this.all && !this.registry) throw new UsageError('give a registry, or --all');
    const { logout } = await import('../../engine/login.js');
    const removed = await logout(this.all ? undefined : this.registry, this.authfile);
    if (this.all) { process.stdout.write('Removed login credentials for all registries\n'); return 0; }
    if (!removed) throw new TspodError('E_NOT_LOGGED_IN', `not logged into ${this.registry}`, { hint: 'nothing was removed' });
    process.stdout.write(`Removed login credentials for ${this.registry}\n`);
    return 0;
  }
}
