/**
 * `engines` must be true: every package `npm ci` installs supports the lowest Node the project
 * claims, or npm prints an engine warning on it (cookie@2 wanted Node 22 through fastify's
 * light-my-request; `overrides` in package.json pins cookie 1.x, which has the same API).
 */
import fs from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

interface LockPackage {
  version?: string;
  engines?: { node?: string } | string[];
}

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(fs.readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, LockPackage>;
};

describe('engines', () => {
  it('every locked package supports the lowest Node that package.json claims', () => {
    const lowest = semver.minVersion(pkg.engines.node)!.version;
    const unsupported = Object.entries(lock.packages)
      .filter(([name, p]) => {
        const wanted = Array.isArray(p.engines) ? undefined : p.engines?.node;
        return name !== '' && wanted !== undefined && !semver.satisfies(lowest, wanted);
      })
      .map(([name, p]) => `${name}@${p.version} wants node ${(p.engines as { node: string }).node}`);
    expect(unsupported, `on Node ${lowest}`).toEqual([]);
  });

  it('the Node running the tests satisfies it too', () => {
    expect(semver.satisfies(process.version, pkg.engines.node)).toBe(true);
  });
});
