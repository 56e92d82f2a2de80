// The two modules of Transformers.js the embedder loads on their own (src/embed/embedder.ts):
// the package types only its main entry, which also loads the models, processors and sharp.
declare module '@xenova/transformers/src/tokenizers.js' {
  export { AutoTokenizer } from '@xenova/transformers';
}
declare module '@xenova/transformers/src/env.js' {
  export { env } from '@xenova/transformers';
}
