// Marks the first node whose output holds a NaN or an infinity: the check after node `node` (in graph
// order) records that node in `flag` unless an earlier check already recorded one. Dispatches run in
// order and every invocation of one dispatch writes the same value, so no atomics are needed. The test
// reads the exponent bits: comparisons with NaN may be folded away by a shader compiler.

const NONE: u32 = 0xffffffffu;

fn element(index: u32) {
  if (flag[0] != NONE) { return; }
  if ((bitcast<u32>(values[index]) & 0x7f800000u) == 0x7f800000u) { flag[0] = P.node; }
}
