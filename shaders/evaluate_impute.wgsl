// ROAD's noisy linear imputation (Rong et al. 2022), one workgroup per (copy, channel) of the batch: every
// removed pixel becomes the weighted mean of its 8 neighbours inside the image (weight 1/6 for the four
// sides, 1/12 for the corners, normalized by the weights that fall inside), which couples the removed
// pixels into one sparse linear system,
//   s_i x_i - sum_{removed neighbours j} w_ij x_j = sum_{kept neighbours k} w_ik image_k,
// with s_i the weights inside the image. It is symmetric and positive definite (the weights are
// symmetric; the diagonal dominates), so conjugate gradients solve it, in place in `perturbed`, from
// x = 0, until the residual is `tolerance` of the first or after its iterations. Then each removed
// value gets noise * N(0, 1), draw c * plane + p of the copy's stream (shaders/random.wgsl). Copies of
// other kinds return at once.
//
// The solve is spread over dispatches so that none runs long enough for a driver's watchdog (about
// 2 s on Windows): stage 0 sets up the system, each stage-1 dispatch runs at most P.iterations steps of
// conjugate gradients from where the last one stopped (state [workgroups, 2]: the squared residual
// and the first one), stage 2 adds the noise. The arithmetic is the same as in one dispatch.

var<workgroup> copy_kind: u32;
var<workgroup> shared_rr: f32;
var<workgroup> shared_first: f32;

fn uniform_sum(lane: u32, value: f32) -> f32 {
  _ = workgroup_sum(lane, value);
  return workgroupUniformLoad(&partial_sum[0]);
}

fn neighbour_weight(dy: i32, dx: i32) -> f32 {
  return select(1.0 / 12.0, 1.0 / 6.0, dy == 0 || dx == 0);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lane: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let copy = wid.x / P.channels;
  let channel = wid.x % P.channels;
  let row = copy_row(copy);
  if (lane == 0u) { copy_kind = select(0u, 1u, is_road(row.kind) && u32(first[0]) + copy < P.rows); }
  if (workgroupUniformLoad(&copy_kind) == 0u) { return; }
  let base = (copy * P.channels + channel) * P.plane;
  let ranks_base = row.n * P.plane;
  if (P.stage == 0u) {
    set_up(lane, row, base, ranks_base, wid.x);
  } else if (P.stage == 1u) {
    solve(lane, row, base, ranks_base, wid.x);
  } else {
    let stream = pcg_hash(row.n ^ pcg_hash(row.pixels ^ pcg_hash(row.kind)));
    for (var p = lane; p < P.plane; p += WG) {
      if (road_removes(row, u32(ranks[ranks_base + p]))) {
        perturbed[base + p] += P.noise * normal_draw(P.seed, stream, channel * P.plane + p);
      }
    }
  }
}

fn set_up(lane: u32, row: Copy, base: u32, ranks_base: u32, group: u32) {
  // The right-hand side from the kept neighbours; the residual of x = 0 is it, and so is the first direction.
  var squares = 0.0;
  for (var p = lane; p < P.plane; p += WG) {
    var b = 0.0;
    if (road_removes(row, u32(ranks[ranks_base + p]))) {
      let y = i32(p / P.width);
      let x = i32(p % P.width);
      for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
          let yy = y + dy;
          let xx = x + dx;
          if ((dy == 0 && dx == 0) || yy < 0 || xx < 0 || yy >= i32(P.height) || xx >= i32(P.width)) { continue; }
          let q = u32(yy) * P.width + u32(xx);
          if (!road_removes(row, u32(ranks[ranks_base + q]))) { b += neighbour_weight(dy, dx) * perturbed[base + q]; }
        }
      }
    }
    residual[base + p] = b;
    direction[base + p] = b;
    squares += b * b;
  }
  let first_squares = uniform_sum(lane, squares);
  if (lane == 0u) {
    state[2u * group] = first_squares;
    state[2u * group + 1u] = first_squares;
  }
}

fn solve(lane: u32, row: Copy, base: u32, ranks_base: u32, group: u32) {
  if (lane == 0u) {
    shared_rr = state[2u * group];
    shared_first = state[2u * group + 1u];
  }
  var rr = workgroupUniformLoad(&shared_rr);
  let first_squares = workgroupUniformLoad(&shared_first);
  for (var iteration = 0u; iteration < P.iterations && rr > P.tolerance * P.tolerance * first_squares; iteration++) {
    storageBarrier();
    // product = A direction, on the removed pixels. The direction is zero on the kept pixels (so are
    // the residual and the right-hand side's updates), so the neighbours need no test of their own.
    var curvature = 0.0;
    for (var p = lane; p < P.plane; p += WG) {
      if (!road_removes(row, u32(ranks[ranks_base + p]))) { continue; }
      let y = i32(p / P.width);
      let x = i32(p % P.width);
      let d = direction[base + p];
      var a = 0.0;
      for (var dy = -1; dy <= 1; dy++) {
        for (var dx = -1; dx <= 1; dx++) {
          let yy = y + dy;
          let xx = x + dx;
          if ((dy == 0 && dx == 0) || yy < 0 || xx < 0 || yy >= i32(P.height) || xx >= i32(P.width)) { continue; }
          a += neighbour_weight(dy, dx) * (d - direction[base + u32(yy) * P.width + u32(xx)]);
        }
      }
      product[base + p] = a;
      curvature += d * a;
    }
    let alpha = rr / uniform_sum(lane, curvature);
    var next = 0.0;
    for (var p = lane; p < P.plane; p += WG) {
      if (!road_removes(row, u32(ranks[ranks_base + p]))) { continue; }
      perturbed[base + p] += alpha * direction[base + p];
      residual[base + p] -= alpha * product[base + p];
      next += residual[base + p] * residual[base + p];
    }
    let rr_next = uniform_sum(lane, next);
    let beta = rr_next / rr;
    rr = rr_next;
    for (var p = lane; p < P.plane; p += WG) {
      direction[base + p] = residual[base + p] + beta * direction[base + p];
    }
  }
  if (lane == 0u) { state[2u * group] = rr; }
}
