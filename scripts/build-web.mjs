// Builds the browser code from web/ into dist/web/.
// NOTE: placeholder until the shell and micro frontends exist.
export async function buildWebBundles(_root) {}
