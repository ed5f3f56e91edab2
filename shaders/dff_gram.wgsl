// DFF, one invocation per (image, j, k): a factor's Gram matrix, H H^T (summed over positions) before
// W's update, W^T W (summed over channels) before H's. The factor's entry (component k, i) lies at
// n * components * length + k * component_stride + i * position_stride.

fn element(index: u32) {
  let size = P.components * P.components;
  let n = index / size;
  let j = (index % size) / P.components;
  let k = index % P.components;
  let base = n * P.components * P.length;
  var sum = 0.0;
  for (var i = 0u; i < P.length; i++) {
    sum += factor[base + j * P.component_stride + i * P.position_stride] * factor[base + k * P.component_stride + i * P.position_stride];
  }
  gram[index] = sum;
}
