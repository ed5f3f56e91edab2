// The faithfulness metrics' perturbed forward passes (src/evaluate/faithfulness.ts): copy t of the whole
// evaluation is row t of `table`, (image, kind, pixels, class); a run covers the copies first[0] ..
// first[0] + batch - 1. Copies past the last row (the last run's tail) repeat the last row and are never read.

const KIND_DELETE = 0u;   // the `pixels` most relevant pixels set to the deletion baseline
const KIND_INSERT = 1u;   // the insertion baseline with the `pixels` most relevant pixels of the image
const KIND_MULTIPLY = 2u; // the image times the normalized map (Average Drop, Increase in Confidence)
const KIND_ROAD_MORF = 3u; // ROAD: the `pixels` most relevant pixels imputed (shaders/evaluate_impute.wgsl)
const KIND_ROAD_LERF = 4u; // ROAD: the `pixels` least relevant pixels imputed

struct Copy { n: u32, kind: u32, pixels: u32, class_index: u32 }

fn copy_row(copy: u32) -> Copy {
  let t = u32(first[0]) + copy;
  let row = 4u * min(t, P.rows - 1u);
  return Copy(u32(table[row]), u32(table[row + 1u]), u32(table[row + 2u]), u32(table[row + 3u]));
}
