// DFF's multiplicative updates (Lee and Seung, for the Frobenius norm): float32's epsilon keeps a
// denominator off zero, as in scikit-learn's solver; the Gram matrix of the other factor,
// [batch, components, components].

const EPSILON = 1.1920929e-07;

fn gram_at(n: u32, j: u32, k: u32) -> f32 { return gram[(n * P.components + j) * P.components + k]; }
