// ESLint (`npm run lint`, and CI): the recommended rules of ESLint and of typescript-eslint, which
// the code's eslint-disable comments expect (no-explicit-any, no-fallthrough), set to the code's
// habits below. Without type information, so a run stays quick: `npm run typecheck` checks types.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'dist-test-*/', 'coverage/', '.bench/', 'data/', 'vendor/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // `const { a: _, ...rest } = row` leaves a field out on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
      // `let { bytes, gzipped } = …` where only some are reassigned stays one statement.
      'prefer-const': ['error', { destructuring: 'all' }],
      // Control characters are matched on purpose: Python's line boundaries, unsafe file names.
      'no-control-regex': 'off',
    },
  },
  {
    // The few plain JavaScript files (bin/, scripts/, test fixtures) run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly' },
    },
  },
);
