import { INVALID_SPANID, INVALID_TRACEID, isValidSpanId, isValidTraceId } from '@opentelemetry/api';
import { PooledIdGenerator } from './trace-ids';

describe('PooledIdGenerator', () => {
  it('gives valid, distinct W3C ids across several refills of its pool', () => {
    const generator = new PooledIdGenerator();
    const traceIds = new Set<string>();
    const spanIds = new Set<string>();
    for (let index = 0; index < 1000; index++) {
      const traceId = generator.generateTraceId();
      const spanId = generator.generateSpanId();
      expect(isValidTraceId(traceId)).toBe(true);
      expect(isValidSpanId(spanId)).toBe(true);
      traceIds.add(traceId);
      spanIds.add(spanId);
    }
    expect(traceIds.size).toBe(1000);
    expect(spanIds.size).toBe(1000);
  });

  it('cuts ids from the random bytes in order and refills when the pool runs out', () => {
    let fills = 0;
    const generator = new PooledIdGenerator((bytes) => {
      fills += 1;
      for (let index = 0; index < bytes.length; index++) bytes[index] = (index + fills) & 0xff;
    });
    expect(generator.generateTraceId()).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(generator.generateSpanId()).toBe('1112131415161718');
    for (let index = 1; index < 128; index++) {
      generator.generateTraceId();
      generator.generateSpanId();
    }
    expect(fills).toBe(1); // 128 pairs of 24 bytes fill the 3,072-byte pool exactly
    expect(generator.generateTraceId()).toBe('02030405060708090a0b0c0d0e0f1011');
    expect(fills).toBe(2);
  });

  it('never returns the all-zero invalid ids', () => {
    let fills = 0;
    const generator = new PooledIdGenerator((bytes) => {
      fills += 1;
      // The first pool holds only zeros: every id cut from it is invalid, so it is drawn again.
      bytes.fill(fills === 1 ? 0 : 0xab);
    });
    expect(generator.generateTraceId()).not.toBe(INVALID_TRACEID);
    expect(generator.generateSpanId()).not.toBe(INVALID_SPANID);
    expect(generator.generateTraceId()).toBe('ab'.repeat(16));
  });
});
