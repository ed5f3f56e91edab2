// The target: each image's score y (what the explanation explains) and the seed of the backward pass,
// dy/d(output), from the output's values (`values` per image). Runs on the GPU so that the forward pass,
// the backward pass and the map stay one submission. The modes (TARGET_* from the kernel's declaration):
// - CLASS: y = output[c] (the logit before softmax, or any output element: --target raw); seed one-hot.
// - SOFTMAX: y = p_c = softmax(output)[c]; dy/dz_j = p_c (delta_cj - p_j).
// - REST: ClassifierOutputReST (Cai et al. 2025, ShapleyCAM's): y = z_c - cross-entropy(z, c)
//   = 2 z_c - logsumexp(z); dy/dz_j = 2 delta_cj - p_j.
// - BINARY: one logit z; y = z for class 1, -z for class 0 (pytorch-grad-cam's convention); the default
//   class is the predicted one, 1 where z >= 0.
// - SEGMENTATION: output [K, positions]; y = sum_p m_p output[c, p], m the given mask (aux) or, without
//   one, 1 where c has the largest score at p (the decision is the forward pass's, made here once).
// - SIMILARITY: y = cos(output, v), v the concept (aux); dy/do = v / (|o| |v|) - y o / |o|^2.
// - DETECTION_V5 / DETECTION_V8: a single-stage detector's raw head, `positions` predictions of
//   (cx, cy, w, h, [objectness,] K class scores): YOLOv5's [A, 5 + K] or YOLOv8's [4 + K, A] (no
//   objectness: it counts as 1). y = sum over the predictions whose box overlaps the given box (aux,
//   x1 y1 x2 y2) with IoU >= 0.5 and whose best class is the requested one (any, below 0) of
//   objectness x that class's score. The selection is the forward pass's decision; the gradient flows
//   through the scores, not through it. The reported class is the requested one, or else the class of
//   the selected prediction with the largest term. No prediction selected: class -2, which the host
//   reports.
// - FINER: FinerCAM's target (Zhang et al. 2025; pytorch-grad-cam's FinerWeightedTarget): with c the
//   class and J its `compare` most similar classes (smallest |z_j - z_c|, ties to the lower index), p the
//   softmax, y = sum_J p_j (z_c - alpha z_j) / (sum_J p_j + 1e-9), differentiated through p too.
// A requested class below 0 asks for the top-1 (CLASS, SOFTMAX, REST, BINARY, FINER). An image with a score or an
// output value that is NaN or infinite, or a similarity with a zero vector, gets class -1: the host
// refuses the whole result. Each image's checks and score are made once, by the invocation of its first
// value, which writes `picked` (class, y).

fn value(n: u32, j: u32) -> f32 {
  return scores[n * P.values + j];
}

fn finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u;
}

fn chosen_class(n: u32) -> u32 {
  if (requested[n] >= 0) { return u32(requested[n]); }
  if (P.mode == TARGET_BINARY) { return select(0u, 1u, value(n, 0u) >= 0.0); }
  var best = 0u;
  for (var c = 1u; c < P.values; c++) {
    if (value(n, c) > value(n, best)) { best = c; }
  }
  return best;
}

fn finite_values(n: u32) -> bool {
  for (var j = 0u; j < P.values; j++) {
    if (!finite(value(n, j))) { return false; }
  }
  return true;
}

// SOFTMAX: the row's largest value and sum of exp(value - largest).
fn softmax_terms(n: u32) -> vec2<f32> {
  var top = value(n, 0u);
  for (var j = 1u; j < P.values; j++) { top = max(top, value(n, j)); }
  var total = 0.0;
  for (var j = 0u; j < P.values; j++) { total += exp(value(n, j) - top); }
  return vec2<f32>(top, total);
}

// SEGMENTATION: the mask's weight at position p of image n for class c.
fn mask_weight(n: u32, c: u32, p: u32) -> f32 {
  if (P.aux_length > 0u) { return aux[n * P.aux_stride + p]; }
  let classes = P.values / P.positions;
  var best = 0u;
  for (var k = 1u; k < classes; k++) {
    if (value(n, k * P.positions + p) > value(n, best * P.positions + p)) { best = k; }
  }
  return select(0.0, 1.0, best == c);
}

