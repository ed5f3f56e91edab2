// The roofline estimate: the larger of arithmetic at peak and traffic at full bandwidth, and the fill rule.
import { describe, expect, it } from 'vitest';
import { GPUS, gpuSpec, roofline } from '../src/plan/roofline.js';

describe('roofline', () => {
  const h200 = GPUS.h200;
  it('is memory-bound below the ridge point and compute-bound above it', () => {
    const ridge = h200.flops / h200.bandwidth; // FLOP per byte where both take the same time (~14)
    const bytes = 1e6;
    const memory = roofline({ flops: (ridge / 2) * bytes, bytes, workgroups: 1000 }, h200);
    expect(memory.bound).toBe('memory');
    expect(memory.ms).toBeCloseTo((1000 * bytes) / 4.8e12, 15);
    const compute = roofline({ flops: 2 * ridge * bytes, bytes, workgroups: 1000 }, h200);
    expect(compute.bound).toBe('compute');
    expect(compute.ms).toBeCloseTo((1000 * 2 * ridge * bytes) / 67e12, 15);
  });

  it('judges a kernel without declared FLOPs by its bytes', () => {
    expect(roofline({ bytes: 4.8e9, workgroups: 1 }, h200)).toEqual({ ms: 1, bound: 'memory', fills: false });
  });

  it('fills a device at 4 workgroups per SM', () => {
    expect(roofline({ bytes: 1, workgroups: 4 * 132 - 1 }, h200).fills).toBe(false);
    expect(roofline({ bytes: 1, workgroups: 4 * 132 }, h200).fills).toBe(true);
    expect(roofline({ bytes: 1, workgroups: 40 }, GPUS.m2).fills).toBe(true);
  });

  it('names the GPUs it knows when given another', () => {
    expect(gpuSpec('H200')).toBe(h200);
    expect(() => gpuSpec('gtx')).toThrow('unknown GPU "gtx"; choose from h200, a100, rtx4090, m2');
  });
});
