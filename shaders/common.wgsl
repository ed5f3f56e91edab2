// Prepended to every program. Elementwise kernels run 256 invocations per workgroup on a 2-D grid of
// workgroups (x up to 65535), so tensors of more than 16.7M elements still get one thread each.
const WG: u32 = 256u;

fn flat_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.y * nwg.x * WG + gid.x;
}
