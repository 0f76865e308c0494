/**
 * OFFLINE DEMO MODE (`npm run start:offline`): the real server and the real Claude Code binary,
 * but the model API is the project's fake one on 127.0.0.1, so every endpoint can be tried
 * without Anthropic credentials. Every answer is SCRIPTED: the fake echoes the prompt, and
 * directives such as `[[write:hello.py:print(1)]]` or `[[bash:ls]]` make it call tools
 * (see README, "Offline demo").
 */
import path from 'node:path';
import { loadConfig } from '../config/config.js';
import { startFakeAnthropic } from '../fake-anthropic/index.js';
import { startServer } from '../main.js';

/** `word` as one shell word, quoted only when it needs it (so it can be pasted as printed). */
function shellWord(word: string): string {
  return /^[\w./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

async function main(): Promise<void> {
  const fake = await startFakeAnthropic();
  // Kept apart from a real server's data, so demo sessions never mix with real ones.
  const dataDir = path.resolve(process.env.DATA_DIR || path.join('data', 'offline'));
  const env = {
    ...process.env,
    DATA_DIR: dataDir,
    // Whatever credentials the shell has, the demo never sends them anywhere.
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'offline-demo-not-a-real-key',
    ANTHROPIC_AUTH_TOKEN: undefined,
    CLAUDE_CODE_MAX_RETRIES: '0',
    // Claude Code prices the fake tokens as if they were real: every cost the demo shows says so.
    COSTS_SIMULATED: 'true',
  };
  const running = await startServer(loadConfig(env));
  process.stdout.write(
    [
      '',
      '  ┌──────────────────────────────────────────────────────────────────────┐',
      '  │ OFFLINE DEMO: answers come from a scripted fake model API on         │',
      `  │ ${fake.url.padEnd(69)}│`,
      '  │ Claude Code is real; the model is not. Nothing leaves this machine.  │',
      '  └──────────────────────────────────────────────────────────────────────┘',
      '',
      `  Console: ${running.url}/console/ (sign in with an API key)`,
      `  API: ${running.url}/api/v1`,
      // The key CLI defaults to ./data, the real server's: it needs the demo's data dir.
      `  Keys: npm run cli -- keys list --data-dir ${shellWord(dataDir)}`,
      '',
    ].join('\n'),
  );
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void running
        .close()
        .then(() => fake.close())
        .then(() => process.exit(0));
    });
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(
    `Cannot start the offline demo: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
