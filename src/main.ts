/**
 * Starts the server: config, the data dir's lock, a check that the port can be bound, then the
 * composition (which cleans up what a previous run left), the first-start key, listen; drains on
 * SIGTERM. The order matters: a server that cannot own the data dir or the port must leave both
 * untouched. Start-up problems (bad config, a data dir in use, a busy port, a store that cannot
 * open) print one clear message and exit 1.
 */
import { pathToFileURL } from 'node:url';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { compose, instanceStateDir, StartupError, type Server } from './composition.js';
import { UnsharedVolumeError } from './domain/cluster-placement.js';
import { buildApp } from './http/app.js';
import { DataDirLockedError, lockDataDir } from './startup/data-dir-lock.js';
import { PortUnavailableError, probePort } from './startup/port-probe.js';

export async function startServer(
  config: Config,
): Promise<{ server: Server; close: () => Promise<void>; url: string }> {
  // One server per data dir; with several instances sharing it (PostgreSQL), one per instance.
  const lock = lockDataDir(instanceStateDir(config));
  try {
    await probePort(config.host, config.port);
    const started = await listenOn(config);
    return { ...started, close: () => started.close().finally(() => lock.release()) };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function listenOn(
  config: Config,
): Promise<{ server: Server; close: () => Promise<void>; url: string }> {
  const server = await compose(config);
  const { logger, deps } = server;

  const { generatedSecret, seeded } = await deps.keys.bootstrap(config.apiKeys, config.adminApiKeys);
  if (seeded > 0) logger.info({ seeded }, 'API keys from API_KEYS stored');
  if (generatedSecret) printFirstKey(generatedSecret);
  for (const key of await server.stores.keys.listKeys()) {
    if (key.revokedAt === null && deps.policies.of(key).permissionModes.includes('bypassPermissions')) {
      logger.warn(
        { keyId: key.id, name: key.name, bypass: deps.runner.bypassPermissions() },
        'this key may run sessions with permissionMode bypassPermissions (no approval of any tool)',
      );
    }
  }

  // Said once at start (and in /health): without credentials every turn would fail.
  for (const problem of deps.runner.health().problems)
    logger.warn({ problem: problem.code }, problem.message);

  const app = await buildApp(deps, logger);
  await app.listen({ port: config.port, host: config.host });
  // With several instances: join them once this one can answer the requests they forward.
  try {
    await server.placement.start();
  } catch (err) {
    await app.close();
    await server.shutdown();
    if (err instanceof UnsharedVolumeError) throw new StartupError(err.message);
    throw err;
  }
  // Spares for the next new sessions, once the server answers (PREWARM_PROCESSES).
  server.pool.spares.refill();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  logger.info(
    {
      url: `${url}/api/v1`,
      console: `${url}/console/`,
      dataDir: config.dataDir,
      claudeCode: deps.runner.version(),
      ...(config.instanceUrl ? { instanceUrl: config.instanceUrl } : {}),
    },
    'claude-code-rest listening',
  );

  // Graceful shutdown: refuse new work (503), let running turns finish for SHUTDOWN_DRAIN_MS
  // (then interrupt them: they are recorded as interrupted), end every stream with a final
  // event and a retry hint, stop listening, stop every Claude Code process, close the store.
  // Queued turns stay in the store and run after the restart.
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      deps.admission.drain();
      const turns = await deps.turns.drain(config.shutdownDrainMs);
      const streams = await deps.streams.endAll(config.sseRetryMs);
      logger.info({ ...turns, streams }, 'drained: turns finished or interrupted, streams ended');
      await app.close();
      await server.shutdown();
    })());
  return { server, close, url };
}

function printFirstKey(secret: string): void {
  process.stdout.write(
    [
      '',
      '  No API key existed, so one was made. It is shown this once; store it now:',
      '',
      `      ${secret}`,
      '',
      '  Send it as the x-api-key header. Set API_KEYS to choose your own keys instead.',
      '',
      '',
    ].join('\n'),
  );
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  let running: Awaited<ReturnType<typeof startServer>>;
  try {
    running = await startServer(config);
  } catch (err) {
    if (
      err instanceof DataDirLockedError ||
      err instanceof PortUnavailableError ||
      err instanceof StartupError ||
      (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
    ) {
      process.stderr.write(`Cannot start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    throw err;
  }
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      running.server.logger.info({ signal }, 'shutting down');
      running.close().then(
        () => process.exit(0),
        (err: unknown) => {
          running.server.logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

// Run only when executed directly, not when imported by tests.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  void main();
}
