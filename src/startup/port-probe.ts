/**
 * Whether the server's address can be bound, checked before the start-up clean-up (leftover
 * process groups, the previous temp dir, migrations): a server that cannot listen must leave
 * everything as it found it. The probe binds and lets go at once; the real listen comes after the
 * composition, since Fastify binds only once its routes are ready. Something that takes the port
 * in between still makes the listen fail, after a clean-up that only touched this server's own
 * (locked) data dir.
 */
import net from 'node:net';

export class PortUnavailableError extends Error {
  constructor(host: string, port: number, code: string) {
    super(
      `${host.includes(':') ? `[${host}]` : host}:${port} cannot be bound (${code}): ` +
        (code === 'EADDRINUSE'
          ? 'another process listens there. Stop it, or set PORT to another port.'
          : 'set HOST and PORT to an address this user may listen on.'),
    );
  }
}

/** Resolves when `host:port` can be bound now; port 0 (any free port) always can. */
export function probePort(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(new PortUnavailableError(host, port, err.code ?? 'unknown error')),
    );
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}
