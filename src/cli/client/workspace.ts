/**
 * The agent's work from a terminal: `files ID [PATH] [--recursive]` lists a session's workspace,
 * `files get ID PATH [-o FILE]` downloads one file (to stdout by default, as bytes), and
 * `diff ID [MESSAGE_ID]` prints a turn's unified diff (by default the last completed turn),
 * coloured on a terminal only. Errors and exit codes as `send` (commands.ts).
 */
import fs from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { EXIT_OK, UsageError } from '../errors.js';
import { CONNECTION_OPTIONS, parse, reported, type ClientIo } from './commands.js';
import { ApiClient, ApiFailure, connectionOf } from './connection.js';
import { styleFor, type Style } from './terminal.js';

interface FileEntry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  size: number;
  modifiedAt: string;
}

const query = (params: Record<string, string | undefined>): string => {
  const given = Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined);
  return given.length === 0 ? '' : `?${new URLSearchParams(given).toString()}`;
};

export async function runFiles(args: string[], io: ClientIo): Promise<number> {
  if (args[0] === 'get') return runFilesGet(args.slice(1), io);
  const { values, positionals } = parse(
    args,
    { ...CONNECTION_OPTIONS, recursive: { type: 'boolean' }, json: { type: 'boolean' } },
    'files',
  );
  const [sessionId, dir, ...extra] = positionals;
  if (!sessionId) throw new UsageError('files needs a session id: files ID [PATH]', 'files');
  if (extra.length > 0) throw new UsageError(`files takes one path, not ${extra.length + 1}`, 'files');
  const client = new ApiClient(connectionOf(values, io.env));
  return reported(io, values.json, async () => {
    const { body } = await client.call<{ path: string; entries: FileEntry[]; truncated?: boolean }>(
      'GET',
      `/sessions/${encodeURIComponent(sessionId)}/files${query({
        path: dir,
        recursive: values.recursive ? 'true' : undefined,
      })}`,
    );
    if (values.json) return (io.stdout.write(`${JSON.stringify(body)}\n`), EXIT_OK);
    const style = styleFor(io.stdout, io.env);
    for (const line of listingLines(body.entries, style)) io.stdout.write(`${line}\n`);
    if (body.truncated) io.stderr.write('(the listing was cut: list a folder below this one)\n');
    return EXIT_OK;
  });
}

/** `ls -lF`'s columns: size (`-` for a folder), time to the second, path (`/` a folder, `@` a link). */
function listingLines(entries: readonly FileEntry[], style: Style): string[] {
  const sizes = entries.map((e) => (e.type === 'dir' ? '-' : String(e.size)));
  const width = Math.max(0, ...sizes.map((s) => s.length));
  return entries.map((e, i) => {
    const time = e.modifiedAt.replace(/\.\d{3}Z$/, 'Z');
    const name = e.type === 'dir' ? style.cyan(`${e.path}/`) : e.type === 'symlink' ? `${e.path}@` : e.path;
    return `${sizes[i]!.padStart(width)}  ${style.dim(time)}  ${name}`;
  });
}

async function runFilesGet(args: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(
    args,
    { ...CONNECTION_OPTIONS, output: { type: 'string', short: 'o' } },
    'files get',
  );
  const [sessionId, file, ...extra] = positionals;
  if (!sessionId || !file || extra.length > 0) {
    throw new UsageError(
      'files get needs a session id and one path: files get ID PATH [-o FILE]',
      'files get',
    );
  }
  const client = new ApiClient(connectionOf(values, io.env));
  return reported(io, false, async () => {
    const res = await client.raw(
      'GET',
      `/sessions/${encodeURIComponent(sessionId)}/files/content${query({ path: file })}`,
    );
    // Streamed through, never held whole: a file may be larger than memory.
    const source = res.body
      ? Readable.fromWeb(res.body as unknown as WebReadableStream<Uint8Array>)
      : Readable.from([]);
    if (values.output === undefined) {
      // stdout is the caller's: copied into it, never ended.
      await pipeline(source, io.bytes as Writable, { end: false });
      return EXIT_OK;
    }
    // Only a download that arrived is written: an error answer above leaves no file.
    await pipeline(source, fs.createWriteStream(values.output));
    io.stderr.write(`${file} → ${values.output} (${fs.statSync(values.output).size} bytes)\n`);
    return EXIT_OK;
  });
}

export async function runDiff(args: string[], io: ClientIo): Promise<number> {
  const { values, positionals } = parse(args, { ...CONNECTION_OPTIONS, json: { type: 'boolean' } }, 'diff');
  const [sessionId, given, ...extra] = positionals;
  if (!sessionId || extra.length > 0) {
    throw new UsageError('diff needs a session id and at most one message id: diff ID [MESSAGE_ID]', 'diff');
  }
  const client = new ApiClient(connectionOf(values, io.env));
  const session = encodeURIComponent(sessionId);
  return reported(io, values.json, async () => {
    const messageId = given ?? (await lastCompletedTurn(client, session));
    const path = `/sessions/${session}/diff${query({ messageId, format: values.json ? 'json' : undefined })}`;
    const text = await (await client.raw('GET', path)).text();
    if (values.json) return (io.stdout.write(text.endsWith('\n') ? text : `${text}\n`), EXIT_OK);
    if (text === '') io.stderr.write(`no changes in ${messageId}\n`);
    else io.stdout.write(colourDiff(text, styleFor(io.stdout, io.env)));
    return EXIT_OK;
  });
}

/** git's colours: file headers bold, hunk headers cyan, removed lines red, added lines green. */
function colourDiff(text: string, style: Style): string {
  let header = false;
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('diff --git ')) header = true;
      else if (line.startsWith('@@')) {
        header = false;
        return style.cyan(line);
      }
      if (header) return style.bold(line);
      if (line.startsWith('+')) return style.green(line);
      if (line.startsWith('-')) return style.red(line);
      return line;
    })
    .join('\n');
}

interface HistoryPage {
  messages: Array<{ turnId: string; source: string; rewound?: boolean }>;
  pagination: { total: number };
}

const PAGE = 1000;

/**
 * The newest turn that completed and was not rewound (the API's own default for a fork): the
 * history read from its end, a page at a time, each prompt's turn asked for its status.
 */
async function lastCompletedTurn(client: ApiClient, session: string): Promise<string> {
  const history = (limit: number, offset: number) =>
    client.call<HistoryPage>('GET', `/sessions/${session}/messages?limit=${limit}&offset=${offset}`);
  let end = (await history(1, 0)).body.pagination.total;
  while (end > 0) {
    const offset = Math.max(0, end - PAGE);
    const { body } = await history(end - offset, offset);
    const prompts = body.messages.filter((m) => m.source === 'client' && !m.rewound).reverse();
    for (const prompt of prompts) {
      const turn = await client.call<{ status: string }>(
        'GET',
        `/sessions/${session}/messages/${encodeURIComponent(prompt.turnId)}`,
      );
      if (turn.body.status === 'completed') return prompt.turnId;
    }
    end = offset;
  }
  throw new ApiFailure('NOT_FOUND', 'the session has no completed turn yet', 404);
}
