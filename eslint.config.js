// ESLint's configuration: the recommended rules of ESLint and typescript-eslint,
// with the few changes that fit how this code is written (see each rule's comment).
// Formatting is Prettier's (.prettierrc), not ESLint's.
import js from '@eslint/js';
import {defineConfig} from 'eslint/config';
import tseslint from 'typescript-eslint';

/** Node's globals, for the plain JavaScript files (TypeScript's checker knows them in .ts files). */
const node = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'module', 'require', '__dirname', 'performance'].map(
    (name) => [name, 'readonly'],
  ),
);

export default defineConfig(
  {ignores: ['dist/', 'node_modules/', 'oclif.manifest.json', 'test/reliability/corpus/', '.bench/']},
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: {globals: node},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // Control characters are what keyward escapes and what its tests send: regular expressions name them on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {sourceType: 'commonjs'},
    rules: {'@typescript-eslint/no-require-imports': 'off'},
  },
  {
    files: ['test/**'],
    rules: {
      // Tests read keyward's JSON output, whose shape the test itself asserts.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
);
