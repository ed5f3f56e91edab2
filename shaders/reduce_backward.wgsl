// A reduction's backward where each element's gradient needs only its own value v, the output y it
// was reduced into, that output's gradient g and the count n: one invocation per input element
// receives {{GRAD}}. (Max, Min and Prod need their group's statistics: reduce_backward_group.wgsl.)

fn element(index: u32) {
  let out = output_index(index);
  let v = x[index];
  let y = y_values[out];
  let g = dy[out];
  let n = f32(P.reduce_count);
  store_dx(index, {{GRAD}});
}
