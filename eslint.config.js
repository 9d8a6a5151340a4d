// Lint: typescript-eslint's type-checked recommended rules, and mcpd's own: the layering of src/
// (which folder may import which) and no import cycle (scripts/eslint-mcpd.mjs).
import tseslint from 'typescript-eslint';
import mcpd from './scripts/eslint-mcpd.mjs';

const browserGlobals = [
  'window',
  'document',
  'location',
  'WebSocket',
  'fetch',
  'performance',
  'requestAnimationFrame',
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'console',
  'URLSearchParams',
  'AbortController',
  'JSON',
  'Promise',
  'Map',
  'Set',
  'Date',
  'Math',
  'Number',
  'Object',
  'String',
  'Error',
  'Infinity',
  'encodeURIComponent',
  'decodeURIComponent',
  'navigator',
  'Intl',
  'getComputedStyle',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', '.ci/', 'coverage/'] },
  // The dashboard's page: plain browser modules, never type-checked, so at least no undefined or unused names.
  {
    files: ['ui/**/*.js'],
    languageOptions: { sourceType: 'module', globals: Object.fromEntries(browserGlobals.map((name) => [name, 'readonly'])) },
    rules: { 'no-undef': 'error', 'no-unused-vars': 'error' },
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      // `_name` says a parameter or binding is unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // A binding assigned after a callback that reads it was made stays `let`: the callback may run first.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // An abort passes on its signal's reason, whatever that is.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // An async function without await still promises something: it never throws synchronously,
      // which the SDK's Transport contract and our command functions rely on.
      '@typescript-eslint/require-await': 'off',
    },
  },
  // Vitest's asymmetric matchers (expect.any, expect.stringContaining) are typed \`any\`.
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { mcpd },
    rules: { 'mcpd/layering': 'error', 'mcpd/no-cycle': 'error' },
  },
);
