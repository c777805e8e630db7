/** Check the frontend's architecture: no import cycles in src/, and graph/ stays plain TypeScript. */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules that import each other cannot be read, tested or split apart alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'graph-without-react',
      severity: 'error',
      comment: 'src/graph/ is the graph model and its validation in plain TypeScript (like xyflow\'s packages/system): no React.',
      from: { path: '^src/graph/' },
      // Resolved paths; (^|/) as node_modules may be reached through a symlink.
      to: { path: '(^|/)node_modules/((@types/)?react|(@types/)?react-dom|@xyflow/react)/' },
    },
    {
      name: 'graph-without-pages',
      severity: 'error',
      comment: 'The pages build on src/graph/, never the other way round.',
      from: { path: '^src/graph/' },
      to: { path: '^src/(editor|board|run|inbox|workflows|ui|hooks)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: a cycle through types still ties the modules together.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
