import { describe, expect, it } from 'vitest';
import { workspaceConflict } from './workspace-rules.js';

const ROOTS = ['/srv/tenant-a', '/srv/tenant-b/'];

describe('workspaceConflict', () => {
  it('allows a folder inside a root that no live session works in or around', () => {
    expect(workspaceConflict('/srv/tenant-a/project', { roots: ROOTS, inUse: [] })).toBeNull();
    expect(
      workspaceConflict('/srv/tenant-a/project', {
        roots: ROOTS,
        inUse: ['/srv/tenant-a/other', '/srv/tenant-a/project-2', '/var/lib/ccr/workspaces/sess_1'],
      }),
    ).toBeNull();
  });

  it('refuses a root itself, however it is spelt', () => {
    for (const cwd of ['/srv/tenant-a', '/srv/tenant-a/', '/srv/tenant-b', '/srv/tenant-a/x/..']) {
      expect(workspaceConflict(cwd, { roots: ROOTS, inUse: [] }), cwd).toMatchObject({
        code: 'FORBIDDEN',
        details: { policy: 'workspace', reason: 'workspace_root' },
      });
    }
  });

  it('refuses the cwd of a live session, a folder inside it, and a folder around it', () => {
    const inUse = ['/srv/tenant-a/project'];
    for (const cwd of ['/srv/tenant-a/project', '/srv/tenant-a/project/box', '/srv/tenant-a/project/a/b']) {
      expect(workspaceConflict(cwd, { roots: [], inUse }), cwd).toMatchObject({
        code: 'FORBIDDEN',
        details: { policy: 'workspace', reason: 'in_use', cwd },
      });
    }
    expect(workspaceConflict('/srv/tenant-a', { roots: [], inUse })?.details).toMatchObject({
      reason: 'in_use',
    });
  });

  it('does not take a sibling with a common prefix for an overlap', () => {
    expect(
      workspaceConflict('/srv/tenant-a/project2', { roots: [], inUse: ['/srv/tenant-a/project'] }),
    ).toBeNull();
    expect(
      workspaceConflict('/srv/tenant-a/pro', { roots: [], inUse: ['/srv/tenant-a/project'] }),
    ).toBeNull();
  });

  it('never names the other session', () => {
    const refusal = workspaceConflict('/srv/a/b', { roots: [], inUse: ['/srv/a'] });
    expect(JSON.stringify(refusal)).not.toMatch(/sess_/);
    expect(Object.keys(refusal!.details).sort()).toEqual(['cwd', 'policy', 'reason']);
  });
});
