// The repository's lint, plus type-aware rules for the launcher's plain JavaScript (checked by tsc via checkJs).
import importX from 'eslint-plugin-import-x';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import root from '../../eslint.config.js';

export default [
  ...root,
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: { ...globals.node },
      parserOptions: { parser: tseslint.parser, projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
];
