/**
 * A `/v1` session's resources: uploaded files copied into its workspace at their `mount_path`,
 * and one GitHub repository cloned as the workspace itself, at creation (the seed API's `git`
 * seed: only from remotes on the key's `gitRemotes`). Memory stores do not exist here: refused,
 * by name.
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

/** A repository to clone as the new session's workspace (the seed's `git`). */
export interface RepositoryToClone {
  url: string;
  ref?: string;
}

export interface CheckedResources {
  files: FileToMount[];
  repository: RepositoryToClone | null;
}

/**
 * A github_repository resource as the seed's `git` seed. The clone is the workspace (Claude
 * Code's working directory), not a folder in it, so only the default mount path is taken; a
 * commit checkout is refused (the clone is shallow, by branch or tag). A token becomes the
 * URL's credentials, which the cloner keeps out of logs, errors and the clone's remote.
 */
function repositoryOf(resource: ResourceParam): RepositoryToClone {
  if (typeof resource.url !== 'string') {
    throw invalidField('A github_repository resource needs its url.', 'url', 'required');
  }
  if (resource.mount_path !== undefined && resource.mount_path !== null) {
    throw managedFeatureRefused(
      'github_repository mount_path',
      "the repository is cloned as the session's workspace (its working directory) on this server.",
    );
  }
  const checkout = resource.checkout as { type?: string; name?: string } | null | undefined;
  if (checkout && checkout.type !== 'branch') {
    throw managedFeatureRefused('commit checkouts', 'the clone is shallow: name a branch or a tag.');
  }
  let url = resource.url;
  if (typeof resource.authorization_token === 'string' && resource.authorization_token !== '') {
    const withToken = new URL(resource.url);
    withToken.username = 'x-access-token';
    withToken.password = resource.authorization_token;
    url = withToken.href;
  }
  return { url, ...(checkout?.name ? { ref: checkout.name } : {}) };
}

/** Where a file goes without a mount_path: `uploads/<its name>`. */
export const defaultMountPath = (filename: string): string => `uploads/${filename.replace(/[/\\]/g, '_')}`;

/**
 * Checks every resource (the caller's files, paths inside the workspace) before any is mounted.
 * A repository can only be given at creation (`atCreation`): it becomes the workspace.
 */
export async function checkResources(
  files: Pick<ManagedFiles, 'get'>,
  key: ApiKeyRecord,
  resources: readonly ResourceParam[],
  atCreation: boolean,
): Promise<CheckedResources> {
  const out: FileToMount[] = [];
  let repository: RepositoryToClone | null = null;
  for (const resource of resources) {
    if (resource.type === 'github_repository') {
      if (!atCreation) {
        throw managedFeatureRefused(
          'github_repository resources added to a running session',
          "the repository is cloned as the session's workspace, so it is given when the session is created.",
        );
      }
      if (repository !== null) {
        throw managedFeatureRefused(
          'more than one github_repository resource',
          "the repository is cloned as the session's workspace.",
        );
      }
      repository = repositoryOf(resource);
      continue;
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
  return { files: out, repository };
}
