import { describe, expect, it } from 'vitest';
import { newSessionId, randomBase62 } from './ids.js';

describe('randomBase62', () => {
  it('gives ids of the asked length from the whole alphabet, unique across many pool refills', () => {
    // 3000 ids × ~20 bytes each draw the 4 KiB pool down and refill it about 15 times.
    const ids = Array.from({ length: 3000 }, () => randomBase62(20));
    for (const id of ids) expect(id).toMatch(/^[0-9A-Za-z]{20}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const seen = new Set(ids.join(''));
    expect(seen.size).toBe(62);
  });

  it('keeps every character about equally likely (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const c of randomBase62(62_000)) counts.set(c, (counts.get(c) ?? 0) + 1);
    // 1000 expected per character; a biased mapping (byte % 62 without rejection) puts the
    // first 8 characters at about 1210 (5/256 instead of 4/256); 150 is about 5 standard deviations.
    for (const n of counts.values()) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('names what it identifies', () => {
    expect(newSessionId()).toMatch(/^sess_[0-9A-Za-z]{24}$/);
  });
});
