// ReduceMean backward: every input element receives dy / count of the output it was reduced into.

fn element(index: u32) {
  let g = dy[output_index(index)] / f32(P.reduce_count);
  store_dx(index, g);
}