// SIMILARITY: o.v, |o|^2, |v|^2.
fn similarity_terms(n: u32) -> vec3<f32> {
  var terms = vec3<f32>(0.0);
  for (var j = 0u; j < P.values; j++) {
    let o = value(n, j);
    let v = aux[n * P.aux_stride + j];
    terms += vec3<f32>(o * v, o * o, v * v);
  }
  return terms;
}

// FINER: the comparison classes of image n, most similar first; at most MAX_COMPARE (from the kernel's
// declaration).
const FINER_EPS: f32 = 1e-9;

fn comparison_classes(n: u32, c: u32) -> array<u32, MAX_COMPARE> {
  var chosen: array<u32, MAX_COMPARE>;
  let zc = value(n, c);
  var last_distance = -1.0;
  var last_index = 0u;
  for (var t = 0u; t < P.compare; t++) {
    var best = P.values;
    var best_distance = 3.4e38;
    for (var j = 0u; j < P.values; j++) {
      let d = abs(value(n, j) - zc);
      // The next in (distance, index) order after the last chosen.
      let after = d > last_distance || (d == last_distance && j > last_index && t > 0u);
      if (j != c && after && (d < best_distance || (d == best_distance && j < best))) { best = j; best_distance = d; }
    }
    chosen[t] = best;
    last_distance = best_distance;
    last_index = best;
  }
  return chosen;
}

// DETECTION: prediction a's field f (0-3 the box, then the objectness for YOLOv5, then the classes).
fn field(n: u32, a: u32, f: u32) -> f32 {
  if (P.mode == TARGET_DETECTION_V8) { return value(n, f * P.positions + a); }
  return value(n, a * (P.values / P.positions) + f);
}

struct Prediction { selected: bool, objectness: f32, class_index: u32, class_field: u32 }

fn prediction(n: u32, a: u32) -> Prediction {
  let first_class = select(5u, 4u, P.mode == TARGET_DETECTION_V8);
  let classes = P.values / P.positions - first_class;
  var best = 0u;
  for (var k = 1u; k < classes; k++) {
    if (field(n, a, first_class + k) > field(n, a, first_class + best)) { best = k; }
  }
  let objectness = select(field(n, a, 4u), 1.0, P.mode == TARGET_DETECTION_V8);
  let cx = field(n, a, 0u);
  let cy = field(n, a, 1u);
  let half_w = 0.5 * field(n, a, 2u);
  let half_h = 0.5 * field(n, a, 3u);
  let box = n * P.aux_stride;
  let x1 = aux[box];
  let y1 = aux[box + 1u];
  let x2 = aux[box + 2u];
  let y2 = aux[box + 3u];
  let overlap_w = max(min(cx + half_w, x2) - max(cx - half_w, x1), 0.0);
  let overlap_h = max(min(cy + half_h, y2) - max(cy - half_h, y1), 0.0);
  let overlap = overlap_w * overlap_h;
  let area_union = 4.0 * half_w * half_h + (x2 - x1) * (y2 - y1) - overlap;
  let wanted = requested[n] < 0 || u32(requested[n]) == best;
  return Prediction(wanted && area_union > 0.0 && overlap >= 0.5 * area_union, objectness, best, first_class + best);
}

