// The browser build's generated module (scripts/build-web.mjs): every shaders/*.wgsl by name.
declare module 'virtual:gradcam-shaders' {
  const shaders: Record<string, string>;
  export default shaders;
}
