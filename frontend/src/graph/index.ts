/** The workflow graph model, validation, diff, layout, history and retry preview. */

export * from './types';
export * from './model';
export * from './validate';
export * from './nodes';
export { a as withArticle, either } from './rules';
export * from './diff';
export * from './layout';
export * from './history';
export * from './retryPreview';
