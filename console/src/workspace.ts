/**
 * The session's workspace through the public API: its file tree (`GET …/files?recursive=true`),
 * a file's bytes (`GET …/files/content`), and a turn's changes (`GET …/diff?format=json`).
 * Plain data for the files panel and the turns' "Changes"; nothing here draws.
 */
import { API_BASE, errorFrom, type Api } from './api.js';
import type { FileChange } from './transcript.js';

export interface Entry {
  name: string;
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  modifiedAt: string;
}

/** A folder of the tree with what it holds, folders first (as file managers show them). */
export interface TreeNode {
  entry: Entry;
  children: TreeNode[];
}

export interface Listing {
  root: TreeNode[];
  /** The server cut the listing (more than 10 000 entries). */
  truncated: boolean;
}

const session = (sessionId: string) => `/sessions/${encodeURIComponent(sessionId)}`;

export async function listWorkspace(api: Api, sessionId: string): Promise<Listing> {
  const listing = await api.json<{ entries: Entry[]; truncated?: boolean }>(
    'GET',
    `${session(sessionId)}/files?path=&recursive=true`,
  );
  return { root: buildTree(listing.entries), truncated: listing.truncated === true };
}

/** The recursive listing (sorted by path) as nested folders. */
export function buildTree(entries: Entry[]): TreeNode[] {
  const root: TreeNode[] = [];
  const folders = new Map<string, TreeNode[]>([['', root]]);
  for (const entry of entries) {
    const parent = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : '';
    const node: TreeNode = { entry, children: [] };
    (folders.get(parent) ?? root).push(node);
    if (entry.type === 'dir') folders.set(entry.path, node.children);
  }
  const order = (nodes: TreeNode[]): TreeNode[] =>
    nodes
      .sort(
        (a, b) =>
          Number(b.entry.type === 'dir') - Number(a.entry.type === 'dir') ||
          a.entry.name.localeCompare(b.entry.name),
      )
      .map((node) => ({ ...node, children: order(node.children) }));
  return order(root);
}

/** The most of a file the viewer shows: a log of megabytes is not read whole to show its start. */
export const VIEW_LIMIT_BYTES = 256 * 1024;

export type FileView =
  { kind: 'text'; text: string; size: number; truncated: boolean } | { kind: 'binary'; size: number };

/** The start of a file (a `Range` request past VIEW_LIMIT_BYTES), told as text or binary. */
export async function readFile(api: Api, sessionId: string, entry: Entry): Promise<FileView> {
  const partial = entry.size > VIEW_LIMIT_BYTES;
  const res = await fetch(contentUrl(sessionId, entry.path), {
    headers: api.headers(partial ? { range: `bytes=0-${VIEW_LIMIT_BYTES - 1}` } : {}),
    cache: 'no-store',
  });
  if (!res.ok) throw await errorFrom(res);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const size = sizeOf(res) ?? bytes.length;
  const text = asText(bytes);
  return text === null
    ? { kind: 'binary', size }
    : { kind: 'text', text, size, truncated: bytes.length < size };
}

/** The whole file, for a download (the key goes in a header, so a plain link cannot fetch it). */
export async function downloadFile(api: Api, sessionId: string, path: string): Promise<Blob> {
  const res = await fetch(contentUrl(sessionId, path), { headers: api.headers(), cache: 'no-store' });
  if (!res.ok) throw await errorFrom(res);
  return res.blob();
}

const contentUrl = (sessionId: string, path: string) =>
  `${API_BASE}${session(sessionId)}/files/content?path=${encodeURIComponent(path)}`;

/** The full size: `Content-Range: bytes 0-99/1234` of a 206, else `Content-Length`. */
function sizeOf(res: Response): number | null {
  const range = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
  const size = Number(range?.[1] ?? res.headers.get('content-length'));
  return Number.isFinite(size) && size > 0 ? size : null;
}

/**
 * UTF-8 without NUL bytes is text (what git and editors decide, roughly); anything else is
 * binary. `stream: true`: a character cut by the range at the end is not an error.
 */
export function asText(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return null;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return null;
  }
}

export interface Hunk {
  header: string;
  lines: string[];
}

export interface FileDiff extends FileChange {
  hunks: Hunk[];
}

/** The turn's changes, per file with its hunks (`GET …/diff?messageId=…&format=json`). */
export async function turnDiff(api: Api, sessionId: string, messageId: string): Promise<FileDiff[]> {
  const diff = await api.json<{ files: FileDiff[] }>(
    'GET',
    `${session(sessionId)}/diff?messageId=${encodeURIComponent(messageId)}&format=json`,
  );
  return diff.files;
}
