/**
 * What of the host a confined Claude Code process may read (process-sandbox.ts): an allow-list,
 * found on this machine once when the server starts.
 *
 * - /usr (with /usr/local) and /opt: programs, libraries and toolchains; the merged-/usr links
 *   /bin, /lib, … as the links they are (or the folders, on a system that has them apart);
 * - from /etc only what programs need to run, resolve names and check certificates. Not the
 *   password hashes (shadow, gshadow), SSH host keys, TLS private keys, nor files that often hold
 *   credentials (environment, npmrc, pip.conf, profile.d);
 * - /etc/passwd and /etc/group of the sandbox's own: the sandbox user, root and nobody, not the
 *   host's users;
 * - the folders of Claude Code's binary, not the server's checkout: its `.env`, configuration and
 *   sources stay out of reach;
 * - what the operator adds (SANDBOX_EXTRA_READ_PATHS).
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { SANDBOX_UID, type SandboxLayout } from './process-sandbox.js';

/** /etc entries programs need; each is bound only if it exists. */
const ETC_ENTRIES = [
  'alternatives',
  'ca-certificates',
  'ca-certificates.conf',
  'debian_version',
  'gai.conf',
  'host.conf',
  'hosts',
  'inputrc',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'localtime',
  'mime.types',
  'nsswitch.conf',
  'os-release',
  'protocols',
  'resolv.conf',
  'services',
  'ssl/certs',
  'ssl/openssl.cnf',
  'terminfo',
  'timezone',
];

/** Top-level names that a merged /usr makes links (`/bin -> usr/bin`). */
const USR_MERGED = ['bin', 'sbin', 'lib', 'lib32', 'lib64', 'libx32'];

export interface LayoutOptions {
  /** Folders of the programs Claude Code is started from (its binary's, a configured executable's). */
  programDirs: string[];
  /** More host paths to read (SANDBOX_EXTRA_READ_PATHS), absolute. */
  extraReadPaths: string[];
}

/** The layout, with the sandbox's own passwd and group written to `etcDir` (a private folder). */
export function hostLayout(options: LayoutOptions & { etcDir: string }): SandboxLayout {
  return { ...systemLayout(options), files: writeIdentityFiles(options.etcDir) };
}

/** The host folders and links of the layout, without the identity files. */
export function systemLayout(options: LayoutOptions): SandboxLayout {
  const readOnly = ['/usr'];
  const symlinks: SandboxLayout['symlinks'] = [];
  for (const name of USR_MERGED) {
    const at = `/${name}`;
    const stat = fs.lstatSync(at, { throwIfNoEntry: false });
    if (stat?.isSymbolicLink()) symlinks.push({ target: fs.readlinkSync(at), at });
    else if (stat?.isDirectory()) readOnly.push(at);
  }
  if (fs.existsSync('/opt')) readOnly.push('/opt');
  readOnly.push(...ETC_ENTRIES.map((entry) => `/etc/${entry}`));
  readOnly.push(...options.extraReadPaths, ...options.programDirs);
  return { readOnly: [...new Set(readOnly)], symlinks, files: [] };
}

/** The sandbox's own user database: programs that look their user up find one. */
function writeIdentityFiles(dir: string): SandboxLayout['files'] {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwd = path.join(dir, 'passwd');
  const group = path.join(dir, 'group');
  fs.writeFileSync(
    passwd,
    [
      'root:x:0:0:root:/root:/usr/sbin/nologin',
      `agent:x:${SANDBOX_UID}:${SANDBOX_UID}:agent:/nonexistent:/bin/sh`,
      'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  fs.writeFileSync(group, ['root:x:0:', `agent:x:${SANDBOX_UID}:`, 'nogroup:x:65534:', ''].join('\n'), {
    mode: 0o644,
  });
  return [
    { source: passwd, at: '/etc/passwd' },
    { source: group, at: '/etc/group' },
  ];
}

/**
 * The folders of the Claude Code binaries the SDK ships for this machine (its platform
 * packages), found the way Node finds a package, without starting anything.
 */
export function sdkBinaryDirs(): string[] {
  const require = createRequire(import.meta.url);
  const names = [
    `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`,
    `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}-musl`,
  ];
  const dirs: string[] = [];
  for (const name of names) {
    try {
      const dir = path.dirname(require.resolve(`${name}/package.json`));
      // As the SDK names it, and as it really is (a symlinked node_modules).
      dirs.push(dir, fs.realpathSync(dir));
    } catch {
      // Not installed on this machine.
    }
  }
  return [...new Set(dirs)];
}
