/**
 * A `/v1` session's resources: uploaded files copied into its workspace at their `mount_path`.
 * GitHub repositories need the key's allow-list of git remotes (not here yet) and memory stores
 * do not exist here: both are refused, by name.
 */
import { invalidField, managedFeatureRefused } from '../error-situations.js';
import type { ApiKeyRecord } from '../types.js';
import type { ManagedFiles } from './files.js';

export interface FileResourceView {
  id: string;
  type: 'file';
  file_id: string;
  mount_path: string;
  created_at: string;
  updated_at: string;
}

/** A resource as a client gives it (BetaManagedAgents*ResourceParams). */
export interface ResourceParam {
  type: string;
  file_id?: string;
  mount_path?: string | null;
  [field: string]: unknown;
}

export interface FileToMount {
  fileId: string;
  filename: string;
  mountPath: string | null;
}

/** Where a file goes without a mount_path: `uploads/<its name>`. */
export const defaultMountPath = (filename: string): string => `uploads/${filename.replace(/[/\\]/g, '_')}`;

/** Checks every resource (the caller's files, paths inside the workspace) before any is mounted. */
export async function checkResources(
  files: Pick<ManagedFiles, 'get'>,
  key: ApiKeyRecord,
  resources: readonly ResourceParam[],
): Promise<FileToMount[]> {
  const out: FileToMount[] = [];
  for (const resource of resources) {
    if (resource.type === 'github_repository') {
      throw managedFeatureRefused(
        'github_repository resources',
        "a clone needs the key's allow-list of git remotes (gitRemotes), which this server does not have yet.",
      );
    }
    if (resource.type === 'memory_store') {
      throw managedFeatureRefused('memory_store resources', 'memory stores do not exist on this server.');
    }
    if (resource.type !== 'file' || typeof resource.file_id !== 'string') {
      throw managedFeatureRefused(`resource type "${resource.type}"`, 'file resources are supported.');
    }
    const file = await files.get(key, resource.file_id);
    const mountPath = resource.mount_path ?? null;
    if (mountPath !== null && mountPath.split('/').includes('..')) {
      throw invalidField('mount_path must stay inside the workspace.', 'mount_path', 'no ".." segments');
    }
    out.push({ fileId: file.id, filename: file.filename, mountPath });
  }
  return out;
}
