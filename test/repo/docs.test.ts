/**
 * The docs cannot drift from the code: the tables of the README and of docs/api.md list exactly
 * the configuration variables, error codes, event types and policy fields the code has, each in
 * one home (config.ts, errors.ts, events.ts, policy-fields.ts).
 */
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES } from '../../src/config/config.js';
import { ERROR_CODES } from '../../src/domain/errors.js';
import { EVENT_TYPES } from '../../src/domain/events.js';
import { fieldRow, POLICY_FIELD_NAMES } from '../../src/domain/policy-fields.js';

const README = fs.readFileSync('README.md', 'utf8');
const API = fs.readFileSync('docs/api.md', 'utf8');

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells. */
function tableAfter(markdown: string, heading: RegExp): string[][] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => heading.test(line));
  expect(start, `a heading matching ${heading}`).toBeGreaterThanOrEqual(0);
  const rows: string[][] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('|')) {
      inTable = true;
      if (/^\|[\s:-]+\|/.test(line) && !/[A-Za-z`]/.test(line)) continue; // the separator row
      rows.push(
        line
          .slice(1, -1)
          .split(/(?<!\\)\|/)
          .map((cell) => cell.trim()),
      );
    } else if (inTable) {
      break;
    }
  }
  return rows.slice(1); // without the header row
}

/** The `code` names in a cell, backticks removed. */
const codesIn = (cell: string | undefined): string[] =>
  [...(cell ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

describe('the documentation lists what the code has', () => {
  it('README: every configuration variable, and no other', () => {
    const documented = tableAfter(README, /^## Configuration/).flatMap((row) => codesIn(row[0]));
    expect([...documented].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('docs/api.md: every error code, and no other', () => {
    const documented = tableAfter(API, /^## Errors/).flatMap((row) => codesIn(row[0]));
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('docs/api.md: every event type, and no other', () => {
    const documented = tableAfter(API, /^### Events/).flatMap((row) => codesIn(row[0]));
    expect([...documented].sort()).toEqual([...EVENT_TYPES].sort());
  });

  it('docs/api.md: every policy field with its CLI flag, and no other', () => {
    const rows = tableAfter(API, /^### The policy/);
    const documented = rows.map((row) => ({
      field: codesIn(row[0])[0],
      flag: codesIn(row[3])[0]?.split(' ')[0],
    }));
    expect(documented).toEqual(
      POLICY_FIELD_NAMES.map((field) => ({ field, flag: `--${fieldRow(field).flag}` })),
    );
  });
});
