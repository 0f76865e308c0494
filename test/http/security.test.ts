import { startApp } from './harness.js';
import { describeSecuritySuite } from './security-suite.js';

// Room for the suite's one session per test and its Bearer calls.
describeSecuritySuite('memory store, fake Claude Code', () =>
  startApp({
    RATE_LIMIT_SESSIONS_PER_HOUR: '10000',
    RATE_LIMIT_MESSAGES_PER_HOUR: '10000',
    MAX_LIVE_SESSIONS: '10000',
  }),
);