fn element(index: u32) {
  let n = index / P.values;
  let j = index % P.values;
  if (P.mode == TARGET_DETECTION_V5 || P.mode == TARGET_DETECTION_V8) {
    detection_element(n, j);
    return;
  }
  let c = chosen_class(n);
  var seed_value = 0.0;
  var score = 0.0;
  var valid = true;
  switch P.mode {
    case TARGET_SOFTMAX: {
      let t = softmax_terms(n);
      let p_c = exp(value(n, c) - t.x) / t.y;
      seed_value = p_c * (select(0.0, 1.0, j == c) - exp(value(n, j) - t.x) / t.y);
      score = p_c;
    }
    case TARGET_REST: {
      let t = softmax_terms(n);
      seed_value = 2.0 * select(0.0, 1.0, j == c) - exp(value(n, j) - t.x) / t.y;
      score = 2.0 * value(n, c) - t.x - log(t.y);
    }
    case TARGET_BINARY: {
      let sign = select(-1.0, 1.0, c == 1u);
      seed_value = sign;
      score = sign * value(n, 0u);
    }
    case TARGET_SEGMENTATION: {
      let p = j % P.positions;
      seed_value = select(0.0, mask_weight(n, c, p), j / P.positions == c);
      if (j == 0u) {
        for (var q = 0u; q < P.positions; q++) { score += mask_weight(n, c, q) * value(n, c * P.positions + q); }
      }
    }
    case TARGET_FINER: {
      let t = softmax_terms(n);
      let chosen = comparison_classes(n, c);
      let zc = value(n, c);
      let pm = exp(value(n, j) - t.x) / t.y;
      var numerator = 0.0;
      var denominator = FINER_EPS;
      var d_numerator = 0.0;
      var d_denominator = 0.0;
      for (var u = 0u; u < P.compare; u++) {
        let k = chosen[u];
        let pk = exp(value(n, k) - t.x) / t.y;
        let term = zc - P.alpha * value(n, k);
        // d p_k / d z_j = p_k (delta_kj - p_j)
        let dp = pk * (select(0.0, 1.0, k == j) - pm);
        numerator += pk * term;
        denominator += pk;
        d_numerator += dp * term + pk * (select(0.0, 1.0, j == c) - P.alpha * select(0.0, 1.0, j == k));
        d_denominator += dp;
      }
      score = numerator / denominator;
      seed_value = (d_numerator * denominator - numerator * d_denominator) / (denominator * denominator);
    }
    case TARGET_SIMILARITY: {
      let t = similarity_terms(n);
      let norms = sqrt(t.y * t.z);
      valid = norms > 0.0;
      score = t.x / norms;
      seed_value = select(0.0, aux[n * P.aux_stride + j] / norms - score * value(n, j) / t.y, valid);
    }
    default: {
      seed_value = select(0.0, 1.0, j == c);
      score = value(n, c);
    }
  }
  seed[index] = seed_value;
  if (j == 0u) {
    valid = valid && finite_values(n) && finite(score);
    picked[2u * n] = select(-1.0, f32(select(c, 0u, P.mode == TARGET_SIMILARITY)), valid);
    picked[2u * n + 1u] = score;
  }
}

// DETECTION: value j of image n's head: its seed, and from j = 0 the image's score.
fn detection_element(n: u32, j: u32) {
  let per = P.values / P.positions;
  let a = select(j / per, j % P.positions, P.mode == TARGET_DETECTION_V8);
  let f = select(j % per, j / P.positions, P.mode == TARGET_DETECTION_V8);
  let p = prediction(n, a);
  var seed_value = 0.0;
  if (p.selected) {
    // d(objectness x class score): the class score for the objectness, the objectness for the class.
    if (f == p.class_field) { seed_value = p.objectness; }
    if (f == 4u && P.mode == TARGET_DETECTION_V5) { seed_value = field(n, a, p.class_field); }
  }
  seed[n * P.values + j] = seed_value;
  if (j == 0u) {
    var score = 0.0;
    var count = 0u;
    // The reported class: the requested one, or that of the selected prediction with the largest term.
    var top = -1.0;
    var top_class = 0u;
    for (var b = 0u; b < P.positions; b++) {
      let q = prediction(n, b);
      if (q.selected) {
        let term = q.objectness * field(n, b, q.class_field);
        score += term;
        count++;
        if (term > top) { top = term; top_class = q.class_index; }
      }
    }
    let valid = finite_values(n) && finite(score);
    picked[2u * n] = select(-1.0, select(-2.0, f32(top_class), count > 0u), valid);
    picked[2u * n + 1u] = score;
  }
}
