// Deep Feature Factorization (Collins et al. 2018; pytorch-grad-cam's deep_feature_factorization.py):
// per image, the layer's values shifted to be non-negative, X [channels, plane], factorized as
// X ~ W H with W [channels, components] >= 0 (the concepts) and H [components, plane] >= 0 (their maps).
// Buffers, per image n: X at n * channels * plane, W at n * channels * components, H at
// n * components * plane (the Gram matrices at n * components * components).

fn x_at(n: u32, c: u32, p: u32) -> f32 { return shifted[(n * P.channels + c) * P.plane + p]; }
fn w_at(n: u32, c: u32, k: u32) -> f32 { return w[(n * P.channels + c) * P.components + k]; }
fn h_at(n: u32, k: u32, p: u32) -> f32 { return h[(n * P.components + k) * P.plane + p]; }
