// A small, strict rule set (issue 9): the mistakes the type checker lets through in async,
// cloud-calling code (a promise nobody awaits, a promise where a boolean is expected), plus
// hygiene the code already follows. Formatting is Prettier's job, boundaries dependency-cruiser's.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  { ignores: ['dist/**', 'node_modules/**', '.venv/**', 'coverage/**', '.tenantform/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // TypeScript reports undefined names and redeclarations itself, and understands overloads.
      'no-undef': 'off',
      'no-redeclare': 'off',
      'no-unused-vars': 'off',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      // Under verbatimModuleSyntax `import { type A } from './m.js'` still loads m at run time; the
      // dependency rules treat it as type-only, so it must be written `import type { A }`.
      '@typescript-eslint/no-import-type-side-effects': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      // A promise returned from inside try without await escapes its catch/finally (a lease released too early).
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    // Product code writes through the CLI's io streams (redacted), never straight to the console,
    // and throws Error objects (src/errors.ts: operation, resource, cause). Tests may throw
    // anything, to stand in for what an SDK throws.
    files: ['src/**/*.ts'],
    rules: { 'no-console': 'error', '@typescript-eslint/only-throw-error': 'error' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { process: 'readonly', module: 'writable', require: 'readonly', console: 'readonly' } },
  },
);
