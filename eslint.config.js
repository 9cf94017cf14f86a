// Lint configuration: typescript-eslint with type information, so floating promises
// and unsafe `any` flows are caught in a server where a dropped promise is a dropped error.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '.build-*/',
      'dist/',
      'node_modules/',
      'data/',
      'bench/results/',
      'coverage/',
      'test-artifacts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'scripts/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Storage contracts are async so network backends fit; SQLite and memory answer at once.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Exactly one way to start a child process: the sandbox module (tests may spawn the CLI).
    files: ['src/**/*.ts'],
    ignores: ['src/sandbox/**', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['child_process', 'node:child_process'],
              message: 'Start child processes only through the sandbox module.',
            },
          ],
        },
      ],
    },
  },
  {
    // Exactly one way to the CLI's output streams: src/cli/print.ts, which escapes what a terminal
    // would act on (printed data is partly chosen by strangers: sign-in names, tool names).
    files: ['src/cli/**/*.ts'],
    ignores: ['src/cli/print.ts', 'src/**/*.test.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'stdout', message: 'Print through src/cli/print.ts.' },
        { object: 'process', property: 'stderr', message: 'Print through src/cli/print.ts.' },
      ],
    },
  },
  {
    // node:test's describe/it return promises the runner tracks itself, and tests read JSON
    // replies of no static type; the unsafe-any rules would only add casts there.
    files: ['**/*.test.ts', 'test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/*'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
