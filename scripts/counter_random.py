"""The engine's counter-based random draws (shaders/random.wgsl) in Python integers and float64, so that
references draw exactly the numbers the GPU draws: every draw a function of (seed, stream, counter)."""
import math

M32 = 0xFFFFFFFF


def pcg_hash(x):
    """PCG's output hash of a 32-bit integer (O'Neill 2014; Jarzynski & Olano 2020)."""
    state = (x * 747796405 + 2891336453) & M32
    word = (((state >> ((state >> 28) + 4)) ^ state) * 277803737) & M32
    return ((word >> 22) ^ word) & M32


def unit_draw(seed, stream, counter):
    """A uniform draw in (0, 1], a multiple of 2^-24."""
    return ((pcg_hash(pcg_hash(pcg_hash(seed) ^ stream) ^ counter) >> 8) + 1) / 2.0 ** 24


def normal_draw(seed, stream, i):
    """A standard normal draw by Box-Muller from two uniform draws."""
    return math.sqrt(-2 * math.log(unit_draw(seed, stream, 2 * i))) * math.cos(2 * math.pi * unit_draw(seed, stream, 2 * i + 1))
