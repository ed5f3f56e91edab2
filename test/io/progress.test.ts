import { describe, expect, it } from 'vitest';
import { Progress, type ProgressStream } from '../../src/io/progress.js';

function recorder(isTTY: boolean, columns?: number): ProgressStream & { text: string } {
  return {
    isTTY,
    columns,
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

describe('Progress', () => {
  it('redraws one line in place on a TTY and ends it when done', () => {
    const stream = recorder(true);
    const progress = new Progress(4, { stream, barWidth: 8 });
    for (const name of ['a.png', 'b.png', 'c.png', 'd.png']) progress.tick(name);
    expect(stream.text).toBe(
      '\r[==>     ] 1/4 a.png\x1b[K' +
        '\r[====>   ] 2/4 b.png\x1b[K' +
        '\r[======> ] 3/4 c.png\x1b[K' +
        '\r[========] 4/4 d.png\x1b[K\n',
    );
  });

  it('keeps the TTY line narrower than the terminal', () => {
    const stream = recorder(true, 20);
    new Progress(2, { stream, barWidth: 8 }).tick('a-very-long-file-name.png');
    expect(stream.text).toBe('\r[====>   ] 1/2 a-ve\x1b[K');
  });

  it('prints every step when not a TTY and there are at most ten', () => {
    const stream = recorder(false);
    const progress = new Progress(3, { stream, barWidth: 4 });
    progress.tick('x');
    progress.tick();
    progress.tick('z');
    expect(stream.text).toBe('[=>  ] 1/3 x\n[==> ] 2/3\n[====] 3/3 z\n');
  });

  it('prints about every tenth when not a TTY', () => {
    const stream = recorder(false);
    const progress = new Progress(40, { stream });
    for (let i = 0; i < 40; i++) progress.tick();
    const counts = stream.text.trim().split('\n').map((line) => line.split(' ').at(-1));
    expect(counts).toEqual(['4/40', '8/40', '12/40', '16/40', '20/40', '24/40', '28/40', '32/40', '36/40', '40/40']);
  });

  it('writes nothing when disabled', () => {
    const stream = recorder(true);
    const progress = new Progress(3, { stream, enabled: false });
    progress.tick('a');
    progress.stop();
    expect(stream.text).toBe('');
  });

  it('ends an unfinished TTY line on stop', () => {
    const stream = recorder(true);
    const progress = new Progress(3, { stream, barWidth: 3 });
    progress.tick();
    progress.stop();
    expect(stream.text.endsWith('\x1b[K\n')).toBe(true);
  });

  it('shows the rate and the time left when asked', () => {
    const stream = recorder(false);
    let clock = 0;
    const progress = new Progress(100, { stream, barWidth: 4, rateUnit: 'images', now: () => clock });
    clock = 4000;
    progress.update(10, 'a.png');
    expect(stream.text).toBe('[>   ] 10/100 2.50 images/s, 0:36 left a.png\n');
  });
});
